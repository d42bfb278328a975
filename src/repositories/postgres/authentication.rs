//! Postgres: the batched authentication read (see [`AuthenticationReads`]).

use sqlx::PgConnection;
use uuid::Uuid;

#[cfg(doc)]
use crate::repositories::authentication::AuthenticationReads;
use crate::repositories::authentication::{BatchRows, Lookup};

/// Every authenticated request: users and their sessions by id, batched.
pub(crate) const AUTHENTICATE: &str = "SELECT k.i - 1 AS batch_index,
                    u.id, u.email, u.full_name, u.is_active, u.token_version, u.created_at,
                    u.updated_at, u.email_verified, u.pending_email, u.avatar_name, u.mfa_enabled,
                    s.revoked_at IS NOT NULL AS session_revoked,
                    s.expires_at AS session_expires_at
             FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS k(user_id, session_id, i)
             JOIN users u ON u.id = k.user_id
             JOIN sessions s ON s.id = k.session_id AND s.user_id = u.id";

/// The batched authentication read (see [`AuthenticationReads`]): the keys travel as two
/// arrays, and `WITH ORDINALITY` numbers them so each row says which lookup it answers.
pub(super) fn find_batch<'c>(
    connection: &'c mut PgConnection,
    keys: &'c [Lookup],
) -> BatchRows<'c> {
    let users: Vec<Uuid> = keys.iter().map(|(user, _)| user.as_uuid()).collect();
    let sessions: Vec<Uuid> = keys.iter().map(|(_, session)| session.as_uuid()).collect();
    Box::pin(sqlx::query_as(AUTHENTICATE).bind(users).bind(sessions).fetch_all(connection))
}
