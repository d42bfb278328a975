//! Configuration and startup mistakes: every message names what the operator typed and
//! appears once, with the hint that fixes it.

use crate::{Operator, postgres_admin_url};

#[test]
fn an_unknown_environment_variable_is_named_as_typed_with_the_nearest_setting() {
    let operator = Operator::new();
    let message = operator.fails(&["check-config"], &[("WARREN_SERVER__PROT", "9000")]);
    assert!(message.contains("WARREN_SERVER__PROT: unknown setting"), "{message}");
    assert!(message.contains("did you mean WARREN_SERVER__PORT?"), "{message}");
    assert!(!message.contains('`'), "{message}");
}

#[test]
fn every_unknown_key_is_reported_at_once_with_dotenv_and_toml_entries_labelled() {
    let operator = Operator::new();
    operator.write(".env", "WARREN_LOG__LEVLE=debug\n");
    operator.write("warren.toml", "[server]\nport = 8000\n\n[cors]\norigins = []\n");
    let message = operator.fails(&["check-config"], &[("WARREN_SERVER__PROT", "9000")]);
    assert!(message.contains("WARREN_LOG__LEVLE in .env: unknown setting"), "{message}");
    assert!(message.contains("did you mean WARREN_LOG__LEVEL?"), "{message}");
    assert!(message.contains("WARREN_SERVER__PROT: unknown setting"), "{message}");
    assert!(message.contains("warren.toml:5: unknown setting"), "{message}");
    assert!(message.contains("did you mean cors.allowed_origins?"), "{message}");
}

#[test]
fn an_overflowing_session_lifetime_is_refused_at_load_naming_the_variable() {
    let operator = Operator::new();
    let env = [("WARREN_AUTH__REFRESH_ABSOLUTE_TTL_SECS", "9223372036854775807")];
    let message = operator.fails(&["check-config"], &env);
    assert!(message.contains("auth.refresh_absolute_ttl_secs"), "{message}");
    assert!(message.contains("(WARREN_AUTH__REFRESH_ABSOLUTE_TTL_SECS)"), "{message}");
    assert!(message.contains("must be between 60 and 315360000"), "{message}");
}

#[test]
fn generating_a_key_over_an_existing_file_says_file_exists_once() {
    let operator = Operator::new();
    operator.succeeds(&["keys", "generate", "--out", "signing.pem"], &[]);
    let message = operator.fails(&["keys", "generate", "--out", "signing.pem"], &[]);
    assert!(message.contains("signing.pem"), "{message}");
    assert_eq!(message.matches("File exists").count(), 1, "{message}");
}

#[test]
fn a_missing_postgres_database_is_reported_once_with_a_createdb_hint() {
    let operator = Operator::new();
    let url = postgres_admin_url().rsplit_once('/').map(|(server, _)| server.to_owned());
    let url = format!("{}/warren_never_created", url.expect("POSTGRES_TEST_URL names a database"));
    let message = operator.fails(&["migrate", "up"], &[("DATABASE_URL", &url)]);
    assert_eq!(message.matches("warren_never_created").count(), 2, "{message}");
    assert_eq!(message.matches("createdb").count(), 1, "{message}");
    assert!(message.contains("createdb -h"), "{message}");
}

#[test]
fn an_unreachable_postgres_names_host_port_and_connection_refused() {
    let operator = Operator::new();
    // A port nothing listens on: bind one, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("a");
    let url = format!("postgres://warren@127.0.0.1:{}/warren", port.port());
    let env = [("DATABASE_URL", url.as_str()), ("WARREN_DATABASE__TIMEOUT_MS", "1000")];
    let message = operator.fails(&["migrate", "up"], &env);
    assert!(message.contains(&format!("127.0.0.1:{}", port.port())), "{message}");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn a_port_in_use_names_warren_server_port_and_writes_no_key() {
    let operator = Operator::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("address").port().to_string();
    let message = operator.fails(&["serve"], &[("WARREN_SERVER__PORT", &port)]);
    assert!(message.contains("already in use"), "{message}");
    assert!(message.contains("WARREN_SERVER__PORT"), "{message}");
    assert!(!operator.path().join("data/keys/signing.pem").exists(), "a key was written");
}

#[test]
fn a_mistyped_sqlite_folder_is_refused_without_creating_it() {
    let operator = Operator::new();
    let message =
        operator.fails(&["migrate", "up"], &[("DATABASE_URL", "sqlite://dtaa/warren.db")]);
    assert!(message.contains("dtaa"), "{message}");
    assert!(message.contains("mode=rwc"), "{message}");
    assert!(!operator.path().join("dtaa").exists(), "the mistyped folder was created");
    operator.succeeds(&["migrate", "up"], &[("DATABASE_URL", "sqlite://dtaa/warren.db?mode=rwc")]);
    assert!(operator.path().join("dtaa/warren.db").exists(), "mode=rwc creates the database");
}
