//! The repository contract: every trait method, run against SQLite and Postgres. This suite is
//! what keeps the two implementations in step; each test is a plain `async fn` taking a fresh,
//! migrated database, run twice by `contract!`.

mod admin;
mod avatars;
mod email;
mod faults;
mod mfa;
mod retention;
mod sessions;
mod throttles;
mod users;

use std::net::{IpAddr, Ipv4Addr};

use sqlx::Connection;
use time::{Duration, OffsetDateTime};
use warren::core::config::DatabaseSettings;
use warren::domain::{Amr, EmailAddress, RefreshTokenHash, SessionId, StoredHash, User, UserId};
use warren::repositories::{Database, NewRefreshToken, NewSession, NewUserRecord};

/// Runs `async fn name(db: TestDatabase)` as `name::sqlite` and `name::postgres`.
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
    pub db: Database,
    pub url: String,
    _dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

fn admin_url() -> String {
    std::env::var("POSTGRES_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn settings() -> DatabaseSettings {
    serde_json::from_value(serde_json::json!({
        "auto_migrate": true, "max_connections": 4, "timeout_ms": 1500
    }))
    .expect("database settings")
}

impl TestDatabase {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary dir");
        let url = format!("sqlite://{}/warren.db", dir.path().display());
        Self::open(url, dir, None).await
    }

    pub async fn postgres() -> Self {
        let name = format!("warren_repo_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url()).await.expect("Postgres is up");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = match admin_url().rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("POSTGRES_TEST_URL must name a database"),
        };
        let dir = tempfile::tempdir().expect("temporary dir");
        Self::open(url, dir, Some(name)).await
    }

    /// A second connection to `other`'s database, as another instance would have (the data
    /// directory matters only to SQLite, which is one instance per file).
    pub async fn reconnect(other: &Self) -> Database {
        Database::connect(&other.url, &settings(), &std::env::temp_dir()).await.expect("connect")
    }

    async fn open(url: String, dir: tempfile::TempDir, postgres_name: Option<String>) -> Self {
        let db = Database::connect(&url, &settings(), dir.path()).await.expect("connect");
        db.migrate_up().await.expect("migrate");
        Self { db, url, _dir: dir, postgres_name }
    }

    /// Inserts a user with a fresh email and returns it.
    pub async fn user(&self) -> User {
        let record = new_user(&format!("{}@example.com", uuid::Uuid::now_v7().simple()));
        self.db.repositories().users.insert(record).await.expect("insert user")
    }

    /// Opens a session for `user` with the given root token; returns its id.
    pub async fn session(&self, user: UserId, root: RefreshTokenHash) -> SessionId {
        let now = OffsetDateTime::now_utc();
        let id = SessionId::generate();
        let session = new_session(id, user, now + Duration::days(30));
        let token =
            NewRefreshToken { hash: root, issued_at: now, expires_at: now + Duration::days(14) };
        self.db.repositories().sessions.create(session, token).await.expect("create session");
        id
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else { return };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url()).await?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database");
        }
    }
}

pub fn new_user(email: &str) -> NewUserRecord {
    NewUserRecord {
        id: UserId::generate(),
        email: EmailAddress::parse(email).expect("valid email"),
        full_name: None,
        password_hash: StoredHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        created_at: OffsetDateTime::now_utc(),
        verification: None,
    }
}

pub fn new_session(id: SessionId, user: UserId, expires_at: OffsetDateTime) -> NewSession {
    NewSession {
        id,
        user_id: user,
        created_at: OffsetDateTime::now_utc(),
        expires_at,
        user_agent: Some("contract-test".to_owned()),
        ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        amr: Amr::Password,
    }
}

/// A random refresh-token hash.
pub fn token_hash() -> RefreshTokenHash {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("randomness");
    RefreshTokenHash::from_bytes(bytes)
}

pub fn token(hash: RefreshTokenHash, now: OffsetDateTime, ttl: Duration) -> NewRefreshToken {
    NewRefreshToken { hash, issued_at: now, expires_at: now + ttl }
}
