//! Request and response bodies of API v1, and their conversion into domain values. Input
//! crosses the edge here, once; services only ever see parsed domain types.

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::{
    CandidatePassword, EmailAddress, FullName, Password, PasswordPolicy, User, ValidationErrors,
};
use crate::services::{
    CredentialsChange, MfaChallenge, NewAccount, ProfileUpdate, SessionView, SignInOutcome,
    SignedIn,
};

/// A new account. The email is canonicalised (trimmed, NFC, lowercased, IDNA domain); the
/// password is NFKC-normalised and must be 12..=128 characters, not common, and must not
/// contain the email's local part; `full_name` is trimmed to 1..=100 characters.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "full_name": "Ada Lovelace"}))]
pub struct SignupRequest {
    #[schema(format = Email)]
    pub email: String,
    pub password: String,
    /// Optional; blank (empty or only whitespace) is refused, `null` is the same as absent.
    // The pattern states the refusal of blank names: a document that allows them has clients and
    // fuzzers send them as valid, and a fuzzer that reads "must not be blank" in the 422 then
    // takes the optional field for a required one.
    #[serde(default)]
    #[schema(pattern = r"\S")]
    pub full_name: Option<String>,
}

impl SignupRequest {
    pub fn parse(self, policy: PasswordPolicy) -> Result<NewAccount, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", EmailAddress::parse(&self.email));
        let password =
            errors.check("password", Password::parse(&self.password, policy, email.as_ref()));
        let full_name = self.full_name.map(|raw| errors.check("full_name", FullName::parse(&raw)));
        match (email, password, full_name) {
            (Some(email), Some(password), None) => {
                Ok(NewAccount { email, password, full_name: None })
            }
            (Some(email), Some(password), Some(Some(name))) => {
                Ok(NewAccount { email, password, full_name: Some(name) })
            }
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct SigninRequest {
    #[schema(format = Email)]
    pub email: String,
    pub password: String,
}

impl SigninRequest {
    pub fn parse(self) -> Result<(EmailAddress, CandidatePassword), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", EmailAddress::parse(&self.email));
        if self.password.is_empty() {
            errors.add("password", "required", "password must not be empty");
        }
        match email {
            Some(email) if errors.is_empty() => Ok((email, CandidatePassword::new(&self.password))),
            _ => Err(errors),
        }
    }
}

/// `PATCH /users/me`. Absent fields stay as they are; `full_name: null` clears the name.
/// `Option<Option<_>>` is deliberate: absent (`None`) and `null` (`Some(None)`) differ.
#[allow(clippy::option_option)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Ada King", "email": "countess@example.com", "current_password": "correct horse battery"}))]
pub struct UpdateMeRequest {
    /// `null` clears the name; blank (empty or only whitespace) is refused.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = r"\S")]
    pub full_name: Option<Option<String>>,
    /// Requires `current_password`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, format = Email)]
    pub email: Option<Option<String>>,
    /// Requires `current_password`; ends every other session and every earlier access token.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String)]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String)]
    pub current_password: Option<Option<String>>,
}

impl UpdateMeRequest {
    /// `current_email` is the account's email, which a new password must not contain unless
    /// the email changes in the same request.
    pub fn parse(
        self,
        policy: PasswordPolicy,
        current_email: &EmailAddress,
    ) -> Result<ProfileUpdate, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let full_name = self
            .full_name
            .map(|name| name.and_then(|raw| errors.check("full_name", FullName::parse(&raw))));
        let email = not_null(&mut errors, "email", self.email)
            .and_then(|raw| errors.check("email", EmailAddress::parse(&raw)));
        let password = not_null(&mut errors, "password", self.password).and_then(|raw| {
            let email = email.as_ref().unwrap_or(current_email);
            errors.check("password", Password::parse(&raw, policy, Some(email)))
        });
        let current_password = not_null(&mut errors, "current_password", self.current_password)
            .map(|raw| CandidatePassword::new(&raw));
        let changes_credentials = email.is_some() || password.is_some();
        let credentials = match (changes_credentials, current_password) {
            (false, _) => None,
            (true, Some(current_password)) => {
                Some(CredentialsChange { email, password, current_password })
            }
            (true, None) => {
                errors.add(
                    "current_password",
                    "required",
                    "current_password is required to change email or password",
                );
                None
            }
        };
        errors.into_result(|| ProfileUpdate { full_name, credentials })
    }
}

