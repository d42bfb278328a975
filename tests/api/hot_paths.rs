//! Every hot-path statement finds its rows through an index: with a few thousand users,
//! sessions and refresh tokens in the tables and statistics gathered, neither database plans a
//! full scan of a table for any of them.

use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;
use uuid::Uuid;
use warren::repositories::{Backend as Pools, HotStatement, SampleBind, hot_path_statements};

use crate::helpers::{TestApp, both_backends};

/// Users seeded; each gets one session with two refresh tokens.
const USERS: u32 = 5_000;

const SEED_SQLITE: &str = "
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
    INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at)
    SELECT randomblob(16), 'seed-' || i || '@example.com', 'Seed ' || i, 'x',
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || i || ' seconds'),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM n;
    INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
    SELECT randomblob(16), id, created_at, created_at, '2999-01-01T00:00:00Z' FROM users;
    INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
    SELECT randomblob(32), id, created_at, expires_at FROM sessions, (SELECT 1 UNION ALL SELECT 2);
    ANALYZE;";

const SEED_POSTGRES: &str = "
    INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at)
    SELECT gen_random_uuid(), 'seed-' || i || '@example.com', 'Seed ' || i, 'x',
           now() - i * interval '1 second', now()
    FROM generate_series(1, $USERS) AS i;
    INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)
    SELECT gen_random_uuid(), id, created_at, created_at, now() + interval '30 days' FROM users;
    INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
    SELECT sha256(gen_random_uuid()::text::bytea), id, created_at, expires_at
    FROM sessions, generate_series(1, 2);
    ANALYZE;";

fn seed_sql(template: &str) -> String {
    template.replace("$USERS", &USERS.to_string())
}

/// A plan line that reads a whole table, if `line` is one. SQLite says `SCAN <table>` without
/// `USING ... INDEX` (`k` and the constant row are the lookup keys' own `VALUES` list); Postgres says
/// `Seq Scan on <table>`.
fn full_scan(line: &str) -> bool {
    let line = line.trim();
    let own_keys = matches!(line, "SCAN k" | "SCAN CONSTANT ROW");
    let sqlite_scan = line.starts_with("SCAN ") && !line.contains(" USING ") && !own_keys;
    sqlite_scan || line.contains("Seq Scan on")
}

macro_rules! bind_samples {
    ($query:expr, $binds:expr, |$list:ident| $uuid_list:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                SampleBind::Uuid => query.bind(Uuid::now_v7()),
                SampleBind::UuidList => {
                    let $list = query;
                    $uuid_list
                }
                SampleBind::Text => query.bind("seed-42@example.com"),
                SampleBind::NullText => query.bind(None::<String>),
                SampleBind::Bytes => query.bind(vec![7_u8; 32]),
                SampleBind::Int => query.bind(50_i64),
                SampleBind::Time => query.bind(OffsetDateTime::now_utc()),
            };
        }
        query
    }};
}

async fn plan(app: &TestApp, statement: &HotStatement) -> Vec<String> {
    match app.database.backend() {
        Pools::Sqlite(pools) => {
            let sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
            let query = sqlx::query(AssertSqlSafe(sql));
            bind_samples!(query, statement.binds, |_query| panic!("SQLite takes no arrays"))
                .fetch_all(&pools.read)
                .await
                .expect("plan")
                .iter()
                .map(|row| row.get::<String, _>("detail"))
                .collect()
        }
        Pools::Postgres(pool) => {
            let sql = format!("EXPLAIN {}", statement.sql);
            let query = sqlx::query(AssertSqlSafe(sql));
            bind_samples!(query, statement.binds, |query| query.bind(vec![Uuid::now_v7()]))
                .fetch_all(pool)
                .await
                .expect("plan")
                .iter()
                .map(|row| row.get::<String, _>(0))
                .collect()
        }
    }
}

async fn hot_path_statements_use_an_index_on_seeded_tables(app: TestApp) {
    match app.database.backend() {
        Pools::Sqlite(pools) => sqlx::raw_sql(AssertSqlSafe(seed_sql(SEED_SQLITE)))
            .execute(&pools.write)
            .await
            .map(drop),
        Pools::Postgres(pool) => {
            sqlx::raw_sql(AssertSqlSafe(seed_sql(SEED_POSTGRES))).execute(pool).await.map(drop)
        }
    }
    .expect("seed");
    let statements = hot_path_statements(app.database.backend_name());
    assert!(statements.len() >= 5, "{statements:?}");
    let mut scans = Vec::new();
    for statement in &statements {
        let plan = plan(&app, statement).await;
        if plan.iter().any(|line| full_scan(line)) {
            scans.push(format!("{}:\n{}", statement.name, plan.join("\n")));
        }
    }
    assert!(scans.is_empty(), "full scans on a hot path:\n{}", scans.join("\n\n"));
}
both_backends!(hot_path_statements_use_an_index_on_seeded_tables);

#[test]
fn a_full_scan_is_recognised_in_either_plan() {
    assert!(full_scan("SCAN users"));
    assert!(full_scan("  ->  Seq Scan on users  (cost=0.00..155.00 rows=5000 width=64)"));
    assert!(!full_scan("SCAN users USING INDEX users_created_at_idx"));
    assert!(!full_scan("SEARCH u USING INDEX sqlite_autoindex_users_1 (id=?)"));
    assert!(!full_scan("Index Scan using users_email_key on users  (cost=0.28..8.30 rows=1)"));
}
