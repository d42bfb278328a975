//! The second step of a signin: an opaque `mfa_token` (256 random bits, URL-safe, never a JWT)
//! handed out when the password was right, stored only as SHA-256, bound to the user, valid
//! five minutes, spent by the signin it completes and dead after five wrong codes.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::Duration;

use super::MfaService;
use crate::domain::{AuthEventKind, SecretHash, User};
use crate::repositories::NewChallenge;
use crate::services::{AccountError, ClientContext};

/// Marks Warren MFA tokens for secret scanners and humans.
const PREFIX: &str = "wmt_";
/// Base64url of 32 bytes, unpadded.
const ENCODED_LEN: usize = 43;
/// How long the second step may wait.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Wrong codes one `mfa_token` survives.
pub const MAX_WRONG_CODES: i64 = 5;

/// What the first step answers when a second factor is needed.
#[derive(Debug)]
pub struct MfaChallenge {
    pub mfa_token: String,
    /// Seconds the token stays valid.
    pub expires_in: u64,
}

/// A presented `mfa_token` of the issued shape, as stored.
fn parse(raw: &str) -> Option<SecretHash> {
    let body = raw.strip_prefix(PREFIX)?;
    let valid = body.len() == ENCODED_LEN
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| SecretHash::of(raw))
}

impl MfaService {
    /// Opens the second step for a user whose password was just checked.
    pub async fn challenge(
        &self,
        user: &User,
        client: &ClientContext,
    ) -> Result<MfaChallenge, AccountError> {
        let mut random = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(random.as_mut()).context("randomness for an mfa_token")?;
        let mfa_token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(random.as_ref()));
        let now = self.clock.now();
        let challenge = NewChallenge {
            hash: SecretHash::of(&mfa_token),
            user_id: user.id,
            created_at: now,
            expires_at: now + CHALLENGE_TTL,
        };
        self.repository.create_challenge(challenge).await?;
        self.audit.record(AuthEventKind::SigninMfaRequired, Some(user.id), None, client).await;
        let expires_in = CHALLENGE_TTL.whole_seconds().unsigned_abs();
        Ok(MfaChallenge { mfa_token, expires_in })
    }

    /// The active user a live `mfa_token` was issued to; `InvalidMfaToken` for anything else.
    pub async fn challenged_user(&self, token: &str) -> Result<(SecretHash, User), AccountError> {
        let hash = parse(token).ok_or(AccountError::InvalidMfaToken)?;
        let now = self.clock.now();
        let user = self.repository.find_challenge(&hash, now, MAX_WRONG_CODES).await?;
        let user = match user {
            Some(id) => self.users.find_by_id(id).await?,
            None => None,
        };
        let user = user.filter(|user| user.is_active && user.mfa_enabled);
        Ok((hash, user.ok_or(AccountError::InvalidMfaToken)?))
    }

    /// Counts a wrong code against the token; the fifth kills it.
    pub async fn wrong_code_for(&self, hash: &SecretHash) -> Result<(), AccountError> {
        Ok(self.repository.fail_challenge(hash).await?)
    }

    /// Spends the token for the signin it completes; racing completions get `InvalidMfaToken`.
    pub async fn spend(&self, hash: &SecretHash) -> Result<(), AccountError> {
        let now = self.clock.now();
        match self.repository.spend_challenge(hash, now, MAX_WRONG_CODES).await? {
            Some(_) => Ok(()),
            None => Err(AccountError::InvalidMfaToken),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_issued_shape_is_looked_up() {
        let valid = format!("wmt_{}", "A".repeat(43));
        assert_eq!(parse(&valid), Some(SecretHash::of(&valid)));
        for bad in
            ["", "wmt_", &format!("wmt_{}", "A".repeat(42)), &format!("wrt_{}", "A".repeat(43))]
        {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
