//! Postgres: the statements the email flows share with other writes (a signup's link, a
//! profile update's messages), each run on the caller's open transaction.

use sqlx::postgres::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::Writer;
use crate::domain::{
    EmailAddress, LinkPurpose, LinkTokenHash, NewLink, OutgoingMail, User, UserId,
};
use crate::repositories::errors::classify;
use crate::repositories::rows::{SpentLinkRow, UserRow};
use crate::repositories::{LinkUse, RepoError};

const USER_COLUMNS: &str = "id, email, full_name, is_active, token_version, created_at, \
     updated_at, email_verified, pending_email, avatar_name, mfa_enabled";

/// Stores `link`, ending the user's older links of the same purpose.
pub(in super::super) async fn insert_link(
    conn: &mut PgConnection,
    link: &NewLink,
    now: OffsetDateTime,
) -> Result<(), RepoError> {
    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2")
        .bind(link.user_id.as_uuid())
        .bind(link.purpose.as_str())
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    sqlx::query(
        "INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(link.hash.as_bytes().as_slice())
    .bind(link.user_id.as_uuid())
    .bind(link.purpose.as_str())
    .bind(&link.email)
    .bind(now)
    .bind(link.expires_at)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Queues `mail`; without a recipient it goes to `user`'s current address. Answers `false`,
/// queueing nothing, when the resend interval holds it back (a message of its kind went to
/// the same address after `mail.quiet_since`) or there is nobody to send it to.
pub(in super::super) async fn insert_mail(
    conn: &mut PgConnection,
    mail: &OutgoingMail,
    user: Option<UserId>,
    now: OffsetDateTime,
) -> Result<bool, RepoError> {
    let recipient = match (&mail.recipient, user) {
        (Some(recipient), _) => Some(recipient.clone()),
        (None, Some(user)) => sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(user.as_uuid())
            .fetch_optional(&mut *conn)
            .await
            .map_err(classify)?,
        (None, None) => None,
    };
    let Some(recipient) = recipient else {
        return Ok(false);
    };
    if let Some(quiet_since) = mail.quiet_since {
        // Concurrent requests for one address must not both see "nothing sent yet": the
        // second waits here until the first commits, then sees its message.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('warren mail'), hashtext($1 || ' ' || $2))",
        )
        .bind(mail.kind)
        .bind(&recipient)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
        let sent: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM email_outbox
             WHERE recipient = $1 AND kind = $2 AND created_at > $3)",
        )
        .bind(&recipient)
        .bind(mail.kind)
        .bind(quiet_since)
        .fetch_one(&mut *conn)
        .await
        .map_err(classify)?;
        if sent {
            return Ok(false);
        }
    }
    sqlx::query(
        "INSERT INTO email_outbox
           (id, kind, recipient, subject, body_text, body_html, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(mail.kind)
    .bind(&recipient)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(true)
}

/// Queues a link's message and, only if it went into the queue, stores the link: a link whose
/// message the resend interval held back would end the older link that did go out.
pub(in super::super) async fn queue_link(
    conn: &mut PgConnection,
    link: &LinkUse,
    now: OffsetDateTime,
) -> Result<bool, RepoError> {
    let queued = insert_mail(conn, &link.mail, Some(link.link.user_id), now).await?;
    if queued {
        insert_link(conn, &link.link, now).await?;
    }
    Ok(queued)
}

/// `RepoError::Conflict` when `email` is some account's address already.
pub(in super::super) async fn refuse_taken(
    conn: &mut PgConnection,
    email: &EmailAddress,
) -> Result<(), RepoError> {
    let taken: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_one(conn)
        .await
        .map_err(classify)?;
    if taken > 0 { Err(RepoError::Conflict) } else { Ok(()) }
}

/// The email side of a profile update, in its transaction: a new password ends every link
/// token; then the change's link and messages are stored.
pub(in super::super) async fn queue_changes(
    conn: &mut PgConnection,
    user: UserId,
    password_changed: bool,
    link: Option<&LinkUse>,
    mail: &[OutgoingMail],
    now: OffsetDateTime,
) -> Result<(), RepoError> {
    if password_changed {
        sqlx::query("DELETE FROM email_tokens WHERE user_id = $1")
            .bind(user.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
    }
    if let Some(link) = link {
        queue_link(conn, link, now).await?;
    }
    for message in mail {
        insert_mail(conn, message, Some(user), now).await?;
    }
    Ok(())
}

/// Commits when the spent token led somewhere, else rolls back so that it stays unspent.
pub(in super::super) async fn finish(writer: Writer, keep: bool) -> Result<(), RepoError> {
    if keep { writer.commit().await } else { writer.rollback().await }
}

/// Deletes a live token of `purpose`, so that of any number of concurrent uses one wins.
pub(in super::super) async fn spend(
    conn: &mut PgConnection,
    token: &LinkTokenHash,
    purpose: LinkPurpose,
    now: OffsetDateTime,
) -> Result<Option<SpentLinkRow>, RepoError> {
    let rows: Vec<SpentLinkRow> = sqlx::query_as(
        "DELETE FROM email_tokens
         WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3
         RETURNING user_id, email",
    )
    .bind(token.as_bytes().as_slice())
    .bind(purpose.as_str())
    .bind(now)
    .fetch_all(conn)
    .await
    .map_err(classify)?;
    Ok(rows.into_iter().next())
}

pub(in super::super) async fn update_user(
    conn: &mut PgConnection,
    assignments: &str,
    id: Uuid,
    now: OffsetDateTime,
    value: Option<&str>,
) -> Result<Option<User>, RepoError> {
    let sql = format!(
        "UPDATE users SET {assignments}, updated_at = $2 WHERE id = $1 AND is_active
         RETURNING {USER_COLUMNS}"
    );
    let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(now)
        .bind(value)
        .fetch_all(conn)
        .await
        .map_err(classify)?;
    rows.into_iter().next().map(User::try_from).transpose()
}
