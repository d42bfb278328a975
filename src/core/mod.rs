//! Cross-cutting machinery the layers share: configuration, clock, security primitives
//! (password hashing, signing keys, access tokens) and telemetry.

pub mod clock;
pub mod config;
pub mod metrics;
pub mod security;
pub mod telemetry;
