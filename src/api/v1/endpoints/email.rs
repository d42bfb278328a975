//! The email flows of SPEC §8: verifying an address, resetting a forgotten password and
//! confirming an email change. Links point at the frontend, which POSTs the token here.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::{ApiResult, ProblemDocument};
use crate::api::extractors::{AuthUser, Client, Json};
use crate::api::v1::schemas::UserResponse;
use crate::domain::{EmailAddress, Password, PasswordPolicy, ValidationErrors};

/// A token from an emailed link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q9bX2m0Zr1c4pN5k7Yv3sHfUeJtL8wGaDoEiRxCzQ6M"}))]
pub struct LinkTokenRequest {
    pub token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct ForgotPasswordRequest {
    #[schema(format = Email)]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q9bX2m0Zr1c4pN5k7Yv3sHfUeJtL8wGaDoEiRxCzQ6M", "password": "a brand new passphrase"}))]
pub struct ResetPasswordRequest {
    pub token: String,
    /// The password policy of signup applies.
    pub password: String,
}

impl ResetPasswordRequest {
    fn parse(self, policy: PasswordPolicy) -> Result<(String, Password), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let password = errors.check("password", Password::parse(&self.password, policy, None));
        password.map(|password| (self.token, password)).ok_or(errors)
    }
}

/// Always the same, whether or not the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedResponse {
    pub message: &'static str,
}

/// Routes that take a credential or send mail to a given address: the strict per-IP limit.
pub fn credential_router() -> Router<AppState> {
    Router::new()
        .route("/forgot-password", post(forgot_password))
        .route("/reset-password", post(reset_password))
}

/// `/api/v1/auth` routes spending a link token.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/verify-email", post(verify_email))
        .route("/confirm-email-change", post(confirm_email_change))
}

/// `/api/v1/users/me/verify-email`.
pub fn me_router() -> Router<AppState> {
    Router::new().route("/", post(resend_verification))
}

/// Confirm an email address with the token from a verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "Verified: `email_verified` is true", body = UserResponse),
        (status = 400, description = "`invalid_token`: unknown, used, expired, superseded or for another purpose", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `token` missing or not a string", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn verify_email(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<LinkTokenRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let user = state.email.verify_email(&request.token, &client).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

/// Send a new verification link to the caller's address.
///
/// Nothing is sent when the address is already verified, or when a link went out within
/// `email.resend_interval_secs`.
#[utoipa::path(
    post, path = "/api/v1/users/me/verify-email", tag = "email", security(("bearer" = [])),
    responses(
        (status = 202, description = "A link is on its way (or none was needed)"),
        (status = 401, description = "`unauthenticated`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
) -> ApiResult<StatusCode> {
    state.email.resend_verification(&caller, &client).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Ask for a password-reset link. The answer is identical whether or not an account has the
/// address; only an active account's address receives mail.
#[utoipa::path(
    post, path = "/api/v1/auth/forgot-password", tag = "email",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Accepted, always", body = AcceptedResponse),
        (status = 422, description = "`validation_failed`: not an email address", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn forgot_password(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<ForgotPasswordRequest>,
) -> ApiResult<(StatusCode, axum::Json<AcceptedResponse>)> {
    let mut errors = ValidationErrors::new();
    let email = errors.check("email", EmailAddress::parse(&request.email)).ok_or(errors)?;
    state.email.forgot_password(email, client);
    let message = "if an account uses this address, a link to reset its password is on its way";
    Ok((StatusCode::ACCEPTED, axum::Json(AcceptedResponse { message })))
}

/// Set a new password with the token from a reset link. Ends every session, marks the address
/// verified and clears the signin backoff; a password the policy refuses leaves the token usable.
#[utoipa::path(
    post, path = "/api/v1/auth/reset-password", tag = "email",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password replaced; sign in with it"),
        (status = 400, description = "`invalid_token`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: the password policy", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let (token, password) = request.parse(state.password_policy)?;
    state.accounts.reset_password(&token, &password, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move the account to the address a confirmation link was sent to.
#[utoipa::path(
    post, path = "/api/v1/auth/confirm-email-change", tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "The account with its new `email`", body = UserResponse),
        (status = 400, description = "`invalid_token`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: another account took the address meanwhile", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = "default", description = "Any other error", body = ProblemDocument, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn confirm_email_change(
    State(state): State<AppState>,
    Client(client): Client,
    Json(request): Json<LinkTokenRequest>,
) -> ApiResult<axum::Json<UserResponse>> {
    let user = state.email.confirm_email_change(&request.token, &client).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}
