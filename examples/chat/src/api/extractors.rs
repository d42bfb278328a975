//! Extractors: the signed-in user (a Warren access token verified offline) and JSON bodies
//! whose rejections speak our problem format.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use crate::domain::UserRef;

/// A request made with a valid Warren access token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: UserRef,
    pub token: String,
    /// The token's `exp` (Unix seconds).
    pub expires_at: i64,
}

impl AppState {
    /// Verifies `token` offline and learns the user's display name.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, ApiError> {
        let claims = self.verifier.verify(token).await.map_err(|rejection| {
            tracing::debug!(%rejection, "token refused");
            ApiError::Unauthenticated
        })?;
        let name = self.names.name_of(claims.sub, token).await;
        Ok(AuthUser {
            user: UserRef { id: claims.sub, name },
            token: token.to_owned(),
            expires_at: claims.exp,
        })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        state.authenticate(token).await
    }
}

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// Ids in paths: anything that is not a UUID names nothing, so it is a 404.
pub fn path_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// `Json<T>` with problem+json rejections.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation(vec![crate::domain::FieldError {
            field: "body",
            code: "invalid",
            message: rejection.body_text(),
        }]),
        _ => ApiError::MalformedJson(rejection.body_text()),
    }
}
