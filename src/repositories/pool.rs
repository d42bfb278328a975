//! Pool settings both backends share.
//!
//! sqlx pings a connection when it goes back to the pool and, by default, again when it is
//! taken out: for a request that runs one query, that is three round trips (to the Postgres
//! server, or to SQLite's worker thread) where one would do. The ping on release stays; the
//! ping on acquire is kept only for connections that sat idle long enough to have been cut
//! meanwhile. One taken back a moment ago has just answered its release ping, so under load
//! the hot path is one round trip, and after an outage a stale connection is still found and
//! replaced before a request uses it.

use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database};

/// Idle longer than this, a connection is pinged before use.
pub(super) const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// `options` with the acquire-time ping limited to connections idle for [`PING_IF_IDLE_FOR`].
pub(super) fn ping_only_idle<DB: Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    options.test_before_acquire(false).before_acquire(|connection, meta| {
        Box::pin(async move {
            if meta.idle_for > PING_IF_IDLE_FOR {
                connection.ping().await?;
            }
            Ok(true)
        })
    })
}
