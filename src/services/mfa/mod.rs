//! Two-factor sign-in: TOTP enrolment and confirmation, second-factor codes (TOTP or
//! recovery code), recovery-code sets, switching MFA off, and the `mfa_token` challenges of the
//! signin's second step. Password checks happen before these calls (`AccountService`).

mod challenge;

use std::sync::Arc;

use anyhow::Context;

use super::email::{EmailService, Message};
use super::events::Events;
use super::throttle::{LoginThrottle, ThrottleError};
use super::{AccountError, AuditLog, Authenticated, ClientContext};
use crate::core::clock::Clock;
use crate::core::security::SecretBox;
use crate::core::security::mfa::{TOTP_SECRET_BYTES, matching_step, totp};
use crate::domain::{
    AuthEventKind, RECOVERY_CODE_LEN, RecoveryCode, SecondFactor, SecretHash, SessionId, User,
    UserId,
};
use crate::repositories::{MfaChange, MfaRepository, MfaStatus, RepoError, UserRepository};

pub use challenge::MfaChallenge;

/// Recovery codes handed out at once.
pub const RECOVERY_CODES: usize = 10;

/// A pending enrolment as the client needs it, shown once.
#[derive(Debug)]
pub struct TotpEnrolment {
    /// RFC 4648 base32 without padding.
    pub secret: String,
    pub otpauth_uri: String,
}

/// Which kind of code a successful second factor was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUsed {
    Totp,
    RecoveryCode,
}

#[derive(Debug)]
pub struct MfaService {
    repository: Arc<dyn MfaRepository>,
    users: Arc<dyn UserRepository>,
    secrets: SecretBox,
    /// `mfa.issuer`: the name authenticator apps show.
    issuer: String,
    throttle: LoginThrottle,
    email: Arc<EmailService>,
    audit: Arc<AuditLog>,
    clock: Arc<dyn Clock>,
    events: Arc<Events>,
}

