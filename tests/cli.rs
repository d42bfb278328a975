//! The real `warren` binary as an operator meets it: configuration mistakes, unreachable
//! databases, taken ports and `check-config`, each message naming what the operator typed.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch working directory and a clean environment, so only what a test sets counts.
struct Operator {
    dir: tempfile::TempDir,
}

impl Operator {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("scratch directory") }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.path().join(name), contents).expect("write scratch file");
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_warren"));
        command.args(args).current_dir(self.path()).env_clear().envs(env.iter().copied());
        command
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run warren")
    }

    /// Runs a command that must fail; returns stdout and stderr together.
    fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let output = self.run(args, env);
        let text = text(&output);
        assert!(!output.status.success(), "expected a failure, got: {text}");
        text
    }

    /// Runs a command that must succeed; returns its stdout and stderr together.
    fn succeeds(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let output = self.run(args, env);
        let text = text(&output);
        assert!(output.status.success(), "expected success, got: {text}");
        text
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn postgres_admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

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
    let env = [("DATABASE_URL", url.as_str()), ("WARREN_DATABASE__ACQUIRE_TIMEOUT_SECS", "1")];
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

#[test]
fn check_config_summarises_cors_proxies_limits_and_the_key_then_gives_one_verdict() {
    let operator = Operator::new();
    let generated = operator.succeeds(&["keys", "generate", "--out", "data/keys/signing.pem"], &[]);
    let kid = generated.trim().rsplit_once("kid ").expect("kid printed").1.trim_end_matches(')');
    let env = [
        ("WARREN_SERVER__PORT", "0"),
        ("WARREN_CORS__ALLOWED_ORIGINS", "[http://localhost:5173]"),
        ("WARREN_TRUSTED_PROXIES", "[10.0.0.0/8]"),
    ];
    operator.succeeds(&["migrate", "up"], &env);
    let summary = operator.succeeds(&["check-config"], &env);
    for expected in [kid, "http://localhost:5173", "10.0.0.0/8", "10/min", "all applied"] {
        assert!(summary.contains(expected), "{expected} missing from {summary}");
    }
    assert_eq!(summary.matches("verdict:").count(), 1, "{summary}");
    assert!(summary.trim_end().ends_with("ready: serve would start with this configuration"));
}

#[test]
fn check_config_fails_on_pending_migrations_when_serve_would_not_apply_them() {
    let operator = Operator::new();
    operator.succeeds(&["migrate", "up"], &[]);
    operator.succeeds(&["migrate", "down"], &[]);
    let env = [("WARREN_DATABASE__AUTO_MIGRATE", "false"), ("WARREN_SERVER__PORT", "0")];
    let report = operator.fails(&["check-config"], &env);
    assert!(report.contains("1 migration(s) pending"), "{report}");
    assert!(report.contains("warren migrate up"), "{report}");
    assert!(report.contains("verdict: NOT ready"), "{report}");
}

#[test]
fn check_config_in_production_warns_about_a_key_others_can_read() {
    let operator = Operator::new();
    operator.succeeds(&["keys", "generate", "--out", "prod.pem"], &[]);
    let key = operator.path().join("prod.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let env = [
        ("WARREN_ENV", "production"),
        ("WARREN_AUTH__ISSUER", "https://accounts.example.com"),
        ("WARREN_AUTH__SIGNING_KEY_FILE", "prod.pem"),
        ("WARREN_SERVER__PORT", "0"),
    ];
    let report = operator.succeeds(&["check-config"], &env);
    assert!(report.contains("warning: prod.pem is readable by group or others"), "{report}");
}

#[test]
fn the_migrate_script_resolves_the_same_database_as_the_binary() {
    let operator = Operator::new();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/migrate.sh");
    let cases: [&[(&str, &str)]; 4] = [
        &[],
        &[("WARREN_DATA_DIR", "elsewhere")],
        &[("DATABASE_URL", "sqlite://plain.db")],
        &[("DATABASE_URL", "sqlite://plain.db"), ("WARREN_DATABASE__URL", "sqlite://wins.db")],
    ];
    operator.write(".env", "WARREN_DATA_DIR=from-dotenv\n");
    for env in cases {
        let binary = operator.succeeds(&["check-config", "--print-database-url"], env);
        let output = Command::new(&script)
            .arg("url")
            .current_dir(operator.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("WARREN_BIN", env!("CARGO_BIN_EXE_warren"))
            .envs(env.iter().copied())
            .output()
            .expect("run scripts/migrate.sh");
        assert!(output.status.success(), "{}", text(&output));
        assert_eq!(String::from_utf8_lossy(&output.stdout), binary, "{env:?}");
    }
    let dotenv = operator.succeeds(&["check-config", "--print-database-url"], &[]);
    assert_eq!(dotenv.trim(), "sqlite://from-dotenv/warren.db");
}

/// A running `warren serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    /// The `serving` log line.
    line: String,
    url: String,
}

impl Server {
    fn start(operator: &Operator, env: &[(&str, &str)]) -> Self {
        let mut env = env.to_vec();
        env.push(("WARREN_SERVER__PORT", "0"));
        let mut child = operator
            .command(&["serve"], &env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start warren serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let deadline = Instant::now() + Duration::from_secs(60);
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .take_while(|_| Instant::now() < deadline)
            .find(|line| line.contains("serving"));
        let Some(line) = line else {
            let _ = child.kill();
            panic!("warren serve never logged its serving line");
        };
        let url = line.split("url=").nth(1).and_then(|rest| rest.split(' ').next());
        let url = url.expect("the serving line names the url").to_owned();
        Self { child, line, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_logs_its_url_docs_database_and_key_id_without_colour_codes() {
    let operator = Operator::new();
    let server = Server::start(&operator, &[]);
    let line = &server.line;
    assert!(server.url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(line.contains(&format!("docs={}/docs", server.url)), "{line}");
    assert!(line.contains("SQLite file ./data/warren.db"), "{line}");
    assert!(line.contains("kid="), "{line}");
    assert!(!line.contains('\u{1b}'), "colour codes in a pipe: {line:?}");
}

#[tokio::test]
async fn the_try_script_survives_three_runs_in_a_row_and_leaves_no_account_behind() {
    let operator = Operator::new();
    let server = Server::start(&operator, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/try.sh");
    for run in 1..=3 {
        let output = Command::new(&script).arg(&server.url).output().expect("run scripts/try.sh");
        let log = text(&output);
        assert!(output.status.success(), "run {run} failed: {log}");
        assert!(log.contains("<- 201") && log.contains("<- 204"), "run {run}: {log}");
    }
    let url = format!("sqlite://{}?mode=ro", operator.path().join("data/warren.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open the server's database");
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&pool).await.expect("count");
    assert_eq!(users, 0, "try.sh left accounts behind");
}

#[test]
fn the_scripts_read_postgres_host_and_port_with_5432_as_the_default() {
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-address.sh");
    for (url, expected) in [
        ("postgres://u:pw@db.example/warren", "db.example 5432"),
        ("postgres://db.example:6543/warren", "db.example 6543"),
        ("postgres://u@[::1]:5433/warren?sslmode=disable", "::1 5433"),
        ("postgresql://u@db.example", "db.example 5432"),
    ] {
        let script =
            format!("source {}; pg_address '{url}'; echo $pg_host $pg_port", helper.display());
        let output = Command::new("bash").arg("-c").arg(script).output().expect("run bash");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected, "{url}");
    }
}

/// Two processes on one SQLite file, as the README describes: on one host SQLite's locking
/// keeps them consistent (what one writes, the other reads at once). The README still says
/// not to deploy this way; this checks only the consistency it claims.
#[tokio::test]
async fn two_instances_on_one_sqlite_file_see_each_others_writes() {
    let operator = Operator::new();
    let first = Server::start(&operator, &[]);
    let second = Server::start(&operator, &[]);
    let client = reqwest::Client::new();
    let account = serde_json::json!({
        "email": "shared@example.com",
        "password": "one file two processes",
        "full_name": "Shared File",
    });
    let signup = client.post(format!("{}/api/v1/auth/signup", first.url)).json(&account);
    assert_eq!(signup.send().await.expect("signup").status(), 201);
    let signin = client
        .post(format!("{}/api/v1/auth/signin", second.url))
        .json(&serde_json::json!({"email": account["email"], "password": account["password"]}))
        .send()
        .await
        .expect("signin");
    assert_eq!(signin.status(), 200, "the second instance sees the first one's account");
    let tokens: serde_json::Value = signin.json().await.expect("signin body");
    let refresh = client
        .post(format!("{}/api/v1/auth/refresh", first.url))
        .json(&serde_json::json!({"refresh_token": tokens["refresh_token"]}))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refresh.status(), 200, "the first instance sees the second one's session");
}
