//! Postgres: `reactions`, counted per message and emoji.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::Emoji;
use crate::repositories::{ReactionCount, ReactionRepository, RepoError, StoredTime, parse_emoji};

#[derive(sqlx::FromRow)]
struct ReactionRow {
    message_id: Uuid,
    emoji: String,
    count: i64,
    /// Whether the viewer is among the reacting members.
    mine: bool,
}

impl TryFrom<ReactionRow> for ReactionCount {
    type Error = RepoError;

    fn try_from(row: ReactionRow) -> Result<Self, RepoError> {
        Ok(Self {
            message_id: row.message_id,
            emoji: parse_emoji(&row.emoji)?,
            count: row.count,
            mine: row.mine,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PgReactions {
    pool: PgPool,
}

impl PgReactions {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ReactionRepository for PgReactions {
    #[tracing::instrument(skip_all)]
    async fn counts_between(
        &self,
        room: Uuid,
        first: Uuid,
        last: Uuid,
        viewer: Uuid,
    ) -> Result<Vec<ReactionCount>, RepoError> {
        let rows: Vec<ReactionRow> = sqlx::query_as(
            "SELECT r.message_id, r.emoji, COUNT(*) AS count, bool_or(r.user_id = $4) AS mine
             FROM reactions r
             JOIN messages m ON m.id = r.message_id
             WHERE m.room_id = $1 AND r.message_id >= $2 AND r.message_id <= $3
             GROUP BY r.message_id, r.emoji
             ORDER BY r.message_id, MIN(r.created_at), r.emoji",
        )
        .bind(room)
        .bind(first)
        .bind(last)
        .bind(viewer)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ReactionCount::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn add(
        &self,
        message: Uuid,
        user: Uuid,
        emoji: &Emoji,
        now: OffsetDateTime,
    ) -> Result<bool, RepoError> {
        let done = sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )
        .bind(message)
        .bind(user)
        .bind(emoji.as_str())
        .bind(StoredTime::new(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn remove(&self, message: Uuid, user: Uuid, emoji: &Emoji) -> Result<bool, RepoError> {
        let done = sqlx::query(
            "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(message)
        .bind(user)
        .bind(emoji.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
