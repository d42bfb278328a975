//! Connecting to the configured database: the backend is chosen here, once, from the URL
//! scheme, and every repository is built for it. Also migrations and readiness.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::{Migrate, MigrateError, Migrator};

use super::budget::Budgeted;
use super::postgres::{
    self, PgAudit, PgAvatars, PgClients, PgEmail, PgEventChannel, PgMfa, PgRetention, PgSessions,
    PgThrottles, PgUsers,
};
use super::sqlite::{
    SqliteAudit, SqliteAvatars, SqliteClients, SqliteEmail, SqliteEventChannel, SqliteMfa,
    SqlitePools, SqliteRetention, SqliteSessions, SqliteThrottles, SqliteUsers,
};
use super::{
    AuditRepository, AvatarRepository, ClientRepository, EmailRepository, EventChannel,
    MfaRepository, RetentionRepository, SessionRepository, ThrottleRepository, UserRepository,
};
use crate::core::config::DatabaseSettings;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The connections of one of the supported databases.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A read pool and a single-connection write pool (see [`SqlitePools`]).
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// Every repository, built once for the chosen backend.
#[derive(Debug, Clone)]
pub struct Repositories {
    pub users: Arc<dyn UserRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub audit: Arc<dyn AuditRepository>,
    pub throttles: Arc<dyn ThrottleRepository>,
    pub email: Arc<dyn EmailRepository>,
    pub avatars: Arc<dyn AvatarRepository>,
    pub mfa: Arc<dyn MfaRepository>,
    pub clients: Arc<dyn ClientRepository>,
    pub retention: Arc<dyn RetentionRepository>,
}

/// A connected database and its repositories.
#[derive(Debug, Clone)]
pub struct Database {
    backend: Backend,
    repositories: Repositories,
    /// How account events reach every instance (see [`EventChannel`]).
    events: Arc<dyn EventChannel>,
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub applied: bool,
}

/// Why the database cannot serve requests now.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("the database does not answer")]
    Unreachable(#[from] sqlx::Error),
    #[error("the schema is at migration {applied:?}, this build needs {expected}")]
    SchemaMismatch { applied: Option<i64>, expected: i64 },
}

impl Database {
    /// Connects to `url` (`sqlite:` or `postgres:`). A SQLite file is created when missing,
    /// and its folder too when that folder is `data_dir` or the URL says `mode=rwc` (see
    /// [`SqlitePools::connect`]).
    pub async fn connect(
        url: &str,
        settings: &DatabaseSettings,
        data_dir: &Path,
    ) -> Result<Self, sqlx::Error> {
        // Every repository call, connection included, must finish within this (default
        // 1.5 s): one failing call ends a request, so an unreachable database is a 503 in < 2 s.
        let budget = Duration::from_millis(settings.timeout_ms);
        let backend = if url.starts_with("sqlite:") {
            // `?mode=rwc` is the operator saying "create it where I said".
            let is_data_dir =
                |folder: &Path| same_folder(folder, data_dir) || url.contains("mode=rwc");
            let pools =
                SqlitePools::connect(url, settings.max_connections, budget, is_data_dir).await?;
            Backend::Sqlite(pools)
        } else {
            Backend::Postgres(postgres::connect(url, settings.max_connections, budget).await?)
        };
        let repositories = repositories_for(&backend, budget);
        let events: Arc<dyn EventChannel> = match &backend {
            Backend::Sqlite(pools) => Arc::new(SqliteEventChannel::new(pools.clone())),
            Backend::Postgres(pool) => Arc::new(PgEventChannel::new(pool.clone())),
        };
        Ok(Self { backend, repositories, events })
    }

    pub fn repositories(&self) -> &Repositories {
        &self.repositories
    }

    pub fn event_channel(&self) -> Arc<dyn EventChannel> {
        Arc::clone(&self.events)
    }

