//! Postgres: the `avatars` table and the user's `avatar_name` that points into it.

use async_trait::async_trait;
use time::OffsetDateTime;

use sqlx::PgPool;

use super::Writer;
use crate::domain::{User, UserId};
use crate::repositories::errors::classify;
use crate::repositories::rows::UserRow;
use crate::repositories::{AvatarRepository, NewAvatar, RepoError, StoredAvatar};

#[derive(Debug, Clone)]
pub struct PgAvatars {
    pool: PgPool,
}

impl PgAvatars {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// Points the user at `name` (or at nothing) and returns the user row, if the user exists.
async fn point_user_at(
    writer: &mut Writer,
    user: UserId,
    name: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<User>, RepoError> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "UPDATE users SET avatar_name = $1, updated_at = $2 WHERE id = $3
         RETURNING id, email, full_name, is_active, token_version, created_at, updated_at,
                email_verified, pending_email, avatar_name, mfa_enabled",
    )
    .bind(name)
    .bind(now)
    .bind(user.as_uuid())
    .fetch_all(writer.conn())
    .await
    .map_err(classify)?;
    rows.into_iter().next().map(User::try_from).transpose()
}

#[async_trait]
impl AvatarRepository for PgAvatars {
    #[tracing::instrument(skip_all)]
    async fn replace(
        &self,
        user: UserId,
        avatar: NewAvatar,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        let Some(updated) = point_user_at(&mut writer, user, Some(&avatar.name), now).await? else {
            writer.rollback().await?;
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO avatars (user_id, name, content_type, etag, bytes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id) DO UPDATE SET name = excluded.name,
               content_type = excluded.content_type, etag = excluded.etag,
               bytes = excluded.bytes, created_at = excluded.created_at",
        )
        .bind(user.as_uuid())
        .bind(&avatar.name)
        .bind(&avatar.content_type)
        .bind(&avatar.etag)
        .bind(&avatar.bytes)
        .bind(now)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        Ok(Some(updated))
    }

    #[tracing::instrument(skip_all)]
    async fn remove(&self, user: UserId, now: OffsetDateTime) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query("DELETE FROM avatars WHERE user_id = $1")
            .bind(user.as_uuid())
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        let updated = point_user_at(&mut writer, user, None, now).await?;
        writer.commit().await?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, name: &str) -> Result<Option<StoredAvatar>, RepoError> {
        sqlx::query_as("SELECT content_type, etag, bytes FROM avatars WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }
}
