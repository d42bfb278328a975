//! `ChatService`: rooms, membership, messages and reactions. Membership gates everything
//! inside a room; every change is published to the room's sockets.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::cipher::MessageCipher;
use super::hub::{RoomEvent, RoomHub};
use super::names::fallback;
use super::views::{Message, Reaction, Room};
use crate::domain::{Emoji, MessageContent, RoomName, UserRef};
use crate::repositories::{RepoError, Repositories, StoredMessage, StoredTime};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("no such room or message")]
    NotFound,
    #[error("only members of the room may do this")]
    NotAMember,
    #[error("the message cannot be decrypted")]
    Undecryptable,
    #[error(transparent)]
    Storage(#[from] RepoError),
}

/// The most messages one history page holds.
pub const MAX_PAGE: i64 = 100;

pub struct ChatService {
    repos: Repositories,
    cipher: MessageCipher,
    pub hub: RoomHub,
}

impl ChatService {
    pub fn new(repos: Repositories, cipher: MessageCipher) -> Self {
        Self { repos, cipher, hub: RoomHub::default() }
    }

    pub async fn list_rooms(&self, viewer: Uuid) -> Result<Vec<Room>, ChatError> {
        Ok(self.repos.rooms.list(viewer).await?.into_iter().map(Room::from).collect())
    }

    pub async fn room(&self, room: Uuid, viewer: Uuid) -> Result<Room, ChatError> {
        self.repos.rooms.find(room, viewer).await?.map(Room::from).ok_or(ChatError::NotFound)
    }

    pub async fn create_room(&self, name: &RoomName, creator: Uuid) -> Result<Room, ChatError> {
        let id = Uuid::now_v7();
        self.repos.rooms.create(id, name, creator, OffsetDateTime::now_utc()).await?;
        self.room(id, creator).await
    }

    pub async fn join(&self, room: Uuid, user: &UserRef) -> Result<Room, ChatError> {
        self.room(room, user.id).await?;
        if self.repos.members.join(room, user.id, OffsetDateTime::now_utc()).await? {
            self.hub.publish(room, RoomEvent::MemberJoined { user: user.clone() });
        }
        self.room(room, user.id).await
    }

    pub async fn leave(&self, room: Uuid, user: &UserRef) -> Result<(), ChatError> {
        self.room(room, user.id).await?;
        if self.repos.members.leave(room, user.id).await? {
            self.hub.publish(room, RoomEvent::MemberLeft { user: user.clone() });
        }
        Ok(())
    }

    /// Unknown room → `NotFound`; known but not a member → `NotAMember`.
    pub async fn require_member(&self, room: Uuid, user: Uuid) -> Result<(), ChatError> {
        if self.repos.members.is_member(room, user).await? {
            return Ok(());
        }
        self.room(room, user).await?;
        Err(ChatError::NotAMember)
    }

    pub async fn send(
        &self,
        room: Uuid,
        sender: &UserRef,
        content: MessageContent,
    ) -> Result<Message, ChatError> {
        self.require_member(room, sender.id).await?;
        let id = Uuid::now_v7();
        let stored = StoredMessage {
            id,
            room_id: room,
            sender_id: sender.id,
            sender_name: Some(sender.name.clone()),
            sealed: self.cipher.seal(room, id, content.as_str()),
            created_at: StoredTime::now().get(),
        };
        self.repos.messages.insert(&stored).await?;
        // The message as stored, read back: the answer, every socket and every later history
        // page then show the same object, down to the sender's name and the timestamp.
        let stored = self.repos.messages.find(room, id).await?.ok_or(ChatError::NotFound)?;
        let message = self.open(stored, Vec::new())?;
        self.hub.publish(room, RoomEvent::Message { message: message.clone() });
        Ok(message)
    }

    /// Newest first. A message that fails to decrypt is logged and left out, never served.
    pub async fn history(
        &self,
        room: Uuid,
        viewer: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Message>, ChatError> {
        self.require_member(room, viewer).await?;
        if let Some(cursor) = before {
            self.repos.messages.find(room, cursor).await?.ok_or(ChatError::NotFound)?;
        }
        let stored =
            self.repos.messages.page_before(room, before, limit.clamp(1, MAX_PAGE)).await?;
        let (Some(newest), Some(oldest)) = (stored.first(), stored.last()) else {
            return Ok(Vec::new());
        };
        let mut reactions: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
        for count in self.repos.reactions.counts_between(room, oldest.id, newest.id, viewer).await?
        {
            reactions.entry(count.message_id).or_default().push(count.into());
        }
        Ok(stored
            .into_iter()
            .filter_map(|m| {
                let mine = reactions.remove(&m.id).unwrap_or_default();
                self.open(m, mine).ok()
            })
            .collect())
    }

    pub async fn mark_read(&self, room: Uuid, user: Uuid, message: Uuid) -> Result<(), ChatError> {
        self.require_member(room, user).await?;
        self.repos.messages.find(room, message).await?.ok_or(ChatError::NotFound)?;
        Ok(self.repos.members.mark_read(room, user, message).await?)
    }

    /// Adds (`add`) or removes a reaction, idempotently; returns the message as `user` sees it.
    pub async fn react(
        &self,
        room: Uuid,
        message: Uuid,
        user: &UserRef,
        emoji: &Emoji,
        add: bool,
    ) -> Result<Message, ChatError> {
        self.require_member(room, user.id).await?;
        self.repos.messages.find(room, message).await?.ok_or(ChatError::NotFound)?;
        let (changed, event) = if add {
            let now = OffsetDateTime::now_utc();
            let added = self.repos.reactions.add(message, user.id, emoji, now).await?;
            (
                added,
                RoomEvent::ReactionAdded {
                    message_id: message,
                    emoji: emoji.as_str().to_owned(),
                    user: user.clone(),
                },
            )
        } else {
            let removed = self.repos.reactions.remove(message, user.id, emoji).await?;
            (
                removed,
                RoomEvent::ReactionRemoved {
                    message_id: message,
                    emoji: emoji.as_str().to_owned(),
                    user: user.clone(),
                },
            )
        };
        if changed {
            self.hub.publish(room, event);
        }
        self.message(room, message, user.id).await
    }

    async fn message(&self, room: Uuid, message: Uuid, viewer: Uuid) -> Result<Message, ChatError> {
        let stored = self.repos.messages.find(room, message).await?.ok_or(ChatError::NotFound)?;
        let reactions = self.repos.reactions.counts_between(room, message, message, viewer).await?;
        self.open(stored, reactions.into_iter().map(Reaction::from).collect())
    }

    fn open(&self, stored: StoredMessage, reactions: Vec<Reaction>) -> Result<Message, ChatError> {
        let content = self.cipher.open(stored.room_id, stored.id, &stored.sealed).map_err(|error| {
            tracing::error!(message_id = %stored.id, room_id = %stored.room_id, %error, "message not served");
            ChatError::Undecryptable
        })?;
        let name = stored.sender_name.unwrap_or_else(|| fallback(stored.sender_id));
        Ok(Message {
            id: stored.id,
            room_id: stored.room_id,
            sender: UserRef { id: stored.sender_id, name },
            content,
            created_at: stored.created_at,
            reactions,
        })
    }
}
