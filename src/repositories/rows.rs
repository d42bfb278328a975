//! Rows as both backends return them, and their conversion into domain values through the
//! domain's own parsers, so a corrupted row cannot produce an invalid value.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Credentials, RefreshTokenState, RepoError, SessionLiveness};
use crate::domain::{
    Amr, AuthEvent, AuthEventKind, ClaimedMail, ClientId, ClientName, EmailAddress, FullName,
    Scopes, SecretHash, ServiceClient, Session, SessionId, StoredHash, User, UserId,
};

/// The columns of `users` as both backends return them.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    email: String,
    full_name: Option<String>,
    is_active: bool,
    token_version: i64,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    email_verified: bool,
    pending_email: Option<String>,
    avatar_name: Option<String>,
    mfa_enabled: bool,
}

#[derive(sqlx::FromRow)]
pub(super) struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct UserSessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    session_revoked: bool,
    session_expires_at: OffsetDateTime,
}

/// A [`UserSessionRow`] answering lookup number `batch_index` of a batched query.
#[derive(sqlx::FromRow)]
pub(super) struct BatchedUserSessionRow {
    pub batch_index: i64,
    #[sqlx(flatten)]
    pub row: UserSessionRow,
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: OffsetDateTime,
    last_used_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    user_agent: Option<String>,
    ip: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: SessionId::from_uuid(row.id),
            user_id: UserId::from_uuid(row.user_id),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            ip: row.ip,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RefreshTokenRow {
    session_id: Uuid,
    user_id: Uuid,
    expires_at: OffsetDateTime,
    rotated_at: Option<OffsetDateTime>,
    session_revoked: bool,
    session_expires_at: OffsetDateTime,
    amr: String,
}

impl From<RefreshTokenRow> for RefreshTokenState {
    fn from(row: RefreshTokenRow) -> Self {
        RefreshTokenState {
            session_id: SessionId::from_uuid(row.session_id),
            user_id: UserId::from_uuid(row.user_id),
            expires_at: row.expires_at,
            rotated_at: row.rotated_at,
            session: SessionLiveness {
                revoked: row.session_revoked,
                expires_at: row.session_expires_at,
            },
            amr: Amr::from_stored(&row.amr),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AuthEventRow {
    kind: String,
    user_id: Option<Uuid>,
    session_id: Option<Uuid>,
    ip: Option<String>,
    request_id: Option<String>,
    occurred_at: OffsetDateTime,
    client_id: Option<Uuid>,
}

impl TryFrom<AuthEventRow> for AuthEvent {
    type Error = RepoError;

    fn try_from(row: AuthEventRow) -> Result<Self, RepoError> {
        let kind = AuthEventKind::parse(&row.kind)
            .ok_or_else(|| RepoError::Corrupt(format!("unknown auth event kind {:?}", row.kind)))?;
        Ok(AuthEvent {
            kind,
            user_id: row.user_id.map(UserId::from_uuid),
            session_id: row.session_id.map(SessionId::from_uuid),
            ip: row.ip,
            request_id: row.request_id,
            occurred_at: row.occurred_at,
            client_id: row.client_id.map(ClientId::from_uuid),
        })
    }
}

impl TryFrom<UserSessionRow> for (User, SessionLiveness) {
    type Error = RepoError;

    fn try_from(row: UserSessionRow) -> Result<Self, RepoError> {
        let liveness =
            SessionLiveness { revoked: row.session_revoked, expires_at: row.session_expires_at };
        Ok((User::try_from(row.user)?, liveness))
    }
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;

    fn try_from(row: UserRow) -> Result<Self, RepoError> {
        let corrupt = |what: &str| RepoError::Corrupt(format!("user {}: {what}", row.id));
        Ok(User {
            id: UserId::from_uuid(row.id),
            email: EmailAddress::from_canonical(&row.email).map_err(|_| corrupt("email"))?,
            full_name: row
                .full_name
                .as_deref()
                .map(FullName::parse)
                .transpose()
                .map_err(|_| corrupt("full_name"))?,
            is_active: row.is_active,
            token_version: row.token_version,
            email_verified: row.email_verified,
            pending_email: row
                .pending_email
                .as_deref()
                .map(EmailAddress::from_canonical)
                .transpose()
                .map_err(|_| corrupt("pending_email"))?,
            avatar_name: row.avatar_name,
            mfa_enabled: row.mfa_enabled,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<CredentialsRow> for Credentials {
    type Error = RepoError;

    fn try_from(row: CredentialsRow) -> Result<Self, RepoError> {
        Ok(Credentials {
            user: row.user.try_into()?,
            password_hash: StoredHash::new(row.password_hash),
        })
    }
}

/// A unix timestamp as stored in `login_throttles`, back as a time (the epoch if out of range).
pub(super) fn unix_time(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A message as claimed from `email_outbox`.
#[derive(sqlx::FromRow)]
pub(super) struct ClaimedRow {
    id: Uuid,
    recipient: String,
    subject: String,
    body_text: Option<String>,
    body_html: Option<String>,
    attempts: i64,
}

impl From<ClaimedRow> for ClaimedMail {
    fn from(row: ClaimedRow) -> Self {
        ClaimedMail {
            id: row.id,
            recipient: row.recipient,
            subject: row.subject,
            text: row.body_text.unwrap_or_default(),
            html: row.body_html.unwrap_or_default(),
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        }
    }
}

/// A link token just spent: whose it was and the address it was sent to.
#[derive(sqlx::FromRow)]
pub(super) struct SpentLinkRow {
    pub(super) user_id: Uuid,
    pub(super) email: String,
}

/// The columns of `service_clients`.
#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: Uuid,
    name: String,
    secret_hash: Vec<u8>,
    scopes: String,
    created_at: OffsetDateTime,
}

impl ClientRow {
    pub(super) fn into_parts(self) -> Result<(ServiceClient, SecretHash), RepoError> {
        let corrupt =
            |what: &str| RepoError::Corrupt(format!("service client {}: {what}", self.id));
        let name = ClientName::parse(&self.name).map_err(|_| corrupt("name"))?;
        let scopes = Scopes::parse(&self.scopes).map_err(|_| corrupt("scopes"))?;
        let hash: [u8; 32] =
            self.secret_hash.as_slice().try_into().map_err(|_| corrupt("secret hash"))?;
        let client = ServiceClient {
            id: ClientId::from_uuid(self.id),
            name,
            scopes,
            created_at: self.created_at,
        };
        Ok((client, SecretHash::from_bytes(hash)))
    }
}
