//! Avatars: uploading (`multipart/form-data` with a `file` part, or the raw image as the body),
//! removing, and serving them to anyone who knows the current name.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};

use crate::api::AppState;
use crate::api::error::responses::problem_responses;
use crate::api::error::{ApiResult, AppError};
use crate::api::extractors::AuthUser;
use crate::api::v1::schemas::UserResponse;
use crate::repositories::StoredAvatar;

/// Headers on every served avatar: cacheable for good (a new upload gets a new
/// name), never sniffed or run as a document, embeddable by any origin's `<img>`.
const AVATAR_HEADERS: [(&str, &str); 4] = [
    ("cache-control", "public, max-age=31536000, immutable"),
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'none'; sandbox"),
    ("cross-origin-resource-policy", "cross-origin"),
];

/// `max_upload_bytes` replaces the 16 KiB JSON limit on the upload route only.
pub fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/users/me/avatar",
            put(upload).delete(remove).layer(DefaultBodyLimit::max(max_upload_bytes)),
        )
        .route("/avatars/{name}", get(serve))
}

problem_responses!(UploadProblems:
    Unauthenticated,
    PayloadTooLarge("over `avatar.max_upload_bytes`"),
    InvalidImage,
);

/// Upload a new avatar.
///
/// PNG, JPEG or WebP, as `multipart/form-data` with a `file` part or as the raw request body.
/// The bytes decide the format; the image is re-encoded as a PNG fitting `avatar.size`.
#[utoipa::path(
    put, path = "/api/v1/users/me/avatar", tag = "avatars", security(("bearer" = [])),
    request_body(content(
        (AvatarUpload = "multipart/form-data"),
        (Vec<u8> = "application/octet-stream"),
    )),
    responses(
        (status = 200, description = "The account with its new `avatar_url`", body = UserResponse),
        UploadProblems,
    )
)]
pub(crate) async fn upload(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    request: Request,
) -> ApiResult<axum::Json<UserResponse>> {
    let bytes = upload_bytes(request, &state).await?;
    let user = state.avatars.upload(caller.user.id, bytes).await?;
    Ok(axum::Json(UserResponse::from(&user)))
}

/// A multipart form with the image in its `file` part.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the form for OpenAPI; the handler reads the parts itself
pub(crate) struct AvatarUpload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

async fn upload_bytes(request: Request, state: &AppState) -> Result<Vec<u8>, AppError> {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data")) {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            too_large_or(
                rejection.status(),
                matches!(rejection, BytesRejection::FailedToBufferBody(_)),
            )
        })?;
        return Ok(bytes.into());
    }
    let unreadable = || AppError::InvalidImage("the multipart form could not be read");
    let mut form = Multipart::from_request(request, state).await.map_err(|_| unreadable())?;
    while let Some(field) = form.next_field().await.map_err(|e| too_large_or(e.status(), true))? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(|e| too_large_or(e.status(), true))?;
            return Ok(bytes.into());
        }
    }
    Err(AppError::InvalidImage("the form has no `file` part"))
}

/// 413 when the body hit the limit, otherwise an unreadable upload.
fn too_large_or(status: StatusCode, while_reading: bool) -> AppError {
    if while_reading && status == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::InvalidImage("the upload could not be read")
    }
}

problem_responses!(RemoveProblems: Unauthenticated);

/// Remove the avatar.
#[utoipa::path(
    delete, path = "/api/v1/users/me/avatar", tag = "avatars", security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed (also when there was none)"),
        RemoveProblems,
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
) -> ApiResult<StatusCode> {
    state.avatars.remove(caller.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

problem_responses!(ServeProblems: NotFound);

/// An account's current avatar.
///
/// Answers 404 for every name that is not some account's current avatar.
#[utoipa::path(
    get, path = "/api/v1/avatars/{name}", tag = "avatars",
    params(("name" = String, Path, description = "The name in the user's `avatar_url`")),
    responses(
        (status = 200, description = "The image", content_type = "image/png", body = Vec<u8>),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        ServeProblems,
    )
)]
pub(crate) async fn serve(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request_headers: HeaderMap,
) -> ApiResult<Response> {
    let avatar = state.avatars.find(&name).await?.ok_or(AppError::NotFound)?;
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == avatar.etag));
    Ok(image_response(avatar, not_modified))
}

fn image_response(avatar: StoredAvatar, not_modified: bool) -> Response {
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(avatar.bytes))
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in AVATAR_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(etag) = HeaderValue::from_str(&avatar.etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Ok(content_type) = HeaderValue::from_str(&avatar.content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    response
}
