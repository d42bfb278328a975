//! Postgres: one pool for reads and writes, every write one transaction committed through
//! [`Writer`]; times are `timestamptz` and compared in SQL.

mod audit;
mod authentication;
mod avatars;
mod clients;
mod email;
mod mfa;
mod notify;
mod rate_limits;
mod retention;
mod sessions;
mod throttles;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

pub use audit::PgAudit;
pub use avatars::PgAvatars;
pub use clients::PgClients;
pub use email::PgEmail;
pub use mfa::PgMfa;
pub use notify::PgEventChannel;
pub use rate_limits::PgRateLimits;
pub use retention::PgRetention;
pub use sessions::PgSessions;
pub use throttles::PgThrottles;
pub use users::PgUsers;

/// The statements behind the hot paths, gathered for the test that checks their plans.
pub(crate) mod statements {
    pub(crate) use super::authentication::AUTHENTICATE;
    pub(crate) use super::rate_limits::ACQUIRE;
    pub(crate) use super::sessions::{FIND_REFRESH_TOKEN, ROTATE};
    pub(crate) use super::users::{CREDENTIALS_BY_EMAIL, LIST};
}

use super::RepoError;

/// Opens the pool. Connections are made lazily, so an unreachable server fails the first
/// request quickly (503) instead of the start, unless the caller pings first.
pub async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    super::pool::ping_only_idle(PgPoolOptions::new())
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
}

/// A write transaction (see [`crate::repositories`]'s rule for writes).
pub(super) struct Writer(super::writer::Writer<Postgres>);

impl Writer {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, RepoError> {
        super::writer::Writer::begin(pool, "BEGIN").await.map(Self)
    }

    pub(super) fn conn(&mut self) -> &mut PgConnection {
        self.0.conn()
    }

    pub(super) async fn commit(self) -> Result<(), RepoError> {
        self.0.commit().await
    }

    pub(super) async fn rollback(self) -> Result<(), RepoError> {
        self.0.rollback().await
    }
}
