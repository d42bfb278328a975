//! Building the application from settings and running it until a shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::api::metrics::{self, MetricsListener};
use crate::api::middleware::{
    REQUEST_ID, TIMEOUT_STATUS, default_security_headers, docs_csp, drop_unusable_request_id,
    panic_response, record_response, render_problems, request_span, security_headers,
};
use crate::api::rate_limit::{Quota, limit_per_ip};
use crate::api::v1::endpoints::{
    auth, avatars, discovery, email, events, export, health, jwks, mfa, sessions, users,
};
use crate::api::{AppState, openapi};
use crate::core::clock::{Clock, SystemClock};
use crate::core::config::Settings;
use crate::core::security::{KeyRing, PasswordHasher};
use crate::preflight;
use crate::repositories::Database;
use crate::services::{Dispatcher, Events, MailTransport};

mod serve;
mod wiring;

use serve::ConnectionLimits;
use wiring::build_state;

/// How long a stopping instance waits for the email delivery in hand.
const DISPATCHER_GRACE: Duration = Duration::from_secs(20);

/// Largest JSON body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A built application: bound to its port, connected to its database, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    database: Database,
    dispatcher: Dispatcher,
    startup: StartupFacts,
    /// Told to close every live socket at shutdown, which graceful shutdown does not wait for.
    events: Arc<Events>,
    metrics: Option<MetricsListener>,
    limits: ConnectionLimits,
}

/// What the startup log line tells an operator beyond the address.
struct StartupFacts {
    database: String,
    kid: String,
}

/// Binds the configured address, naming the setting to change when the port is taken.
async fn bind(settings: &Settings) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(settings.server.host, settings.server.port);
    TcpListener::bind(address).await.map_err(|error| match error.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {address}: the port is already in use; stop the other process \
             or choose another port with WARREN_SERVER__PORT (server.port)"
        ),
        _ => anyhow::anyhow!(
            "cannot listen on {address} (WARREN_SERVER__HOST, WARREN_SERVER__PORT): {error}"
        ),
    })
}

