//! Sessions: opening one at signin, rotating its refresh tokens, authenticating access tokens
//! against it, and ending it (sign-out, sign-out everywhere).

mod authenticate;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::events::{AccountEvent, Events};
use super::{AuditLog, Authenticated, ClientContext};
use crate::core::clock::Clock;
use crate::core::security::{AccessTokens, IssuedAccessToken, RefreshToken, RefreshTokens};
use crate::domain::{Amr, AuthEventKind, Session, SessionId, User, UserId};
use crate::repositories::{
    NewRefreshToken, NewSession, RefreshTokenState, RepoError, Rotation, SessionRepository,
    UserRepository,
};

/// What session operations answer with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The access token is missing, malformed, expired, revoked or stale, or its account is
    /// gone or inactive.
    #[error("missing, invalid or revoked access token")]
    Unauthenticated,
    /// The refresh token is unknown, expired, spent or revoked, or its account is inactive.
    #[error("unknown, expired or revoked refresh token")]
    InvalidRefreshToken,
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

super::error::storage_failures!(SessionError);

/// How long sessions and their tokens live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    pub reuse_grace: Duration,
}

/// What a successful signin or refresh hands the client.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub session_id: SessionId,
    pub access_token: IssuedAccessToken,
    pub refresh_token: RefreshToken,
    /// How long the session has left before its absolute expiry: the most a refresh-token
    /// cookie may live.
    pub session_remaining: Duration,
}

/// A session as its owner sees it in the list.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: Session,
    /// Whether this is the session of the access token that asked.
    pub current: bool,
}

#[derive(Debug)]
pub struct SessionService {
    sessions: Arc<dyn SessionRepository>,
    users: Arc<dyn UserRepository>,
    access: Arc<AccessTokens>,
    refresh: RefreshTokens,
    policy: SessionPolicy,
    audit: Arc<AuditLog>,
    clock: Arc<dyn Clock>,
    events: Arc<Events>,
}

