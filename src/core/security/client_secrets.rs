//! Service clients' secrets: 256 random bits, shown once, stored as HMAC-SHA256 under a key
//! derived from the MFA key. With that much entropy a keyed fast hash is as strong as a slow
//! password hash, and every token request stays cheap; a database dump alone lets nobody test
//! guesses. Comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::domain::{ClientId, SecretHash};

/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// A freshly generated secret, as handed to the operator once.
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; SECRET_BYTES]);
        getrandom::fill(bytes.as_mut())?;
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes.as_ref()))))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

/// Hashes and checks client secrets under one key.
pub struct ClientSecrets {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for ClientSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecrets(..)")
    }
}

impl ClientSecrets {
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { key }
    }

    fn mac(&self, client: ClientId, secret: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .expect("HMAC takes a key of any length");
        // The client id is bound in, so a hash copied to another client's row does not work.
        mac.update(client.as_uuid().as_bytes());
        mac.update(secret.as_bytes());
        mac
    }

    /// What the secret of `client` is stored as.
    pub fn hash(&self, client: ClientId, secret: &str) -> SecretHash {
        SecretHash::from_bytes(self.mac(client, secret).finalize().into_bytes().into())
    }

    /// Whether `secret` is the one stored as `stored`, compared in constant time.
    pub fn verify(&self, client: ClientId, secret: &str, stored: &SecretHash) -> bool {
        self.mac(client, secret).verify_slice(stored.as_bytes()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_only_for_its_client_and_key() {
        let secrets = ClientSecrets::new(Zeroizing::new([1; 32]));
        let (client, other) = (ClientId::generate(), ClientId::generate());
        let secret = ClientSecret::generate().expect("randomness");
        assert_eq!(secret.expose().len(), 43, "256 bits in unpadded base64url");
        let stored = secrets.hash(client, secret.expose());

        assert!(secrets.verify(client, secret.expose(), &stored));
        assert!(!secrets.verify(other, secret.expose(), &stored));
        assert!(!secrets.verify(client, "wrong", &stored));
        let other_key = ClientSecrets::new(Zeroizing::new([2; 32]));
        assert!(!other_key.verify(client, secret.expose(), &stored));
    }
}
