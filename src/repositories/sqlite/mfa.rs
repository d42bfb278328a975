//! SQLite: `mfa_totp`, `mfa_recovery_codes`, `mfa_challenges` and `users.mfa_enabled`.

use async_trait::async_trait;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::email::insert_mail;
use super::{SqlitePools, Writer};
use crate::domain::{SecretHash, UserId};
use crate::repositories::errors::classify;
use crate::repositories::{
    MfaChange, MfaRepository, MfaStatus, NewChallenge, RepoError, TotpEnrolment,
};

#[derive(Debug, Clone)]
pub struct SqliteMfa {
    pools: SqlitePools,
}

impl SqliteMfa {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl MfaRepository for SqliteMfa {
    #[tracing::instrument(skip_all)]
    async fn start_enrolment(
        &self,
        user: UserId,
        secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let enabled: Option<bool> =
            sqlx::query_scalar("SELECT mfa_enabled FROM users WHERE id = $1")
                .bind(user.as_uuid())
                .fetch_optional(writer.conn())
                .await
                .map_err(classify)?;
        let refusal = match enabled {
            None => Some(RepoError::Gone),
            Some(true) => Some(RepoError::Conflict),
            Some(false) => None,
        };
        if let Some(refusal) = refusal {
            writer.rollback().await?;
            return Err(refusal);
        }
        sqlx::query(
            "INSERT INTO mfa_totp (user_id, secret, confirmed_at, last_step, created_at)
             VALUES ($1, $2, NULL, -1, $3)
             ON CONFLICT (user_id) DO UPDATE SET
               secret = excluded.secret, confirmed_at = NULL, last_step = -1,
               created_at = excluded.created_at",
        )
        .bind(user.as_uuid())
        .bind(secret)
        .bind(now)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn find_totp(&self, user: UserId) -> Result<Option<TotpEnrolment>, RepoError> {
        sqlx::query_as("SELECT secret, confirmed_at, last_step FROM mfa_totp WHERE user_id = $1")
            .bind(user.as_uuid())
            .fetch_optional(&self.pools.read)
            .await
            .map_err(classify)
    }

    #[tracing::instrument(skip_all)]
    async fn confirm(&self, change: MfaChange<'_>, step: i64) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let confirmed = sqlx::query(
            "UPDATE mfa_totp SET confirmed_at = $1, last_step = $2
             WHERE user_id = $3 AND confirmed_at IS NULL AND last_step < $2",
        )
        .bind(change.now)
        .bind(step)
        .bind(change.user.as_uuid())
        .execute(writer.conn())
        .await
        .map_err(classify)?
        .rows_affected();
        if confirmed == 0 {
            writer.rollback().await?;
            return Ok(false);
        }
        set_enabled(writer.conn(), change.user, true, change.now).await?;
        replace_codes(writer.conn(), &change).await?;
        insert_mail(writer.conn(), &change.notice, Some(change.user), change.now).await?;
        writer.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn use_step(&self, user: UserId, step: i64) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        // The arbiter between racing uses of one code: only one finds last_step still older.
        let used = sqlx::query(
            "UPDATE mfa_totp SET last_step = $1
             WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(user.as_uuid())
        .execute(writer.conn())
        .await
        .map_err(classify)?
        .rows_affected();
        writer.commit().await?;
        Ok(used > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn use_recovery_code(
        &self,
        change: MfaChange<'_>,
        code: &SecretHash,
    ) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let spent =
            sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2")
                .bind(change.user.as_uuid())
                .bind(code.as_bytes().as_slice())
                .execute(writer.conn())
                .await
                .map_err(classify)?
                .rows_affected();
        if spent == 0 {
            writer.rollback().await?;
            return Ok(false);
        }
        insert_mail(writer.conn(), &change.notice, Some(change.user), change.now).await?;
        writer.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn replace_recovery_codes(&self, change: MfaChange<'_>) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        if !is_enabled(writer.conn(), change.user).await? {
            writer.rollback().await?;
            return Ok(false);
        }
        replace_codes(writer.conn(), &change).await?;
        insert_mail(writer.conn(), &change.notice, Some(change.user), change.now).await?;
        writer.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn disable(&self, change: MfaChange<'_>) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        if !is_enabled(writer.conn(), change.user).await? {
            writer.rollback().await?;
            return Ok(false);
        }
        for sql in [
            "DELETE FROM mfa_totp WHERE user_id = $1",
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1",
            "DELETE FROM mfa_challenges WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(change.user.as_uuid())
                .execute(writer.conn())
                .await
                .map_err(classify)?;
        }
        set_enabled(writer.conn(), change.user, false, change.now).await?;
        insert_mail(writer.conn(), &change.notice, Some(change.user), change.now).await?;
        writer.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all)]
    async fn status(&self, user: UserId) -> Result<MfaStatus, RepoError> {
        let (enabled_at, left): (Option<OffsetDateTime>, i64) = sqlx::query_as(
            "SELECT (SELECT confirmed_at FROM mfa_totp WHERE user_id = $1),
                    (SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1)",
        )
        .bind(user.as_uuid())
        .fetch_one(&self.pools.read)
        .await
        .map_err(classify)?;
        Ok(MfaStatus { enabled_at, recovery_codes_left: left.unsigned_abs() })
    }

    #[tracing::instrument(skip_all)]
    async fn create_challenge(&self, challenge: NewChallenge) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query(
            "DELETE FROM mfa_challenges
             WHERE user_id = $1 AND julianday(expires_at) <= julianday($2)",
        )
        .bind(challenge.user_id.as_uuid())
        .bind(challenge.created_at)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        sqlx::query(
            "INSERT INTO mfa_challenges (token_hash, user_id, failures, created_at, expires_at)
             VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(challenge.hash.as_bytes().as_slice())
        .bind(challenge.user_id.as_uuid())
        .bind(challenge.created_at)
        .bind(challenge.expires_at)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn find_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError> {
        let user: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM mfa_challenges
             WHERE token_hash = $1 AND julianday(expires_at) > julianday($2) AND failures < $3",
        )
        .bind(hash.as_bytes().as_slice())
        .bind(now)
        .bind(max_failures)
        .fetch_optional(&self.pools.read)
        .await
        .map_err(classify)?;
        Ok(user.map(UserId::from_uuid))
    }

    #[tracing::instrument(skip_all)]
    async fn fail_challenge(&self, hash: &SecretHash) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query("UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = $1")
            .bind(hash.as_bytes().as_slice())
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn spend_challenge(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> Result<Option<UserId>, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let spent: Vec<Uuid> = sqlx::query_scalar(
            "DELETE FROM mfa_challenges
             WHERE token_hash = $1 AND julianday(expires_at) > julianday($2) AND failures < $3
             RETURNING user_id",
        )
        .bind(hash.as_bytes().as_slice())
        .bind(now)
        .bind(max_failures)
        .fetch_all(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        Ok(spent.into_iter().next().map(UserId::from_uuid))
    }
}

async fn is_enabled(conn: &mut SqliteConnection, user: UserId) -> Result<bool, RepoError> {
    let enabled: Option<bool> = sqlx::query_scalar("SELECT mfa_enabled FROM users WHERE id = $1")
        .bind(user.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(classify)?;
    Ok(enabled.unwrap_or(false))
}

async fn set_enabled(
    conn: &mut SqliteConnection,
    user: UserId,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<(), RepoError> {
    sqlx::query("UPDATE users SET mfa_enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(enabled)
        .bind(now)
        .bind(user.as_uuid())
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Deletes every recovery code of the change's user and stores the change's new ones.
async fn replace_codes(
    conn: &mut SqliteConnection,
    change: &MfaChange<'_>,
) -> Result<(), RepoError> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(change.user.as_uuid())
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    for code in change.recovery_codes {
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (code_hash, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(code.as_bytes().as_slice())
        .bind(change.user.as_uuid())
        .bind(change.now)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    }
    Ok(())
}
