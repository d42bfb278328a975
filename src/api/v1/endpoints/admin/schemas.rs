//! The admin API's query parameters, bodies and answers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::AppState;
use crate::api::error::AppError;
use crate::api::v1::schemas::{UserResponse, present};
use crate::domain::{AuthEventKind, FullName, UserId, ValidationErrors};
use crate::repositories::{AuditEntry, AuditQuery};
use crate::services::{AdminUpdate, MAX_PAGE};

/// A page's size when none is asked for.
const DEFAULT_LIMIT: u32 = 50;

/// The query string's parameters; each may be given once.
fn query_pairs(parts: &Parts) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).map_err(|_| {
        AppError::Validation(ValidationErrors::single("", "invalid_type", "malformed query string"))
    })
}

fn limit(value: &str, errors: &mut ValidationErrors) -> u32 {
    match value.parse::<u32>() {
        Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
        _ => {
            errors.add(
                "limit",
                "out_of_range",
                format!("limit is a whole number from 1 to {MAX_PAGE}"),
            );
            DEFAULT_LIMIT
        }
    }
}

fn uuid(field: &str, value: &str, errors: &mut ValidationErrors) -> Option<Uuid> {
    let parsed = Uuid::try_parse(value).ok();
    if parsed.is_none() {
        errors.add(field, "invalid_format", format!("{field} is a UUID"));
    }
    parsed
}

/// `GET /admin/users`'s parameters.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersParams {
    /// Only accounts whose email or name contains this text (any case).
    pub query: Option<String>,
    /// Accounts per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: u32,
    /// A `next_cursor` from the previous page.
    #[param(value_type = Option<Uuid>)]
    pub cursor: Option<UserId>,
}

impl FromRequestParts<AppState> for UsersParams {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        let mut errors = ValidationErrors::new();
        let mut params = Self { limit: DEFAULT_LIMIT, ..Self::default() };
        for (name, value) in query_pairs(parts)? {
            match name.as_str() {
                "query" if !value.is_empty() => params.query = Some(value),
                "limit" => params.limit = limit(&value, &mut errors),
                "cursor" if !value.is_empty() => {
                    params.cursor = uuid("cursor", &value, &mut errors).map(UserId::from_uuid);
                }
                _ => {}
            }
        }
        errors.into_result(|| params).map_err(AppError::Validation)
    }
}

/// `GET /admin/audit`'s parameters.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this account's events.
    #[param(value_type = Option<Uuid>)]
    pub user_id: Option<UserId>,
    /// Only events of this kind (e.g. `signin_failure`, `admin_deleted`).
    #[param(value_type = Option<String>)]
    pub kind: Option<AuthEventKind>,
    /// A `next_cursor` from the previous page: only older events.
    pub before: Option<Uuid>,
    /// Events per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: u32,
}

impl AuditParams {
    pub fn query(&self) -> AuditQuery {
        AuditQuery { user: self.user_id, kind: self.kind, before: self.before, limit: self.limit }
    }
}

impl FromRequestParts<AppState> for AuditParams {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        let mut errors = ValidationErrors::new();
        let mut params = Self { limit: DEFAULT_LIMIT, ..Self::default() };
        for (name, value) in query_pairs(parts)? {
            match name.as_str() {
                _ if value.is_empty() => {}
                "user_id" => {
                    params.user_id = uuid("user_id", &value, &mut errors).map(UserId::from_uuid);
                }
                "kind" => {
                    params.kind = AuthEventKind::parse(&value);
                    if params.kind.is_none() {
                        errors.add("kind", "invalid_choice", "kind is not an audit event kind");
                    }
                }
                "before" => params.before = uuid("before", &value, &mut errors),
                "limit" => params.limit = limit(&value, &mut errors),
                _ => {}
            }
        }
        errors.into_result(|| params).map_err(AppError::Validation)
    }
}

/// `PATCH /admin/users/{id}`: absent fields stay as they are; `full_name: null` clears it.
#[allow(clippy::option_option)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_active": false}))]
pub struct AdminUpdateRequest {
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
    /// 1 to 100 characters; `null` clears the name.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub full_name: Option<Option<String>>,
}

impl AdminUpdateRequest {
    pub fn parse(self) -> Result<AdminUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let full_name = match self.full_name {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) => errors.check("full_name", FullName::parse(&raw)).map(Some),
        };
        let update = AdminUpdate {
            is_active: self.is_active,
            email_verified: self.email_verified,
            full_name,
        };
        errors.into_result(|| update)
    }
}

/// One page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPageResponse {
    pub users: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; null on the last one.
    #[schema(format = Uuid)]
    pub next_cursor: Option<String>,
}

/// One audit event. Events never hold a secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminAuditEventResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(example = "signin_success")]
    pub kind: &'static str,
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
    #[schema(format = Uuid)]
    pub session_id: Option<String>,
    /// The service client that acted (admin API events, client tokens issued).
    #[schema(format = Uuid)]
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
}

impl From<AuditEntry> for AdminAuditEventResponse {
    fn from(entry: AuditEntry) -> Self {
        let event = entry.event;
        Self {
            id: entry.id.to_string(),
            kind: event.kind.as_str(),
            user_id: event.user_id.map(|id| id.to_string()),
            session_id: event.session_id.map(|id| id.to_string()),
            client_id: event.client_id.map(|id| id.to_string()),
            ip: event.ip,
            request_id: event.request_id,
            occurred_at: event.occurred_at,
        }
    }
}

/// One page of the audit trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageResponse {
    pub events: Vec<AdminAuditEventResponse>,
    /// Pass as `before` for the next (older) page; null on the last one.
    #[schema(format = Uuid)]
    pub next_cursor: Option<String>,
}
