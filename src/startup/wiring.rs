//! Every service built from the settings and wired into the [`AppState`] the handlers share.

use std::sync::Arc;

use anyhow::Context;
use axum::http::HeaderValue;

use crate::api::AppState;
use crate::core::clock::Clock;
use crate::core::config::{AuthSettings, Settings};
use crate::core::security::{AccessTokens, KeyRing, PasswordHasher, RefreshTokens, SecretBox};
use crate::domain::BackoffPolicy;
use crate::repositories::Database;
use crate::services::{
    AccountService, AdminService, AuditLog, AvatarService, ClientService, EmailService, Events,
    ExportService, ImagePool, LoginThrottle, MfaService, Publisher, SessionPolicy, SessionService,
};

// Every service is wired here, in one readable list; splitting it would scatter the wiring.
#[allow(clippy::too_many_lines)]
pub(super) fn build_state(
    settings: &Settings,
    database: Database,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    password_params: argon2::Params,
) -> anyhow::Result<AppState> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let hasher =
        PasswordHasher::new(password_params, cores).context("initialise password hashing")?;
    let auth = &settings.auth;
    let (tokens, refresh) = token_issuers(&keys, auth);
    let mfa_key = SecretBox::load(settings).context("load the MFA encryption key")?;
    let clients = ClientService::registry(
        database.repositories().clients.clone(),
        mfa_key.client_secrets(),
        Arc::clone(&clock),
    );
    let repositories = database.repositories().clone();
    let audit = Arc::new(AuditLog::new(repositories.audit, Arc::clone(&clock)));
    let users = repositories.users;
    let max_sockets = usize::try_from(settings.events.max_sockets_per_user).unwrap_or(1);
    let events = Events::start(database.event_channel(), Arc::clone(&users), max_sockets);
    let clients = Arc::new(clients.issuing(Arc::clone(&tokens), Arc::clone(&audit)));
    let admin = Arc::new(AdminService::new(
        Arc::clone(&users),
        Arc::clone(&repositories.sessions),
        Arc::clone(&audit),
        Publisher::new(database.event_channel()),
        Arc::clone(&clock),
    ));
    let sessions = Arc::new(SessionService::new(
        repositories.sessions,
        Arc::clone(&users),
        tokens,
        refresh,
        session_policy(auth),
        Arc::clone(&audit),
        Arc::clone(&clock),
        Arc::clone(&events),
    ));
    let email = Arc::new(EmailService::new(
        repositories.email,
        Arc::clone(&users),
        settings.email.clone(),
        auth.require_verified_email,
        Arc::clone(&audit),
        Arc::clone(&clock),
        Arc::clone(&events),
    )?);
    let avatars = AvatarService::new(
        repositories.avatars,
        ImagePool::new(image_threads(cores)).context("start the image threads")?,
        settings.avatar.size,
        Arc::clone(&events),
        Arc::clone(&clock),
    );
    let mfa = Arc::new(MfaService::new(
        repositories.mfa,
        Arc::clone(&users),
        mfa_key,
        settings.mfa.issuer.clone(),
        LoginThrottle::new(Arc::clone(&repositories.throttles), BackoffPolicy::default()),
        Arc::clone(&email),
        Arc::clone(&audit),
        Arc::clone(&clock),
        Arc::clone(&events),
    ));
    let export =
        Arc::new(ExportService::new(Arc::clone(&sessions), Arc::clone(&audit), Arc::clone(&mfa)));
    let accounts = AccountService::new(
        users,
        Arc::clone(&sessions),
        LoginThrottle::new(repositories.throttles, BackoffPolicy::default()),
        audit,
        hasher,
        Arc::clone(&email),
        clock,
        Arc::clone(&events),
        Arc::clone(&mfa),
    );
    Ok(AppState {
        accounts: Arc::new(accounts),
        mfa,
        sessions,
        email,
        avatars: Arc::new(avatars),
        events,
        allowed_origins: settings.cors.allowed_origins.clone().into(),
        refresh_cookie: auth.refresh_cookie,
        export,
        clients,
        admin,
        keys,
        database,
        password_policy: settings.password_policy(),
        trusted_proxies: settings.trusted_proxies.clone().into(),
        jwks_cache_control: jwks_cache_control(auth)?,
    })
}

/// Verifiers may cache keys for a fraction of a token's life: a rotated-in key is then fetched
/// well before tokens it signed are common.
fn jwks_cache_control(auth: &AuthSettings) -> anyhow::Result<HeaderValue> {
    let max_age = (auth.access_token_ttl_secs / 3).max(60);
    HeaderValue::from_str(&format!("public, max-age={max_age}")).context("JWKS cache header")
}

/// Access tokens signed with the current key, and refresh-token successors keyed from it.
fn token_issuers(keys: &Arc<KeyRing>, auth: &AuthSettings) -> (Arc<AccessTokens>, RefreshTokens) {
    let tokens = Arc::new(AccessTokens::new(
        Arc::clone(keys),
        &auth.issuer,
        &auth.audience,
        auth.access_token_ttl_secs,
    ));
    (tokens, RefreshTokens::new(keys.derive_secret("refresh-token-successor")))
}

fn session_policy(auth: &AuthSettings) -> SessionPolicy {
    SessionPolicy {
        idle: seconds(auth.refresh_idle_ttl_secs),
        absolute: seconds(auth.refresh_absolute_ttl_secs),
        reuse_grace: seconds(auth.refresh_reuse_grace_secs),
    }
}

fn seconds(secs: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Avatar decoding leaves one core to requests (uploads are rare and may queue; `/users/me`
/// must keep a 10 ms p99 while they are saturated), except on a one-core machine.
fn image_threads(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}
