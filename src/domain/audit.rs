//! Authentication events, recorded for every auth action. They never hold a secret.

use time::OffsetDateTime;

use super::{ClientId, SessionId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthEventKind {
    Signup,
    SigninSuccess,
    SigninFailure,
    /// A signin refused because the account (email) is in its backoff window.
    SigninThrottled,
    Refresh,
    RefreshTokenReuse,
    ReauthenticationFailure,
    PasswordChange,
    EmailChange,
    Signout,
    SignoutEverywhere,
    AccountDeleted,
    VerificationSent,
    EmailVerified,
    PasswordResetRequested,
    PasswordReset,
    EmailChanged,
    /// An operator deactivated the account (`warren users deactivate`). The `cli_` kinds are
    /// the actions whose actor is the command line, not the account holder.
    CliDeactivated,
    CliActivated,
    /// An operator signed the account out everywhere (`warren users sign-out`).
    CliSignedOut,
    CliDeleted,
    /// The right password for an account with two-factor sign-in: an `mfa_token` was issued.
    SigninMfaRequired,
    /// A wrong, reused or malformed second-factor code.
    MfaFailure,
    MfaEnabled,
    MfaDisabled,
    MfaRecoveryCodeUsed,
    MfaRecoveryCodesRegenerated,
    /// The `admin_` kinds are actions of a service client through the admin API; the event's
    /// `client_id` names it. A read (one account, a page of accounts or of the audit trail).
    AdminRead,
    AdminUpdated,
    AdminDeactivated,
    AdminActivated,
    AdminSignedOut,
    AdminDeleted,
    /// A service client was given an access token.
    ClientTokenIssued,
}

impl AuthEventKind {
    pub const ALL: [Self; 34] = [
        Self::Signup,
        Self::SigninSuccess,
        Self::SigninFailure,
        Self::SigninThrottled,
        Self::Refresh,
        Self::RefreshTokenReuse,
        Self::ReauthenticationFailure,
        Self::PasswordChange,
        Self::EmailChange,
        Self::Signout,
        Self::SignoutEverywhere,
        Self::AccountDeleted,
        Self::VerificationSent,
        Self::EmailVerified,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailChanged,
        Self::CliDeactivated,
        Self::CliActivated,
        Self::CliSignedOut,
        Self::CliDeleted,
        Self::SigninMfaRequired,
        Self::MfaFailure,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::MfaRecoveryCodeUsed,
        Self::MfaRecoveryCodesRegenerated,
        Self::AdminRead,
        Self::AdminUpdated,
        Self::AdminDeactivated,
        Self::AdminActivated,
        Self::AdminSignedOut,
        Self::AdminDeleted,
        Self::ClientTokenIssued,
    ];

    /// The kind whose [`Self::as_str`] is `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::SigninSuccess => "signin_success",
            Self::SigninFailure => "signin_failure",
            Self::SigninThrottled => "signin_throttled",
            Self::Refresh => "refresh",
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::ReauthenticationFailure => "reauthentication_failure",
            Self::PasswordChange => "password_change",
            Self::EmailChange => "email_change",
            Self::Signout => "signout",
            Self::SignoutEverywhere => "signout_everywhere",
            Self::AccountDeleted => "account_deleted",
            Self::VerificationSent => "verification_sent",
            Self::EmailVerified => "email_verified",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailChanged => "email_changed",
            Self::CliDeactivated => "cli_deactivated",
            Self::CliActivated => "cli_activated",
            Self::CliSignedOut => "cli_signed_out",
            Self::CliDeleted => "cli_deleted",
            Self::SigninMfaRequired => "signin_mfa_required",
            Self::MfaFailure => "mfa_failure",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaRecoveryCodeUsed => "mfa_recovery_code_used",
            Self::MfaRecoveryCodesRegenerated => "mfa_recovery_codes_regenerated",
            Self::AdminRead => "admin_read",
            Self::AdminUpdated => "admin_updated",
            Self::AdminDeactivated => "admin_deactivated",
            Self::AdminActivated => "admin_activated",
            Self::AdminSignedOut => "admin_signed_out",
            Self::AdminDeleted => "admin_deleted",
            Self::ClientTokenIssued => "client_token_issued",
        }
    }
}

/// One recorded event: who (a pseudonymous id), what, from where, in which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEvent {
    pub kind: AuthEventKind,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub occurred_at: OffsetDateTime,
    /// The service client that acted, for events caused through the admin API.
    pub client_id: Option<ClientId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for kind in AuthEventKind::ALL {
            assert_eq!(AuthEventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuthEventKind::parse("nonsense"), None);
    }
}
