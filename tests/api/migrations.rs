//! Migrations: reversible on both databases, and the two folders stay in step.

use std::collections::BTreeSet;

use warren::repositories::Database;

use crate::helpers::{TestApp, both_backends};

async fn migrations_revert_and_reapply_cleanly(app: TestApp) {
    let database: &Database = &app.database;
    let applied = |status: Vec<warren::repositories::MigrationStatus>| {
        status.iter().filter(|m| m.applied).count()
    };
    let total = database.migration_status().await.expect("status").len();
    assert_eq!(applied(database.migration_status().await.expect("status")), total);
    for _ in 0..total {
        database.migrate_down().await.expect("down").expect("something to revert");
    }
    assert_eq!(applied(database.migration_status().await.expect("status")), 0);
    assert_eq!(database.migrate_down().await.expect("down"), None);
    database.migrate_up().await.expect("up again");
    assert_eq!(applied(database.migration_status().await.expect("status")), total);
}
both_backends!(migrations_revert_and_reapply_cleanly);

fn versions(folder: &str) -> BTreeSet<String> {
    std::fs::read_dir(folder)
        .expect("migrations folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_reversible_migrations() {
    let sqlite = versions("migrations/sqlite");
    let postgres = versions("migrations/postgres");
    assert_eq!(sqlite, postgres, "every migration needs a SQLite and a Postgres version");
    for name in sqlite.iter().filter(|n| n.ends_with(".up.sql")) {
        let down = name.replace(".up.sql", ".down.sql");
        assert!(sqlite.contains(&down), "{name} has no down migration");
    }
}
