//! What handlers share.

use std::sync::Arc;

use ipnet::IpNet;

use crate::core::security::KeyRing;
use crate::domain::PasswordPolicy;
use crate::repositories::Database;
use crate::services::{
    AccountService, AdminService, AvatarService, ClientService, EmailService, Events,
    ExportService, MfaService, SessionService,
};

#[derive(Debug, Clone)]
pub struct AppState {
    pub accounts: Arc<AccountService>,
    pub mfa: Arc<MfaService>,
    pub sessions: Arc<SessionService>,
    pub email: Arc<EmailService>,
    pub avatars: Arc<AvatarService>,
    pub events: Arc<Events>,
    /// `cors.allowed_origins`: the only `Origin`s an event socket may come from.
    pub allowed_origins: Arc<[String]>,
    /// `auth.refresh_cookie`: allowlisted browser origins get the refresh token as a cookie.
    pub refresh_cookie: bool,
    pub export: Arc<ExportService>,
    /// Service clients: their tokens, introspection, and who calls the admin API.
    pub clients: Arc<ClientService>,
    /// Account administration, shared with `warren users …`.
    pub admin: Arc<AdminService>,
    pub keys: Arc<KeyRing>,
    pub database: Database,
    pub password_policy: PasswordPolicy,
    pub trusted_proxies: Arc<[IpNet]>,
    /// `Cache-Control` for the JWKS, derived from the token lifetime once.
    pub jwks_cache_control: axum::http::HeaderValue,
}
