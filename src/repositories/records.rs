//! The values repositories take and return besides domain types.

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::domain::{
    Amr, EmailAddress, FullName, NewLink, OutgoingMail, RefreshTokenHash, SecretHash, SessionId,
    StoredHash, User, UserId,
};

/// A user as it is about to be inserted.
#[derive(Debug)]
pub struct NewUserRecord {
    pub id: UserId,
    pub email: EmailAddress,
    pub full_name: Option<FullName>,
    pub password_hash: StoredHash,
    pub created_at: OffsetDateTime,
    /// The verification link and its message, stored with the user in one transaction.
    pub verification: Option<LinkUse>,
}

/// A link and the message that carries it.
#[derive(Debug)]
pub struct LinkUse {
    pub link: NewLink,
    pub mail: OutgoingMail,
}

/// A password reset: the new hash; the token version is bumped, every session revoked, every
/// link token ended, the address marked verified, the signin backoff cleared and `notice`
/// queued to the account's address, all in one transaction.
#[derive(Debug)]
pub struct PasswordReset {
    pub hash: StoredHash,
    pub notice: OutgoingMail,
}

/// A user together with their password hash, for the few places that verify it.
#[derive(Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: StoredHash,
}

/// Field changes applied in one transaction; `None` leaves a field as it is. `email` does not
/// replace the address: it becomes `pending_email` until confirmed through `link`.
#[derive(Debug, Default)]
pub struct UserChanges {
    /// `Some(None)` clears the name.
    pub full_name: Option<Option<FullName>>,
    pub email: Option<EmailAddress>,
    pub password: Option<PasswordChange>,
    /// Messages queued in the same transaction (notices).
    pub mail: Vec<OutgoingMail>,
    /// A link and its message, stored in the same transaction (an email change's
    /// confirmation); the link is stored only if the resend interval lets its message go.
    pub link: Option<LinkUse>,
    /// Marks the current address verified or not (operators and the admin API only).
    pub email_verified: Option<bool>,
}

/// A new password: the hash replaces the old one, the token version is bumped so older access
/// tokens stop working, and every session but `keep_session` is revoked.
#[derive(Debug)]
pub struct PasswordChange {
    pub hash: StoredHash,
    pub keep_session: Option<SessionId>,
}

#[derive(Debug)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
    /// How the signin that opens it was authenticated; its refreshed tokens say the same.
    pub amr: Amr,
}

#[derive(Debug)]
pub struct NewRefreshToken {
    pub hash: RefreshTokenHash,
    pub issued_at: OffsetDateTime,
    /// Idle expiry of this one token.
    pub expires_at: OffsetDateTime,
}

/// Whether a session still stands, as read from storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLiveness {
    pub revoked: bool,
    pub expires_at: OffsetDateTime,
}

impl SessionLiveness {
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        !self.revoked && self.expires_at > now
    }
}

/// A stored refresh token and the state of its session.
#[derive(Debug, Clone)]
pub struct RefreshTokenState {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub expires_at: OffsetDateTime,
    pub rotated_at: Option<OffsetDateTime>,
    pub session: SessionLiveness,
    pub amr: Amr,
}

impl RefreshTokenState {
    /// Whether this token could still be exchanged at `now`.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.rotated_at.is_none() && self.expires_at > now && self.session.is_live(now)
    }
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// This call rotated the token; the successor is stored.
    Rotated { session_id: SessionId, user_id: UserId, amr: Amr },
    /// Unknown, expired, revoked, or already rotated: nothing changed.
    Refused,
}

/// The outcome of reserving a password attempt against the backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt was counted and may go ahead.
    Granted,
    /// The email is locked until then; nothing was counted.
    Locked { until: OffsetDateTime },
}

/// A processed avatar image about to replace the user's current one.
#[derive(Debug, Clone)]
pub struct NewAvatar {
    /// Unguessable: the only thing standing between the URL and a stranger.
    pub name: String,
    pub content_type: String,
    pub etag: String,
    pub bytes: Vec<u8>,
}

/// A stored avatar as it is served.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredAvatar {
    pub content_type: String,
    pub etag: String,
    pub bytes: Vec<u8>,
}

/// A user's TOTP enrolment as stored: the secret only encrypted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpEnrolment {
    /// Nonce and ciphertext (see `core::security::SecretBox`).
    pub secret: Vec<u8>,
    /// `None` while the enrolment waits for its first code.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The newest time step a code was accepted for (-1: none yet).
    pub last_step: i64,
}

/// Two-factor state as the account holder may read it (the data export): never a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    /// When MFA was switched on; `None` while it is off.
    pub enabled_at: Option<OffsetDateTime>,
    pub recovery_codes_left: u64,
}

/// The second step of a signin, about to be stored.
#[derive(Debug, Clone)]
pub struct NewChallenge {
    pub hash: SecretHash,
    pub user_id: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A notice to the account's address, queued in the transaction of the change it reports.
#[derive(Debug)]
pub struct MfaChange<'a> {
    pub user: UserId,
    pub notice: OutgoingMail,
    pub now: OffsetDateTime,
    /// New recovery codes replacing every old one (confirming, regenerating).
    pub recovery_codes: &'a [SecretHash],
}
