//! Avatars: an upload is checked and re-encoded off the async runtime, then replaces the
//! user's avatar in one transaction; removal likewise. Both tell the user's live sockets.

mod container;
mod image;
mod pool;

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub use self::image::{InvalidImage, ProcessedImage, process};
pub use pool::ImagePool;

use super::events::{AccountEvent, Events};
use crate::core::clock::Clock;
use crate::domain::{User, UserId};
use crate::repositories::{AvatarRepository, NewAvatar, RepoError, StoredAvatar};

/// Random bytes in an avatar's name: 128 bits, beyond guessing.
const NAME_RANDOM_BYTES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error(transparent)]
    InvalidImage(#[from] InvalidImage),
    /// The account went away while the upload was processed.
    #[error("the account no longer exists")]
    Unauthenticated,
    #[error("the database is unavailable")]
    Unavailable(#[source] RepoError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<RepoError> for AvatarError {
    fn from(error: RepoError) -> Self {
        if error.is_transient() {
            Self::Unavailable(error)
        } else {
            Self::Internal(anyhow::Error::new(error).context("avatar storage"))
        }
    }
}

#[derive(Debug)]
pub struct AvatarService {
    avatars: Arc<dyn AvatarRepository>,
    pool: ImagePool,
    size: u32,
    events: Arc<Events>,
    clock: Arc<dyn Clock>,
}

impl AvatarService {
    pub fn new(
        avatars: Arc<dyn AvatarRepository>,
        pool: ImagePool,
        size: u32,
        events: Arc<Events>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { avatars, pool, size, events, clock }
    }

    /// Replaces the user's avatar with `upload`, once it proved to be an acceptable image. A
    /// refused upload changes nothing.
    pub async fn upload(&self, user: UserId, upload: Vec<u8>) -> Result<User, AvatarError> {
        let size = self.size;
        let image = self.pool.run(move || decode_safely(&upload, size)).await??;
        let avatar = NewAvatar {
            name: new_name()?,
            content_type: image.content_type.to_owned(),
            etag: etag(&image.bytes),
            bytes: image.bytes,
        };
        let user = self.avatars.replace(user, avatar, self.clock.now()).await?;
        let user = user.ok_or(AvatarError::Unauthenticated)?;
        self.events.publish(AccountEvent::AvatarChanged, user.id).await;
        Ok(user)
    }

    /// Removes the user's avatar; its URL answers 404 from now on.
    pub async fn remove(&self, user: UserId) -> Result<(), AvatarError> {
        let user = self.avatars.remove(user, self.clock.now()).await?;
        let user = user.ok_or(AvatarError::Unauthenticated)?;
        self.events.publish(AccountEvent::AvatarChanged, user.id).await;
        Ok(())
    }

    /// The avatar currently called `name`. Names this service cannot have made are not looked
    /// up at all, so a path like `../x` never reaches the database.
    pub async fn find(&self, name: &str) -> Result<Option<StoredAvatar>, AvatarError> {
        if !is_well_formed_name(name) {
            return Ok(None);
        }
        Ok(self.avatars.find(name).await?)
    }
}

/// [`process`], with a decoder panic on hostile input counted as an invalid image, not a 500.
fn decode_safely(upload: &[u8], size: u32) -> Result<ProcessedImage, InvalidImage> {
    std::panic::catch_unwind(|| process(upload, size))
        .unwrap_or(Err(InvalidImage("the image could not be decoded")))
}

/// `<22 URL-safe base64 characters>.png`.
fn new_name() -> Result<String, AvatarError> {
    let mut random = [0u8; NAME_RANDOM_BYTES];
    getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("random avatar name: {e}"))?;
    Ok(format!("{}.png", URL_SAFE_NO_PAD.encode(random)))
}

fn is_well_formed_name(name: &str) -> bool {
    name.strip_suffix(".png").is_some_and(|stem| {
        stem.len() == 22 && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    })
}

/// A strong validator: the bytes' digest, quoted.
fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_well_formed_and_distinct() {
        let (a, b) = (new_name().expect("random"), new_name().expect("random"));
        assert!(is_well_formed_name(&a), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn names_outside_the_generated_shape_are_not_looked_up() {
        for name in [
            "",
            "x.png",
            "../../etc/passwd",
            "AAAAAAAAAAAAAAAAAAAAAA.svg",
            "AAAAAAAAAAAAAAAAAAAA/A.png",
        ] {
            assert!(!is_well_formed_name(name), "{name}");
        }
        assert!(is_well_formed_name("AAAAAAAAAAAAAAAAAAA-_A.png"));
    }
}
