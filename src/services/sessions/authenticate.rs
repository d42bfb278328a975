//! Authenticating a bearer token: its signature and claims, then, in one read, the user and
//! the liveness of its session. Nothing is cached, so a revocation counts from its commit.

use time::OffsetDateTime;

use super::{SessionError, SessionService};
use crate::domain::{SessionId, UserId};
use crate::services::Authenticated;

impl SessionService {
    /// Resolves a bearer token to its user. Refused: bad signature or claims, a stale token
    /// version (password changed, signed out everywhere), an ended session, an inactive or
    /// deleted account.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, SessionError> {
        self.authenticate_until(token).await.map(|(caller, _)| caller)
    }

    /// [`Self::authenticate`], also answering when the token expires (a live socket closes
    /// then unless it was given a newer token).
    pub async fn authenticate_until(
        &self,
        token: &str,
    ) -> Result<(Authenticated, OffsetDateTime), SessionError> {
        let now = self.clock.now();
        let claims = self.access.verify(token, now).map_err(|error| {
            tracing::debug!(%error, "access token refused");
            SessionError::Unauthenticated
        })?;
        let (user, session) = self
            .users
            .find_with_session(UserId::from_uuid(claims.sub), SessionId::from_uuid(claims.sid))
            .await?
            .ok_or(SessionError::Unauthenticated)?;
        if !user.is_active || user.token_version != claims.ver || !session.is_live(now) {
            return Err(SessionError::Unauthenticated);
        }
        let expires_at = OffsetDateTime::from_unix_timestamp(claims.exp)
            .map_err(|_| SessionError::Unauthenticated)?;
        Ok((Authenticated { user, session_id: SessionId::from_uuid(claims.sid) }, expires_at))
    }

    /// Whether `now` is at or past `deadline` by this service's clock.
    pub fn has_passed(&self, deadline: OffsetDateTime) -> bool {
        self.clock.now() >= deadline
    }
}
