//! Postgres: ids are `UUID` (compared bytewise, so v7 order is time order), times
//! `TIMESTAMPTZ` holding the whole microseconds `StoredTime` writes.

mod members;
mod messages;
mod names;
mod reactions;
mod rooms;

use std::sync::Arc;

use sqlx::PgPool;

use super::Repositories;

pub fn repositories(pool: &PgPool) -> Repositories {
    Repositories {
        rooms: Arc::new(rooms::PgRooms::new(pool.clone())),
        members: Arc::new(members::PgMembers::new(pool.clone())),
        messages: Arc::new(messages::PgMessages::new(pool.clone())),
        reactions: Arc::new(reactions::PgReactions::new(pool.clone())),
        names: Arc::new(names::PgNames::new(pool.clone())),
    }
}
