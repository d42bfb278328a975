//! Postgres: `messages`, sealed, each with its sender's remembered display name.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::repositories::{MessageRepository, RepoError, StoredMessage, StoredTime};
use crate::services::cipher::Sealed;

#[derive(sqlx::FromRow)]
struct MessageRow {
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

#[derive(Debug, Clone)]
pub struct PgMessages {
    pool: PgPool,
}

impl PgMessages {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl MessageRepository for PgMessages {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, message: &StoredMessage) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO messages (id, room_id, sender_id, key_id, nonce, ciphertext, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(message.id)
        .bind(message.room_id)
        .bind(message.sender_id)
        .bind(&message.sealed.key_id)
        .bind(&message.sealed.nonce)
        .bind(&message.sealed.ciphertext)
        .bind(StoredTime::new(message.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, room: Uuid, message: Uuid) -> Result<Option<StoredMessage>, RepoError> {
        let row: Option<MessageRow> = sqlx::query_as(
            "SELECT m.id, m.room_id, m.sender_id, d.name AS sender_name,
                    m.key_id, m.nonce, m.ciphertext, m.created_at
             FROM messages m
             LEFT JOIN display_names d ON d.user_id = m.sender_id
             WHERE m.room_id = $1 AND m.id = $2",
        )
        .bind(room)
        .bind(message)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(StoredMessage::from))
    }

    #[tracing::instrument(skip_all)]
    async fn page_before(
        &self,
        room: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<StoredMessage>, RepoError> {
        // UUIDs compare bytewise, so v7 id order is time order.
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT m.id, m.room_id, m.sender_id, d.name AS sender_name,
                    m.key_id, m.nonce, m.ciphertext, m.created_at
             FROM messages m
             LEFT JOIN display_names d ON d.user_id = m.sender_id
             WHERE m.room_id = $1 AND ($2 IS NULL OR m.id < $2)
             ORDER BY m.id DESC
             LIMIT $3",
        )
        .bind(room)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredMessage::from).collect())
    }
}
