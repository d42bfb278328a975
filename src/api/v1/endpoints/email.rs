//! The email flows: verifying an address, resetting a forgotten password and
//! confirming an email change. Links point at the frontend, which POSTs the token here.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
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

problem_responses!(VerifyEmailProblems:
    InvalidToken("unknown, used, expired, superseded or for another purpose"),
    ValidationFailed("`token` missing or not a string"),
);

/// Confirm an email address with the token from a verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "Verified: `email_verified` is true", body = UserResponse),
        VerifyEmailProblems,
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

problem_responses!(ResendVerificationProblems: Unauthenticated);

/// Send a new verification link to the caller's address.
///
/// Nothing is sent when the address is already verified, or when a link went out within
/// `email.resend_interval_secs`.
#[utoipa::path(
    post, path = "/api/v1/users/me/verify-email", tag = "email", security(("bearer" = [])),
    responses(
        (status = 202, description = "A link is on its way (or none was needed)"),
        ResendVerificationProblems,
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

problem_responses!(ForgotPasswordProblems: ValidationFailed("not an email address"), RateLimited);

/// Ask for a password-reset link. The answer is identical whether or not an account has the
/// address; only an active account's address receives mail.
#[utoipa::path(
    post, path = "/api/v1/auth/forgot-password", tag = "email",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Accepted, always", body = AcceptedResponse),
        ForgotPasswordProblems,
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

problem_responses!(ResetPasswordProblems:
    InvalidToken,
    ValidationFailed("the password policy"),
    RateLimited,
);

/// Set a new password with the token from a reset link. Ends every session, marks the address
/// verified and clears the signin backoff; a password the policy refuses leaves the token usable.
#[utoipa::path(
    post, path = "/api/v1/auth/reset-password", tag = "email",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password replaced; sign in with it"),
        ResetPasswordProblems,
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

problem_responses!(ConfirmEmailChangeProblems:
    InvalidToken,
    EmailTaken("another account took the address meanwhile"),
    ValidationFailed,
);

/// Move the account to the address a confirmation link was sent to.
#[utoipa::path(
    post, path = "/api/v1/auth/confirm-email-change", tag = "email",
    request_body = LinkTokenRequest,
    responses(
        (status = 200, description = "The account with its new `email`", body = UserResponse),
        ConfirmEmailChangeProblems,
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
