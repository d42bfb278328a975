//! The channel account events cross to reach every instance's sockets. Payloads are small
//! JSON notices carrying ids, never bodies: a receiver reads what it shows from the database.
//! SQLite serves one instance, so its channel stays in the process, plus a table for the
//! notices of operators' commands (see `sqlite::notices`); Postgres uses LISTEN/NOTIFY (see
//! `postgres::notify`).

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::RepoError;

/// Notices waiting for the dispatcher before publishers wait for room.
pub(super) const BACKLOG: usize = 1024;

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A notice published on some instance (this one included).
    Notice(String),
    /// Notices may have been lost (the listener reconnected): re-check every socket.
    Resync,
}

#[async_trait]
pub trait EventChannel: Send + Sync + std::fmt::Debug {
    /// Sends `notice` to every instance's subscriber, this instance's included.
    async fn publish(&self, notice: &str) -> Result<(), RepoError>;
    /// The one stream of incoming notices; `None` after the first call.
    fn subscribe(&self) -> Option<mpsc::Receiver<Incoming>>;
}

/// The in-process channel of a single instance.
#[derive(Debug)]
pub struct LocalChannel {
    sender: mpsc::Sender<Incoming>,
    receiver: std::sync::Mutex<Option<mpsc::Receiver<Incoming>>>,
}

impl LocalChannel {
    pub fn new() -> Self {
        let (sender, receiver) = mpsc::channel(BACKLOG);
        Self { sender, receiver: std::sync::Mutex::new(Some(receiver)) }
    }

    /// Another way into the same stream (notices read from elsewhere).
    pub(super) fn sender(&self) -> mpsc::Sender<Incoming> {
        self.sender.clone()
    }
}

impl Default for LocalChannel {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventChannel for LocalChannel {
    async fn publish(&self, notice: &str) -> Result<(), RepoError> {
        // Without a subscriber nobody is listening; that is not the publisher's failure.
        let _ = self.sender.send(Incoming::Notice(notice.to_owned())).await;
        Ok(())
    }

    fn subscribe(&self) -> Option<mpsc::Receiver<Incoming>> {
        self.receiver.lock().ok()?.take()
    }
}
