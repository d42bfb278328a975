//! Chat integration tests: a real Warren and the real chat service, each on port 0, talking
//! over HTTP and WebSocket; storage tests run on SQLite and Postgres (`both_backends!`).

mod sockets;
mod support;

mod cli;
mod display_names;
mod live;
mod messages;
mod origins;
mod rooms;
mod security;
mod service;
mod stored_times;
