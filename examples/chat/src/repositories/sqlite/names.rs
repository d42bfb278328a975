//! SQLite: `display_names`, the names last learnt from Warren.

use async_trait::async_trait;
use sqlx::SqlitePool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::repositories::{NameRepository, RepoError, StoredTime};

#[derive(Debug, Clone)]
pub struct SqliteNames {
    pool: SqlitePool,
}

impl SqliteNames {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl NameRepository for SqliteNames {
    #[tracing::instrument(skip_all)]
    async fn save(&self, user: Uuid, name: &str, now: OffsetDateTime) -> Result<(), RepoError> {
        sqlx::query(
            "INSERT INTO display_names (user_id, name, updated_at)
             VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE
             SET name = excluded.name, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(name)
        .bind(StoredTime::new(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, user: Uuid) -> Result<Option<String>, RepoError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT name FROM display_names WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.map(|(name,)| name))
    }
}
