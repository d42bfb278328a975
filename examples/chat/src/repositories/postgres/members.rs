//! Postgres: `members` and their read markers.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::repositories::{MemberRepository, RepoError, StoredTime};

#[derive(Debug, Clone)]
pub struct PgMembers {
    pool: PgPool,
}

impl PgMembers {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl MemberRepository for PgMembers {
    #[tracing::instrument(skip_all)]
    async fn join(&self, room: Uuid, user: Uuid, now: OffsetDateTime) -> Result<bool, RepoError> {
        let done = sqlx::query(
            "INSERT INTO members (room_id, user_id, joined_at)
             VALUES ($1, $2, $3)
             ON CONFLICT (room_id, user_id) DO NOTHING",
        )
        .bind(room)
        .bind(user)
        .bind(StoredTime::new(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn leave(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError> {
        let done = sqlx::query("DELETE FROM members WHERE room_id = $1 AND user_id = $2")
            .bind(room)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn is_member(&self, room: Uuid, user: Uuid) -> Result<bool, RepoError> {
        let (member,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM members WHERE room_id = $1 AND user_id = $2)",
        )
        .bind(room)
        .bind(user)
        .fetch_one(&self.pool)
        .await?;
        Ok(member)
    }

    #[tracing::instrument(skip_all)]
    async fn mark_read(&self, room: Uuid, user: Uuid, message: Uuid) -> Result<(), RepoError> {
        // UUIDs compare bytewise, so a v7 id greater than the marker is a later message.
        sqlx::query(
            "UPDATE members SET last_read_message_id = $3
             WHERE room_id = $1
               AND user_id = $2
               AND (last_read_message_id IS NULL OR last_read_message_id < $3)",
        )
        .bind(room)
        .bind(user)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
