//! The HTTP edge: routes, extractors, and the one error type every response goes through.

pub mod error;
pub mod extractors;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod refresh_cookie;
pub mod state;
pub mod v1;

pub use error::AppError;
pub use state::AppState;
