//! SQLite: `sessions` and their `refresh_tokens`.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SqlitePools, Writer};
use crate::domain::{Amr, RefreshTokenHash, Session, SessionId, UserId};
use crate::repositories::errors::classify;
use crate::repositories::rows::{RefreshTokenRow, SessionRow};
use crate::repositories::{
    NewRefreshToken, NewSession, RefreshTokenState, RepoError, Rotation, SessionRepository,
};

/// Refresh: a token's state and its session's, by the token's hash.
pub(crate) const FIND_REFRESH_TOKEN: &str =
    "SELECT t.session_id, s.user_id, t.expires_at, t.rotated_at,
                    s.revoked_at IS NOT NULL AS session_revoked,
                    s.expires_at AS session_expires_at, s.amr
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
             WHERE t.token_hash = $1";

/// Refresh: claims the presented token (by its hash, the primary key) if it and its session
/// are live. The session is looked up by its id: an `IN (SELECT ...)` over the live sessions
/// made SQLite read the whole table on every refresh.
pub(crate) const ROTATE: &str = "UPDATE refresh_tokens SET rotated_at = $1
             WHERE token_hash = $2
               AND rotated_at IS NULL
               AND julianday(expires_at) > julianday($1)
               AND EXISTS (
                 SELECT 1 FROM sessions
                 WHERE sessions.id = refresh_tokens.session_id
                   AND revoked_at IS NULL AND julianday(expires_at) > julianday($1))
             RETURNING session_id,
               (SELECT user_id FROM sessions WHERE sessions.id = refresh_tokens.session_id),
               (SELECT amr FROM sessions WHERE sessions.id = refresh_tokens.session_id)";

#[derive(Debug, Clone)]
pub struct SqliteSessions {
    pools: SqlitePools,
}

impl SqliteSessions {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl SessionRepository for SqliteSessions {
    #[tracing::instrument(skip_all)]
    async fn create(&self, session: NewSession, root: NewRefreshToken) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let inserted = sqlx::query(
            "INSERT INTO sessions
               (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, amr)
             SELECT $1, $2, $3, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND is_active)",
        )
        .bind(session.id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.user_agent)
        .bind(session.ip.map(|ip| ip.to_string()))
        .bind(session.amr.as_str())
        .execute(writer.conn())
        .await
        .map_err(classify)?
        .rows_affected();
        if inserted == 0 {
            writer.rollback().await?;
            return Err(RepoError::Gone);
        }
        insert_refresh_token(&mut writer, session.id, &root).await?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn rotate(
        &self,
        presented: &RefreshTokenHash,
        successor: NewRefreshToken,
    ) -> Result<Rotation, RepoError> {
        let now = successor.issued_at;
        let mut writer = Writer::begin(&self.pools.write).await?;
        // The conditional update is the arbiter between racing refreshes: exactly one of them
        // finds `rotated_at` still empty.
        let claimed: Vec<(Uuid, Uuid, String)> = sqlx::query_as(ROTATE)
            .bind(now)
            .bind(presented.as_bytes().as_slice())
            .fetch_all(writer.conn())
            .await
            .map_err(classify)?;
        let Some((session_id, user_id, amr)) = claimed.into_iter().next() else {
            writer.rollback().await?;
            return Ok(Rotation::Refused);
        };
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id)
            .execute(writer.conn())
            .await
            .map_err(classify)?;
        let session_id = SessionId::from_uuid(session_id);
        insert_refresh_token(&mut writer, session_id, &successor).await?;
        writer.commit().await?;
        let amr = Amr::from_stored(&amr);
        Ok(Rotation::Rotated { session_id, user_id: UserId::from_uuid(user_id), amr })
    }

    #[tracing::instrument(skip_all)]
    async fn find_refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<RefreshTokenState>, RepoError> {
        let row: Option<RefreshTokenRow> = sqlx::query_as(FIND_REFRESH_TOKEN)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pools.read)
            .await
            .map_err(classify)?;
        Ok(row.map(RefreshTokenState::from))
    }

    #[tracing::instrument(skip_all)]
    async fn revoke(&self, session: SessionId, now: OffsetDateTime) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let revoked =
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(session.as_uuid())
                .execute(writer.conn())
                .await
                .map_err(classify)?
                .rows_affected();
        writer.commit().await?;
        Ok(revoked > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_all(&self, user: UserId, now: OffsetDateTime) -> Result<u64, RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        let revoked = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user.as_uuid())
        .execute(writer.conn())
        .await
        .map_err(classify)?
        .rows_affected();
        sqlx::query(
            "UPDATE users SET token_version = token_version + 1, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(user.as_uuid())
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await?;
        Ok(revoked)
    }

    #[tracing::instrument(skip_all)]
    async fn list_live(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, RepoError> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.ip
             FROM sessions s
             WHERE s.user_id = $1 AND s.revoked_at IS NULL
               AND julianday(s.expires_at) > julianday($2)
               -- idle expiry: a session lives only while its current refresh token does
               AND EXISTS (SELECT 1 FROM refresh_tokens t
                           WHERE t.session_id = s.id AND t.rotated_at IS NULL
                             AND julianday(t.expires_at) > julianday($2))
             ORDER BY s.id",
        )
        .bind(user.as_uuid())
        .bind(now)
        .fetch_all(&self.pools.read)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Session::from).collect())
    }
}

async fn insert_refresh_token(
    writer: &mut Writer,
    session: SessionId,
    token: &NewRefreshToken,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token.hash.as_bytes().as_slice())
    .bind(session.as_uuid())
    .bind(token.issued_at)
    .bind(token.expires_at)
    .execute(writer.conn())
    .await
    .map_err(classify)?;
    Ok(())
}
