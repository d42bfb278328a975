//! One live socket: it sends what the user's events say, answers the client's frames, and
//! closes with 4401 the moment its token no longer holds (expired, session revoked, token
//! version moved on, account deactivated or deleted), with 1001 when the server stops.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::AppState;
use crate::api::v1::schemas::UserResponse;
use crate::domain::{SessionId, User, UserId};
use crate::services::{AccountEvent, Authenticated, SessionError, Signal, Subscription};

/// Largest client frame accepted (4 KiB); larger ones close the socket with 1008.
const MAX_CLIENT_FRAME: usize = 4 * 1024;
/// How often the server pings and re-checks the token against the database; a peer that has
/// not answered the previous ping is dropped.
const PING_EVERY_TICKS: u32 = 30;
/// Expiry is checked against the service clock once a tick.
const TICK: Duration = Duration::from_secs(1);

const UNAUTHORIZED: u16 = 4401;
const POLICY_VIOLATION: u16 = 1008;
const GOING_AWAY: u16 = 1001;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientFrame {
    Auth { access_token: String },
    Ping,
}

/// What the loop does next.
enum Step {
    Idle,
    Send(Vec<Value>),
    Ping,
    Close { frames: Vec<Value>, code: u16, reason: &'static str },
    Gone,
}

impl Step {
    fn close(code: u16, reason: &'static str) -> Self {
        Self::Close { frames: Vec::new(), code, reason }
    }
}

pub(super) struct LiveSocket {
    state: AppState,
    user: UserId,
    session: SessionId,
    /// The user's token version when the socket's token was checked.
    version: i64,
    token: String,
    expires_at: OffsetDateTime,
    subscription: Subscription,
    awaiting_pong: bool,
}

impl LiveSocket {
    pub(super) fn new(
        state: AppState,
        caller: &Authenticated,
        token: String,
        expires_at: OffsetDateTime,
        subscription: Subscription,
    ) -> Self {
        Self {
            state,
            user: caller.user.id,
            session: caller.session_id,
            version: caller.user.token_version,
            token,
            expires_at,
            subscription,
            awaiting_pong: false,
        }
    }

    pub(super) async fn run(mut self, mut ws: WebSocket) {
        let ready = frame(
            "ready",
            json!({"user_id": self.user.as_uuid(), "session_id": self.session.as_uuid()}),
        );
        let mut step = Step::Send(vec![ready]);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks = 0u32;
        loop {
            if !perform(&mut ws, step).await {
                return;
            }
            step = tokio::select! {
                message = ws.recv() => self.on_client(message).await,
                signal = self.subscription.signals.recv() => self.on_signal(signal).await,
                _ = self.subscription.shutdown.changed() => Step::close(GOING_AWAY, "server stopping"),
                _ = tick.tick() => {
                    ticks = ticks.wrapping_add(1);
                    self.on_tick(ticks).await
                }
            };
        }
    }

