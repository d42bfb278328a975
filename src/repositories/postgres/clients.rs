//! Postgres: `service_clients`.

use async_trait::async_trait;

use sqlx::PgPool;

use super::Writer;
use crate::domain::{ClientId, SecretHash, ServiceClient};
use crate::repositories::errors::classify;
use crate::repositories::rows::ClientRow;
use crate::repositories::{ClientRepository, RepoError};

#[derive(Debug, Clone)]
pub struct PgClients {
    pool: PgPool,
}

impl PgClients {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ClientRepository for PgClients {
    #[tracing::instrument(skip_all)]
    async fn insert(
        &self,
        client: &ServiceClient,
        secret_hash: &SecretHash,
    ) -> Result<(), RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        sqlx::query(
            "INSERT INTO service_clients (id, name, secret_hash, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(client.id.as_uuid())
        .bind(client.name.as_str())
        .bind(secret_hash.as_bytes().as_slice())
        .bind(client.scopes.to_string())
        .bind(client.created_at)
        .execute(writer.conn())
        .await
        .map_err(classify)?;
        writer.commit().await
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, id: ClientId) -> Result<Option<(ServiceClient, SecretHash)>, RepoError> {
        let row: Option<ClientRow> = sqlx::query_as(
            "SELECT id, name, secret_hash, scopes, created_at FROM service_clients WHERE id = $1",
        )
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        row.map(ClientRow::into_parts).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self) -> Result<Vec<ServiceClient>, RepoError> {
        let rows: Vec<ClientRow> = sqlx::query_as(
            "SELECT id, name, secret_hash, scopes, created_at FROM service_clients ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.into_iter().map(|row| row.into_parts().map(|(client, _)| client)).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: ClientId) -> Result<bool, RepoError> {
        let mut writer = Writer::begin(&self.pool).await?;
        let deleted = sqlx::query("DELETE FROM service_clients WHERE id = $1")
            .bind(id.as_uuid())
            .execute(writer.conn())
            .await
            .map_err(classify)?
            .rows_affected();
        writer.commit().await?;
        Ok(deleted > 0)
    }
}
