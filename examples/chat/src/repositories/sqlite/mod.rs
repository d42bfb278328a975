//! SQLite: ids are 16-byte blobs, times `StoredTime` text with six fractional digits (so text
//! order is time order), booleans computed in SQL come back as integers.

mod members;
mod messages;
mod names;
mod reactions;
mod rooms;

use std::sync::Arc;

use sqlx::SqlitePool;

use super::Repositories;

pub fn repositories(pool: &SqlitePool) -> Repositories {
    Repositories {
        rooms: Arc::new(rooms::SqliteRooms::new(pool.clone())),
        members: Arc::new(members::SqliteMembers::new(pool.clone())),
        messages: Arc::new(messages::SqliteMessages::new(pool.clone())),
        reactions: Arc::new(reactions::SqliteReactions::new(pool.clone())),
        names: Arc::new(names::SqliteNames::new(pool.clone())),
    }
}
