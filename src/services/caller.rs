//! Who is asking: the verified caller behind an access token, and where a request came from.

use std::net::IpAddr;

use crate::domain::{SessionId, User};

/// Where a request came from: recorded on sessions and in audit events.
#[derive(Debug, Clone, Default)]
pub struct ClientContext {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// The caller behind a verified access token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
}
