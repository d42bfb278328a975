//! Storage: one `ChatRepository` trait, implemented for SQLite and Postgres with the same
//! portable SQL (`portable.rs`), chosen at startup from the database URL (`database.rs`).

mod database;
mod portable;
mod postgres;
mod sqlite;
mod stored_time;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

pub use database::ChatDatabase;
pub use stored_time::StoredTime;

use crate::services::cipher::Sealed;

#[derive(Debug, thiserror::Error)]
#[error("database error: {0}")]
pub struct RepoError(#[from] pub sqlx::Error);

/// A room as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomRecord {
    pub id: Uuid,
    pub name: String,
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
    pub emoji: String,
    pub count: i64,
    pub mine: bool,
}

#[async_trait]
pub trait ChatRepository: Send + Sync {
    async fn list_rooms(&self, viewer: Uuid) -> Result<Vec<RoomRecord>, RepoError>;
    async fn find_room(&self, room: Uuid, viewer: Uuid) -> Result<Option<RoomRecord>, RepoError>;
    /// Inserts the room with its creator as first member, in one transaction.
    async fn create_room(
        &self,
        room: Uuid,
        name: &str,
        creator: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), RepoError>;
    /// Adds a member; false when already one.
    async fn join(&self, room: Uuid, user: Uuid, now: OffsetDateTime) -> Result<bool, RepoError>;
    /// Removes a member; false when not one.
    async fn leave(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError>;
    async fn is_member(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError>;
    async fn insert_message(&self, message: &StoredMessage) -> Result<(), RepoError>;
    async fn find_message(
        &self,
        room: Uuid,
        message: Uuid,
    ) -> Result<Option<StoredMessage>, RepoError>;
    /// Newest first, strictly older than `before` when given.
    async fn messages_before(
        &self,
        room: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, RepoError>;
    /// Reaction counts of the room's messages with ids in `first..=last`.
    async fn reactions_between(
        &self,
        room: Uuid,
        first: Uuid,
        last: Uuid,
        viewer: Uuid,
    ) -> Result<Vec<ReactionCount>, RepoError>;
    /// Adds a reaction; false when it was already there.
    async fn add_reaction(
        &self,
        message: Uuid,
        user: Uuid,
        emoji: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError>;
    /// Removes a reaction; false when there was none.
    async fn remove_reaction(
        &self,
        message: Uuid,
        user: Uuid,
        emoji: &str,
    ) -> Result<bool, RepoError>;
    /// Moves the member's read marker forward to `message` (never backwards).
    async fn mark_read(&self, room: Uuid, user: Uuid, message: Uuid) -> Result<(), RepoError>;
    async fn save_name(&self, user: Uuid, name: &str, now: OffsetDateTime)
    -> Result<(), RepoError>;
    async fn find_name(&self, user: Uuid) -> Result<Option<String>, RepoError>;
}
