//! The error responses of the OpenAPI document, read from the problem table: an operation names
//! the kinds it can answer (`problem_responses!`) and gets one response per status with the
//! codes, the problem+json body and the row's header, plus a `default` for everything else.

use std::collections::BTreeMap;

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};

use super::{ProblemHeader, ProblemKind};

const PROBLEM_JSON: &str = "application/problem+json";

/// Declares a type whose [`utoipa::IntoResponses`] documents the listed problem kinds, each
/// optionally with a note saying when it happens:
/// `problem_responses!(SigninProblems: InvalidCredentials("same for every cause"), RateLimited);`
macro_rules! problem_responses {
    ($(#[$meta:meta])* $name:ident: $($kind:ident $(($note:literal))?),+ $(,)?) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::api::error::responses::document(&[$((
                    $crate::api::error::ProblemKind::$kind,
                    problem_responses!(@note $($note)?),
                )),+])
            }
        }
    };
    (@note) => { None };
    (@note $note:literal) => { Some($note) };
}
pub(crate) use problem_responses;

/// The responses for `kinds` (several kinds of one status share a response) and `default`.
pub fn document(kinds: &[(ProblemKind, Option<&str>)]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, (Vec<String>, ProblemHeader)> = BTreeMap::new();
    for (kind, note) in kinds {
        let spec = kind.spec();
        let line = format!("`{}`: {}", spec.code, note.unwrap_or(spec.title));
        let entry = by_status.entry(spec.status.as_u16()).or_insert((Vec::new(), spec.header));
        entry.0.push(line);
    }
    let mut responses: BTreeMap<String, RefOr<Response>> = by_status
        .into_iter()
        .map(|(status, (lines, header))| (status.to_string(), problem(&lines.join("; "), header)))
        .collect();
    responses.insert("default".to_owned(), problem("Any other error", ProblemHeader::None));
    responses
}

fn problem(description: &str, header: ProblemHeader) -> RefOr<Response> {
    let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ProblemDocument"))).build();
    let response = ResponseBuilder::new().description(description).content(PROBLEM_JSON, body);
    let response = match header {
        ProblemHeader::None => response,
        ProblemHeader::Challenge => response.header(
            "WWW-Authenticate",
            described("`Bearer`, with `error=\"invalid_token\"` when a token was sent"),
        ),
        ProblemHeader::RetryAfter => {
            response.header("Retry-After", described("Seconds to wait before retrying"))
        }
    };
    RefOr::T(response.build())
}

/// A string header with a description.
fn described(description: &str) -> Header {
    HeaderBuilder::from(Header::default()).description(Some(description)).build()
}
