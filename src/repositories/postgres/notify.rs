//! Postgres: account events through LISTEN/NOTIFY, one listener connection per instance (its
//! own, outside the request pool). Notifications sent while that connection is down are lost,
//! so every reconnect tells the subscriber to re-check its sockets against the database.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::mpsc;

use crate::repositories::RepoError;
use crate::repositories::errors::classify;
use crate::repositories::events::{BACKLOG, EventChannel, Incoming};

/// The NOTIFY channel every instance listens on.
const CHANNEL: &str = "warren_account_events";
/// Pause between attempts while the listener cannot connect.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub struct PgEventChannel {
    pool: PgPool,
    subscribed: Mutex<bool>,
}

impl PgEventChannel {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, subscribed: Mutex::new(false) }
    }
}

#[async_trait]
impl EventChannel for PgEventChannel {
    #[tracing::instrument(skip_all)]
    async fn publish(&self, notice: &str) -> Result<(), RepoError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(notice)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    fn subscribe(&self) -> Option<mpsc::Receiver<Incoming>> {
        let mut subscribed = self.subscribed.lock().ok()?;
        if *subscribed {
            return None;
        }
        *subscribed = true;
        // A pool of one, separate from the request pool: the listener holds its connection
        // for good, and the request pool must not lose a connection to it.
        let options = (*self.pool.connect_options()).clone();
        let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
        let (sender, receiver) = mpsc::channel(BACKLOG);
        // The listener ends with the request pool, which closes when the server stops.
        let stopped = self.pool.close_event();
        tokio::spawn(async move {
            tokio::select! {
                () = stopped => {}
                () = listen(&pool, sender) => {}
            }
            pool.close().await;
        });
        Some(receiver)
    }
}

/// Forwards notifications until the subscriber goes away, reconnecting as often as needed.
async fn listen(pool: &PgPool, sender: mpsc::Sender<Incoming>) {
    let mut first = true;
    while !sender.is_closed() {
        let mut listener = match connect(pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "event listener cannot connect; retrying");
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        };
        if !first && sender.send(Incoming::Resync).await.is_err() {
            return;
        }
        first = false;
        loop {
            let incoming = tokio::select! {
                () = sender.closed() => return,
                received = listener.try_recv() => received,
            };
            let forwarded = match incoming {
                Ok(Some(notification)) => Incoming::Notice(notification.payload().to_owned()),
                Ok(None) => Incoming::Resync,
                Err(error) => {
                    tracing::warn!(%error, "event listener lost its connection; reconnecting");
                    break;
                }
            };
            if sender.send(forwarded).await.is_err() {
                return;
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
