//! Postgres: the `users` table.

use async_trait::async_trait;
use time::OffsetDateTime;

use std::sync::Arc;

use sqlx::PgPool;

use super::{Writer, authentication, email};
use crate::domain::{EmailAddress, FullName, SessionId, StoredHash, User, UserId};
use crate::repositories::authentication::AuthenticationReads;
use crate::repositories::errors::classify;
use crate::repositories::rows::{CredentialsRow, UserRow};
use crate::repositories::{
    Credentials, NewUserRecord, RepoError, SessionLiveness, UserChanges, UserRepository,
    contains_pattern,
};

/// Operators' user list: a page after the cursor, in id order (UUID v7, so oldest first; the
/// primary key serves it).
pub(crate) const LIST: &str =
    "SELECT id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled
             FROM users
             WHERE ($1 IS NULL OR email ILIKE $1 ESCAPE '\\' OR full_name ILIKE $1 ESCAPE '\\')
               AND ($2 IS NULL OR id > $2)
             ORDER BY id
             LIMIT $3";

/// Signin: a user and their password hash by canonical email (the unique email index).
pub(crate) const CREDENTIALS_BY_EMAIL: &str =
    "SELECT id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled,
                    password_hash
             FROM users WHERE email = $1";

#[derive(Debug, Clone)]
pub struct PgUsers {
    pool: PgPool,
    /// For [`UserRepository::find_with_session`], the read behind every authenticated request.
    authentication: Arc<AuthenticationReads>,
}

impl PgUsers {
    pub fn new(pool: PgPool) -> Self {
        let authentication =
            Arc::new(AuthenticationReads::start(&pool, authentication::find_batch));
        Self { pool, authentication }
    }
}

#[async_trait]
impl UserRepository for PgUsers {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, user: NewUserRecord) -> Result<User, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        let rows: Vec<UserRow> = sqlx::query_as(
            "INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             RETURNING id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled",
        )
        .bind(user.id.as_uuid())
        .bind(user.email.as_str())
        .bind(user.full_name.as_ref().map(FullName::as_str))
        .bind(user.password_hash.as_str())
        .bind(user.created_at)
        .fetch_all(writer.conn())
        .await
        .map_err(classify)?;
        if let Some(verification) = &user.verification {
            let now = user.created_at;
            email::queue_link(writer.conn(), verification, now).await?;
        }
        writer.commit().await?;
        rows.into_iter().next().ok_or(RepoError::Gone)?.try_into()
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        sqlx::query_as::<_, UserRow>(
            "SELECT id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled
             FROM users WHERE id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .map(User::try_from)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_email(&self, email: &EmailAddress) -> Result<Option<User>, RepoError> {
        sqlx::query_as::<_, UserRow>(
            "SELECT id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled
             FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .map(User::try_from)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list(
        &self,
        query: Option<&str>,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<User>, RepoError> {
        let rows: Vec<UserRow> = sqlx::query_as(LIST)
            .bind(query.map(contains_pattern))
            .bind(after.map(|id| id.as_uuid()))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        rows.into_iter().map(User::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn find_with_session(
        &self,
        id: UserId,
        session: SessionId,
    ) -> Result<Option<(User, SessionLiveness)>, RepoError> {
        self.authentication.find(id, session).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_credentials_by_email(
        &self,
        email: &EmailAddress,
    ) -> Result<Option<Credentials>, RepoError> {
        sqlx::query_as::<_, CredentialsRow>(CREDENTIALS_BY_EMAIL)
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .map(Credentials::try_from)
            .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn find_credentials_by_id(&self, id: UserId) -> Result<Option<Credentials>, RepoError> {
        sqlx::query_as::<_, CredentialsRow>(
            "SELECT id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled,
                    password_hash
             FROM users WHERE id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .map(Credentials::try_from)
        .transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        id: UserId,
        changes: UserChanges,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        let password = changes.password;
        if let Some(email) = &changes.email {
            email::refuse_taken(writer.conn(), email).await?;
        }
        let rows: Vec<UserRow> = sqlx::query_as(
            "UPDATE users SET
               full_name = CASE WHEN $1 THEN $2 ELSE full_name END,
               pending_email = coalesce($3, pending_email),
               password_hash = coalesce($4, password_hash),
               token_version = token_version + $5,
               email_verified = coalesce($8, email_verified),
               updated_at = $6
             WHERE id = $7
             RETURNING id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled",
        )
        .bind(changes.full_name.is_some())
        .bind(changes.full_name.flatten().map(|name| name.as_str().to_owned()))
        .bind(changes.email.as_ref().map(EmailAddress::as_str))
        .bind(password.as_ref().map(|p| p.hash.as_str()))
        .bind(i64::from(password.is_some()))
        .bind(now)
        .bind(id.as_uuid())
        .bind(changes.email_verified)
        .fetch_all(writer.conn())
        .await
        .map_err(classify)?;
        if let Some(password) = &password {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1
                 WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3",
            )
            .bind(now)
            .bind(id.as_uuid())
            .bind(password.keep_session.map(|s| s.as_uuid()))
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        }
        if !rows.is_empty() {
            let link = changes.link.as_ref();
            email::queue_changes(writer.conn(), id, password.is_some(), link, &changes.mail, now)
                .await?;
        }
        writer.commit().await?;
        rows.into_iter().next().map(User::try_from).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn upgrade_password_hash(
        &self,
        id: UserId,
        old: &StoredHash,
        new: &StoredHash,
    ) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new.as_str())
            .bind(id.as_uuid())
            .bind(old.as_str())
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn set_active(
        &self,
        id: UserId,
        active: bool,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        let rows: Vec<UserRow> = sqlx::query_as(
            "UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3
             RETURNING id, email, full_name, is_active, token_version, created_at, updated_at,
                    email_verified, pending_email, avatar_name, mfa_enabled",
        )
        .bind(active)
        .bind(now)
        .bind(id.as_uuid())
        .fetch_all(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        rows.into_iter().next().map(User::try_from).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        // The backoff row is keyed by email and would otherwise pass to the next owner.
        sqlx::query(
            "DELETE FROM login_throttles WHERE email = (SELECT email FROM users WHERE id = $1)",
        )
        .bind(id.as_uuid())
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.as_uuid())
            .execute(writer.conn())
            .await
            .map_err(classify)?
            .rows_affected();
        writer.commit().await?;
        Ok(deleted > 0)
    }
}
