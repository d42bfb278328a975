//! Version 1 of the API.

pub mod endpoints;
pub mod schemas;
