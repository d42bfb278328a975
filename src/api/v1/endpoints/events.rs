//! `GET /api/v1/events`: a WebSocket telling a signed-in client what happens to its account.
//! Everything that can refuse (origin, token, socket count) is decided before the upgrade, so
//! a refusal is an ordinary problem+json response.

mod socket;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::responses::problem_responses;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::bearer_token;
use socket::LiveSocket;

/// The one subprotocol spoken, and the only one ever echoed back.
const PROTOCOL: &str = "warren.v1";
/// Browsers cannot set headers on a WebSocket: the token travels as a second subprotocol.
const BEARER_PROTOCOL_PREFIX: &str = "warren.bearer.";
/// A bound on what the WebSocket layer buffers; frames over 4 KiB are refused above it, with
/// a close code the client can read.
const MAX_WIRE_MESSAGE: usize = 64 * 1024;
/// What each socket reads into at a time. The library's default, 128 KiB per socket, made
/// 10,000 idle sockets cost 1.3 GiB (the target is 100 MiB); clients send a few small frames
/// (`auth`, `ping`), and a larger one is read in several steps.
const READ_BUFFER: usize = 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(open))
}

problem_responses!(OpenProblems:
    Unauthenticated,
    OriginNotAllowed,
    RateLimited("`events.max_sockets_per_user` reached"),
);

/// Live account events (WebSocket).
///
/// Offer the subprotocols `warren.v1` and `warren.bearer.<access_token>` (or send
/// `Authorization: Bearer`). Frames are described in docs/flows.md.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    responses(
        (status = 101, description = "Switching to the WebSocket protocol `warren.v1`"),
        OpenProblems,
    )
)]
pub(crate) async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    if let Some(origin) = headers.get(header::ORIGIN)
        && !state.allowed_origins.iter().any(|allowed| allowed.as_bytes() == origin.as_bytes())
    {
        return Err(AppError::OriginNotAllowed);
    }
    let token = socket_token(&headers).ok_or(AppError::Unauthenticated)?;
    let (caller, expires_at) = state.sessions.authenticate_until(token).await?;
    let subscription = state.events.subscribe(caller.user.id)?;
    let socket = LiveSocket::new(state, &caller, token.to_owned(), expires_at, subscription);
    Ok(upgrade
        .protocols([PROTOCOL])
        .max_message_size(MAX_WIRE_MESSAGE)
        .max_frame_size(MAX_WIRE_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        // Events are a few small frames now and then: written out at once, nothing to gather.
        .write_buffer_size(0)
        .on_upgrade(move |ws| socket.run(ws)))
}

/// The token of a `warren.bearer.<token>` subprotocol, else of an `Authorization` header.
fn socket_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|protocol| protocol.trim().strip_prefix(BEARER_PROTOCOL_PREFIX))
        .filter(|token| !token.is_empty())
        .or_else(|| bearer_token(headers))
}
