//! The Postgres repository: the portable statements on a `PgPool`.

use async_trait::async_trait;
use sqlx::Postgres;
use time::OffsetDateTime;
use uuid::Uuid;

use super::portable::{MessageRow, ReactionRow, portable_chat_repository};
use super::{ChatRepository, ReactionCount, RepoError, RoomRecord, StoredMessage};

portable_chat_repository!(PostgresChatRepository, Postgres);
