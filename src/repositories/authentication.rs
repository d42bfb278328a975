//! The read behind every authenticated request — the user and the liveness of the token's
//! session — batched: lookups that arrive while the reads before them are running are answered
//! together by the next one, as one query.
//!
//! The read is cheap; what it cost was the hand-off around it. Every query is a round trip to
//! SQLite's per-connection worker thread, or to a Postgres server process that must be woken
//! (profiling found these hand-offs, not SQL, to be most of a `/users/me`; see
//! docs/performance.md). Under load, one query now answers up to [`MAX_BATCH`] requests; under
//! no load, each lookup is its own batch and costs what it did.
//!
//! [`WORKERS`] workers (fewer beside a pool of under four connections) each own one connection,
//! taken out of the pool's accounting (`detach`), so request traffic cannot starve them and
//! their queries need no pool ping. A connection idle for over [`PING_IF_IDLE_FOR`] is pinged
//! before use; one whose query failed or overran the time budget is closed (its state is
//! unknown) and the next batch opens another. Each batch runs in its worker, not in a request:
//! a caller that gives up (its own time budget ran out) abandons only its answer.
//!
//! Nothing is cached: a lookup's query starts after the lookup arrived, so a revocation that
//! committed before a request counts for that request, on every instance.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{Connection, Database, Pool};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::RepoError;
use super::SessionLiveness;
use super::errors::classify;
use super::pool::PING_IF_IDLE_FOR;
use super::rows::BatchedUserSessionRow;
use crate::domain::{SessionId, User, UserId};

/// Workers, each with its connection. Two keep a read going while another waits on the
/// database; more only made batches smaller: on Postgres, `/users/me`'s p99 during a signin
/// flood was 6 ms with two workers, 14 ms with four and 33 ms with eight (every batch wakes
/// a server process that then competes for the cores).
const WORKERS: u32 = 2;
/// The most lookups one query answers.
pub(super) const MAX_BATCH: usize = 64;
/// Lookups waiting for a worker; beyond it, callers wait for room (their budget still applies).
const QUEUE: usize = 4096;

/// A user id and the session id its token names.
pub(super) type Lookup = (UserId, SessionId);
type Found = Option<(User, SessionLiveness)>;

/// One backend's batched query: a row per lookup that matched, tagged with its index in `keys`.
pub(super) type BatchQuery<DB> =
    for<'c> fn(&'c mut <DB as Database>::Connection, &'c [Lookup]) -> BatchRows<'c>;
pub(super) type BatchRows<'c> =
    Pin<Box<dyn Future<Output = Result<Vec<BatchedUserSessionRow>, sqlx::Error>> + Send + 'c>>;

#[derive(Debug)]
pub(super) struct AuthenticationReads {
    sender: mpsc::Sender<Pending>,
}

struct Pending {
    key: Lookup,
    reply: oneshot::Sender<Result<Found, RepoError>>,
}

impl AuthenticationReads {
    /// Starts the workers on `pool`'s database; they stop when this is dropped.
    pub(super) fn start<DB: Database>(pool: &Pool<DB>, query: BatchQuery<DB>) -> Self {
        let workers = (pool.options().get_max_connections() / 2).clamp(1, WORKERS);
        let budget = pool.options().get_acquire_timeout();
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers {
            let worker = Worker {
                pool: pool.clone(),
                query,
                budget,
                receiver: Arc::clone(&receiver),
                connection: None,
            };
            tokio::spawn(worker.run());
        }
        Self { sender }
    }

    pub(super) async fn find(&self, user: UserId, session: SessionId) -> Result<Found, RepoError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { key: (user, session), reply };
        self.sender.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Workers stop only when the repository is dropped, or if one panicked.
fn stopped() -> RepoError {
    RepoError::Unavailable(sqlx::Error::WorkerCrashed)
}

struct Worker<DB: Database> {
    pool: Pool<DB>,
    query: BatchQuery<DB>,
    budget: Duration,
    receiver: Arc<Mutex<mpsc::Receiver<Pending>>>,
    /// This worker's connection and when it last answered.
    connection: Option<(DB::Connection, Instant)>,
}

impl<DB: Database> Worker<DB> {
    async fn run(mut self) {
        while let Some(batch) = next_batch(&self.receiver).await {
            if batch.is_empty() {
                continue;
            }
            let keys: Vec<Lookup> = batch.iter().map(|pending| pending.key).collect();
            // On overrun the read is dropped, and with it the connection it held.
            let outcome = tokio::time::timeout(self.budget, self.read(&keys))
                .await
                .unwrap_or(Err(RepoError::TimedOut));
            answer(batch, outcome);
        }
    }

    /// The matching row for each key, in order.
    async fn read(
        &mut self,
        keys: &[Lookup],
    ) -> Result<Vec<Option<BatchedUserSessionRow>>, RepoError> {
        let mut connection = self.connection().await?;
        // A failed query drops the connection: closed, and the next batch opens another.
        let rows = (self.query)(&mut connection, keys).await.map_err(classify)?;
        self.connection = Some((connection, Instant::now()));
        let mut found: Vec<Option<BatchedUserSessionRow>> = keys.iter().map(|_| None).collect();
        for row in rows {
            if let Some(slot) = usize::try_from(row.batch_index).ok().and_then(|i| found.get_mut(i))
            {
                *slot = Some(row);
            }
        }
        Ok(found)
    }

    async fn connection(&mut self) -> Result<DB::Connection, RepoError> {
        if let Some((mut connection, since)) = self.connection.take()
            && (since.elapsed() <= PING_IF_IDLE_FOR || connection.ping().await.is_ok())
        {
            return Ok(connection);
        }
        Ok(self.pool.acquire().await.map_err(classify)?.detach())
    }
}

/// Waits for a lookup, then takes every other one already waiting (up to [`MAX_BATCH`]).
/// `None` once the repository is gone.
async fn next_batch(receiver: &Mutex<mpsc::Receiver<Pending>>) -> Option<Vec<Pending>> {
    let mut receiver = receiver.lock().await;
    let mut batch = vec![receiver.recv().await?];
    while batch.len() < MAX_BATCH {
        let Ok(pending) = receiver.try_recv() else { break };
        batch.push(pending);
    }
    drop(receiver);
    // A caller whose budget ran out while waiting needs no answer.
    batch.retain(|pending| !pending.reply.is_closed());
    Some(batch)
}

fn answer(batch: Vec<Pending>, outcome: Result<Vec<Option<BatchedUserSessionRow>>, RepoError>) {
    match outcome {
        Ok(found) => {
            for (pending, row) in batch.into_iter().zip(found) {
                let found = row.map(|row| <(User, SessionLiveness)>::try_from(row.row)).transpose();
                // The caller may have given up meanwhile: nothing to do.
                let _ = pending.reply.send(found);
            }
        }
        Err(error) => {
            for pending in batch {
                let _ = pending.reply.send(Err(error.for_another_caller()));
            }
        }
    }
}
