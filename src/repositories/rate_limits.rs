//! Rate limits shared by every instance: one atomic statement per request against a table all
//! instances see, so N instances let through what one would. Only Postgres has one (SQLite
//! serves a single instance and keeps its limits in process).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::postgres::PgRateLimits;
use super::{Backend, Database, RepoError};

/// A GCRA quota: `burst` requests at once, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedQuota {
    pub period: Duration,
    pub burst: u32,
}

/// What the shared limit says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit; a request is allowed again after this long.
    Limited {
        retry_after: Duration,
    },
}

#[async_trait]
pub trait RateLimitRepository: Send + Sync + std::fmt::Debug {
    /// Counts one request of `client` against the limit called `name`, and says whether it
    /// is within `quota`. A refused request is not counted.
    async fn acquire(
        &self,
        name: &str,
        client: &str,
        quota: SharedQuota,
    ) -> Result<Verdict, RepoError>;
    /// Deletes the rows of clients whose bucket has filled up again (they mean nothing more
    /// than no row); returns how many went.
    async fn sweep(&self) -> Result<u64, RepoError>;
}

/// The shared limits of `database`, each call bounded by `budget`; `None` on SQLite.
pub fn shared_rate_limits(
    database: &Database,
    budget: Duration,
) -> Option<Arc<dyn RateLimitRepository>> {
    match database.backend() {
        Backend::Sqlite(_) => None,
        Backend::Postgres(pool) => Some(Arc::new(PgRateLimits::new(pool.clone(), budget))),
    }
}
