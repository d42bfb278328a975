//! SQLite: `email_tokens` and `email_outbox`. The single writer connection serialises claims,
//! so no two dispatchers of one database file can take the same message.

mod statements;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SqlitePools, Writer};
use crate::domain::{ClaimedMail, LinkPurpose, LinkTokenHash, OutgoingMail, User, UserId};
use crate::repositories::errors::classify;
use crate::repositories::rows::ClaimedRow;
use crate::repositories::{EmailRepository, LinkUse, PasswordReset, RepoError};
use statements::{finish, spend, update_user};
pub(super) use statements::{insert_mail, queue_changes, queue_link, refuse_taken};

#[derive(Debug, Clone)]
pub struct SqliteEmail {
    pools: SqlitePools,
}

impl SqliteEmail {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl EmailRepository for SqliteEmail {
    #[tracing::instrument(skip_all)]
    async fn issue_link(&self, link: LinkUse, now: OffsetDateTime) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let queued = queue_link(writer.conn(), &link, now).await?;
        finish(writer, queued).await?;
        Ok(queued)
    }

    #[tracing::instrument(skip_all)]
    async fn queue(&self, mail: OutgoingMail, now: OffsetDateTime) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        insert_mail(writer.conn(), &mail, None, now).await?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn verify_email(
        &self,
        token: &LinkTokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let Some(spent) = spend(writer.conn(), token, LinkPurpose::VerifyEmail, now).await? else {
            writer.rollback().await?;
            return Ok(None);
        };
        let assignments = "email_verified = 1, email = coalesce($3, email)";
        let user = update_user(writer.conn(), assignments, spent.user_id, now, None).await?;
        // The link proves the address it went to, which must still be the account's.
        let user = user.filter(|user| user.email.as_str() == spent.email);
        finish(writer, user.is_some()).await?;
        Ok(user)
    }

    #[tracing::instrument(skip_all)]
    async fn reset_password(
        &self,
        token: &LinkTokenHash,
        reset: PasswordReset,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let spent = spend(writer.conn(), token, LinkPurpose::ResetPassword, now).await?;
        let Some(spent) = spent else {
            writer.rollback().await?;
            return Ok(None);
        };
        let assignments =
            "password_hash = $3, email_verified = 1, token_version = token_version + 1";
        let hash = Some(reset.hash.as_str());
        let Some(user) = update_user(writer.conn(), assignments, spent.user_id, now, hash).await?
        else {
            writer.rollback().await?;
            return Ok(None);
        };
        for sql in [
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            "DELETE FROM email_tokens WHERE user_id = $1 AND $2 IS NOT NULL",
            "DELETE FROM login_throttles
             WHERE email = (SELECT email FROM users WHERE id = $1) AND $2 IS NOT NULL",
        ] {
            sqlx::query(sql)
                .bind(spent.user_id)
                .bind(now)
                .execute(writer.conn())
                .await
                .map_err(classify)?;
        }
        insert_mail(writer.conn(), &reset.notice, Some(user.id), now).await?;
        writer.commit().await?;
        Ok(Some(user))
    }

    #[tracing::instrument(skip_all)]
    async fn confirm_email_change(
        &self,
        token: &LinkTokenHash,
        notice: OutgoingMail,
        now: OffsetDateTime,
    ) -> Result<Option<User>, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let spent = spend(writer.conn(), token, LinkPurpose::ConfirmEmailChange, now).await?;
        let Some(spent) = spent else {
            writer.rollback().await?;
            return Ok(None);
        };
        // Queued first, so that "the account's address" is still the old one.
        let user_id = UserId::from_uuid(spent.user_id);
        insert_mail(writer.conn(), &notice, Some(user_id), now).await?;
        // Every other link went to an address the account is leaving (or proves nothing about
        // the new one): none may outlive the change.
        sqlx::query("DELETE FROM email_tokens WHERE user_id = $1")
            .bind(spent.user_id)
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        let assignments = "email = $3, pending_email = NULL, email_verified = 1";
        let new_email = Some(spent.email.as_str());
        let user = update_user(writer.conn(), assignments, spent.user_id, now, new_email).await?;
        finish(writer, user.is_some()).await?;
        Ok(user)
    }

    #[tracing::instrument(skip_all)]
    async fn claim(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ClaimedMail>, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let rows: Vec<ClaimedRow> = sqlx::query_as(
            "UPDATE email_outbox SET claimed_until = $2, attempts = attempts + 1
             WHERE id IN (
               SELECT id FROM email_outbox
               WHERE status = 'pending' AND julianday(next_attempt_at) <= julianday($1)
                 AND (claimed_until IS NULL OR julianday(claimed_until) <= julianday($1))
               ORDER BY next_attempt_at LIMIT $3)
             RETURNING id, recipient, subject, body_text, body_html, attempts",
        )
        .bind(now)
        .bind(lease_until)
        .bind(i64::from(limit))
        .fetch_all(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        Ok(rows.into_iter().map(ClaimedMail::from).collect())
    }

    #[tracing::instrument(skip_all)]
    async fn mark_sent(&self, id: Uuid, now: OffsetDateTime) -> Result<(), RepoError> {
        self.settle(
            "UPDATE email_outbox SET status = 'sent', sent_at = $2, body_text = NULL,
               body_html = NULL, claimed_until = NULL, last_error = NULL
             WHERE id = $1",
            id,
            Some(now),
            None,
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn settle_failure(
        &self,
        id: Uuid,
        at: Option<OffsetDateTime>,
        error: &str,
    ) -> Result<(), RepoError> {
        // A message that will never go out loses its body too: it may hold a token.
        self.settle(
            "UPDATE email_outbox SET
               status = CASE WHEN $2 IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = coalesce($2, next_attempt_at),
               body_text = CASE WHEN $2 IS NULL THEN NULL ELSE body_text END,
               body_html = CASE WHEN $2 IS NULL THEN NULL ELSE body_html END,
               claimed_until = NULL, last_error = $3
             WHERE id = $1",
            id,
            at,
            Some(error),
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn release(&self, id: Uuid) -> Result<(), RepoError> {
        self.settle(
            "UPDATE email_outbox SET claimed_until = NULL, attempts = attempts - 1
             WHERE id = $1 AND $2 IS NULL AND $3 IS NULL",
            id,
            None,
            None,
        )
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn backlog(&self) -> Result<u64, RepoError> {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE status = 'pending'")
                .fetch_one(&self.pools.read)
                .await
                .map_err(classify)?;
        Ok(u64::try_from(pending).unwrap_or(0))
    }
}

impl SqliteEmail {
    async fn settle(
        &self,
        sql: &'static str,
        id: Uuid,
        at: Option<OffsetDateTime>,
        error: Option<&str>,
    ) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query(sql)
            .bind(id)
            .bind(at)
            .bind(error)
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }
}
