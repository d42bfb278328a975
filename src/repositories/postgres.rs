//! Postgres implementations of the repositories.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::portable::{portable_repositories, user_columns};
use super::portable_security::portable_security_repositories;
use super::{
    AuditRepository, AuthEventRow, Credentials, CredentialsRow, NewRefreshToken, NewSession,
    NewUserRecord, Pools, RefreshTokenRow, RefreshTokenState, RepoError, Rotation, SessionLiveness,
    SessionRepository, SessionRow, ThrottleRepository, UserChanges, UserRepository, UserRow,
    UserSessionRow, classify,
};
use crate::domain::{
    AuthEvent, EmailAddress, RefreshTokenHash, Session, SessionId, StoredHash, User, UserId,
};

portable_repositories!(PgUsers, PgSessions, sqlx::Postgres, "BEGIN");
portable_security_repositories!(PgAudit, PgThrottles, sqlx::Postgres);
