//! `RepoError`, and the classification of driver errors into it.

/// How a storage call failed, as the services need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint decided against the write (e.g. the email is taken).
    #[error("a unique constraint rejected the write")]
    Conflict,
    /// The row the write refers to no longer exists (e.g. the user was deleted meanwhile).
    #[error("the referenced row no longer exists")]
    Gone,
    /// The database is unreachable, busy, full or out of connections: worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database did not answer within the call's time budget.
    #[error("the database did not answer in time")]
    TimedOut,
    /// A stored row no longer parses into a domain value.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

impl RepoError {
    /// Whether the database is at fault for now (answer 503 and retry), not the request.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::TimedOut)
    }

    /// The same kind of error, for another caller of one failed batched query (driver errors
    /// cannot be cloned; their message is kept).
    pub(super) fn for_another_caller(&self) -> Self {
        match self {
            Self::Conflict => Self::Conflict,
            Self::Gone => Self::Gone,
            Self::TimedOut => Self::TimedOut,
            Self::Corrupt(what) => Self::Corrupt(what.clone()),
            Self::Unavailable(error) => {
                Self::Unavailable(sqlx::Error::Io(std::io::Error::other(error.to_string())))
            }
            Self::Other(error) => Self::Other(sqlx::Error::Protocol(error.to_string())),
        }
    }
}

/// Classifies a driver error: constraint conflicts and transient unavailability are answered
/// differently from genuine bugs.
pub(super) fn classify(error: sqlx::Error) -> RepoError {
    match &error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => RepoError::Unavailable(error),
        sqlx::Error::Database(db) if db.is_unique_violation() => RepoError::Conflict,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => RepoError::Gone,
        sqlx::Error::Database(db) if is_transient(db.as_ref()) => RepoError::Unavailable(error),
        _ => RepoError::Other(error),
    }
}

fn is_transient(error: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    if error.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i32>().is_ok_and(is_transient_sqlite_code)
    } else {
        is_transient_sqlstate(&code)
    }
}

/// SQLite primary result codes BUSY (5), LOCKED (6), IOERR (10), FULL (13) and CANTOPEN (14),
/// including their extended forms (the primary code is the low byte).
fn is_transient_sqlite_code(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)
}

/// Postgres classes 08 (connection), 53 (resources), 57P (shutdown) and 40 (retry the
/// transaction: serialisation failure, deadlock).
fn is_transient_sqlstate(code: &str) -> bool {
    ["08", "53", "57P", "40"].iter().any(|class| code.starts_with(class))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_database_codes_are_recognised() {
        for code in [5, 261, 6, 13, 10, 3338, 14] {
            assert!(is_transient_sqlite_code(code), "{code}");
        }
        for code in [2067, 19, 1, 787] {
            assert!(!is_transient_sqlite_code(code), "{code}");
        }
        for code in ["08006", "53300", "57P01", "40001", "40P01"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22021", "23503"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
