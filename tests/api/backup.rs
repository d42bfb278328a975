//! `warren backup`: a consistent, checked copy of a SQLite database taken while the server
//! takes writes, which a server started on it serves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::admin_cli::{stderr, stdout, warren};
use crate::helpers::{Backend, TestApp, TestUser};

/// Signs users up from `workers` loops until `stop`, recording each acknowledged (201) one.
fn signup_load(
    app: &TestApp,
    workers: usize,
    stop: &Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<TestUser>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let tasks = (0..workers)
        .map(|_| {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/auth/signup", app.address));
            let (stop, acknowledged) = (Arc::clone(stop), Arc::clone(&acknowledged));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let user = TestUser::generate();
                    let body = serde_json::json!({
                        "email": user.email, "password": user.password, "full_name": user.full_name
                    });
                    let sent = client.post(&url).json(&body).send().await;
                    if sent.is_ok_and(|response| response.status() == StatusCode::CREATED) {
                        acknowledged.lock().expect("lock").push(user);
                    }
                }
            })
        })
        .collect();
    (acknowledged, tasks)
}

fn acknowledged_now(acknowledged: &Mutex<Vec<TestUser>>) -> Vec<TestUser> {
    acknowledged.lock().expect("lock").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_signups_holds_every_acknowledged_user_and_serves_them() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let folder = tempfile::tempdir().expect("backup folder");
    let copy = folder.path().join("copy.db");
    let stop = Arc::new(AtomicBool::new(false));
    let (acknowledged, load) = signup_load(&app, 3, &stop);
    while acknowledged_now(&acknowledged).len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let before = acknowledged_now(&acknowledged);
    let output = warren(&app, &["backup", copy.to_str().expect("utf-8 path")]).await;
    // The load goes on past the backup, so the copy was taken while signups were written.
    while acknowledged_now(&acknowledged).len() < before.len() + 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("load task");
    }

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("integrity ok"), "{}", stdout(&output));
    let mut connection = SqliteConnectOptions::new()
        .filename(&copy)
        .read_only(true)
        .connect()
        .await
        .expect("open the copy");
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .expect("check");
    assert_eq!(verdict, "ok");
    for user in &before {
        let email = user.email.to_lowercase();
        let found: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
            .bind(&email)
            .fetch_one(&mut connection)
            .await
            .expect("look up");
        assert_eq!(found, 1, "{email} was acknowledged before the backup began");
    }
    connection.close().await.expect("close");

    let url = format!("sqlite://{}", copy.display());
    let restored =
        TestApp::spawn_with(Backend::Sqlite, |figment| figment.merge(("database.url", url))).await;
    for user in &before {
        let signin = restored.signin(&user.email, &user.password).await;
        assert_eq!(signin.status(), StatusCode::OK, "{} signs in on the copy", user.email);
    }
}

#[tokio::test]
async fn a_backup_never_replaces_a_file_unless_forced() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let folder = tempfile::tempdir().expect("backup folder");
    let existing = folder.path().join("existing.db");
    std::fs::write(&existing, b"keep me").expect("write");
    let path = existing.to_str().expect("utf-8 path");

    let refused = warren(&app, &["backup", path]).await;

    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(std::fs::read(&existing).expect("read"), b"keep me");
    let forced = warren(&app, &["backup", "--force", path]).await;
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(std::fs::metadata(&existing).expect("stat").len() > 4096, "a database now");
    let leftovers = std::fs::read_dir(folder.path()).expect("list").count();
    assert_eq!(leftovers, 1, "no partial copy left behind");
}

#[tokio::test]
async fn a_backup_of_postgres_exits_2_and_names_pg_dump() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let folder = tempfile::tempdir().expect("backup folder");
    let target = folder.path().join("copy.db");

    let output = warren(&app, &["backup", target.to_str().expect("utf-8 path")]).await;

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("pg_dump"), "{}", stderr(&output));
    assert!(!target.exists());
}
