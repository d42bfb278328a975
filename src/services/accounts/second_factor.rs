//! The account actions of two-factor sign-in that need the password or open a session:
//! enrolling, switching off, regenerating recovery codes (each re-authenticated through the
//! backoff), and completing a signin with its second factor.

use super::AccountService;
use crate::domain::{Amr, CandidatePassword, RecoveryCode};
use crate::services::mfa::TotpEnrolment;
use crate::services::{AccountError, Authenticated, ClientContext, SessionError, SignedIn};

impl AccountService {
    /// `POST /users/me/mfa/totp`: a new, pending TOTP secret after the password.
    pub async fn start_totp_enrolment(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
        client: &ClientContext,
    ) -> Result<TotpEnrolment, AccountError> {
        self.reauthenticate(caller, current_password, client).await?;
        self.mfa.enrol(&caller.user).await
    }

    /// `DELETE /users/me/mfa/totp`: MFA off after the password and a code.
    pub async fn disable_totp(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
        code: &str,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        self.reauthenticate_with_code(caller, current_password, code, client).await?;
        self.mfa.disable(caller, client).await
    }

    /// `POST /users/me/mfa/recovery-codes`: a new set after the password and a code.
    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
        code: &str,
        client: &ClientContext,
    ) -> Result<Vec<RecoveryCode>, AccountError> {
        self.reauthenticate_with_code(caller, current_password, code, client).await?;
        self.mfa.regenerate(caller, client).await
    }

    /// `POST /auth/signin/mfa`: the second step. The token is checked first (a dead one costs
    /// nothing), then the code through the backoff; a wrong code counts against the token too.
    pub async fn complete_sign_in(
        &self,
        mfa_token: &str,
        code: &str,
        client: &ClientContext,
    ) -> Result<SignedIn, AccountError> {
        let (hash, user) = self.mfa.challenged_user(mfa_token).await?;
        match self.mfa.verify(&user, None, code, client).await {
            Ok(_) => {}
            Err(AccountError::InvalidMfaCode) => {
                self.mfa.wrong_code_for(&hash).await?;
                return Err(AccountError::InvalidMfaCode);
            }
            Err(other) => return Err(other),
        }
        self.mfa.spend(&hash).await?;
        let email = user.email.clone();
        let signed_in = self.sessions.open(user, Amr::PasswordAndOtp, client).await.map_err(
            |error| match error {
                // Deleted or deactivated since the first step.
                SessionError::Unauthenticated => AccountError::InvalidMfaToken,
                other => other.into(),
            },
        )?;
        self.throttle.succeeded(&email).await?;
        Ok(signed_in)
    }

    /// The password, then a second factor: what turning protection down or rotating it needs.
    async fn reauthenticate_with_code(
        &self,
        caller: &Authenticated,
        current_password: &CandidatePassword,
        code: &str,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        if !caller.user.mfa_enabled {
            return Err(AccountError::MfaNotEnabled);
        }
        self.reauthenticate(caller, current_password, client).await?;
        self.mfa.verify(&caller.user, Some(caller.session_id), code, client).await.map(drop)
    }
}