impl SessionService {
    // One dependency per concern; grouping them would only hide what the service uses.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sessions: Arc<dyn SessionRepository>,
        users: Arc<dyn UserRepository>,
        access: Arc<AccessTokens>,
        refresh: RefreshTokens,
        policy: SessionPolicy,
        audit: Arc<AuditLog>,
        clock: Arc<dyn Clock>,
        events: Arc<Events>,
    ) -> Self {
        Self { sessions, users, access, refresh, policy, audit, clock, events }
    }

    /// Opens a session for a user whose credentials were just checked, `amr` saying how.
    pub async fn open(
        &self,
        user: User,
        amr: Amr,
        client: &ClientContext,
    ) -> Result<SignedIn, SessionError> {
        let now = self.clock.now();
        let session_id = SessionId::generate();
        let refresh_token = self.refresh.generate().map_err(|e| {
            SessionError::Internal(anyhow::anyhow!("no randomness for a refresh token: {e}"))
        })?;
        let session = NewSession {
            id: session_id,
            user_id: user.id,
            created_at: now,
            expires_at: later(now, self.policy.absolute),
            user_agent: client.user_agent.clone(),
            ip: client.ip,
            amr,
        };
        match self.sessions.create(session, self.new_token(&refresh_token, now)).await {
            Ok(()) => {}
            // Deleted or deactivated since its credentials were checked.
            Err(RepoError::Gone) => return Err(SessionError::Unauthenticated),
            Err(other) => return Err(other.into()),
        }
        let access_token = self.issue_access(&user, session_id, amr, now)?;
        let kind = AuthEventKind::SigninSuccess;
        self.audit.record(kind, Some(user.id), Some(session_id), client).await;
        let session_remaining = self.policy.absolute;
        Ok(SignedIn { user, session_id, access_token, refresh_token, session_remaining })
    }

    /// Rotates a refresh token. A token rotated moments ago (within the grace window) yields
    /// the same successor again while that successor is unused, so racing tabs agree; one
    /// rotated earlier than that is being replayed, and its whole session is revoked.
    pub async fn refresh(
        &self,
        presented: &str,
        client: &ClientContext,
    ) -> Result<SignedIn, SessionError> {
        let presented = RefreshToken::parse(presented).ok_or(SessionError::InvalidRefreshToken)?;
        let successor = self.refresh.successor_of(&presented);
        let now = self.clock.now();
        let rotation =
            self.sessions.rotate(&presented.hash(), self.new_token(&successor, now)).await?;
        let (session_id, user_id, amr) = match rotation {
            Rotation::Rotated { session_id, user_id, amr } => (session_id, user_id, amr),
            Rotation::Refused => {
                self.reconsider_refused(&presented, &successor, now, client).await?
            }
        };
        let (user, session) = self
            .users
            .find_with_session(user_id, session_id)
            .await?
            .filter(|(user, _)| user.is_active)
            .ok_or(SessionError::InvalidRefreshToken)?;
        let access_token = self.issue_access(&user, session_id, amr, now)?;
        self.audit.record(AuthEventKind::Refresh, Some(user.id), Some(session_id), client).await;
        let session_remaining = session.expires_at - now;
        Ok(SignedIn { user, session_id, access_token, refresh_token: successor, session_remaining })
    }

    /// Decides what a refused rotation was: a racing duplicate inside the grace window (answer
    /// with the existing successor, if it is still unused), a replay (revoke the family), or
    /// simply dead.
    async fn reconsider_refused(
        &self,
        presented: &RefreshToken,
        successor: &RefreshToken,
        now: OffsetDateTime,
        client: &ClientContext,
    ) -> Result<(SessionId, UserId, Amr), SessionError> {
        let Some(state) = self.sessions.find_refresh_token(&presented.hash()).await? else {
            return Err(SessionError::InvalidRefreshToken);
        };
        let RefreshTokenState { session_id, user_id, rotated_at, session, amr, .. } = state;
        let Some(rotated_at) = rotated_at else {
            return Err(SessionError::InvalidRefreshToken); // idle-expired, or session ended
        };
        if !session.is_live(now) {
            return Err(SessionError::InvalidRefreshToken);
        }
        if now - rotated_at <= self.policy.reuse_grace {
            // Handing out a successor that was itself rotated would only trip reuse detection
            // later; inside the grace window such a replay is refused without revoking.
            let successor = self.sessions.find_refresh_token(&successor.hash()).await?;
            return match successor {
                Some(successor) if successor.is_usable(now) => Ok((session_id, user_id, amr)),
                _ => Err(SessionError::InvalidRefreshToken),
            };
        }
        if self.sessions.revoke(session_id, now).await? {
            self.session_revoked(user_id, session_id).await;
        }
        tracing::warn!(%user_id, %session_id, "rotated refresh token replayed; session revoked");
        let kind = AuthEventKind::RefreshTokenReuse;
        self.audit.record(kind, Some(user_id), Some(session_id), client).await;
        Err(SessionError::InvalidRefreshToken)
    }

    /// Ends the session the token belongs to. Unknown tokens are ignored: sign-out is
    /// idempotent and must not reveal which tokens exist.
    pub async fn sign_out(
        &self,
        presented: &str,
        client: &ClientContext,
    ) -> Result<(), SessionError> {
        let token = RefreshToken::parse(presented).ok_or(SessionError::InvalidRefreshToken)?;
        let now = self.clock.now();
        // Like refresh: only a token that could still be exchanged ends its session;
        // an unknown, expired, spent or revoked one, or an inactive account's, is a 401.
        let state = self
            .sessions
            .find_refresh_token(&token.hash())
            .await?
            .filter(|state| state.is_usable(now))
            .ok_or(SessionError::InvalidRefreshToken)?;
        self.users
            .find_by_id(state.user_id)
            .await?
            .filter(|user| user.is_active)
            .ok_or(SessionError::InvalidRefreshToken)?;
        // Two signouts racing with one token: only the one that ended the session is audited.
        if self.sessions.revoke(state.session_id, now).await? {
            self.session_revoked(state.user_id, state.session_id).await;
            let (user, session) = (Some(state.user_id), Some(state.session_id));
            self.audit.record(AuthEventKind::Signout, user, session, client).await;
        }
        Ok(())
    }

    /// Ends one of the caller's other sessions (a lost phone, a shared computer). Its access
    /// tokens fail here at once and its sockets close. `false` when `session` is not one of the
    /// caller's live sessions, so nobody can probe for other users' session ids.
    pub async fn end_session(
        &self,
        caller: &Authenticated,
        session: SessionId,
        client: &ClientContext,
    ) -> Result<bool, SessionError> {
        let (user, now) = (caller.user.id, self.clock.now());
        let live = self.sessions.list_live(user, now).await?;
        if !live.iter().any(|live| live.id == session) {
            return Ok(false);
        }
        if self.sessions.revoke(session, now).await? {
            self.session_revoked(user, session).await;
            self.audit.record(AuthEventKind::Signout, Some(user), Some(session), client).await;
        }
        Ok(true)
    }

    /// Revokes every session and bumps the token version, so every access token issued so far
    /// fails here at once.
    pub async fn sign_out_everywhere(
        &self,
        caller: &Authenticated,
        client: &ClientContext,
    ) -> Result<(), SessionError> {
        let now = self.clock.now();
        let user = caller.user.id;
        self.sessions.revoke_all(user, now).await?;
        self.events.publish(AccountEvent::CredentialsChanged, user).await;
        let session = Some(caller.session_id);
        self.audit.record(AuthEventKind::SignoutEverywhere, Some(user), session, client).await;
        Ok(())
    }

    /// The caller's live sessions, oldest first.
    pub async fn list(&self, caller: &Authenticated) -> Result<Vec<SessionView>, SessionError> {
        let sessions = self.sessions.list_live(caller.user.id, self.clock.now()).await?;
        Ok(sessions
            .into_iter()
            .map(|session| SessionView { current: session.id == caller.session_id, session })
            .collect())
    }

    async fn session_revoked(&self, user: UserId, session: SessionId) {
        let event = AccountEvent::SessionRevoked { session_id: session.as_uuid() };
        self.events.publish(event, user).await;
    }

    fn new_token(&self, token: &RefreshToken, now: OffsetDateTime) -> NewRefreshToken {
        NewRefreshToken {
            hash: token.hash(),
            issued_at: now,
            expires_at: later(now, self.policy.idle),
        }
    }

    fn issue_access(
        &self,
        user: &User,
        session: SessionId,
        amr: Amr,
        now: OffsetDateTime,
    ) -> Result<IssuedAccessToken, SessionError> {
        self.access
            .issue(user.id, session, user.token_version, amr, now)
            .map_err(|e| SessionError::Internal(anyhow::Error::new(e).context("sign access token")))
    }
}

/// `now + ttl`, saturating at the largest representable time instead of panicking (settings
/// are bounded at load; this is the last line of defence).
fn later(now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    now.checked_add(ttl).unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
}
