//! `warren-chat`: a chat service that keeps no passwords. It trusts Warren's access tokens,
//! verified offline by `warren-verifier`, and stores rooms and encrypted messages in its own
//! database (SQLite by default, Postgres when `database.url` says so).
#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod domain;
pub mod repositories;
pub mod services;
pub mod startup;
