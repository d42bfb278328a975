//! Storage: one trait per aggregate (rooms, members, messages, reactions, display names), one
//! implementation per database in `sqlite/` and `postgres/`, chosen once at startup from the
//! database URL (`database.rs`). Each backend writes its SQL plainly in its own dialect, so some
//! of it exists twice; `tests/repositories/` runs one contract suite against both, which keeps
//! them in step. Rows become records only through the domain's parsers, so a corrupted row
//! cannot produce an invalid room name or emoji.
//!
//! Every time the chat writes is bound as [`StoredTime`], so both databases hold whole
//! microseconds and SQLite's text column sorts in time order.

mod database;
mod postgres;
mod sqlite;
mod stored_time;

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

pub use database::ChatDatabase;
pub use stored_time::StoredTime;

use crate::domain::{Emoji, RoomName};
use crate::services::cipher::Sealed;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row no longer parses into a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// A room as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub id: Uuid,
    pub name: RoomName,
    pub created_at: OffsetDateTime,
    pub member_count: i64,
    /// Messages by others after the viewer's last read one; 0 for non-members.
    pub unread_count: i64,
}

/// A message row: the body still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub id: Uuid,
    pub room_id: Uuid,
    pub sender_id: Uuid,
    /// The sender's display name as last learnt from Warren.
    pub sender_name: Option<String>,
    pub sealed: Sealed,
    pub created_at: OffsetDateTime,
}

/// How many members reacted to a message with one emoji, and whether the viewer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    pub message_id: Uuid,
    pub emoji: Emoji,
    pub count: i64,
    pub mine: bool,
}

/// Every repository, built for the backend the database URL names.
#[derive(Clone)]
pub struct Repositories {
    pub rooms: Arc<dyn RoomRepository>,
    pub members: Arc<dyn MemberRepository>,
    pub messages: Arc<dyn MessageRepository>,
    pub reactions: Arc<dyn ReactionRepository>,
    pub names: Arc<dyn NameRepository>,
}

#[async_trait]
pub trait RoomRepository: Send + Sync {
    /// Every room in creation order, with the viewer's counts.
    async fn list(&self, viewer: Uuid) -> Result<Vec<RoomRecord>, RepoError>;
    async fn find(&self, room: Uuid, viewer: Uuid) -> Result<Option<RoomRecord>, RepoError>;
    /// Inserts the room with its creator as first member, in one transaction.
    async fn create(
        &self,
        room: Uuid,
        name: &RoomName,
        creator: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
}

/// Membership and each member's read marker.
#[async_trait]
pub trait MemberRepository: Send + Sync {
    /// Adds a member; false when already one.
    async fn join(&self, room: Uuid, user: Uuid, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Removes a member; false when not one.
    async fn leave(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError>;
    async fn is_member(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError>;
    /// Moves the member's read marker forward to `message` (never backwards).
    async fn mark_read(&self, room: Uuid, user: Uuid, message: Uuid) -> Result<(), RepoError>;
}

/// Sealed messages. Ids are v7 UUIDs stored as 16 bytes that compare bytewise in both
/// databases, so id order is time order.
#[async_trait]
pub trait MessageRepository: Send + Sync {
    async fn insert(&self, message: &StoredMessage) -> Result<(), RepoError>;
    async fn find(&self, room: Uuid, message: Uuid) -> Result<Option<StoredMessage>, RepoError>;
    /// Newest first, strictly older than `before` when given.
    async fn page_before(
        &self,
        room: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, RepoError>;
}

#[async_trait]
pub trait ReactionRepository: Send + Sync {
    /// Reaction counts of the room's messages with ids in `first..=last`, by message and then
    /// in the order each emoji was first used on it.
    async fn counts_between(
        &self,
        room: Uuid,
        first: Uuid,
        last: Uuid,
        viewer: Uuid,
    ) -> Result<Vec<ReactionCount>, RepoError>;
    /// Adds a reaction; false when it was already there.
    async fn add(
        &self,
        message: Uuid,
        user: Uuid,
        emoji: &Emoji,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError>;
    /// Removes a reaction; false when there was none.
    async fn remove(&self, message: Uuid, user: Uuid, emoji: &Emoji) -> Result<bool, RepoError>;
}

/// Display names learnt from Warren, so past senders keep a name while Warren is down.
#[async_trait]
pub trait NameRepository: Send + Sync {
    /// Stores the user's name, replacing the one remembered before.
    async fn save(&self, user: Uuid, name: &str, now: OffsetDateTime) -> Result<(), RepoError>;
    async fn find(&self, user: Uuid) -> Result<Option<String>, RepoError>;
}

/// A room name read back from either database.
fn parse_room_name(stored: &str) -> Result<RoomName, RepoError> {
    RoomName::parse(stored).map_err(|e| RepoError::Corrupt(format!("room name: {}", e.message)))
}

/// An emoji read back from either database.
fn parse_emoji(stored: &str) -> Result<Emoji, RepoError> {
    Emoji::parse(stored).map_err(|e| RepoError::Corrupt(format!("reaction emoji: {}", e.message)))
}
