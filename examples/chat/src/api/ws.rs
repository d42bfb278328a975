//! `GET /ws/rooms/{id}`: a member's live view of one room.
//!
//! Auth is the scheme of Warren's events socket: the client offers the subprotocols `warren.v1`
//! and `warren.bearer.<access_token>` (browsers cannot set headers), the server selects
//! `warren.v1` and never echoes the token; `Authorization: Bearer` works too. The socket closes
//! with 4401 when its token expires without a fresh `auth` frame, with 1008 on an oversized
//! frame or an unknown frame type, with 1001 when the server stops. A browser page may open one
//! only from an origin listed in `cors.allowed_origins`.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::{ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extractors::{AuthUser, bearer_token, path_id};
use crate::domain::MessageContent;
use crate::services::hub::RoomEvent;

pub const PROTOCOL: &str = "warren.v1";
const BEARER_PROTOCOL_PREFIX: &str = "warren.bearer.";
/// Client frames larger than this close the socket with 1008.
pub const MAX_CLIENT_FRAME: usize = 16 * 1024;
const PING_EVERY: Duration = Duration::from_secs(30);
const POLICY_VIOLATION: u16 = 1008;
const TOKEN_EXPIRED: u16 = 4401;
const GOING_AWAY: u16 = 1001;

pub async fn room_socket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // A browser sends `Origin` and lets any page open a socket, so only allowlisted pages get
    // one; clients without an `Origin` (terminals, services) are not browsers and may connect.
    if let Some(origin) = headers.get(ORIGIN)
        && !state.allowed_origins.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes())
    {
        return Err(ApiError::OriginNotAllowed);
    }
    let token = socket_token(&headers).ok_or(ApiError::Unauthenticated)?;
    let auth = state.authenticate(&token).await?;
    let room = path_id(&id)?;
    state.chat.require_member(room, auth.user.id).await?;
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let session = RoomSession { state, room, auth };
    Ok(upgrade
        .protocols([PROTOCOL])
        .max_message_size(16 * MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| session.run(socket)))
}

/// The token from a `warren.bearer.<token>` subprotocol, else from `Authorization`.
fn socket_token(headers: &HeaderMap) -> Option<String> {
    let offered = headers.get_all(SEC_WEBSOCKET_PROTOCOL).iter().filter_map(|v| v.to_str().ok());
    offered
        .flat_map(|list| list.split(','))
        .find_map(|p| p.trim().strip_prefix(BEARER_PROTOCOL_PREFIX).map(str::to_owned))
        .or_else(|| bearer_token(headers).map(str::to_owned))
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Message { content: Option<String> },
    Typing,
    Auth { access_token: String },
    Ping,
}

/// What the loop does after handling one client frame.
enum Next {
    Reply(Value),
    Close(u16, &'static str),
    Continue,
}

struct RoomSession {
    state: AppState,
    room: Uuid,
    auth: AuthUser,
}

impl RoomSession {
    async fn run(mut self, mut socket: WebSocket) {
        let mut events = self.state.chat.hub.subscribe(self.room);
        let ready = frame("ready", json!({"room_id": self.room, "user_id": self.auth.user.id}));
        if send(&mut socket, &ready).await.is_err() {
            return;
        }
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut stopping = self.state.stopping.clone();
        loop {
            let expiry = tokio::time::sleep_until(until(self.auth.expires_at));
            let next = tokio::select! {
                () = expiry => Next::Close(TOKEN_EXPIRED, "token expired"),
                _ = stopping.changed() => Next::Close(GOING_AWAY, "server stopping"),
                incoming = socket.recv() => match incoming {
                    Some(Ok(Frame::Text(text))) => self.handle(text.as_str()).await,
                    Some(Ok(Frame::Binary(_))) => Next::Close(POLICY_VIOLATION, "text frames only"),
                    Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => Next::Continue,
                    Some(Ok(Frame::Close(_)) | Err(_)) | None => return,
                },
                event = events.recv() => match event {
                    Ok(event) => self.deliver(&event),
                    Err(RecvError::Lagged(_)) => Next::Continue,
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if socket.send(Frame::Ping(Vec::new().into())).await.is_err() { return; }
                    Next::Continue
                }
            };
            match next {
                Next::Reply(value) => {
                    if send(&mut socket, &value).await.is_err() {
                        return;
                    }
                }
                Next::Close(code, reason) => {
                    let close = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Frame::Close(Some(close))).await;
                    return;
                }
                Next::Continue => {}
            }
        }
    }

    async fn handle(&mut self, text: &str) -> Next {
        if text.len() > MAX_CLIENT_FRAME {
            return Next::Close(POLICY_VIOLATION, "frame too large");
        }
        let Ok(client_frame) = serde_json::from_str::<ClientFrame>(text) else {
            return Next::Close(POLICY_VIOLATION, "unknown frame");
        };
        match client_frame {
            ClientFrame::Ping => Next::Reply(frame("pong", json!({}))),
            ClientFrame::Typing => {
                if self.state.chat.hub.allow_typing(self.room, self.auth.user.id) {
                    let user = self.auth.user.clone();
                    self.state.chat.hub.publish(self.room, RoomEvent::Typing { user });
                }
                Next::Continue
            }
            ClientFrame::Auth { access_token } => {
                match self.state.authenticate(&access_token).await {
                    Ok(fresh) if fresh.user.id == self.auth.user.id => {
                        self.auth = fresh;
                        Next::Continue
                    }
                    _ => Next::Close(TOKEN_EXPIRED, "token refused"),
                }
            }
            ClientFrame::Message { content } => {
                self.send_message(content.as_deref().unwrap_or("")).await
            }
        }
    }

    async fn send_message(&self, content: &str) -> Next {
        let result = match MessageContent::parse(content) {
            Ok(content) => self
                .state
                .chat
                .send(self.room, &self.auth.user, content)
                .await
                .map_err(ApiError::from),
            Err(invalid) => Err(ApiError::from(invalid)),
        };
        match result {
            // The message itself reaches this socket through the room's broadcast.
            Ok(_) => Next::Continue,
            Err(error) => {
                let problem = error.problem();
                Next::Reply(frame("error", json!({"code": problem.code, "detail": problem.detail})))
            }
        }
    }

    fn deliver(&self, event: &RoomEvent) -> Next {
        match event {
            RoomEvent::Typing { user } if user.id == self.auth.user.id => return Next::Continue,
            RoomEvent::MemberLeft { user } if user.id == self.auth.user.id => {
                return Next::Close(1000, "left the room");
            }
            _ => {}
        }
        let mut value = serde_json::to_value(event).expect("events always serialise");
        value["at"] = now().into();
        Next::Reply(value)
    }
}

fn frame(kind: &str, mut fields: Value) -> Value {
    fields["type"] = kind.into();
    fields["at"] = now().into();
    fields
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current time always formats")
}

async fn send(socket: &mut WebSocket, value: &Value) -> Result<(), axum::Error> {
    socket.send(Frame::Text(value.to_string().into())).await
}

/// The instant a token with `exp` (Unix seconds) stops being valid.
fn until(exp: i64) -> tokio::time::Instant {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let left = u64::try_from(exp.saturating_sub(now)).unwrap_or(0);
    tokio::time::Instant::now() + Duration::from_secs(left)
}
