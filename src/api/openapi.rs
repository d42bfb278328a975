//! The OpenAPI 3.1 document, generated from the handlers' annotations, and Swagger UI.

use serde_json::json;
use utoipa::openapi::link::{Link, LinkBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Response};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::error::ProblemDocument;
use super::v1::endpoints::{
    auth, avatars, discovery, email, events, export, health, jwks, mfa, sessions, users,
};

/// Where the document is served; Swagger UI at `/docs` reads it from here.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warren",
        description = "User accounts: sign up, sign in, profile, sessions. Access tokens are \
                       EdDSA or ES256 JWTs (`typ: at+jwt`) verifiable offline against \
                       `/.well-known/jwks.json`, found through \
                       `/.well-known/openid-configuration`. Every error is \
                       `application/problem+json`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        auth::sign_up, auth::sign_in, auth::refresh, auth::sign_out,
        mfa::sign_in_mfa, mfa::enrol_totp, mfa::confirm_totp, mfa::disable_totp,
        mfa::regenerate_recovery_codes,
        users::me, users::update_me, users::delete_me,
        export::export,
        sessions::list, sessions::sign_out_everywhere, sessions::end_one,
        email::verify_email, email::resend_verification, email::forgot_password,
        email::reset_password, email::confirm_email_change,
        avatars::upload, avatars::remove, avatars::serve,
        events::open,
        health::health, health::ready,
        jwks::jwks,
        discovery::openid_configuration, discovery::authorization_server,
    ),
    // Error responses refer to it by name (see `api::error::responses`).
    components(schemas(ProblemDocument)),
    modifiers(&BearerSecurity, &AccountLifecycleLinks),
    tags(
        (name = "auth", description = "Signing up, in and out; refreshing tokens"),
        (name = "users", description = "The caller's own account"),
        (name = "sessions", description = "The caller's signed-in devices"),
        (name = "mfa", description = "Two-factor sign-in: TOTP and recovery codes"),
        (name = "email", description = "Address verification, password reset, email change"),
        (name = "avatars", description = "Profile pictures"),
        (name = "events", description = "Live account events over a WebSocket"),
        (name = "health", description = "Liveness and readiness probes"),
        (name = "keys", description = "Public keys and server metadata for verifying access tokens"),
    ),
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the secured operations refer to.
struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Paste the access_token value from a signin or refresh response, \
                         without \"Bearer \" in front: it is added for you.",
                    ))
                    .build(),
            ),
        );
    }
}

/// OpenAPI links for the account lifecycle (signup → signin → me → patch → sessions → delete,
/// and refresh → signout), so clients and stateful fuzzers can follow real data from one
/// response into the next request.
struct AccountLifecycleLinks;

impl AccountLifecycleLinks {
    /// The links from a response that carries `access_token` and `refresh_token`; `password`
    /// is where the account's password can be read, if anywhere.
    fn from_tokens(password: Option<&str>) -> Vec<(&'static str, Link)> {
        let bearer = "Bearer {$response.body#/access_token}";
        let authorised = |operation: &str| {
            LinkBuilder::new().operation_id(operation).parameter("header.Authorization", bearer)
        };
        let refresh_body = json!({"refresh_token": "$response.body#/refresh_token"});
        let mut links = vec![
            ("GetMe", authorised("me").build()),
            ("UpdateMe", authorised("update_me").build()),
            ("ListSessions", authorised("list").build()),
            ("SignOutEverywhere", authorised("sign_out_everywhere").build()),
            (
                "Refresh",
                LinkBuilder::new()
                    .operation_id("refresh")
                    .request_body(Some(refresh_body.clone()))
                    .build(),
            ),
            (
                "SignOut",
                LinkBuilder::new()
                    .operation_id("sign_out")
                    .request_body(Some(refresh_body))
                    .build(),
            ),
        ];
        if let Some(password) = password {
            let body = json!({"current_password": password});
            links.push(("DeleteMe", authorised("delete_me").request_body(Some(body)).build()));
        }
        links
    }
}

impl Modify for AccountLifecycleLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let sign_in_with_signup_body = LinkBuilder::new()
            .operation_id("sign_in")
            .request_body(Some(json!({
                "email": "$request.body#/email",
                "password": "$request.body#/password",
            })))
            .build();
        let wiring = [
            ("/api/v1/auth/signup", "201", vec![("SignIn", sign_in_with_signup_body)]),
            ("/api/v1/auth/signin", "200", Self::from_tokens(Some("$request.body#/password"))),
            ("/api/v1/auth/refresh", "200", Self::from_tokens(None)),
        ];
        for (path, status, links) in wiring {
            let response = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|operation| operation.responses.responses.get_mut(status));
            if let Some(RefOr::T(response)) = response {
                add_links(response, links);
            }
        }
    }
}

fn add_links(response: &mut Response, links: Vec<(&'static str, Link)>) {
    for (name, link) in links {
        response.links.insert(name.to_owned(), RefOr::T(link));
    }
}

/// The document as committed in `src/api/v1/openapi.json` and served.
pub fn document_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default() + "\n"
}

/// Swagger UI at `/docs`, and the document it shows at [`DOCUMENT_PATH`]. The UI's assets are
/// vendored into the binary at build time: nothing is downloaded.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs").url(DOCUMENT_PATH, ApiDoc::openapi())
}
