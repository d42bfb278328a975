//! The scripts an operator runs: `migrate.sh` agrees with the binary, `try.sh` cleans up,
//! and every script reads Postgres addresses the same way.

use std::path::Path;
use std::process::Command;

use crate::{Operator, Server, text};

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
