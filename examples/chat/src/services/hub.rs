//! Live room events: one broadcast channel per room with open sockets, and the typing throttle.
//! Events live in this process only; the chat service runs as a single instance.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::views::Message;
use crate::domain::UserRef;

/// A room event as sent to sockets (`type` plus its fields; the socket adds `at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomEvent {
    Message { message: Message },
    Typing { user: UserRef },
    ReactionAdded { message_id: Uuid, emoji: String, user: UserRef },
    ReactionRemoved { message_id: Uuid, emoji: String, user: UserRef },
    MemberJoined { user: UserRef },
    MemberLeft { user: UserRef },
}

/// How many events a slow socket may lag behind before it misses some.
const ROOM_BUFFER: usize = 256;
/// At most one `typing` per user and room in this interval.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct RoomHub {
    rooms: Mutex<HashMap<Uuid, broadcast::Sender<RoomEvent>>>,
    last_typing: Mutex<HashMap<(Uuid, Uuid), Instant>>,
}

impl RoomHub {
    pub fn subscribe(&self, room: Uuid) -> broadcast::Receiver<RoomEvent> {
        let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        rooms.entry(room).or_insert_with(|| broadcast::channel(ROOM_BUFFER).0).subscribe()
    }

    /// Sends to every socket of the room; forgets rooms nobody listens to any more.
    pub fn publish(&self, room: Uuid, event: RoomEvent) {
        let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = rooms.get(&room)
            && sender.send(event).is_err()
        {
            rooms.remove(&room);
        }
    }

    /// Whether `user` may announce typing in `room` now; records it when so.
    pub fn allow_typing(&self, room: Uuid, user: Uuid) -> bool {
        let now = Instant::now();
        let mut last = self.last_typing.lock().unwrap_or_else(PoisonError::into_inner);
        if last.get(&(room, user)).is_some_and(|at| now.duration_since(*at) < TYPING_INTERVAL) {
            return false;
        }
        // Bounded: entries older than the interval carry no information.
        if last.len() > 10_000 {
            last.retain(|_, at| now.duration_since(*at) < TYPING_INTERVAL);
        }
        last.insert((room, user), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_is_throttled_per_user_and_room() {
        let hub = RoomHub::default();
        let (room, ada, bob) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(hub.allow_typing(room, ada));
        assert!(!hub.allow_typing(room, ada), "second within 2 s is dropped");
        assert!(hub.allow_typing(room, bob), "other users are not affected");
        assert!(hub.allow_typing(Uuid::now_v7(), ada), "other rooms are not affected");
    }

    #[test]
    fn subscribers_receive_published_events() {
        let hub = RoomHub::default();
        let room = Uuid::now_v7();
        let mut receiver = hub.subscribe(room);
        let user = UserRef { id: Uuid::now_v7(), name: "Ada".into() };
        hub.publish(room, RoomEvent::MemberJoined { user: user.clone() });
        assert_eq!(receiver.try_recv().expect("event"), RoomEvent::MemberJoined { user });
    }
}
