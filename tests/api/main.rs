//! Integration tests: the production application over real HTTP, each test on SQLite and on
//! Postgres (see `helpers::both_backends!`).

mod helpers;

mod auth;
mod errors;
mod health;
mod jwks;
mod migrations;
mod users;
