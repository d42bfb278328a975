//! The repository implementation shared by both backends.
//!
//! Every statement below is portable between SQLite and Postgres (both number parameters `$n`,
//! both store ids as 16-byte values that compare bytewise, so v7 UUID order is time order), so
//! it is written once and instantiated per database type by `portable_chat_repository!`. Times
//! are bound as `StoredTime`, so both hold whole microseconds and SQLite's text sorts by time.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{ReactionCount, StoredMessage};
use crate::services::cipher::Sealed;

/// The `messages` columns every message query returns, in `MessageRow` order.
macro_rules! message_columns {
    () => {
        "m.id, m.room_id, m.sender_id, d.name AS sender_name, m.key_id, m.nonce, m.ciphertext, \
         m.created_at FROM messages m LEFT JOIN display_names d ON d.user_id = m.sender_id"
    };
}
pub(crate) use message_columns;

/// The room columns with the viewer-dependent counts; `$1` is the viewer.
macro_rules! room_columns {
    () => {
        "r.id, r.name, r.created_at, \
         (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count, \
         (SELECT COUNT(*) FROM messages g JOIN members me \
            ON me.room_id = g.room_id AND me.user_id = $1 \
          WHERE g.room_id = r.id AND g.sender_id <> $1 \
            AND (me.last_read_message_id IS NULL OR g.id > me.last_read_message_id)) \
         AS unread_count FROM rooms r"
    };
}
pub(crate) use room_columns;

#[derive(Debug, sqlx::FromRow)]
pub struct MessageRow {
    id: Uuid,
    room_id: Uuid,
    sender_id: Uuid,
    sender_name: Option<String>,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    created_at: OffsetDateTime,
}

