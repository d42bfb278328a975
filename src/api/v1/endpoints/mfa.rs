//! Two-factor sign-in: `/api/v1/users/me/mfa/…` (enrol, confirm, switch off,
//! regenerate recovery codes) and the signin's second step, `/api/v1/auth/signin/mfa`. The
//! bodies of these operations live here, beside their only handlers.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::extractors::{AuthUser, Client, Json};
use crate::api::refresh_cookie::{RequestOrigin, signed_in_response};
use crate::api::v1::schemas::TokenResponse;
use crate::domain::{CandidatePassword, RecoveryCode};
use crate::services::TotpEnrolment;

/// `/users/me/mfa`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/totp", post(enrol_totp).delete(disable_totp))
        .route("/totp/confirm", post(confirm_totp))
        .route("/recovery-codes", post(regenerate_recovery_codes))
}

/// `/auth/signin/mfa`, which takes credentials and gets the stricter per-IP limit.
pub fn credential_router() -> Router<AppState> {
    Router::new().route("/signin/mfa", post(sign_in_mfa))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery"}))]
pub struct EnrolTotpRequest {
    pub current_password: String,
}

/// A pending enrolment: add it to an authenticator app, then confirm with a code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "otpauth_uri": "otpauth://totp/Warren:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Warren"}))]
pub struct TotpEnrolmentResponse {
    /// The key in RFC 4648 base32 without padding, for typing in by hand.
    pub secret: String,
    /// Key URI Format (`otpauth://totp/<issuer>:<account>?secret=…&issuer=…`), to render as a
    /// QR code on the client.
    pub otpauth_uri: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "123456"}))]
pub struct ConfirmTotpRequest {
    /// A current 6-digit code from the authenticator app.
    pub code: String,
}

/// Switching MFA off or regenerating recovery codes: the password and a second factor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery", "code": "123456"}))]
pub struct ReauthenticateWithCodeRequest {
    pub current_password: String,
    /// A current 6-digit TOTP code or an unused recovery code.
    pub code: String,
}

/// Recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["7k2m-9x4p-qr8t", "…"]}))]
pub struct RecoveryCodesResponse {
    pub recovery_codes: Vec<String>,
}

impl From<Vec<RecoveryCode>> for RecoveryCodesResponse {
    fn from(codes: Vec<RecoveryCode>) -> Self {
        Self { recovery_codes: codes.iter().map(RecoveryCode::display).collect() }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mfa_token": "wmt_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "code": "123456"}))]
pub struct MfaSigninRequest {
    /// From the signin's `mfa_required` answer.
    pub mfa_token: String,
    /// A current 6-digit TOTP code or an unused recovery code.
    pub code: String,
}

problem_responses!(EnrolTotpProblems:
    Unauthenticated,
    ReauthenticationFailed,
    MfaAlreadyEnabled,
    ValidationFailed,
    RateLimited("the per-account backoff"),
);

/// Start a TOTP enrolment.
///
/// Returns a new secret, pending until `/users/me/mfa/totp/confirm` receives a code from it; a
/// pending enrolment started earlier is replaced. Needs `current_password` (through the
/// per-account backoff).
#[utoipa::path(
    post, path = "/api/v1/users/me/mfa/totp", tag = "mfa", security(("bearer" = [])),
    request_body = EnrolTotpRequest,
    responses(
        (status = 200, description = "Pending enrolment", body = TotpEnrolmentResponse),
        EnrolTotpProblems,
    )
)]
pub(crate) async fn enrol_totp(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<EnrolTotpRequest>,
) -> ApiResult<axum::Json<TotpEnrolmentResponse>> {
    let password = CandidatePassword::new(&request.current_password);
    let TotpEnrolment { secret, otpauth_uri } =
        state.accounts.start_totp_enrolment(&caller, &password, &client).await?;
    Ok(axum::Json(TotpEnrolmentResponse { secret, otpauth_uri }))
}

problem_responses!(ConfirmTotpProblems:
    Unauthenticated,
    InvalidMfaCode,
    MfaAlreadyEnabled,
    MfaNotEnabled("no pending enrolment"),
    ValidationFailed,
    RateLimited("the per-account backoff"),
);

