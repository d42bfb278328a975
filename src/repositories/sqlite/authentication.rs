//! SQLite: the batched authentication read (see [`AuthenticationReads`]).

use std::sync::OnceLock;

use sqlx::SqliteConnection;

#[cfg(doc)]
use crate::repositories::authentication::AuthenticationReads;
use crate::repositories::authentication::{BatchRows, Lookup, MAX_BATCH};

/// The batched authentication read (see [`AuthenticationReads`]): the keys travel as a
/// numbered `VALUES` list, so each row says which lookup it answers. One statement text per
/// batch size, each prepared once per connection.
pub(super) fn find_batch<'c>(
    connection: &'c mut SqliteConnection,
    keys: &'c [Lookup],
) -> BatchRows<'c> {
    Box::pin(async move {
        let statement = batch_statement(keys.len());
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(statement));
        for (user, session) in keys {
            query = query.bind(user.as_uuid()).bind(session.as_uuid());
        }
        query.fetch_all(connection).await
    })
}

/// The statement of [`find_batch`] for `size` keys (1 ..= [`MAX_BATCH`]), built once.
pub(crate) fn batch_statement(size: usize) -> &'static str {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        (1..=MAX_BATCH)
            .map(|size| {
                let keys: Vec<String> = (0..size).map(|i| format!("({i}, ?, ?)")).collect();
                format!(
                    "WITH k(batch_index, user_id, session_id) AS (VALUES {})
                     SELECT k.batch_index,
                            u.id, u.email, u.full_name, u.is_active, u.token_version,
                            u.created_at, u.updated_at, u.email_verified, u.pending_email,
                            u.avatar_name, u.mfa_enabled,
                            s.revoked_at IS NOT NULL AS session_revoked,
                            s.expires_at AS session_expires_at
                     FROM k
                     JOIN users u ON u.id = k.user_id
                     JOIN sessions s ON s.id = k.session_id AND s.user_id = u.id",
                    keys.join(", ")
                )
            })
            .collect()
    });
    &statements[size.clamp(1, MAX_BATCH) - 1]
}
