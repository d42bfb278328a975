//! One module per resource, each with its own `router()`.

pub mod auth;
pub mod avatars;
pub mod discovery;
pub mod email;
pub mod events;
pub mod export;
pub mod health;
pub mod jwks;
pub mod mfa;
pub mod sessions;
pub mod users;
