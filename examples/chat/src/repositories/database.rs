//! Connecting: the backend is chosen from the URL scheme, migrations are embedded per backend.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use super::{Repositories, postgres, sqlite};

#[derive(Debug, Clone)]
pub enum ChatDatabase {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl ChatDatabase {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(3))
                .connect(url)
                .await
                .context("connect to Postgres")?;
            return Ok(Self::Postgres(pool));
        }
        anyhow::ensure!(url.starts_with("sqlite:"), "database.url: use sqlite:// or postgres://");
        let options = SqliteConnectOptions::from_str(url)
            .context("parse database.url")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent() {
            std::fs::create_dir_all(dir).context("create the SQLite directory")?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .context("open SQLite")?;
        Ok(Self::Sqlite(pool))
    }

    /// Applies pending migrations; the seeded rooms arrive with the first one.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Self::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
        .context("apply migrations")
    }

    /// Every repository, implemented for this database.
    pub fn repositories(&self) -> Repositories {
        match self {
            Self::Sqlite(pool) => sqlite::repositories(pool),
            Self::Postgres(pool) => postgres::repositories(pool),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
