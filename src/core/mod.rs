//! Cross-cutting machinery the layers share: configuration, clock, security primitives
//! (password hashing, signing keys, access tokens), telemetry, and the low-priority threads
//! CPU-heavy work runs on.

pub mod clock;
pub mod config;
pub mod metrics;
pub mod security;
pub mod telemetry;
pub mod threads;
