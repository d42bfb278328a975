//! Postgres implementations of the repositories.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::portable::{portable_repositories, user_columns};
use super::{
    Credentials, CredentialsRow, NewSession, NewUserRecord, RepoError, SessionRepository,
    UserChanges, UserRepository, UserRow, classify,
};
use crate::domain::{EmailAddress, SessionId, StoredHash, User, UserId};

portable_repositories!(PgUsers, PgSessions, PgPool);
