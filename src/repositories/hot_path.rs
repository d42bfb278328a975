//! The statements every busy request runs, gathered in one list so a test can ask each
//! database for their plans and refuse any that reads a whole table: a change that slips a
//! full scan into a hot path fails that test instead of slowing production down as it grows.

use super::postgres::statements as pg;
use super::sqlite::statements as sqlite;

/// The kind of value a statement's placeholder takes, so the test can bind a sample of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleBind {
    Uuid,
    /// A list of one UUID (Postgres arrays).
    UuidList,
    Text,
    /// A text that is NULL.
    NullText,
    Bytes,
    Int,
    Time,
}

/// A hot-path statement and the values its placeholders take, in order.
#[derive(Debug, Clone)]
pub struct HotStatement {
    pub name: &'static str,
    pub sql: &'static str,
    pub binds: &'static [SampleBind],
}

const fn hot(name: &'static str, sql: &'static str, binds: &'static [SampleBind]) -> HotStatement {
    HotStatement { name, sql, binds }
}

/// The hot-path statements of the backend called `backend` (`"sqlite"` or `"postgres"`).
#[doc(hidden)]
pub fn hot_path_statements(backend: &str) -> Vec<HotStatement> {
    use SampleBind::{Bytes, Int, NullText, Text, Time, Uuid, UuidList};
    if backend == "postgres" {
        vec![
            hot("authentication", pg::AUTHENTICATE, &[UuidList, UuidList]),
            hot("signin credentials by email", pg::CREDENTIALS_BY_EMAIL, &[Text]),
            hot("refresh token lookup", pg::FIND_REFRESH_TOKEN, &[Bytes]),
            hot("refresh token rotation", pg::ROTATE, &[Time, Bytes]),
            hot("users list page", pg::LIST, &[NullText, Uuid, Int]),
            hot("shared rate limit", pg::ACQUIRE, &[Text, Text, Int, Int]),
        ]
    } else {
        vec![
            hot("authentication", sqlite::batch_statement(1), &[Uuid, Uuid]),
            hot("signin credentials by email", sqlite::CREDENTIALS_BY_EMAIL, &[Text]),
            hot("refresh token lookup", sqlite::FIND_REFRESH_TOKEN, &[Bytes]),
            hot("refresh token rotation", sqlite::ROTATE, &[Time, Bytes]),
            hot("users list page", sqlite::LIST, &[NullText, Uuid, Int]),
        ]
    }
}
