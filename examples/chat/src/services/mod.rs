//! Business rules, free of HTTP: the chat service, message encryption, live events, names.

pub mod chat;
pub mod cipher;
pub mod hub;
pub mod names;
pub mod views;

pub use chat::{ChatError, ChatService};
