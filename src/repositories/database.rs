//! Connecting to the configured database, running its migrations and checking it answers.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migrate, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite};

use super::postgres::{PgAudit, PgSessions, PgThrottles, PgUsers};
use super::sqlite::{SqliteAudit, SqliteSessions, SqliteThrottles, SqliteUsers};
use super::{AuditRepository, Pools, SessionRepository, ThrottleRepository, UserRepository};
use crate::core::config::DatabaseSettings;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long SQLite waits on a locked database before reporting busy (mapped to 503).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections to one of the supported databases, chosen by the URL scheme.
#[derive(Debug, Clone)]
pub enum Database {
    /// A read pool and a single-connection write pool (see [`Pools`]).
    Sqlite(Pools<Sqlite>),
    Postgres(PgPool),
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

impl Database {
    /// Opens a pool. SQLite files (and their folder) are created on first use, in WAL mode so
    /// readers never block the writer.
    pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<Self, sqlx::Error> {
        let acquire_timeout = Duration::from_secs(settings.acquire_timeout_secs);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            if let Some(folder) = options.get_filename().parent() {
                std::fs::create_dir_all(folder)?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(acquire_timeout)
                .connect_with(options.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Self::Sqlite(Pools { read, write }))
        } else {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Self::Postgres(pool))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub fn users(&self) -> Arc<dyn UserRepository> {
        match self {
            Self::Sqlite(pools) => Arc::new(SqliteUsers::new(pools.clone())),
            Self::Postgres(pool) => Arc::new(PgUsers::new(shared(pool))),
        }
    }

    pub fn sessions(&self) -> Arc<dyn SessionRepository> {
        match self {
            Self::Sqlite(pools) => Arc::new(SqliteSessions::new(pools.clone())),
            Self::Postgres(pool) => Arc::new(PgSessions::new(shared(pool))),
        }
    }

    pub fn audit(&self) -> Arc<dyn AuditRepository> {
        match self {
            Self::Sqlite(pools) => Arc::new(SqliteAudit::new(pools.clone())),
            Self::Postgres(pool) => Arc::new(PgAudit::new(shared(pool))),
        }
    }

    pub fn throttles(&self) -> Arc<dyn ThrottleRepository> {
        match self {
            Self::Sqlite(pools) => Arc::new(SqliteThrottles::new(pools.clone())),
            Self::Postgres(pool) => Arc::new(PgThrottles::new(shared(pool))),
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Self::Sqlite(pools) => self.migrator().run(&pools.write).await,
            Self::Postgres(pool) => self.migrator().run(pool).await,
        }
    }

    /// Reverts the newest applied migration; returns its version, if there was one.
    pub async fn migrate_down(&self) -> Result<Option<i64>, sqlx::migrate::MigrateError> {
        let applied: Vec<i64> = self
            .migration_status()
            .await?
            .into_iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .collect();
        let Some(&newest) = applied.last() else {
            return Ok(None);
        };
        let target = applied.iter().rev().nth(1).copied().unwrap_or(0);
        match self {
            Self::Sqlite(pools) => self.migrator().undo(&pools.write, target).await?,
            Self::Postgres(pool) => self.migrator().undo(pool, target).await?,
        }
        Ok(Some(newest))
    }

    pub async fn migration_status(
        &self,
    ) -> Result<Vec<MigrationStatus>, sqlx::migrate::MigrateError> {
        let applied: Vec<i64> = match self {
            Self::Sqlite(pools) => applied_versions(&mut *pools.write.acquire().await?).await?,
            Self::Postgres(pool) => applied_versions(&mut *pool.acquire().await?).await?,
        };
        Ok(self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied: applied.contains(&m.version),
            })
            .collect())
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(pools) => sqlx::query("SELECT 1").execute(&pools.read).await.map(drop),
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pools) => {
                pools.write.close().await;
                pools.read.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// Postgres serves reads and writes from one pool.
fn shared(pool: &PgPool) -> Pools<Postgres> {
    Pools { read: pool.clone(), write: pool.clone() }
}

async fn applied_versions<C: Migrate + ?Sized>(
    connection: &mut C,
) -> Result<Vec<i64>, sqlx::migrate::MigrateError> {
    connection.ensure_migrations_table("_sqlx_migrations").await?;
    let applied = connection.list_applied_migrations("_sqlx_migrations").await?;
    Ok(applied.into_iter().map(|m| m.version).collect())
}
