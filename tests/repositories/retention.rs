//! The retention repository: batches never exceed their bound, a pass empties whatever
//! qualifies however large, and on Postgres only one instance prunes at a time.

use std::sync::Arc;

use time::OffsetDateTime;
use warren::core::clock::SystemClock;
use warren::core::config::Settings;
use warren::repositories::{Backend, Database, MAX_PRUNE_BATCH, Prune};
use warren::services::{PassOutcome, Pruner};

use crate::{TestDatabase, contract};

const OLD_EVENTS: usize = 2_500;

async fn execute(db: &Database, sqlite: &'static str, postgres: &'static str) {
    match db.backend() {
        Backend::Sqlite(pools) => sqlx::query(sqlite).execute(&pools.write).await.map(drop),
        Backend::Postgres(pool) => sqlx::query(postgres).execute(pool).await.map(drop),
    }
    .expect("statement runs");
}

async fn count(db: &Database, sql: &'static str) -> i64 {
    match db.backend() {
        Backend::Sqlite(pools) => sqlx::query_scalar(sql).fetch_one(&pools.read).await,
        Backend::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count")
}

/// 2,500 audit events from 2020, each with an address.
async fn old_events(db: &Database) {
    execute(
        db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO auth_events (id, occurred_at, kind, ip)
         SELECT randomblob(16), '2020-01-01T00:00:00Z', 'signin', '192.0.2.1' FROM n",
        "INSERT INTO auth_events (id, occurred_at, kind, ip)
         SELECT gen_random_uuid(), '2020-01-01T00:00:00Z', 'signin', '192.0.2.1'
         FROM generate_series(1, 2500)",
    )
    .await;
    let all = count(db, "SELECT count(*) FROM auth_events").await;
    assert_eq!(all, i64::try_from(OLD_EVENTS).expect("small"));
}

fn keep_nothing() -> Settings {
    let mut settings = Settings::default();
    settings.retention.audit_days = 0;
    settings.retention.ip_days = 0;
    settings
}

async fn one_call_touches_at_most_a_thousand_rows_however_many_are_asked_for(db: TestDatabase) {
    old_events(&db.db).await;
    let retention = &db.db.repositories().retention;
    let now = OffsetDateTime::now_utc();

    let erased = retention.prune(Prune::AuditAddresses, now, 5_000).await.expect("erase");
    let deleted = retention.prune(Prune::AuditEvents, now, 5_000).await.expect("delete");

    assert_eq!(erased, u64::from(MAX_PRUNE_BATCH));
    assert_eq!(deleted, u64::from(MAX_PRUNE_BATCH));
    assert_eq!(count(&db.db, "SELECT count(*) FROM auth_events").await, 1_500);
}
contract!(one_call_touches_at_most_a_thousand_rows_however_many_are_asked_for);

async fn a_pass_deletes_every_qualifying_row_in_batches(db: TestDatabase) {
    old_events(&db.db).await;
    let retention = Arc::clone(&db.db.repositories().retention);
    let pruner = Pruner::new(retention, Arc::new(SystemClock), &keep_nothing());
    let mut batches = Vec::new();

    let outcome = pruner.pass(|tally| batches.push(tally.get("auth_events"))).await;

    let Ok(PassOutcome::Pruned(tally)) = outcome else { panic!("pruned: {outcome:?}") };
    assert_eq!(tally.get("auth_events"), 2_500, "{tally}");
    assert_eq!(count(&db.db, "SELECT count(*) FROM auth_events").await, 0);
    let mut seen: Vec<u64> = batches.into_iter().filter(|&n| n > 0).collect();
    seen.dedup();
    assert_eq!(seen, [1_000, 2_000, 2_500], "three batches of at most 1,000");
}
contract!(a_pass_deletes_every_qualifying_row_in_batches);

/// Two instances on one Postgres database: while one holds the lock the other's pass does
/// nothing; released (or its connection gone), the other may prune.
#[tokio::test]
async fn two_postgres_instances_never_prune_at_once() {
    let first = TestDatabase::postgres().await;
    let second = TestDatabase::reconnect(&first).await;
    let pruner = Pruner::new(
        Arc::clone(&second.repositories().retention),
        Arc::new(SystemClock),
        &keep_nothing(),
    );
    let held = first.db.repositories().retention.try_lock().await.expect("lock").expect("free");

    assert_eq!(pruner.pass(|_| {}).await.expect("pass"), PassOutcome::Busy);
    let other = second.repositories().retention.try_lock().await.expect("lock");
    assert!(other.is_none(), "the lock is held");

    held.release().await.expect("unlock");
    assert!(matches!(pruner.pass(|_| {}).await.expect("pass"), PassOutcome::Pruned(_)));

    let abandoned = first.db.repositories().retention.try_lock().await.expect("lock");
    drop(abandoned.expect("free again"));
    let mut retaken = None;
    for _ in 0..50 {
        retaken = second.repositories().retention.try_lock().await.expect("lock");
        if retaken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(retaken.is_some(), "a dropped lock's connection closes, and the lock with it");
}
