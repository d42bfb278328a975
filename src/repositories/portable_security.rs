//! The audit and signin-throttle repositories, shared by both backends like those in
//! `portable.rs`: their statements are portable (`$n` parameters, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`), and throttle times are unix seconds so both dialects compare them in SQL.

/// Defines `$audit` and `$throttles` for database `$db`.
macro_rules! portable_security_repositories {
    ($audit:ident, $throttles:ident, $db:ty) => {
        #[derive(Debug, Clone)]
        pub struct $audit {
            pools: Pools<$db>,
        }

        impl $audit {
            pub fn new(pools: Pools<$db>) -> Self {
                Self { pools }
            }
        }

        #[async_trait]
        impl AuditRepository for $audit {
            #[tracing::instrument(skip_all)]
            async fn record(&self, event: &AuthEvent) -> Result<(), RepoError> {
                sqlx::query(
                    "INSERT INTO auth_events \
                     (id, occurred_at, kind, user_id, session_id, ip, request_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(Uuid::now_v7())
                .bind(event.occurred_at)
                .bind(event.kind.as_str())
                .bind(event.user_id.map(|id| id.as_uuid()))
                .bind(event.session_id.map(|id| id.as_uuid()))
                .bind(event.ip.as_deref())
                .bind(event.request_id.as_deref())
                .execute(&self.pools.write)
                .await
                .map_err(classify)?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError> {
                let rows: Vec<AuthEventRow> = sqlx::query_as(
                    "SELECT kind, user_id, session_id, ip, request_id, occurred_at \
                     FROM auth_events WHERE user_id = $1 ORDER BY id",
                )
                .bind(user.as_uuid())
                .fetch_all(&self.pools.read)
                .await
                .map_err(classify)?;
                rows.into_iter().map(AuthEvent::try_from).collect()
            }
        }

        #[derive(Debug, Clone)]
        pub struct $throttles {
            pools: Pools<$db>,
        }

        impl $throttles {
            pub fn new(pools: Pools<$db>) -> Self {
                Self { pools }
            }
        }

        #[async_trait]
        impl ThrottleRepository for $throttles {
            #[tracing::instrument(skip_all)]
            async fn locked_until(&self, email: &EmailAddress) -> Result<Option<i64>, RepoError> {
                sqlx::query_scalar("SELECT locked_until FROM login_throttles WHERE email = $1")
                    .bind(email.as_str())
                    .fetch_optional(&self.pools.read)
                    .await
                    .map_err(classify)
            }

            #[tracing::instrument(skip_all)]
            async fn record_failure(
                &self,
                email: &EmailAddress,
                now: i64,
                forget_before: i64,
            ) -> Result<i64, RepoError> {
                // One statement, so concurrent failures all count.
                sqlx::query_scalar(
                    "INSERT INTO login_throttles (email, failures, last_failed_at) \
                     VALUES ($1, 1, $2) \
                     ON CONFLICT (email) DO UPDATE SET \
                       failures = CASE WHEN login_throttles.last_failed_at < $3 THEN 1 \
                                       ELSE login_throttles.failures + 1 END, \
                       last_failed_at = $2 \
                     RETURNING failures",
                )
                .bind(email.as_str())
                .bind(now)
                .bind(forget_before)
                .fetch_one(&self.pools.write)
                .await
                .map_err(classify)
            }

            #[tracing::instrument(skip_all)]
            async fn lock(&self, email: &EmailAddress, until: i64) -> Result<(), RepoError> {
                sqlx::query("UPDATE login_throttles SET locked_until = $1 WHERE email = $2")
                    .bind(until)
                    .bind(email.as_str())
                    .execute(&self.pools.write)
                    .await
                    .map_err(classify)?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn clear(&self, email: &EmailAddress) -> Result<(), RepoError> {
                sqlx::query("DELETE FROM login_throttles WHERE email = $1")
                    .bind(email.as_str())
                    .execute(&self.pools.write)
                    .await
                    .map_err(classify)?;
                Ok(())
            }
        }
    };
}

pub(super) use portable_security_repositories;
