//! What clients see: rooms and messages as the REST API and the WebSocket serialise them.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::UserRef;
use crate::repositories::{ReactionCount, RoomRecord};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Room {
    pub id: Uuid,
    #[schema(example = "General")]
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub member_count: i64,
    /// Messages by others after your last read one.
    pub unread_count: i64,
}

impl From<RoomRecord> for Room {
    fn from(record: RoomRecord) -> Self {
        Self {
            id: record.id,
            name: record.name.as_str().to_owned(),
            created_at: record.created_at,
            member_count: record.member_count,
            unread_count: record.unread_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reaction {
    #[schema(example = "👍")]
    pub emoji: String,
    pub count: i64,
    /// Whether you are among those who reacted.
    pub mine: bool,
}

impl From<ReactionCount> for Reaction {
    fn from(count: ReactionCount) -> Self {
        Self { emoji: count.emoji.as_str().to_owned(), count: count.count, mine: count.mine }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub room_id: Uuid,
    pub sender: UserRef,
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub reactions: Vec<Reaction>,
}
