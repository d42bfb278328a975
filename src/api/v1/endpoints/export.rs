//! `/api/v1/users/me/export`: the caller's data as a JSON download (GDPR art. 15 and 20). The
//! export's own schema lives here, beside the one handler that produces it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::error::ApiResult;
use crate::api::error::responses::problem_responses;
use crate::api::extractors::AuthUser;
use crate::api::v1::schemas::{SessionResponse, UserResponse};
use crate::domain::AuthEvent;
use crate::services::{AccountExport, MfaStatus};

/// What the download is saved as.
const DISPOSITION: &str = "attachment; filename=\"warren-export.json\"";

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(export))
}

/// Everything Warren holds about the caller's account that its owner may read. Never a
/// password hash, token or another account's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountExportResponse {
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The profile, with `email_verified`, `pending_email` and `avatar_url`.
    pub user: UserResponse,
    /// Live sessions, oldest first; `current` marks the one that asked.
    pub sessions: Vec<SessionResponse>,
    /// The account's own audit events, oldest first.
    pub audit_events: Vec<AuditEventResponse>,
    /// Two-factor sign-in: whether it is on, since when, recovery codes left. Never a secret.
    pub mfa: MfaExportResponse,
}

/// The state of two-factor sign-in, without the secret or any code.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaExportResponse {
    pub enabled: bool,
    /// When it was switched on; null while off.
    #[serde(with = "time::serde::rfc3339::option")]
    pub enabled_at: Option<OffsetDateTime>,
    pub recovery_codes_left: u64,
}

impl From<MfaStatus> for MfaExportResponse {
    fn from(status: MfaStatus) -> Self {
        Self {
            enabled: status.enabled_at.is_some(),
            enabled_at: status.enabled_at,
            recovery_codes_left: status.recovery_codes_left,
        }
    }
}

/// One recorded authentication event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    /// What happened, e.g. `signup`, `signin_success`, `password_change`, `cli_deactivated`
    /// (`cli_` kinds were done by an operator).
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    #[schema(format = Uuid)]
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl From<AuthEvent> for AuditEventResponse {
    fn from(event: AuthEvent) -> Self {
        Self {
            kind: event.kind.as_str().to_owned(),
            occurred_at: event.occurred_at,
            session_id: event.session_id.map(|id| id.to_string()),
            ip: event.ip,
            request_id: event.request_id,
        }
    }
}

impl From<AccountExport> for AccountExportResponse {
    fn from(export: AccountExport) -> Self {
        Self {
            exported_at: OffsetDateTime::now_utc(),
            user: UserResponse::from(&export.user),
            sessions: export.sessions.into_iter().map(SessionResponse::from).collect(),
            audit_events: export.events.into_iter().map(AuditEventResponse::from).collect(),
            mfa: export.mfa.into(),
        }
    }
}

problem_responses!(ExportProblems: Unauthenticated, RateLimited);

/// Download a copy of the caller's data.
///
/// A JSON attachment with the profile, live sessions, two-factor status and the account's
/// audit events. Limited to 5 exports at once per account, then one every 12 minutes.
#[utoipa::path(
    get, path = "/api/v1/users/me/export", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The export, as an attachment (`Content-Disposition`)", body = AccountExportResponse,
            headers(("content-disposition" = String, description = "`attachment; filename=\"warren-export.json\"`"))),
        ExportProblems,
    )
)]
pub(crate) async fn export(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
) -> ApiResult<impl IntoResponse> {
    let export = state.export.export(&caller).await?;
    let body = axum::Json(AccountExportResponse::from(export));
    Ok(([(header::CONTENT_DISPOSITION, DISPOSITION)], body))
}