/// `POST /auth/refresh` and `POST /auth/signout`. A browser in cookie mode sends `{}` (or no
/// body) and its `__Host-warren_refresh` cookie instead.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "wrt_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}))]
pub struct RefreshTokenRequest {
    /// Required unless the request carries the refresh cookie from an allowlisted `Origin`.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery"}))]
pub struct DeleteMeRequest {
    pub current_password: String,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
#[allow(clippy::option_option)]
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Fields that cannot be cleared refuse an explicit `null`.
#[allow(clippy::option_option)]
fn not_null(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<Option<String>>,
) -> Option<String> {
    match value {
        Some(None) => {
            errors.add(field, "invalid_type", format!("{field} must be a string, not null"));
            None
        }
        other => other.flatten(),
    }
}

/// A user account. Never includes a password hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a2b4-7c1e-7d3a-9f00-5b6c7d8e9f01", "email": "ada@example.com", "full_name": "Ada Lovelace", "is_active": true, "created_at": "2026-11-22T08:20:07.41275Z", "updated_at": "2026-11-22T08:20:07.41275Z"}))]
pub struct UserResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub full_name: Option<String>,
    pub is_active: bool,
    /// Whether the owner proved they receive mail at `email`.
    pub email_verified: bool,
    /// An address awaiting confirmation (see the email-change flow), else null.
    #[schema(format = Email)]
    pub pending_email: Option<String>,
    /// Path of the current avatar on this server (`/api/v1/avatars/{name}`), else null.
    #[schema(example = "/api/v1/avatars/3q2-7wAAAAAAAAAAAAAAAA.png")]
    pub avatar_url: Option<String>,
    /// Whether signin asks for a second factor (TOTP or a recovery code).
    pub mfa_enabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.to_string(),
            full_name: user.full_name.as_ref().map(ToString::to_string),
            is_active: user.is_active,
            email_verified: user.email_verified,
            pending_email: user.pending_email.as_ref().map(ToString::to_string),
            avatar_url: user.avatar_name.as_ref().map(|name| format!("/api/v1/avatars/{name}")),
            mfa_enabled: user.mfa_enabled,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub user: UserResponse,
    pub message: &'static str,
}

/// Tokens for a signed-in session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub user: UserResponse,
    /// EdDSA JWT (`typ: at+jwt`) to send as `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque, single use: exchange it at `/auth/refresh` for the next one. Absent when it was
    /// set as the `__Host-warren_refresh` cookie instead (`auth.refresh_cookie`, browsers).
    #[schema(example = "wrt_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl From<SignedIn> for TokenResponse {
    fn from(signed_in: SignedIn) -> Self {
        Self {
            user: UserResponse::from(&signed_in.user),
            access_token: signed_in.access_token.token,
            token_type: "bearer",
            expires_in: signed_in.access_token.expires_in,
            refresh_token: Some(signed_in.refresh_token.expose().to_owned()),
        }
    }
}

/// A signin's answer: tokens, or with two-factor sign-in on, the `mfa_token` to complete it
/// at `/api/v1/auth/signin/mfa`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SigninResponse {
    Tokens(TokenResponse),
    MfaRequired(MfaRequiredResponse),
}

impl From<SignInOutcome> for SigninResponse {
    fn from(outcome: SignInOutcome) -> Self {
        match outcome {
            SignInOutcome::SignedIn(signed_in) => Self::Tokens(signed_in.into()),
            SignInOutcome::MfaRequired(challenge) => Self::MfaRequired(challenge.into()),
        }
    }
}

/// The password was right and the account has two-factor sign-in on: no session yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"mfa_required": true, "mfa_token": "wmt_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "expires_in": 300, "methods": ["totp", "recovery_code"]}))]
pub struct MfaRequiredResponse {
    /// Always `true`.
    pub mfa_required: bool,
    /// Opaque and single use; send it with a code to `/api/v1/auth/signin/mfa`.
    pub mfa_token: String,
    /// Seconds the `mfa_token` stays valid.
    pub expires_in: u64,
    /// The kinds of `code` accepted.
    pub methods: [&'static str; 2],
}

impl From<MfaChallenge> for MfaRequiredResponse {
    fn from(challenge: MfaChallenge) -> Self {
        Self {
            mfa_required: true,
            mfa_token: challenge.mfa_token,
            expires_in: challenge.expires_in,
            methods: ["totp", "recovery_code"],
        }
    }
}

/// One signed-in device or browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    #[schema(format = Uuid)]
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub current: bool,
}

impl From<SessionView> for SessionResponse {
    fn from(view: SessionView) -> Self {
        let session = view.session;
        Self {
            id: session.id.to_string(),
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
            user_agent: session.user_agent,
            ip: session.ip,
            current: view.current,
        }
    }
}
