//! The repository implementations shared by both backends.
//!
//! The statements below are portable between SQLite and Postgres (both number parameters
//! `$n` and support `RETURNING`), so they are written once and instantiated per pool type.
//! Anything dialect-specific lives in that backend's own module.

/// The `users` columns every query returns, in `UserRow` order.
macro_rules! user_columns {
    () => {
        "id, email, full_name, is_active, token_version, created_at, updated_at"
    };
}

/// Defines `$users` and `$sessions` over `$pool`.
macro_rules! portable_repositories {
    ($users:ident, $sessions:ident, $pool:ty) => {
        #[derive(Debug, Clone)]
        pub struct $users {
            pool: $pool,
        }

        impl $users {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait]
        impl UserRepository for $users {
            #[tracing::instrument(skip_all)]
            async fn insert(&self, user: NewUserRecord) -> Result<User, RepoError> {
                sqlx::query_as::<_, UserRow>(
                    concat!(
                        "INSERT INTO users \
                         (id, email, full_name, password_hash, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
                        user_columns!()
                    ),
                )
                .bind(user.id.as_uuid())
                .bind(user.email.as_str())
                .bind(user.full_name.as_ref().map(|n| n.as_str()))
                .bind(user.password_hash.as_str())
                .bind(user.created_at)
                .fetch_one(&self.pool)
                .await
                .map_err(classify)?
                .try_into()
            }

            #[tracing::instrument(skip_all)]
            async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
                sqlx::query_as::<_, UserRow>(concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users WHERE id = $1"
                ))
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?
                .map(User::try_from)
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn find_credentials_by_email(
                &self,
                email: &EmailAddress,
            ) -> Result<Option<Credentials>, RepoError> {
                sqlx::query_as::<_, CredentialsRow>(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", password_hash FROM users WHERE email = $1"
                ))
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?
                .map(Credentials::try_from)
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn find_credentials_by_id(
                &self,
                id: UserId,
            ) -> Result<Option<Credentials>, RepoError> {
                sqlx::query_as::<_, CredentialsRow>(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", password_hash FROM users WHERE id = $1"
                ))
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
                sqlx::query_as::<_, UserRow>(concat!(
                    "UPDATE users SET \
                       full_name = CASE WHEN $1 THEN $2 ELSE full_name END, \
                       email = COALESCE($3, email), \
                       password_hash = COALESCE($4, password_hash), \
                       token_version = token_version + $5, \
                       updated_at = $6 \
                     WHERE id = $7 RETURNING ",
                    user_columns!()
                ))
                .bind(changes.full_name.is_some())
                .bind(changes.full_name.flatten().map(|n| n.as_str().to_owned()))
                .bind(changes.email.as_ref().map(EmailAddress::as_str))
                .bind(changes.password_hash.as_ref().map(StoredHash::as_str))
                .bind(i64::from(changes.password_hash.is_some()))
                .bind(now)
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?
                .map(User::try_from)
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn upgrade_password_hash(
                &self,
                id: UserId,
                old: &StoredHash,
                new: &StoredHash,
            ) -> Result<(), RepoError> {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                    .bind(new.as_str())
                    .bind(id.as_uuid())
                    .bind(old.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
                let result = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id.as_uuid())
                    .execute(&self.pool)
                    .await
                    .map_err(classify)?;
                Ok(result.rows_affected() > 0)
            }
        }

        #[derive(Debug, Clone)]
        pub struct $sessions {
            pool: $pool,
        }

        impl $sessions {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }
        }

        #[async_trait]
        impl SessionRepository for $sessions {
            #[tracing::instrument(skip_all)]
            async fn create(&self, session: NewSession) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, created_at, last_used_at, user_agent, ip) \
                     VALUES ($1, $2, $3, $3, $4, $5)",
                )
                .bind(session.id.as_uuid())
                .bind(session.user_id.as_uuid())
                .bind(session.created_at)
                .bind(session.user_agent)
                .bind(session.ip.map(|ip| ip.to_string()))
                .execute(&self.pool)
                .await
                .map_err(classify)?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn revoke_all_except(
                &self,
                user: UserId,
                keep: Option<SessionId>,
                now: OffsetDateTime,
            ) -> Result<u64, RepoError> {
                let result = sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)",
                )
                .bind(now)
                .bind(user.as_uuid())
                .bind(keep.map(|id| id.as_uuid()))
                .execute(&self.pool)
                .await
                .map_err(classify)?;
                Ok(result.rows_affected())
            }
        }
    };
}

pub(super) use portable_repositories;
pub(super) use user_columns;
