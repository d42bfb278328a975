//! SQLite: a read pool and a single-connection write pool. Writers queue in the pool (FIFO,
//! async) instead of colliding in SQLite's busy handler, and every write is one `BEGIN
//! IMMEDIATE` transaction committed through [`Writer`]. Times are stored as RFC 3339 text and
//! compared with `julianday()`, which parses them whatever their fractional digits.

mod audit;
mod authentication;
mod avatars;
mod clients;
mod email;
mod mfa;
mod notices;
mod retention;
mod sessions;
mod throttles;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

pub use audit::SqliteAudit;
pub use avatars::SqliteAvatars;
pub use clients::SqliteClients;
pub use email::SqliteEmail;
pub use mfa::SqliteMfa;
pub use notices::SqliteEventChannel;
pub use retention::SqliteRetention;
pub use sessions::SqliteSessions;
pub use throttles::SqliteThrottles;
pub use users::SqliteUsers;

/// The statements behind the hot paths, gathered for the test that checks their plans.
pub(crate) mod statements {
    pub(crate) use super::authentication::batch_statement;
    pub(crate) use super::sessions::{FIND_REFRESH_TOKEN, ROTATE};
    pub(crate) use super::users::{CREDENTIALS_BY_EMAIL, LIST};
}

use super::RepoError;

/// How long SQLite waits on a database locked by another process before reporting busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The two pools of one SQLite database.
#[derive(Debug, Clone)]
pub struct SqlitePools {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

impl SqlitePools {
    /// Opens the database file, in WAL mode so readers never block the writer. The file (and
    /// its folder) is created only when `may_create_folder` says the folder is Warren's own
    /// data directory; elsewhere the folder must exist, so a mistyped path fails loudly
    /// instead of creating an empty database somewhere unexpected.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
        may_create_folder: impl Fn(&Path) -> bool,
    ) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        if let Some(folder) = options.get_filename().parent().filter(|f| !f.as_os_str().is_empty())
        {
            if may_create_folder(folder) {
                std::fs::create_dir_all(folder)?;
            } else if !folder.is_dir() {
                let message =
                    format!("folder {} does not exist; create it first", folder.display());
                return Err(sqlx::Error::Configuration(message.into()));
            }
        }
        let write = super::pool::ping_only_idle(SqlitePoolOptions::new())
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        let read = super::pool::ping_only_idle(SqlitePoolOptions::new())
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Self { read, write })
    }
}

/// A write transaction on the writer connection (see [`crate::repositories`]'s rule for writes).
pub(super) struct Writer(super::writer::Writer<Sqlite>);

impl Writer {
    pub(super) async fn begin(pool: &SqlitePool) -> Result<Self, RepoError> {
        super::writer::Writer::begin(pool, "BEGIN IMMEDIATE").await.map(Self)
    }

    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        self.0.conn()
    }

    pub(super) async fn commit(self) -> Result<(), RepoError> {
        self.0.commit().await
    }

    pub(super) async fn rollback(self) -> Result<(), RepoError> {
        self.0.rollback().await
    }
}