impl From<MessageRow> for StoredMessage {
    fn from(row: MessageRow) -> Self {
        Self {
            id: row.id,
            room_id: row.room_id,
            sender_id: row.sender_id,
            sender_name: row.sender_name,
            sealed: Sealed { key_id: row.key_id, nonce: row.nonce, ciphertext: row.ciphertext },
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ReactionRow {
    message_id: Uuid,
    emoji: String,
    count: i64,
    mine: i64,
}

impl From<ReactionRow> for ReactionCount {
    fn from(row: ReactionRow) -> Self {
        Self { message_id: row.message_id, emoji: row.emoji, count: row.count, mine: row.mine > 0 }
    }
}

/// Defines `$name`, a `ChatRepository` on a pool of database `$db`.
macro_rules! portable_chat_repository {
    ($name:ident, $db:ty) => {
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: sqlx::Pool<$db>,
        }

        impl $name {
            pub fn new(pool: sqlx::Pool<$db>) -> Self {
                Self { pool }
            }
        }

        #[async_trait]
        impl ChatRepository for $name {
            #[tracing::instrument(skip_all)]
            async fn list_rooms(&self, viewer: Uuid) -> Result<Vec<RoomRecord>, RepoError> {
                let sql = concat!("SELECT ", super::portable::room_columns!(), " ORDER BY r.created_at, r.id");
                Ok(sqlx::query_as(sql).bind(viewer).fetch_all(&self.pool).await?)
            }

            #[tracing::instrument(skip_all)]
            async fn find_room(&self, room: Uuid, viewer: Uuid) -> Result<Option<RoomRecord>, RepoError> {
                let sql = concat!("SELECT ", super::portable::room_columns!(), " WHERE r.id = $2");
                Ok(sqlx::query_as(sql).bind(viewer).bind(room).fetch_optional(&self.pool).await?)
            }

            #[tracing::instrument(skip_all)]
            async fn create_room(
                &self,
                room: Uuid,
                name: &str,
                creator: Uuid,
                now: OffsetDateTime,
            ) -> Result<(), RepoError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO rooms (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(room).bind(name).bind(creator).bind(super::StoredTime::new(now))
                    .execute(&mut *tx).await?;
                sqlx::query("INSERT INTO members (room_id, user_id, joined_at) VALUES ($1, $2, $3)")
                    .bind(room).bind(creator).bind(super::StoredTime::new(now))
                    .execute(&mut *tx).await?;
                Ok(tx.commit().await?)
            }

            #[tracing::instrument(skip_all)]
            async fn join(&self, room: Uuid, user: Uuid, now: OffsetDateTime) -> Result<bool, RepoError> {
                let done = sqlx::query(
                    "INSERT INTO members (room_id, user_id, joined_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (room_id, user_id) DO NOTHING",
                )
                .bind(room).bind(user).bind(super::StoredTime::new(now))
                .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn leave(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError> {
                let done = sqlx::query("DELETE FROM members WHERE room_id = $1 AND user_id = $2")
                    .bind(room).bind(user)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn is_member(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError> {
                let (count,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM members WHERE room_id = $1 AND user_id = $2")
                        .bind(room).bind(user)
                        .fetch_one(&self.pool).await?;
                Ok(count > 0)
            }

            #[tracing::instrument(skip_all)]
            async fn insert_message(&self, message: &StoredMessage) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO messages (id, room_id, sender_id, key_id, nonce, ciphertext, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(message.id).bind(message.room_id).bind(message.sender_id)
                .bind(&message.sealed.key_id).bind(&message.sealed.nonce)
                .bind(&message.sealed.ciphertext).bind(super::StoredTime::new(message.created_at))
                .execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_message(&self, room: Uuid, message: Uuid) -> Result<Option<StoredMessage>, RepoError> {
                let sql = concat!("SELECT ", super::portable::message_columns!(), " WHERE m.room_id = $1 AND m.id = $2");
                let row: Option<MessageRow> =
                    sqlx::query_as(sql).bind(room).bind(message).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn messages_before(
                &self,
                room: Uuid,
                before: Option<Uuid>,
                limit: i64,
            ) -> Result<Vec<StoredMessage>, RepoError> {
                let sql = concat!(
                    "SELECT ", super::portable::message_columns!(),
                    " WHERE m.room_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3"
                );
                let rows: Vec<MessageRow> = sqlx::query_as(sql)
                    .bind(room).bind(before).bind(limit)
                    .fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn reactions_between(
                &self,
                room: Uuid,
                first: Uuid,
                last: Uuid,
                viewer: Uuid,
            ) -> Result<Vec<ReactionCount>, RepoError> {
                let rows: Vec<ReactionRow> = sqlx::query_as(
                    "SELECT r.message_id, r.emoji, COUNT(*) AS count, \
                     CAST(MAX(CASE WHEN r.user_id = $4 THEN 1 ELSE 0 END) AS BIGINT) AS mine \
                     FROM reactions r JOIN messages m ON m.id = r.message_id \
                     WHERE m.room_id = $1 AND r.message_id >= $2 AND r.message_id <= $3 \
                     GROUP BY r.message_id, r.emoji ORDER BY r.message_id, MIN(r.created_at), r.emoji",
                )
                .bind(room).bind(first).bind(last).bind(viewer)
                .fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            #[tracing::instrument(skip_all)]
            async fn add_reaction(
                &self,
                message: Uuid,
                user: Uuid,
                emoji: &str,
                now: OffsetDateTime,
            ) -> Result<bool, RepoError> {
                let done = sqlx::query(
                    "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
                )
                .bind(message).bind(user).bind(emoji).bind(super::StoredTime::new(now))
                .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn remove_reaction(&self, message: Uuid, user: Uuid, emoji: &str) -> Result<bool, RepoError> {
                let done = sqlx::query(
                    "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
                )
                .bind(message).bind(user).bind(emoji)
                .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            #[tracing::instrument(skip_all)]
            async fn mark_read(&self, room: Uuid, user: Uuid, message: Uuid) -> Result<(), RepoError> {
                sqlx::query(
                    "UPDATE members SET last_read_message_id = $3 WHERE room_id = $1 AND user_id = $2 \
                     AND (last_read_message_id IS NULL OR last_read_message_id < $3)",
                )
                .bind(room).bind(user).bind(message)
                .execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn save_name(&self, user: Uuid, name: &str, now: OffsetDateTime) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO display_names (user_id, name, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                )
                .bind(user).bind(name).bind(super::StoredTime::new(now))
                .execute(&self.pool).await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_name(&self, user: Uuid) -> Result<Option<String>, RepoError> {
                let found: Option<(String,)> =
                    sqlx::query_as("SELECT name FROM display_names WHERE user_id = $1")
                        .bind(user).fetch_optional(&self.pool).await?;
                Ok(found.map(|(name,)| name))
            }
        }
    };
}
pub(crate) use portable_chat_repository;
