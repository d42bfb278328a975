//! SQLite: account events. One process serves a SQLite file, so its own notices stay in
//! memory ([`LocalChannel`]). Operators' commands (`warren users deactivate|sign-out|delete`)
//! are other processes on the same file: a process that does not listen leaves its notices in
//! `event_notices`, and the listening process polls that table on a connection of its own, so
//! the serving process's sockets hear of such a change within a poll interval.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{SqlitePools, Writer};
use crate::repositories::RepoError;
use crate::repositories::errors::classify;
use crate::repositories::events::{EventChannel, Incoming, LocalChannel};

/// How often the serving process looks for other processes' notices.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// How long a poll waits for a locked database before trying again at the next tick.
const POLL_BUSY_TIMEOUT: Duration = Duration::from_millis(100);
/// Notices read per poll; more wait for the next one.
const POLL_BATCH: i64 = 256;

#[derive(Debug)]
pub struct SqliteEventChannel {
    local: LocalChannel,
    pools: SqlitePools,
    /// Whether this process subscribed, i.e. holds the sockets.
    listening: AtomicBool,
}

impl SqliteEventChannel {
    pub fn new(pools: SqlitePools) -> Self {
        Self { local: LocalChannel::new(), pools, listening: AtomicBool::new(false) }
    }

    /// Stores `notice` for the serving process, and forgets notices nobody read in a minute.
    async fn leave(&self, notice: &str) -> Result<(), RepoError> {
        let now = OffsetDateTime::now_utc();
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query("DELETE FROM event_notices WHERE julianday(created_at) < julianday($1)")
            .bind(now - time::Duration::minutes(1))
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        sqlx::query("INSERT INTO event_notices (notice, created_at) VALUES ($1, $2)")
            .bind(notice)
            .bind(now)
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }
}

#[async_trait]
impl EventChannel for SqliteEventChannel {
    #[tracing::instrument(skip_all)]
    async fn publish(&self, notice: &str) -> Result<(), RepoError> {
        if self.listening.load(Ordering::Acquire) {
            self.local.publish(notice).await
        } else {
            self.leave(notice).await
        }
    }

    fn subscribe(&self) -> Option<mpsc::Receiver<Incoming>> {
        let receiver = self.local.subscribe()?;
        self.listening.store(true, Ordering::Release);
        let options = (*self.pools.read.connect_options()).clone().busy_timeout(POLL_BUSY_TIMEOUT);
        let sender = self.local.sender();
        // The poller ends with the read pool, which closes when the server stops.
        let stopped = self.pools.read.close_event();
        tokio::spawn(async move {
            tokio::select! {
                () = stopped => {}
                () = poll(options, sender) => {}
            }
        });
        Some(receiver)
    }
}

/// Forwards notices other processes leave, from those written after this process started.
async fn poll(options: SqliteConnectOptions, sender: mpsc::Sender<Incoming>) {
    let mut connection: Option<SqliteConnection> = None;
    let mut seen: Option<i64> = None;
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = sender.closed() => return,
            _ = ticks.tick() => {}
        }
        let conn = match connection.as_mut() {
            Some(conn) => conn,
            None => match options.connect().await {
                Ok(conn) => connection.insert(conn),
                Err(error) => {
                    tracing::debug!(%error, "event notice poller cannot connect yet");
                    continue;
                }
            },
        };
        match read_after(conn, &mut seen).await {
            Ok(notices) => {
                for notice in notices {
                    if sender.send(Incoming::Notice(notice)).await.is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, "event notices not read; trying again");
                if let Some(conn) = connection.take() {
                    let _ = conn.close().await;
                }
            }
        }
    }
}

/// The notices after `seen` (on the first call: none, just where the table stands).
async fn read_after(
    conn: &mut SqliteConnection,
    seen: &mut Option<i64>,
) -> Result<Vec<String>, sqlx::Error> {
    let Some(after) = *seen else {
        let newest: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM event_notices")
            .fetch_one(&mut *conn)
            .await?;
        *seen = Some(newest);
        return Ok(Vec::new());
    };
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, notice FROM event_notices WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(POLL_BATCH)
            .fetch_all(conn)
            .await?;
    if let Some((newest, _)) = rows.last() {
        *seen = Some(*newest);
    }
    Ok(rows.into_iter().map(|(_, notice)| notice).collect())
}