    async fn on_client(&mut self, message: Option<Result<Message, axum::Error>>) -> Step {
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Pong(_))) => {
                self.awaiting_pong = false;
                return Step::Idle;
            }
            Some(Ok(Message::Ping(_))) => return Step::Idle, // answered by the protocol layer
            Some(Ok(Message::Binary(_))) => {
                return Step::close(POLICY_VIOLATION, "text frames only");
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => return Step::Gone,
        };
        if text.len() > MAX_CLIENT_FRAME {
            return Step::close(POLICY_VIOLATION, "frame larger than 4 KiB");
        }
        match serde_json::from_str::<ClientFrame>(text.as_str()) {
            Ok(ClientFrame::Ping) => Step::Send(vec![frame("pong", json!({}))]),
            Ok(ClientFrame::Auth { access_token }) => self.swap_token(access_token).await,
            Err(_) => Step::close(POLICY_VIOLATION, "unknown frame"),
        }
    }

    /// Replaces the socket's token so it outlives the old one's `exp`; only the same user's.
    async fn swap_token(&mut self, token: String) -> Step {
        match self.state.sessions.authenticate_until(&token).await {
            Ok((caller, expires_at)) if caller.user.id == self.user => {
                (self.session, self.version) = (caller.session_id, caller.user.token_version);
                (self.token, self.expires_at) = (token, expires_at);
                Step::Idle
            }
            Ok(_) | Err(SessionError::Unauthenticated) => {
                Step::close(UNAUTHORIZED, "token refused")
            }
            Err(error) => {
                tracing::warn!(%error, "event socket token swap not checked");
                Step::Idle
            }
        }
    }

    async fn on_signal(&mut self, signal: Option<Signal>) -> Step {
        match signal {
            None => Step::close(GOING_AWAY, "server stopping"),
            Some(Signal::Revalidate) => self.revalidate().await,
            Some(Signal::Event { event, user }) => self.on_event(event, user.as_deref()),
        }
    }

    /// Checks the socket's token against the database as a request would.
    async fn revalidate(&mut self) -> Step {
        match self.state.sessions.authenticate(&self.token).await {
            Ok(caller) => {
                self.version = caller.user.token_version;
                Step::Idle
            }
            Err(SessionError::Unauthenticated) => Step::close(UNAUTHORIZED, "token refused"),
            Err(_) => Step::Idle, // the database is down; check again on the next signal
        }
    }

    /// Sends what `event` shows, unless the account as it now stands no longer honours the
    /// socket's token: then the frames that explain why, and 4401.
    fn on_event(&self, event: AccountEvent, user: Option<&User>) -> Step {
        let own_session_ended = matches!(event,
            AccountEvent::SessionRevoked { session_id } if session_id == self.session.as_uuid());
        let valid = user.is_some_and(|u| u.is_active && u.token_version == self.version)
            && !own_session_ended;
        let user_frame =
            |user: &User| frame("user_updated", json!({"user": UserResponse::from(user)}));
        let frames = match (event, user) {
            (AccountEvent::UserUpdated, Some(user)) => vec![user_frame(user)],
            (AccountEvent::AvatarChanged, Some(user)) => {
                let url = UserResponse::from(user).avatar_url;
                vec![frame("avatar_changed", json!({"avatar_url": url})), user_frame(user)]
            }
            (AccountEvent::SessionRevoked { session_id }, _) => {
                vec![frame("session_revoked", json!({"session_id": session_id}))]
            }
            (AccountEvent::AccountDeleted, _) => vec![frame("account_deleted", json!({}))],
            _ => Vec::new(),
        };
        match (valid, event) {
            (true, _) => Step::Send(frames),
            (false, AccountEvent::AccountDeleted | AccountEvent::SessionRevoked { .. }) => {
                Step::Close { frames, code: UNAUTHORIZED, reason: "session ended" }
            }
            (false, _) => Step::close(UNAUTHORIZED, "token no longer valid"),
        }
    }

    async fn on_tick(&mut self, ticks: u32) -> Step {
        if self.state.sessions.has_passed(self.expires_at) {
            return Step::close(UNAUTHORIZED, "token expired");
        }
        if !ticks.is_multiple_of(PING_EVERY_TICKS) {
            return Step::Idle;
        }
        if self.awaiting_pong {
            return Step::Gone; // the peer did not answer the last ping: it is gone
        }
        // Catches what no notice told this instance: an operator's `warren users` command on
        // SQLite (its channel stays in the CLI's process), or a notice lost in transit.
        let checked = self.revalidate().await;
        if !matches!(checked, Step::Idle) {
            return checked;
        }
        self.awaiting_pong = true;
        Step::Ping
    }
}

/// A server frame: its `type`, a unique `id`, the time `at`, and the event's fields.
fn frame(kind: &str, fields: Value) -> Value {
    let at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
    let mut frame = json!({"type": kind, "id": uuid::Uuid::now_v7(), "at": at});
    if let (Some(frame), Value::Object(fields)) = (frame.as_object_mut(), fields) {
        frame.extend(fields);
    }
    frame
}

/// Carries out `step`; `false` once the socket is finished.
async fn perform(ws: &mut WebSocket, step: Step) -> bool {
    let (frames, close) = match step {
        Step::Idle => return true,
        Step::Gone => return false,
        Step::Ping => return ws.send(Message::Ping(Vec::new().into())).await.is_ok(),
        Step::Send(frames) => (frames, None),
        Step::Close { frames, code, reason } => (frames, Some((code, reason))),
    };
    for frame in frames {
        if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
            return false;
        }
    }
    let Some((code, reason)) = close else { return true };
    let close = CloseFrame { code, reason: reason.into() };
    let _ = ws.send(Message::Close(Some(close))).await;
    false
}
