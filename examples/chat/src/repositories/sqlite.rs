//! The SQLite repository: the portable statements on a `SqlitePool`.

use async_trait::async_trait;
use sqlx::Sqlite;
use time::OffsetDateTime;
use uuid::Uuid;

use super::portable::{MessageRow, ReactionRow, portable_chat_repository};
use super::{ChatRepository, ReactionCount, RepoError, RoomRecord, StoredMessage};

portable_chat_repository!(SqliteChatRepository, Sqlite);