/// Confirm the pending enrolment with a current code: two-factor sign-in is on.
///
/// Returns 10 recovery codes, shown this once. Wrong codes count in the per-account backoff.
#[utoipa::path(
    post, path = "/api/v1/users/me/mfa/totp/confirm", tag = "mfa", security(("bearer" = [])),
    request_body = ConfirmTotpRequest,
    responses(
        (status = 200, description = "MFA on; the recovery codes", body = RecoveryCodesResponse),
        ConfirmTotpProblems,
    )
)]
pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<ConfirmTotpRequest>,
) -> ApiResult<axum::Json<RecoveryCodesResponse>> {
    let codes = state.mfa.confirm(&caller, &request.code, &client).await?;
    Ok(axum::Json(codes.into()))
}

problem_responses!(DisableTotpProblems:
    Unauthenticated,
    InvalidMfaCode,
    ReauthenticationFailed,
    MfaNotEnabled,
    ValidationFailed,
    RateLimited("the per-account backoff"),
);

/// Switch two-factor sign-in off: the secret and every recovery code are deleted.
///
/// Needs `current_password` and a code. Revokes no session.
#[utoipa::path(
    delete, path = "/api/v1/users/me/mfa/totp", tag = "mfa", security(("bearer" = [])),
    request_body = ReauthenticateWithCodeRequest,
    responses(
        (status = 204, description = "MFA off"),
        DisableTotpProblems,
    )
)]
pub(crate) async fn disable_totp(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<ReauthenticateWithCodeRequest>,
) -> ApiResult<StatusCode> {
    let password = CandidatePassword::new(&request.current_password);
    state.accounts.disable_totp(&caller, &password, &request.code, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

problem_responses!(RegenerateRecoveryCodesProblems:
    Unauthenticated,
    InvalidMfaCode,
    ReauthenticationFailed,
    MfaNotEnabled,
    ValidationFailed,
    RateLimited("the per-account backoff"),
);

/// Replace every recovery code with 10 new ones (shown this once).
///
/// Needs `current_password` and a code; the old codes stop working at once.
#[utoipa::path(
    post, path = "/api/v1/users/me/mfa/recovery-codes", tag = "mfa", security(("bearer" = [])),
    request_body = ReauthenticateWithCodeRequest,
    responses(
        (status = 200, description = "The new recovery codes", body = RecoveryCodesResponse),
        RegenerateRecoveryCodesProblems,
    )
)]
pub(crate) async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Client(client): Client,
    Json(request): Json<ReauthenticateWithCodeRequest>,
) -> ApiResult<axum::Json<RecoveryCodesResponse>> {
    let password = CandidatePassword::new(&request.current_password);
    let codes = state
        .accounts
        .regenerate_recovery_codes(&caller, &password, &request.code, &client)
        .await?;
    Ok(axum::Json(codes.into()))
}

problem_responses!(SignInMfaProblems:
    InvalidMfaCode("wrong, reused or malformed"),
    InvalidMfaToken("unknown, used, expired or dead"),
    ValidationFailed,
    RateLimited("per-IP limit or per-account backoff"),
);

/// Complete a signin that asked for a second factor.
///
/// Send the `mfa_token` of the signin's `mfa_required` answer and a code.
/// The `mfa_token` is single use, valid 5 minutes and dead after 5 wrong codes; wrong codes
/// also count in the per-account backoff. The tokens' `amr` is `["pwd","otp"]`.
#[utoipa::path(
    post, path = "/api/v1/auth/signin/mfa", tag = "auth",
    request_body = MfaSigninRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        SignInMfaProblems,
    )
)]
pub(crate) async fn sign_in_mfa(
    State(state): State<AppState>,
    Client(client): Client,
    origin: RequestOrigin,
    Json(request): Json<MfaSigninRequest>,
) -> ApiResult<Response> {
    let signed_in =
        state.accounts.complete_sign_in(&request.mfa_token, &request.code, &client).await?;
    signed_in_response(&state, origin, signed_in)
}
