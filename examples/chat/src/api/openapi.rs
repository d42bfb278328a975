//! The OpenAPI 3.1 document served at `/docs/openapi.json` with Swagger UI at `/docs`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::{Problem, ProblemField};
use super::{messages, rooms};
use crate::domain::UserRef;
use crate::services::views::{Message, Reaction, Room};

#[derive(OpenApi)]
#[openapi(
    info(title = "Warren chat", description = "Rooms and messages on Warren accounts. Bearer = a Warren access token. \
        Live events: WebSocket `/ws/rooms/{id}` with subprotocols `warren.v1` and `warren.bearer.<token>`."),
    paths(
        rooms::list, rooms::create, rooms::get, rooms::join, rooms::leave,
        messages::history, messages::send, messages::mark_read,
        messages::add_reaction, messages::remove_reaction, super::health,
    ),
    components(schemas(Room, Message, Reaction, UserRef, Problem, ProblemField,
        rooms::CreateRoomRequest, messages::SendMessageRequest, messages::MarkReadRequest)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}
