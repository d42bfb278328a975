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

/// Defines `$users` and `$sessions` for database `$db`; transactions that read then write open
/// with `$begin` (SQLite needs `BEGIN IMMEDIATE` to take the write lock up front).
macro_rules! portable_repositories {
    ($users:ident, $sessions:ident, $db:ty, $begin:literal) => {
        #[derive(Debug, Clone)]
        pub struct $users {
            pools: Pools<$db>,
        }

        impl $users {
            pub fn new(pools: Pools<$db>) -> Self {
                Self { pools }
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
                .fetch_one(&self.pools.write)
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
                .fetch_optional(&self.pools.read)
                .await
                .map_err(classify)?
                .map(User::try_from)
                .transpose()
            }

            #[tracing::instrument(skip_all)]
            async fn find_with_session(
                &self,
                id: UserId,
                session: SessionId,
            ) -> Result<Option<(User, SessionLiveness)>, RepoError> {
                let row: Option<UserSessionRow> = sqlx::query_as(
                    "SELECT u.id, u.email, u.full_name, u.is_active, u.token_version, \
                            u.created_at, u.updated_at, \
                            s.revoked_at IS NOT NULL AS session_revoked, \
                            s.expires_at AS session_expires_at \
                     FROM users u JOIN sessions s ON s.user_id = u.id \
                     WHERE u.id = $1 AND s.id = $2",
                )
                .bind(id.as_uuid())
                .bind(session.as_uuid())
                .fetch_optional(&self.pools.read)
                .await
                .map_err(classify)?;
                row.map(<(User, SessionLiveness)>::try_from).transpose()
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
                .fetch_optional(&self.pools.read)
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
                .fetch_optional(&self.pools.read)
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
                .bind(i64::from(changes.password_hash.is_some() || changes.revoke_tokens))
                .bind(now)
                .bind(id.as_uuid())
                .fetch_optional(&self.pools.write)
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
                    .execute(&self.pools.write)
                    .await
                    .map_err(classify)?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
                let result = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id.as_uuid())
                    .execute(&self.pools.write)
                    .await
                    .map_err(classify)?;
                Ok(result.rows_affected() > 0)
            }
        }

        #[derive(Debug, Clone)]
        pub struct $sessions {
            pools: Pools<$db>,
        }

        impl $sessions {
            pub fn new(pools: Pools<$db>) -> Self {
                Self { pools }
            }
        }

        #[async_trait]
        impl SessionRepository for $sessions {
            #[tracing::instrument(skip_all)]
            async fn create(&self, session: NewSession, root: NewRefreshToken) -> Result<(), RepoError> {
                let mut tx = self.pools.write.begin_with($begin).await.map_err(classify)?;
                sqlx::query(
                    "INSERT INTO sessions \
                     (id, user_id, created_at, last_used_at, expires_at, user_agent, ip) \
                     VALUES ($1, $2, $3, $3, $4, $5, $6)",
                )
                .bind(session.id.as_uuid())
                .bind(session.user_id.as_uuid())
                .bind(session.created_at)
                .bind(session.expires_at)
                .bind(session.user_agent)
                .bind(session.ip.map(|ip| ip.to_string()))
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                insert_refresh_token(&mut tx, session.id, &root).await?;
                tx.commit().await.map_err(classify)
            }

            #[tracing::instrument(skip_all)]
            async fn rotate(
                &self,
                presented: &RefreshTokenHash,
                successor: NewRefreshToken,
            ) -> Result<Rotation, RepoError> {
                let now = successor.issued_at;
                let mut tx = self.pools.write.begin_with($begin).await.map_err(classify)?;
                // The conditional update is the arbiter between racing refreshes: exactly one
                // of them finds `rotated_at` still empty.
                let claimed: Option<(Uuid, OffsetDateTime)> = sqlx::query_as(
                    "UPDATE refresh_tokens SET rotated_at = $1 \
                     WHERE token_hash = $2 AND rotated_at IS NULL \
                     RETURNING session_id, expires_at",
                )
                .bind(now)
                .bind(presented.as_bytes().as_slice())
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                let Some((session_id, token_expires_at)) = claimed else {
                    return Ok(Rotation::Refused);
                };
                let session: Option<(Uuid, bool, OffsetDateTime)> = sqlx::query_as(
                    "UPDATE sessions SET last_used_at = $1 WHERE id = $2 \
                     RETURNING user_id, revoked_at IS NOT NULL, expires_at",
                )
                .bind(now)
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?;
                let Some((user_id, revoked, session_expires_at)) = session else {
                    return Ok(Rotation::Refused);
                };
                // Expiry is compared here rather than in SQL: SQLite stores times as text.
                if revoked || token_expires_at <= now || session_expires_at <= now {
                    return Ok(Rotation::Refused); // dropping `tx` rolls everything back
                }
                let session_id = SessionId::from_uuid(session_id);
                insert_refresh_token(&mut tx, session_id, &successor).await?;
                tx.commit().await.map_err(classify)?;
                Ok(Rotation::Rotated { session_id, user_id: UserId::from_uuid(user_id) })
            }

            #[tracing::instrument(skip_all)]
            async fn find_refresh_token(
                &self,
                hash: &RefreshTokenHash,
            ) -> Result<Option<RefreshTokenState>, RepoError> {
                let row: Option<RefreshTokenRow> = sqlx::query_as(
                    "SELECT t.session_id, s.user_id, t.expires_at, t.rotated_at, \
                            s.revoked_at IS NOT NULL AS session_revoked, \
                            s.expires_at AS session_expires_at \
                     FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
                     WHERE t.token_hash = $1",
                )
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(&self.pools.read)
                .await
                .map_err(classify)?;
                Ok(row.map(RefreshTokenState::from))
            }

            #[tracing::instrument(skip_all)]
            async fn revoke(&self, session: SessionId, now: OffsetDateTime) -> Result<(), RepoError> {
                sqlx::query(
                    "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                )
                .bind(now)
                .bind(session.as_uuid())
                .execute(&self.pools.write)
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
                .execute(&self.pools.write)
                .await
                .map_err(classify)?;
                Ok(result.rows_affected())
            }

            #[tracing::instrument(skip_all)]
            async fn list_unrevoked(&self, user: UserId) -> Result<Vec<Session>, RepoError> {
                let rows: Vec<SessionRow> = sqlx::query_as(
                    "SELECT id, user_id, created_at, last_used_at, expires_at, user_agent, ip \
                     FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id",
                )
                .bind(user.as_uuid())
                .fetch_all(&self.pools.read)
                .await
                .map_err(classify)?;
                Ok(rows.into_iter().map(Session::from).collect())
            }
        }

        async fn insert_refresh_token(
            tx: &mut sqlx::Transaction<'static, $db>,
            session: SessionId,
            token: &NewRefreshToken,
        ) -> Result<(), RepoError> {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token.hash.as_bytes().as_slice())
            .bind(session.as_uuid())
            .bind(token.issued_at)
            .bind(token.expires_at)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
            Ok(())
        }
    };
}

pub(super) use portable_repositories;
pub(super) use user_columns;
