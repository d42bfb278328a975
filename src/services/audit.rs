//! The audit trail: every auth action becomes one structured log event and one `auth_events`
//! row, carrying ids, the client IP and the request id — never a password, token or hash.

use std::sync::Arc;

use super::ClientContext;
use crate::core::clock::Clock;
use crate::domain::{AuthEvent, AuthEventKind, ClientId, SessionId, UserId};
use crate::repositories::{AuditEntry, AuditQuery, AuditRepository, RepoError};

#[derive(Debug)]
pub struct AuditLog {
    events: Arc<dyn AuditRepository>,
    clock: Arc<dyn Clock>,
}

impl AuditLog {
    pub fn new(events: Arc<dyn AuditRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { events, clock }
    }

    /// Records the event. A storage failure is logged, not raised: the action it describes
    /// already happened, and refusing the response would not undo it.
    pub async fn record(
        &self,
        kind: AuthEventKind,
        user: Option<UserId>,
        session: Option<SessionId>,
        client: &ClientContext,
    ) {
        self.record_event(kind, user, session, None, client).await;
    }

    /// Records an action of the service client `actor` (the admin API, token issuance).
    pub async fn record_for_client(
        &self,
        kind: AuthEventKind,
        user: Option<UserId>,
        actor: ClientId,
        client: &ClientContext,
    ) {
        self.record_event(kind, user, None, Some(actor), client).await;
    }

    async fn record_event(
        &self,
        kind: AuthEventKind,
        user: Option<UserId>,
        session: Option<SessionId>,
        actor: Option<ClientId>,
        client: &ClientContext,
    ) {
        let event = AuthEvent {
            kind,
            user_id: user,
            session_id: session,
            ip: client.ip.map(|ip| ip.to_string()),
            request_id: client.request_id.clone(),
            occurred_at: self.clock.now(),
            client_id: actor,
        };
        tracing::info!(
            audit = kind.as_str(),
            user_id = user.map(|id| id.to_string()).as_deref(),
            session_id = session.map(|id| id.to_string()).as_deref(),
            client_id = actor.map(|id| id.to_string()).as_deref(),
            ip = event.ip.as_deref(),
            "auth event"
        );
        metrics::counter!(crate::core::metrics::AUTH_EVENTS, "kind" => kind.as_str()).increment(1);
        if let Err(error) = self.events.record(&event).await {
            tracing::error!(audit = kind.as_str(), %error, "auth event could not be stored");
        }
    }

    pub async fn for_user(&self, user: UserId) -> Result<Vec<AuthEvent>, RepoError> {
        self.events.for_user(user).await
    }

    pub async fn list(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, RepoError> {
        self.events.list(query).await
    }
}