impl Application {
    /// Connects, migrates (when `database.auto_migrate`), loads keys and binds the listener.
    /// Binding here, before serving, is what lets tests use port 0 and never sleep.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Self::build_with_password_params(settings, clock, PasswordHasher::recommended_params())
            .await
    }

    /// Builds with explicit Argon2 parameters instead of the policy's, so tests can store
    /// hashes an older, weaker policy made and watch them being upgraded.
    pub async fn build_with_password_params(
        settings: &Settings,
        clock: Arc<dyn Clock>,
        password_params: argon2::Params,
    ) -> anyhow::Result<Self> {
        // Bind first: a port in use must fail before anything is written (the development key).
        let listener = bind(settings).await?;
        let database = preflight::connect_database(settings).await?;
        if settings.database.auto_migrate {
            database.migrate_up().await.context("apply database migrations")?;
        }
        let keys = Arc::new(KeyRing::load(settings).context("load signing keys")?);
        let startup = StartupFacts {
            database: preflight::describe_database(&settings.database_url()),
            kid: keys.signing_kid().to_owned(),
        };
        let state = build_state(settings, database.clone(), keys, clock, password_params)?;
        let transport = MailTransport::from_settings(&settings.email, &settings.data_dir)?;
        let dispatcher = state.email.dispatcher(transport)?;
        let events = Arc::clone(&state.events);
        let router = router(state, settings).context("set up the per-IP rate limits")?;
        let metrics = MetricsListener::bind(settings, &database).await?;
        let router = if metrics.is_some() { metrics::track_requests(router) } else { router };
        let limits = ConnectionLimits::new(settings);
        Ok(Self { listener, router, database, dispatcher, startup, events, metrics, limits })
    }

    /// The fully layered router, for driving the application without a socket (benchmarks).
    pub fn into_router(self) -> Router {
        self.router
    }

    /// The pool the application uses, so operators' tools and tests can inspect or close it.
    pub fn database(&self) -> &Database {
        &self.database
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr()?;
        let url = format!("http://{address}");
        let StartupFacts { database, kid } = &self.startup;
        tracing::info!(%url, docs = %format!("{url}/docs"), %database, %kid, "serving");
        let metrics = self.metrics.map(MetricsListener::spawn);
        let (stop_dispatcher, stopped) = tokio::sync::watch::channel(false);
        let dispatcher = tokio::spawn(self.dispatcher.run(stopped));
        let events = Arc::clone(&self.events);
        let shutdown = async move {
            shutdown.await;
            // Sockets close 1001 now, so graceful shutdown does not wait on them.
            events.shut_down();
        };
        serve::serve(self.listener, self.router, self.limits, shutdown).await;
        // The dispatcher finishes the delivery in hand (bounded by the SMTP timeout) and gives
        // the rest of its claims back before the pool closes.
        let _ = stop_dispatcher.send(true);
        if tokio::time::timeout(DISPATCHER_GRACE, dispatcher).await.is_err() {
            tracing::warn!("email dispatcher did not stop in time; its claims expire by lease");
        }
        // Scrapes hold no state worth draining.
        metrics.inspect(tokio::task::JoinHandle::abort);
        self.database.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// The full router with every layer, exactly as production serves it. An unusable rate-limit
/// quota is an error naming its setting, never a silently unlimited route.
pub fn router(state: AppState, settings: &Settings) -> anyhow::Result<Router> {
    let limits = &settings.rate_limit;
    let trusted: Arc<[IpNet]> = settings.trusted_proxies.clone().into();
    let [auth_rate, auth_burst, general_rate, general_burst] = limits.named();
    let credential_quota = Quota::new(auth_rate, Duration::from_secs(60), auth_burst)?;
    let general_quota = Quota::new(general_rate, Duration::from_secs(1), general_burst)?;
    let per_ip = |router: Router<AppState>, quota: Quota| {
        if limits.enabled { limit_per_ip(router, quota, Arc::clone(&trusted)) } else { Ok(router) }
    };
    let credentials =
        auth::credential_router().merge(email::credential_router()).merge(mfa::credential_router());
    let credentials = per_ip(credentials, credential_quota)?;
    let api_v1 = Router::new()
        .nest("/auth", credentials.merge(auth::router()).merge(email::router()))
        .nest("/users", users::router())
        .nest("/users/me/sessions", sessions::router())
        .nest("/users/me/verify-email", email::me_router())
        .nest("/users/me/export", export::router())
        .nest("/users/me/mfa", mfa::router())
        .merge(avatars::router(max_upload_bytes(settings)))
        .merge(events::router());
    let api_v1 = per_ip(api_v1, general_quota)?;
    let metadata = discovery::ServerMetadata::new(settings, &state.keys);
    let routes = Router::new()
        .nest("/api/v1", api_v1)
        .nest("/api/health", health::router())
        .merge(jwks::router())
        .merge(discovery::router(&metadata))
        .merge(Router::from(openapi::swagger_ui()).layer(docs_csp()))
        .with_state(state);
    Ok(with_layers(routes, settings))
}

/// Wraps routes in the middleware every response passes through. Public so tests can check
/// behaviour no production route should trigger on purpose (a panic, a slow handler).
pub fn with_layers(routes: Router, settings: &Settings) -> Router {
    let timeout = Duration::from_secs(settings.server.request_timeout_secs);
    routes.layer(
        // Outermost first: the request id exists before anything logs or fails, and every
        // response, including a panic's or a timeout's, passes through the problem and
        // header middleware on its way out.
        ServiceBuilder::new()
            // The event socket's token travels in `Sec-WebSocket-Protocol`.
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
                header::SEC_WEBSOCKET_PROTOCOL,
            ]))
            .map_request(drop_unusable_request_id)
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(record_response),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(security_headers())
            .layer(default_security_headers())
            .layer(cors(settings))
            .layer(middleware::from_fn(render_problems))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TimeoutLayer::with_status_code(TIMEOUT_STATUS, timeout))
            // The avatar upload's limit; every other route keeps `MAX_BODY_BYTES` through
            // `DefaultBodyLimit`, which the upload route alone raises.
            .layer(RequestBodyLimitLayer::new(max_upload_bytes(settings).max(MAX_BODY_BYTES)))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

/// Exact-origin CORS: only configured origins are echoed, preflights are answered before any
/// authentication runs, and there is never a wildcard. In cookie mode the allowlisted origins,
/// and only they, may send credentials (the refresh cookie).
fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .cors
        .allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    let credentialed = if settings.auth.refresh_cookie { origins.clone() } else { Vec::new() };
    let credentials = AllowCredentials::predicate(move |origin, _| credentialed.contains(origin));
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(credentials)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(Duration::from_secs(600))
}

fn max_upload_bytes(settings: &Settings) -> usize {
    usize::try_from(settings.avatar.max_upload_bytes).unwrap_or(usize::MAX)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
