//! Message bodies at rest: XChaCha20-Poly1305 with a random 192-bit nonce per message, the key
//! id stored beside the ciphertext (so keys rotate), and associated data binding the room and
//! message ids (so a ciphertext copied to another row or room fails to open).

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use uuid::Uuid;

use crate::config::EncryptionSettings;

/// A sealed message body as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("encryption key {0:?} is not base64 of exactly 32 bytes")]
    BadKey(String),
    #[error("encryption.current_key {0:?} is not among encryption.keys")]
    UnknownCurrentKey(String),
    #[error("no encryption key is configured (encryption.keys and encryption.current_key)")]
    NoKey,
    #[error("could not create the development key: {0}")]
    DevelopmentKey(String),
    #[error("message was sealed with unknown key {0:?}")]
    UnknownKey(String),
    #[error("message failed authentication: tampered, moved, or sealed with another key")]
    Tampered,
}

pub struct MessageCipher {
    keys: HashMap<String, XChaCha20Poly1305>,
    current: String,
}

impl std::fmt::Debug for MessageCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCipher").field("current", &self.current).finish_non_exhaustive()
    }
}

const DEVELOPMENT_KEY_ID: &str = "dev-1";

impl MessageCipher {
    /// The configured keys; in development with none configured, a key generated once into
    /// `data_dir/encryption.key` and reused on later starts.
    pub fn from_settings(
        settings: &EncryptionSettings,
        data_dir: &Path,
        development: bool,
    ) -> Result<Self, CipherError> {
        if settings.keys.is_empty() && development {
            let key = development_key(data_dir)?;
            return Self::new([(DEVELOPMENT_KEY_ID.to_owned(), key)], DEVELOPMENT_KEY_ID);
        }
        let current = settings.current_key.clone().ok_or(CipherError::NoKey)?;
        Self::new(settings.keys.iter().map(|(id, key)| (id.clone(), key.clone())), &current)
    }

    pub fn new(
        keys: impl IntoIterator<Item = (String, String)>,
        current: &str,
    ) -> Result<Self, CipherError> {
        let mut ciphers = HashMap::new();
        for (id, encoded) in keys {
            let bytes =
                STANDARD.decode(encoded.trim()).map_err(|_| CipherError::BadKey(id.clone()))?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| CipherError::BadKey(id.clone()))?;
            ciphers.insert(id, XChaCha20Poly1305::new(&Key::from(key)));
        }
        if !ciphers.contains_key(current) {
            return Err(CipherError::UnknownCurrentKey(current.to_owned()));
        }
        Ok(Self { keys: ciphers, current: current.to_owned() })
    }

    pub fn seal(&self, room: Uuid, message: Uuid, plaintext: &str) -> Sealed {
        let cipher = &self.keys[&self.current];
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let aad = associated_data(room, message);
        let payload = Payload { msg: plaintext.as_bytes(), aad: &aad };
        let ciphertext = cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("encryption of an in-memory buffer cannot fail");
        Sealed { key_id: self.current.clone(), nonce: nonce.to_vec(), ciphertext }
    }

    pub fn open(&self, room: Uuid, message: Uuid, sealed: &Sealed) -> Result<String, CipherError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| CipherError::UnknownKey(sealed.key_id.clone()))?;
        let nonce: [u8; 24] =
            sealed.nonce.as_slice().try_into().map_err(|_| CipherError::Tampered)?;
        let aad = associated_data(room, message);
        let payload = Payload { msg: &sealed.ciphertext, aad: &aad };
        let plaintext =
            cipher.decrypt(&XNonce::from(nonce), payload).map_err(|_| CipherError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| CipherError::Tampered)
    }
}

fn associated_data(room: Uuid, message: Uuid) -> Vec<u8> {
    let mut aad = b"warren-chat/v1".to_vec();
    aad.extend_from_slice(room.as_bytes());
    aad.extend_from_slice(message.as_bytes());
    aad
}

/// Reads, or creates on first start, the development key file (base64, owner-only).
fn development_key(data_dir: &Path) -> Result<String, CipherError> {
    let path = data_dir.join("encryption.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    let failed = |e: std::io::Error| CipherError::DevelopmentKey(e.to_string());
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| CipherError::DevelopmentKey(e.to_string()))?;
    let encoded = STANDARD.encode(key);
    std::fs::create_dir_all(data_dir).map_err(failed)?;
    std::fs::write(&path, &encoded).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
    }
    tracing::info!(path = %path.display(), "generated a development message-encryption key");
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(current: &str) -> MessageCipher {
        let keys = [("a", [1u8; 32]), ("b", [2u8; 32])];
        MessageCipher::new(keys.map(|(id, k)| (id.to_owned(), STANDARD.encode(k))), current)
            .expect("valid keys")
    }

    #[test]
    fn a_sealed_message_opens_only_in_its_own_room_and_row() {
        let (room, message) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = cipher("a").seal(room, message, "hello burrow");
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("hello"));
        assert_eq!(cipher("a").open(room, message, &sealed).expect("opens"), "hello burrow");
        assert!(matches!(
            cipher("a").open(Uuid::now_v7(), message, &sealed),
            Err(CipherError::Tampered)
        ));
        assert!(matches!(
            cipher("a").open(room, Uuid::now_v7(), &sealed),
            Err(CipherError::Tampered)
        ));
        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        assert!(matches!(cipher("a").open(room, message, &flipped), Err(CipherError::Tampered)));
    }

    #[test]
    fn keys_rotate_old_messages_still_open() {
        let (room, message) = (Uuid::now_v7(), Uuid::now_v7());
        let old = cipher("a").seal(room, message, "before rotation");
        assert_eq!(cipher("b").open(room, message, &old).expect("old key kept"), "before rotation");
        assert_eq!(cipher("b").seal(room, message, "x").key_id, "b");
    }

    #[test]
    fn bad_key_material_is_refused() {
        let short = MessageCipher::new([("k".to_owned(), STANDARD.encode([0u8; 16]))], "k");
        assert!(matches!(short, Err(CipherError::BadKey(_))));
        let missing = MessageCipher::new([("k".to_owned(), STANDARD.encode([0u8; 32]))], "other");
        assert!(matches!(missing, Err(CipherError::UnknownCurrentKey(_))));
    }
}
