//! The sockets open on this instance, per user. Memory is bounded: at most `max_per_user`
//! sockets per user, and each socket's queue of pending signals is bounded too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::Signal;
use crate::domain::UserId;

/// Signals queued for one socket; a socket this far behind misses the next ones.
const SIGNAL_QUEUE: usize = 32;

type Senders = Vec<(u64, mpsc::Sender<Signal>)>;

#[derive(Debug)]
pub(super) struct Registry {
    max_per_user: usize,
    next_id: AtomicU64,
    sockets: Mutex<HashMap<UserId, Senders>>,
    shutdown: watch::Sender<bool>,
}

/// One registered socket: its signals, the shutdown flag, and its place in the registry,
/// given back when this is dropped.
#[derive(Debug)]
pub struct Subscription {
    pub signals: mpsc::Receiver<Signal>,
    pub shutdown: watch::Receiver<bool>,
    registry: Arc<Registry>,
    user: UserId,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.registry.remove(self.user, self.id);
    }
}

impl Registry {
    pub(super) fn new(max_per_user: usize) -> Self {
        Self {
            max_per_user,
            next_id: AtomicU64::new(0),
            sockets: Mutex::new(HashMap::new()),
            shutdown: watch::Sender::new(false),
        }
    }

    /// A place for one more socket of `user`; `None` when they hold `max_per_user` already.
    pub(super) fn add(self: &Arc<Self>, user: UserId) -> Option<Subscription> {
        let mut sockets = self.sockets.lock().ok()?;
        let entry = sockets.entry(user).or_default();
        if entry.len() >= self.max_per_user {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, signals) = mpsc::channel(SIGNAL_QUEUE);
        entry.push((id, sender));
        crate::core::metrics::socket_opened();
        let shutdown = self.shutdown.subscribe();
        Some(Subscription { signals, shutdown, registry: Arc::clone(self), user, id })
    }

    fn remove(&self, user: UserId, id: u64) {
        let Ok(mut sockets) = self.sockets.lock() else { return };
        if let Some(entry) = sockets.get_mut(&user) {
            let before = entry.len();
            entry.retain(|(socket, _)| *socket != id);
            if entry.len() < before {
                crate::core::metrics::socket_closed();
            }
            if entry.is_empty() {
                sockets.remove(&user);
            }
        }
    }

    /// The queues of `user`'s sockets (copied out, so no lock is held while sending).
    pub(super) fn of(&self, user: UserId) -> Vec<mpsc::Sender<Signal>> {
        let Ok(sockets) = self.sockets.lock() else { return Vec::new() };
        sockets.get(&user).map(|e| e.iter().map(|(_, s)| s.clone()).collect()).unwrap_or_default()
    }

    pub(super) fn all(&self) -> Vec<mpsc::Sender<Signal>> {
        let Ok(sockets) = self.sockets.lock() else { return Vec::new() };
        sockets.values().flatten().map(|(_, s)| s.clone()).collect()
    }

    pub(super) fn count(&self) -> usize {
        self.sockets.lock().map_or(0, |s| s.values().map(Vec::len).sum())
    }

    pub(super) fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }
}