    /// The pools themselves, for operators' tools and tests that need raw access.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite(_) => &SQLITE_MIGRATIONS,
            Backend::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), MigrateError> {
        match &self.backend {
            Backend::Sqlite(pools) => self.migrator().run(&pools.write).await,
            Backend::Postgres(pool) => self.migrator().run(pool).await,
        }
    }

    /// Reverts the newest applied migration; returns its version, if there was one.
    pub async fn migrate_down(&self) -> Result<Option<i64>, MigrateError> {
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
        match &self.backend {
            Backend::Sqlite(pools) => self.migrator().undo(&pools.write, target).await?,
            Backend::Postgres(pool) => self.migrator().undo(pool, target).await?,
        }
        Ok(Some(newest))
    }

    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, MigrateError> {
        let applied: Vec<i64> = match &self.backend {
            Backend::Sqlite(pools) => applied_versions(&mut *pools.write.acquire().await?).await?,
            Backend::Postgres(pool) => applied_versions(&mut *pool.acquire().await?).await?,
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

    /// Whether the database answers and its schema has every migration this build needs
    /// (a `migrate down` on a live database makes an instance unready, not a source of 500s).
    pub async fn ready(&self) -> Result<(), NotReady> {
        const NEWEST_APPLIED: &str = "SELECT max(version) FROM _sqlx_migrations WHERE success";
        let applied: Option<i64> = match &self.backend {
            Backend::Sqlite(pools) => {
                sqlx::query_scalar(NEWEST_APPLIED).fetch_one(&pools.read).await
            }
            Backend::Postgres(pool) => sqlx::query_scalar(NEWEST_APPLIED).fetch_one(pool).await,
        }
        .or_else(|error| match &error {
            // No migrations table at all: nothing applied.
            sqlx::Error::Database(db) if !is_connection_error(db.as_ref()) => Ok(None),
            _ => Err(error),
        })?;
        let expected = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        if applied.is_some_and(|applied| applied >= expected) {
            Ok(())
        } else {
            Err(NotReady::SchemaMismatch { applied, expected })
        }
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        match &self.backend {
            Backend::Sqlite(pools) => sqlx::query("SELECT 1").execute(&pools.read).await.map(drop),
            Backend::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pools) => {
                pools.write.close().await;
                pools.read.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

fn repositories_for(backend: &Backend, budget: Duration) -> Repositories {
    let unbudgeted = match backend {
        Backend::Sqlite(pools) => Repositories {
            users: Arc::new(SqliteUsers::new(pools.clone())),
            sessions: Arc::new(SqliteSessions::new(pools.clone())),
            audit: Arc::new(SqliteAudit::new(pools.clone())),
            throttles: Arc::new(SqliteThrottles::new(pools.clone())),
            email: Arc::new(SqliteEmail::new(pools.clone())),
            avatars: Arc::new(SqliteAvatars::new(pools.clone())),
            mfa: Arc::new(SqliteMfa::new(pools.clone())),
            clients: Arc::new(SqliteClients::new(pools.clone())),
            retention: Arc::new(SqliteRetention::new(pools.clone())),
        },
        Backend::Postgres(pool) => Repositories {
            users: Arc::new(PgUsers::new(pool.clone())),
            sessions: Arc::new(PgSessions::new(pool.clone())),
            audit: Arc::new(PgAudit::new(pool.clone())),
            throttles: Arc::new(PgThrottles::new(pool.clone())),
            email: Arc::new(PgEmail::new(pool.clone())),
            avatars: Arc::new(PgAvatars::new(pool.clone())),
            mfa: Arc::new(PgMfa::new(pool.clone())),
            clients: Arc::new(PgClients::new(pool.clone())),
            retention: Arc::new(PgRetention::new(pool.clone())),
        },
    };
    Repositories {
        users: Arc::new(Budgeted::new(unbudgeted.users, budget)),
        sessions: Arc::new(Budgeted::new(unbudgeted.sessions, budget)),
        audit: Arc::new(Budgeted::new(unbudgeted.audit, budget)),
        throttles: Arc::new(Budgeted::new(unbudgeted.throttles, budget)),
        email: Arc::new(Budgeted::new(unbudgeted.email, budget)),
        avatars: Arc::new(Budgeted::new(unbudgeted.avatars, budget)),
        mfa: Arc::new(Budgeted::new(unbudgeted.mfa, budget)),
        clients: Arc::new(Budgeted::new(unbudgeted.clients, budget)),
        retention: Arc::new(Budgeted::new(unbudgeted.retention, budget)),
    }
}

/// SQLite reports a missing table as a plain database error; a dead connection is not one.
fn is_connection_error(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.code().is_some_and(|code| code.starts_with("08"))
}

fn same_folder(a: &Path, b: &Path) -> bool {
    let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    a == b || canonical(a) == canonical(b)
}

async fn applied_versions<C: Migrate + ?Sized>(
    connection: &mut C,
) -> Result<Vec<i64>, MigrateError> {
    connection.ensure_migrations_table("_sqlx_migrations").await?;
    let applied = connection.list_applied_migrations("_sqlx_migrations").await?;
    Ok(applied.into_iter().map(|m| m.version).collect())
}
