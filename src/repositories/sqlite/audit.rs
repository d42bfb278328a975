//! SQLite: the `auth_events` audit trail.

use async_trait::async_trait;
use uuid::Uuid;

use super::{SqlitePools, Writer};
use crate::domain::{AuthEvent, AuthEventKind, UserId};
use crate::repositories::errors::classify;
use crate::repositories::rows::AuthEventRow;
use crate::repositories::{AuditEntry, AuditQuery, AuditRepository, RepoError};

/// The columns every read returns.
macro_rules! columns {
    () => {
        "kind, user_id, session_id, ip, request_id, occurred_at, client_id"
    };
}

#[derive(Debug, Clone)]
pub struct SqliteAudit {
    pools: SqlitePools,
}

impl SqliteAudit {
    pub fn new(pools: SqlitePools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl AuditRepository for SqliteAudit {
    #[tracing::instrument(skip_all)]
    async fn record(&self, event: &AuthEvent) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pools.write).await?;
        sqlx::query(
            "INSERT INTO auth_events
                 (id, occurred_at, kind, user_id, session_id, ip, request_id, client_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(event.occurred_at)
        .bind(event.kind.as_str())
        .bind(event.user_id.map(|id| id.as_uuid()))
        .bind(event.session_id.map(|id| id.as_uuid()))
        .bind(event.ip.as_deref())
        .bind(event.request_id.as_deref())
        .bind(event.client_id.map(|id| id.as_uuid()))
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError> {
        let rows: Vec<AuthEventRow> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM auth_events WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user.as_uuid())
        .fetch_all(&self.pools.read)
        .await
        .map_err(classify)?;
        rows.into_iter().map(AuthEvent::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, RepoError> {
        let rows: Vec<EntryRow> = sqlx::query_as(concat!(
            "SELECT id, ",
            columns!(),
            " FROM auth_events
             WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR kind = $2)
               AND ($3 IS NULL OR id < $3)
             ORDER BY id DESC
             LIMIT $4"
        ))
        .bind(query.user.map(|id| id.as_uuid()))
        .bind(query.kind.map(AuthEventKind::as_str))
        .bind(query.before)
        .bind(i64::from(query.limit))
        .fetch_all(&self.pools.read)
        .await
        .map_err(classify)?;
        rows.into_iter()
            .map(|row| Ok(AuditEntry { id: row.id, event: AuthEvent::try_from(row.event)? }))
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: Uuid,
    #[sqlx(flatten)]
    event: AuthEventRow,
}
