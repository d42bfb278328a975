//! Connections set aside for the one read every authenticated request makes (the user and
//! the liveness of the token's session), so that read costs one round trip.
//!
//! A connection taken from sqlx's pool is pinged again when it goes back (see [`super::pool`]):
//! a second round trip for a one-statement read, and on Postgres a second wake-up of the server
//! process. A reserved connection whose statement succeeded goes straight back on the shelf; one
//! whose statement failed or was cancelled (the time budget ran out) is closed instead, since
//! its state is unknown. One left on the shelf longer than [`PING_IF_IDLE_FOR`] is pinged before
//! use, as the pool does. When every reserved connection is busy, the read uses the pool.
//!
//! Nothing is cached: every authentication still reads the database, so a revocation on any
//! instance counts from the moment its transaction commits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Pool};

use super::pool::PING_IF_IDLE_FOR;

pub(super) struct Reserved<DB: Database> {
    pool: Pool<DB>,
    /// Idle reserved connections and when each was put back.
    shelf: Mutex<Vec<(DB::Connection, Instant)>>,
    /// Reserved connections open now, on the shelf or in use.
    open: AtomicUsize,
    limit: usize,
}

/// A connection for one read; [`Lease::finish`] after it succeeded.
pub(super) enum Lease<'a, DB: Database> {
    Reserved(Slot<'a, DB>),
    Pooled(PoolConnection<DB>),
}

/// One of the reserved connections, counted in `open` from the moment it is claimed: dropped
/// anywhere before [`Lease::finish`] (a failed read, or a call cancelled while connecting,
/// pinging or reading), it is closed and its place freed.
pub(super) struct Slot<'a, DB: Database> {
    owner: &'a Reserved<DB>,
    connection: Option<DB::Connection>,
    shelved: bool,
}

impl<DB: Database> std::fmt::Debug for Reserved<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reserved")
            .field("open", &self.open.load(Ordering::Relaxed))
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> Reserved<DB> {
    /// Up to half as many connections as `pool` may open, besides them, opened on first use
    /// (none beside a one-connection pool).
    pub(super) fn for_authentication(pool: Pool<DB>) -> Self {
        let limit = usize::try_from(pool.options().get_max_connections() / 2).unwrap_or(0);
        Self { pool, shelf: Mutex::new(Vec::new()), open: AtomicUsize::new(0), limit }
    }

    pub(super) async fn lease(&self) -> Result<Lease<'_, DB>, sqlx::Error> {
        if let Some((connection, since)) = self.take_idle() {
            let mut slot = self.slot(Some(connection));
            if since.elapsed() <= PING_IF_IDLE_FOR || slot.conn().ping().await.is_ok() {
                return Ok(Lease::Reserved(slot));
            }
            // Cut while idle: dropping the slot closes it.
        }
        let below_limit = |open: usize| (open < self.limit).then_some(open + 1);
        if self.open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, below_limit).is_err() {
            return Ok(Lease::Pooled(self.pool.acquire().await?));
        }
        let mut slot = self.slot(None);
        // `detach` takes the connection out of the pool's accounting for good.
        slot.connection = Some(self.pool.acquire().await?.detach());
        Ok(Lease::Reserved(slot))
    }

    /// A slot already counted in `open`.
    fn slot(&self, connection: Option<DB::Connection>) -> Slot<'_, DB> {
        Slot { owner: self, connection, shelved: false }
    }

    fn take_idle(&self) -> Option<(DB::Connection, Instant)> {
        self.shelf.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop()
    }
}

impl<DB: Database> Slot<'_, DB> {
    fn conn(&mut self) -> &mut DB::Connection {
        self.connection.as_mut().expect("a slot is handed out only with its connection")
    }
}

impl<DB: Database> Lease<'_, DB> {
    pub(super) fn conn(&mut self) -> &mut DB::Connection {
        match self {
            Self::Reserved(slot) => slot.conn(),
            Self::Pooled(pooled) => pooled,
        }
    }

    /// The read succeeded: the connection is fit for the next one.
    pub(super) fn finish(self) {
        if let Self::Reserved(mut slot) = self
            && let Some(connection) = slot.connection.take()
        {
            let mut idle =
                slot.owner.shelf.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            idle.push((connection, Instant::now()));
            slot.shelved = true;
        }
    }
}

impl<DB: Database> Drop for Slot<'_, DB> {
    fn drop(&mut self) {
        if !self.shelved {
            self.owner.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
