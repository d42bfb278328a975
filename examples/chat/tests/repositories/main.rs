//! The repository contract: every trait method, run against SQLite and Postgres. This suite is
//! what keeps the two implementations in step; each test is a plain `async fn` taking a fresh,
//! migrated database, run twice by `contract!`.

mod members;
mod messages;
mod names;
mod reactions;
mod rooms;

use sqlx::Connection;
use time::OffsetDateTime;
use uuid::Uuid;
use warren_chat::domain::RoomName;
use warren_chat::repositories::{ChatDatabase, Repositories, StoredMessage, StoredTime};
use warren_chat::services::cipher::Sealed;

/// Runs `async fn name(t: TestDatabase)` as `name::sqlite` and `name::postgres`.
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::TestDatabase::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$name($crate::TestDatabase::postgres().await).await;
            }
        }
    };
}
pub(crate) use contract;

/// A fresh, migrated database, removed when dropped.
pub struct TestDatabase {
    pub repos: Repositories,
    database: ChatDatabase,
    _dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

fn admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary dir");
        let url = format!("sqlite://{}/chat.db", dir.path().display());
        Self::open(&url, dir, None).await
    }

    pub async fn postgres() -> Self {
        let name = format!("chat_repo_{}", Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url()).await.expect("Postgres is up");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let admin = admin_url();
        let (server, _) = admin.rsplit_once('/').expect("POSTGRES_TEST_URL names a database");
        let dir = tempfile::tempdir().expect("temporary dir");
        Self::open(&format!("{server}/{name}"), dir, Some(name)).await
    }

    async fn open(url: &str, dir: tempfile::TempDir, postgres_name: Option<String>) -> Self {
        let database = ChatDatabase::connect(url, 4).await.expect("connect");
        database.migrate().await.expect("migrate");
        Self { repos: database.repositories(), database, _dir: dir, postgres_name }
    }

    /// Runs `sql` directly, to store what the repositories never would (a corrupted row).
    pub async fn execute(&self, sql: &'static str) {
        match &self.database {
            ChatDatabase::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            ChatDatabase::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        }
        .expect("raw statement");
    }

    /// A new room created by `creator` at `at`; returns its id.
    pub async fn room(&self, name: &str, creator: Uuid, at: OffsetDateTime) -> Uuid {
        let id = Uuid::now_v7();
        let name = RoomName::parse(name).expect("a valid room name");
        self.repos.rooms.create(id, &name, creator, at).await.expect("create room");
        id
    }

    /// A new message by `sender` in `room`, stored now; returns it as it was inserted.
    pub async fn message(&self, room: Uuid, sender: Uuid, body: &[u8]) -> StoredMessage {
        let message = StoredMessage {
            id: Uuid::now_v7(),
            room_id: room,
            sender_id: sender,
            sender_name: None,
            sealed: Sealed {
                key_id: "k1".to_owned(),
                nonce: vec![7; 24],
                ciphertext: body.to_vec(),
            },
            created_at: StoredTime::now().get(),
        };
        self.repos.messages.insert(&message).await.expect("insert message");
        message
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE ends the pool's connections, which are still open while the test unwinds.
        let Some(name) = self.postgres_name.take() else { return };
        let _ = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url()).await.ok()?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await.ok()
            })
        })
        .join();
    }
}

/// The seeded rooms every fresh database starts with, in creation order.
pub const SEEDED_ROOMS: [&str; 3] = ["General", "Random", "Tech Talk"];
