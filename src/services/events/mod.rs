//! Live account events: services publish what happened to an account *after* it committed;
//! the notice (ids only) crosses every instance through the database's [`EventChannel`], and
//! each instance hands it to the sockets it holds for that user, with the user as stored now.
//!
//! Call [`Events::user_updated`] (or [`Events::publish`]) from a service once a change is
//! durable; a failure to publish is logged, never the caller's error.

mod registry;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

pub use registry::Subscription;

use crate::domain::{User, UserId};
use crate::repositories::{EventChannel, Incoming, UserRepository};

use registry::Registry;

/// What happened to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountEvent {
    /// A profile field changed (name, email, verification).
    UserUpdated,
    /// The avatar was replaced or removed (the profile changed with it).
    AvatarChanged,
    SessionRevoked {
        session_id: Uuid,
    },
    /// The token version moved on (password change or reset, sign out everywhere), or the
    /// account was deactivated: every socket re-checks its token.
    CredentialsChanged,
    AccountDeleted,
}

/// The notice that crosses instances.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    user_id: Uuid,
    #[serde(flatten)]
    event: AccountEvent,
}

/// What one socket is told.
#[derive(Debug, Clone)]
pub enum Signal {
    /// `event` happened; `user` is the account as stored after it (`None`: deleted).
    Event { event: AccountEvent, user: Option<Arc<User>> },
    /// Notices may have been lost: re-check the socket's token against the database.
    Revalidate,
}

/// More sockets for one user than `events.max_sockets_per_user` allows.
#[derive(Debug, thiserror::Error)]
#[error("too many open event sockets for this account")]
pub struct TooManySockets;

/// Sends notices to every instance; all a process needs that holds no sockets (the CLI).
#[derive(Debug, Clone)]
pub struct Publisher {
    channel: Arc<dyn EventChannel>,
}

impl Publisher {
    pub fn new(channel: Arc<dyn EventChannel>) -> Self {
        Self { channel }
    }

    /// Tells every instance that `event` happened to `user`. Call it after the change commits.
    pub async fn publish(&self, event: AccountEvent, user: UserId) {
        let notice = Notice { user_id: user.as_uuid(), event };
        let result = match serde_json::to_string(&notice) {
            Ok(notice) => self.channel.publish(&notice).await.map_err(anyhow::Error::new),
            Err(error) => Err(anyhow::Error::new(error)),
        };
        if let Err(error) = result {
            tracing::warn!(%error, user_id = %user, ?event, "account event not published");
        }
    }
}

#[derive(Debug)]
pub struct Events {
    registry: Arc<Registry>,
    channel: Arc<dyn EventChannel>,
    publisher: Publisher,
    users: Arc<dyn UserRepository>,
}

impl Events {
    /// Builds the hub and starts dispatching what the channel delivers.
    pub fn start(
        channel: Arc<dyn EventChannel>,
        users: Arc<dyn UserRepository>,
        max_sockets_per_user: usize,
    ) -> Arc<Self> {
        let registry = Arc::new(Registry::new(max_sockets_per_user));
        let publisher = Publisher::new(Arc::clone(&channel));
        let events = Arc::new(Self { registry, channel, publisher, users });
        if let Some(incoming) = events.channel.subscribe() {
            tokio::spawn(Arc::clone(&events).dispatch(incoming));
        }
        events
    }

    /// Tells every instance that `event` happened to `user`. Call it after the change commits.
    pub async fn publish(&self, event: AccountEvent, user: UserId) {
        self.publisher.publish(event, user).await;
    }

    /// The profile of `user` changed.
    pub async fn user_updated(&self, user: UserId) {
        self.publish(AccountEvent::UserUpdated, user).await;
    }

    /// A place for one more socket of `user`.
    pub fn subscribe(&self, user: UserId) -> Result<Subscription, TooManySockets> {
        self.registry.add(user).ok_or(TooManySockets)
    }

    /// Sockets open on this instance.
    pub fn open_sockets(&self) -> usize {
        self.registry.count()
    }

    /// Tells every socket the server is stopping (they close with 1001).
    pub fn shut_down(&self) {
        self.registry.shut_down();
    }

    async fn dispatch(self: Arc<Self>, mut incoming: mpsc::Receiver<Incoming>) {
        while let Some(message) = incoming.recv().await {
            match message {
                Incoming::Notice(text) => match serde_json::from_str::<Notice>(&text) {
                    Ok(notice) => self.deliver(notice).await,
                    Err(error) => tracing::warn!(%error, "unreadable account event notice"),
                },
                Incoming::Resync => {
                    tracing::info!("event listener reconnected; re-checking every socket");
                    for socket in self.registry.all() {
                        let _ = socket.try_send(Signal::Revalidate);
                    }
                }
            }
        }
    }

    /// Reads the user once for all their sockets here, then signals each of them.
    async fn deliver(&self, notice: Notice) {
        let sockets = self.registry.of(UserId::from_uuid(notice.user_id));
        if sockets.is_empty() {
            return;
        }
        let signal = match self.users.find_by_id(UserId::from_uuid(notice.user_id)).await {
            Ok(user) => Signal::Event { event: notice.event, user: user.map(Arc::new) },
            Err(error) => {
                tracing::warn!(%error, "cannot read the user of an account event");
                Signal::Revalidate
            }
        };
        for socket in sockets {
            if socket.try_send(signal.clone()).is_err() {
                tracing::debug!("an event socket is too far behind; signal dropped");
            }
        }
    }
}
