//! `cors.*`: the exact browser origins allowed to call the API.

use serde::{Deserialize, Serialize};

use super::Problems;
use super::auth::is_loopback_url;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

impl CorsSettings {
    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        for origin in &self.allowed_origins {
            if let Err(reason) = validate_origin(origin) {
                problems.refuse("cors.allowed_origins", &format!("{origin:?} {reason}"));
            } else if production && origin.starts_with("http://") && !is_loopback_url(origin) {
                problems.refuse(
                    "cors.allowed_origins",
                    &format!("{origin:?}: production allows http:// only for localhost origins"),
                );
            }
        }
    }
}

/// An allowed CORS origin must be exactly `scheme://host[:port]`: never a wildcard, `null`,
/// or anything with a path, since browsers compare origins byte for byte.
pub(super) fn validate_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" || origin.eq_ignore_ascii_case("null") {
        return Err("is not allowed: list exact origins");
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if rest.is_empty() || rest.contains(['/', '*', '?', '#', ' ']) || rest.ends_with(':') {
        return Err("must be scheme://host[:port] with no path or wildcard");
    }
    if origin.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("must be lowercase, as browsers send it");
    }
    Ok(())
}