impl MfaService {
    // One collaborator per concern, wired once at startup; a builder would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        repository: Arc<dyn MfaRepository>,
        users: Arc<dyn UserRepository>,
        secrets: SecretBox,
        issuer: String,
        throttle: LoginThrottle,
        email: Arc<EmailService>,
        audit: Arc<AuditLog>,
        clock: Arc<dyn Clock>,
        events: Arc<Events>,
    ) -> Self {
        Self { repository, users, secrets, issuer, throttle, email, audit, clock, events }
    }

    /// A new secret for `user`, stored encrypted and pending until [`Self::confirm`]. Replaces
    /// a pending enrolment; refused while MFA is on (switch it off first).
    pub async fn enrol(&self, user: &User) -> Result<TotpEnrolment, AccountError> {
        let mut secret = zeroize::Zeroizing::new([0u8; TOTP_SECRET_BYTES]);
        getrandom::fill(secret.as_mut()).context("randomness for a TOTP secret")?;
        let sealed = self.secrets.seal(user.id, secret.as_ref()).context("seal a TOTP secret")?;
        let generator = totp(secret.as_ref(), &self.issuer, user.email.as_str())
            .map_err(|e| anyhow::anyhow!("build the TOTP generator: {e}"))?;
        let otpauth_uri =
            generator.to_url().map_err(|e| anyhow::anyhow!("build the otpauth URI: {e}"))?;
        match self.repository.start_enrolment(user.id, &sealed, self.clock.now()).await {
            Ok(()) => {}
            Err(RepoError::Conflict) => return Err(AccountError::MfaAlreadyEnabled),
            Err(RepoError::Gone) => return Err(AccountError::Unauthenticated),
            Err(other) => return Err(other.into()),
        }
        Ok(TotpEnrolment { secret: generator.secret().to_base32(), otpauth_uri })
    }

    /// Confirms the pending enrolment with a current TOTP code: MFA goes on and the first
    /// recovery codes are returned (shown once).
    pub async fn confirm(
        &self,
        caller: &Authenticated,
        code: &str,
        client: &ClientContext,
    ) -> Result<Vec<RecoveryCode>, AccountError> {
        let user = &caller.user;
        let enrolment = self.repository.find_totp(user.id).await?;
        let pending = match enrolment {
            Some(enrolment) if enrolment.confirmed_at.is_none() => enrolment,
            Some(_) => return Err(AccountError::MfaAlreadyEnabled),
            None => return Err(AccountError::MfaNotEnabled),
        };
        self.reserve(user, Some(caller.session_id), client).await?;
        let step = SecondFactor::parse_totp(code)
            .and_then(|code| self.step_of(user, &pending.secret, &code).transpose())
            .transpose()?;
        let (codes, hashes) = self.recovery_codes(user.id)?;
        let change = self.change(user, Message::MfaEnabled, &hashes)?;
        let confirmed = match step {
            Some(step) => self.repository.confirm(change, step).await?,
            None => false,
        };
        if !confirmed {
            return Err(self.wrong_code(caller.user.id, Some(caller.session_id), client).await);
        }
        self.throttle.released(&user.email).await?;
        self.changed(user, Some(caller.session_id), AuthEventKind::MfaEnabled, client).await;
        self.events.user_updated(user.id).await;
        Ok(codes)
    }

    /// Checks a second-factor code of a user with MFA on, through the per-account backoff, and
    /// spends it: a TOTP step or a recovery code works once.
    pub async fn verify(
        &self,
        user: &User,
        session: Option<SessionId>,
        code: &str,
        client: &ClientContext,
    ) -> Result<CodeUsed, AccountError> {
        self.reserve(user, session, client).await?;
        let accepted = match SecondFactor::parse(code) {
            Some(SecondFactor::Totp(code)) => self.use_totp(user, &code).await?,
            Some(SecondFactor::Recovery(code)) => self.use_recovery_code(user, &code).await?,
            None => None,
        };
        let Some(accepted) = accepted else {
            return Err(self.wrong_code(user.id, session, client).await);
        };
        self.throttle.released(&user.email).await?;
        if accepted == CodeUsed::RecoveryCode {
            let kind = AuthEventKind::MfaRecoveryCodeUsed;
            self.changed(user, session, kind, client).await;
        }
        Ok(accepted)
    }

    /// Switches MFA off (the caller checked password and code).
    pub async fn disable(
        &self,
        caller: &Authenticated,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let change = self.change(&caller.user, Message::MfaDisabled, &[])?;
        if !self.repository.disable(change).await? {
            return Err(AccountError::MfaNotEnabled);
        }
        let kind = AuthEventKind::MfaDisabled;
        self.changed(&caller.user, Some(caller.session_id), kind, client).await;
        self.events.user_updated(caller.user.id).await;
        Ok(())
    }

    /// A new set of recovery codes replacing every old one (the caller checked password and
    /// code).
    pub async fn regenerate(
        &self,
        caller: &Authenticated,
        client: &ClientContext,
    ) -> Result<Vec<RecoveryCode>, AccountError> {
        let (codes, hashes) = self.recovery_codes(caller.user.id)?;
        let change = self.change(&caller.user, Message::RecoveryCodesRegenerated, &hashes)?;
        if !self.repository.replace_recovery_codes(change).await? {
            return Err(AccountError::MfaNotEnabled);
        }
        let kind = AuthEventKind::MfaRecoveryCodesRegenerated;
        self.changed(&caller.user, Some(caller.session_id), kind, client).await;
        Ok(codes)
    }

    /// Whether MFA is on, since when, and how many recovery codes are left (the data export).
    pub async fn status(&self, user: &User) -> Result<MfaStatus, AccountError> {
        Ok(self.repository.status(user.id).await?)
    }

    /// Counts a code attempt against the account's backoff, like a password attempt.
    async fn reserve(
        &self,
        user: &User,
        session: Option<SessionId>,
        client: &ClientContext,
    ) -> Result<(), AccountError> {
        let result = self.throttle.reserve(&user.email, self.clock.now()).await;
        if matches!(result, Err(ThrottleError::Throttled { .. })) {
            let kind = AuthEventKind::SigninThrottled;
            self.audit.record(kind, Some(user.id), session, client).await;
        }
        Ok(result?)
    }

    /// The step a TOTP code is valid for now under the sealed secret, if any.
    fn step_of(&self, user: &User, sealed: &[u8], code: &str) -> Result<Option<i64>, AccountError> {
        let secret = self.secrets.open(user.id, sealed).context("open a TOTP secret")?;
        let generator = totp(&secret, &self.issuer, user.email.as_str())
            .map_err(|e| anyhow::anyhow!("build the TOTP generator: {e}"))?;
        Ok(matching_step(&generator, code, self.clock.now().unix_timestamp()))
    }

    async fn use_totp(&self, user: &User, code: &str) -> Result<Option<CodeUsed>, AccountError> {
        let enrolment = self.repository.find_totp(user.id).await?;
        let Some(enrolment) = enrolment.filter(|e| e.confirmed_at.is_some()) else {
            return Ok(None);
        };
        let Some(step) = self.step_of(user, &enrolment.secret, code)? else {
            return Ok(None);
        };
        let spent = self.repository.use_step(user.id, step).await?;
        Ok(spent.then_some(CodeUsed::Totp))
    }

    async fn use_recovery_code(
        &self,
        user: &User,
        code: &RecoveryCode,
    ) -> Result<Option<CodeUsed>, AccountError> {
        let change = self.change(user, Message::RecoveryCodeUsed, &[])?;
        let hash = self.secrets.recovery_code_hash(user.id, code);
        let spent = self.repository.use_recovery_code(change, &hash).await?;
        Ok(spent.then_some(CodeUsed::RecoveryCode))
    }

    /// Ten fresh recovery codes for `user` from the operating system's CSPRNG, and what they
    /// are stored as.
    fn recovery_codes(
        &self,
        user: UserId,
    ) -> Result<(Vec<RecoveryCode>, Vec<SecretHash>), AccountError> {
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let mut random = [0u8; RECOVERY_CODE_LEN];
            getrandom::fill(&mut random).context("randomness for recovery codes")?;
            codes.push(RecoveryCode::from_random(&random));
        }
        let hashes = codes.iter().map(|code| self.secrets.recovery_code_hash(user, code)).collect();
        Ok((codes, hashes))
    }

    /// Audits a refused code and answers it, the same whatever the reason.
    async fn wrong_code(
        &self,
        user: UserId,
        session: Option<SessionId>,
        client: &ClientContext,
    ) -> AccountError {
        self.audit.record(AuthEventKind::MfaFailure, Some(user), session, client).await;
        AccountError::InvalidMfaCode
    }

    fn change<'a>(
        &self,
        user: &User,
        notice: Message<'_>,
        recovery_codes: &'a [SecretHash],
    ) -> Result<MfaChange<'a>, AccountError> {
        let notice = self.email.render(notice, None)?;
        Ok(MfaChange { user: user.id, notice, now: self.clock.now(), recovery_codes })
    }

    /// After a committed change whose notice was queued: wake the dispatcher, audit.
    async fn changed(
        &self,
        user: &User,
        session: Option<SessionId>,
        kind: AuthEventKind,
        client: &ClientContext,
    ) {
        self.email.queued();
        self.audit.record(kind, Some(user.id), session, client).await;
    }
}
