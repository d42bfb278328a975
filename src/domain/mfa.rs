//! Second factors: what a submitted code is, recovery codes, and how a session was
//! authenticated (`amr`).

use sha2::{Digest, Sha256};

/// How the signin that opened a session was authenticated (RFC 8176 `amr` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amr {
    /// The password alone.
    Password,
    /// The password and then a TOTP code or a recovery code.
    PasswordAndOtp,
}

impl Amr {
    /// The stored form, one column per session.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::PasswordAndOtp => "pwd otp",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Password, Self::PasswordAndOtp].into_iter().find(|amr| amr.as_str() == stored)
    }

    /// The stored value read back; an unreadable one claims the weaker method, never the
    /// stronger.
    pub fn from_stored(stored: &str) -> Self {
        Self::parse(stored).unwrap_or(Self::Password)
    }

    /// The `amr` claim of an access token.
    pub fn methods(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"],
            Self::PasswordAndOtp => &["pwd", "otp"],
        }
    }
}

/// The SHA-256 of a high-entropy secret (a recovery code, an `mfa_token`): all that is stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// Crockford's base32 alphabet, lowercase: no `i`, `l`, `o` or `u` to misread.
pub const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters of a recovery code: 120 random bits. A lookup secret needs at least 112 bits to
/// be stored with a fast (keyed) hash rather than a slow password hash.
pub const RECOVERY_CODE_LEN: usize = 24;
/// Characters of the codes issued before: 60 bits, stored as plain SHA-256. They keep working
/// once each until the account regenerates its codes.
const LEGACY_CODE_LEN: usize = 12;
/// Longest input looked at as a code at all; anything longer is malformed.
const MAX_CODE_INPUT: usize = 64;

/// A recovery code in canonical form (24 characters of [`RECOVERY_ALPHABET`], or 12 for a
/// legacy code). Shown to the user in groups of four joined by dashes; typed back with or
/// without dashes and spaces, in any case.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    /// A code from 24 random alphabet indices (the caller draws them from a CSPRNG).
    pub fn from_random(random: &[u8; RECOVERY_CODE_LEN]) -> Self {
        let code = random.iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]));
        Self(code.collect())
    }

    /// Accepts what a person may type: dashes and spaces dropped, case ignored, and Crockford's
    /// look-alikes (`o` for `0`, `i`/`l` for `1`) read as meant.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut code = String::with_capacity(RECOVERY_CODE_LEN);
        for character in raw.chars().filter(|c| *c != '-' && *c != ' ') {
            let character = match character.to_ascii_lowercase() {
                'o' => '0',
                'i' | 'l' => '1',
                other => other,
            };
            if !character.is_ascii() || !RECOVERY_ALPHABET.contains(&(character as u8)) {
                return None;
            }
            code.push(character);
        }
        [RECOVERY_CODE_LEN, LEGACY_CODE_LEN].contains(&code.len()).then_some(Self(code))
    }

    /// The canonical characters, for the keyed hash they are stored under.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A 60-bit code from before codes grew, stored as plain SHA-256 (see [`Self::legacy_hash`]).
    pub fn is_legacy(&self) -> bool {
        self.0.len() == LEGACY_CODE_LEN
    }

    /// How a legacy code was stored.
    pub fn legacy_hash(&self) -> SecretHash {
        SecretHash::of(&self.0)
    }

    /// `xxxx-xxxx-…`, as handed to the user.
    pub fn display(&self) -> String {
        let mut shown = String::with_capacity(self.0.len() + self.0.len() / 4);
        for (index, character) in self.0.chars().enumerate() {
            if index > 0 && index % 4 == 0 {
                shown.push('-');
            }
            shown.push(character);
        }
        shown
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

/// A submitted second-factor code: six digits are a TOTP code, anything of a recovery code's
/// shape a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(RecoveryCode),
}

impl SecondFactor {
    /// `None` for anything that is neither (the caller answers it like a wrong code).
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > MAX_CODE_INPUT {
            return None;
        }
        let trimmed = raw.trim();
        if trimmed.len() == 6 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Totp(trimmed.to_owned()));
        }
        RecoveryCode::parse(trimmed).map(Self::Recovery)
    }

    /// Only a TOTP code (confirming an enrolment, where no recovery code exists yet).
    pub fn parse_totp(raw: &str) -> Option<String> {
        match Self::parse(raw)? {
            Self::Totp(code) => Some(code),
            Self::Recovery(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_round_trips_and_lists_its_methods() {
        for amr in [Amr::Password, Amr::PasswordAndOtp] {
            assert_eq!(Amr::parse(amr.as_str()), Some(amr));
        }
        assert_eq!(Amr::parse("otp"), None);
        assert_eq!(Amr::PasswordAndOtp.methods(), ["pwd", "otp"]);
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let random: [u8; RECOVERY_CODE_LEN] = std::array::from_fn(|i| [0, 1, 2, 3, 31, 30][i % 6]);
        let code = RecoveryCode::from_random(&random);
        assert_eq!(code.display(), "0123-zy01-23zy-0123-zy01-23zy");
        assert!(!code.is_legacy());
        for typed in [
            "0123-zy01-23zy-0123-zy01-23zy",
            "0123zy0123zy0123zy0123zy",
            "O123 ZY01 23ZY O123 ZY01 23ZY",
        ] {
            assert_eq!(RecoveryCode::parse(typed).as_ref(), Some(&code), "{typed}");
        }
        assert_eq!(RecoveryCode::parse("l123-zyxw-abcd"), RecoveryCode::parse("1123zyxwabcd"));
    }

    #[test]
    fn codes_of_the_earlier_twelve_character_shape_still_read_as_legacy_codes() {
        let legacy = RecoveryCode::parse("0123-zyxw-abcd").expect("a legacy code");
        assert!(legacy.is_legacy());
        assert_eq!(legacy.legacy_hash(), SecretHash::of("0123zyxwabcd"));
        assert_eq!(RecoveryCode::parse(&"0".repeat(18)), None, "neither length");
    }

    #[test]
    fn malformed_codes_are_neither_kind() {
        for bad in ["", "12345", "1234567", "12345a", "0123-zyxw-abc", "0123-zyxw-abcdu", "é"] {
            assert_eq!(SecondFactor::parse(bad), None, "{bad:?}");
        }
        for bad in ["0123-zyxw-abcd-0123-zyxw-abc", "0123-zyxw-abcd-0123-zyxw-abcdu"] {
            assert_eq!(SecondFactor::parse(bad), None, "{bad:?}");
        }
        assert_eq!(SecondFactor::parse(&"1".repeat(100)), None);
        assert_eq!(SecondFactor::parse(" 123456 "), Some(SecondFactor::Totp("123456".into())));
        assert_eq!(SecondFactor::parse_totp("0123-zyxw-abcd"), None);
    }
}
