//! Postgres: `rooms`, with each viewer's member and unread counts.

use async_trait::async_trait;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::RoomName;
use crate::repositories::{RepoError, RoomRecord, RoomRepository, StoredTime, parse_room_name};

// Both statements return a room with the viewer's counts; `$1` is the viewer. Unread are the
// messages by others after the viewer's read marker, counted only when the viewer is a member.

const LIST_ROOMS: &str = "
    SELECT r.id, r.name, r.created_at,
           (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
           (SELECT COUNT(*)
            FROM messages g
            JOIN members me ON me.room_id = g.room_id AND me.user_id = $1
            WHERE g.room_id = r.id
              AND g.sender_id <> $1
              AND (me.last_read_message_id IS NULL OR g.id > me.last_read_message_id)
           ) AS unread_count
    FROM rooms r
    ORDER BY r.created_at, r.id";

const FIND_ROOM: &str = "
    SELECT r.id, r.name, r.created_at,
           (SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) AS member_count,
           (SELECT COUNT(*)
            FROM messages g
            JOIN members me ON me.room_id = g.room_id AND me.user_id = $1
            WHERE g.room_id = r.id
              AND g.sender_id <> $1
              AND (me.last_read_message_id IS NULL OR g.id > me.last_read_message_id)
           ) AS unread_count
    FROM rooms r
    WHERE r.id = $2";

#[derive(sqlx::FromRow)]
struct RoomRow {
    id: Uuid,
    name: String,
    created_at: OffsetDateTime,
    member_count: i64,
    unread_count: i64,
}

impl TryFrom<RoomRow> for RoomRecord {
    type Error = RepoError;

    fn try_from(row: RoomRow) -> Result<Self, RepoError> {
        Ok(Self {
            id: row.id,
            name: parse_room_name(&row.name)?,
            created_at: row.created_at,
            member_count: row.member_count,
            unread_count: row.unread_count,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PgRooms {
    pool: PgPool,
}

impl PgRooms {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl RoomRepository for PgRooms {
    #[tracing::instrument(skip_all)]
    async fn list(&self, viewer: Uuid) -> Result<Vec<RoomRecord>, RepoError> {
        let rows: Vec<RoomRow> =
            sqlx::query_as(LIST_ROOMS).bind(viewer).fetch_all(&self.pool).await?;
        rows.into_iter().map(RoomRecord::try_from).collect()
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, room: Uuid, viewer: Uuid) -> Result<Option<RoomRecord>, RepoError> {
        let row: Option<RoomRow> =
            sqlx::query_as(FIND_ROOM).bind(viewer).bind(room).fetch_optional(&self.pool).await?;
        row.map(RoomRecord::try_from).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn create(
        &self,
        room: Uuid,
        name: &RoomName,
        creator: Uuid,
        now: OffsetDateTime,
    ) -> Result<(), RepoError> {
        let now = StoredTime::new(now);
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO rooms (id, name, created_by, created_at) VALUES ($1, $2, $3, $4)")
            .bind(room)
            .bind(name.as_str())
            .bind(creator)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO members (room_id, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(room)
            .bind(creator)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        Ok(tx.commit().await?)
    }
}
