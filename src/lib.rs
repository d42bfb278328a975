//! Warren: a user-account service that signs people up and in and issues short-lived JWTs.
//!
//! Layers, outermost first (dependencies point inwards only):
//! `api` (HTTP) → `services` (business rules) → `repositories` (storage) and `domain`
//! (values that are valid by construction). `core` holds configuration, security primitives
//! and telemetry used by the layers above it.

pub mod api;
pub mod cli;
pub mod core;
pub mod domain;
pub mod preflight;
pub mod repositories;
pub mod services;
pub mod startup;
