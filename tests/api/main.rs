//! Integration tests: the production application over real HTTP, each test on SQLite and on
//! Postgres (see `helpers::both_backends!`).

mod helpers;

/// The example consumer, compiled into the tests so they can start it in-process.
#[path = "../../examples/recommendation_service.rs"]
#[allow(dead_code)]
mod recommendation_service;

mod admin_cli;
mod algorithms;
mod audit;
mod auth;
mod avatars;
mod connections;
mod consumer;
mod discovery;
mod durability;
mod email;
mod email_limits;
mod enumeration;
mod errors;
mod events;
mod events_fanout;
mod export;
mod faults;
mod health;
mod images;
mod jwks;
mod live;
mod mail_sink;
mod metrics;
mod mfa;
mod migrations;
mod openapi;
mod outbox;
mod proxy;
mod refresh_cookie;
mod security;
mod security_review;
mod sessions;
mod throttling;
mod users;
