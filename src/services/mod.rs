//! Business rules. Services take domain values, talk to repositories, and answer with their
//! own error enum; they know nothing of HTTP.

mod accounts;
mod admin;
mod audit;
mod avatars;
mod caller;
mod clients;
mod email;
mod error;
mod events;
mod export;
mod mfa;
mod retention;
mod sessions;
mod throttle;

pub use crate::repositories::MfaStatus;
pub use accounts::{AccountService, CredentialsChange, NewAccount, ProfileUpdate, SignInOutcome};
pub use admin::{
    AccountRef, Actor, AdminError, AdminService, AdminUpdate, AuditPage, MAX_PAGE, UserPage,
};
pub use audit::AuditLog;
pub use avatars::{AvatarError, AvatarService, ImagePool, InvalidImage, ProcessedImage, process};
pub use caller::{Authenticated, ClientContext};
pub use clients::{ClientCaller, ClientError, ClientService, ClientToken, Introspection};
pub use email::{Dispatcher, EmailError, EmailService, MailTransport};
pub use error::AccountError;
pub use events::{AccountEvent, Events, Publisher, Signal, Subscription, TooManySockets};
pub use export::{AccountExport, ExportError, ExportService};
pub use mfa::{MfaChallenge, MfaService, TotpEnrolment};
pub use retention::{PassOutcome, PruneTally, Pruner};
pub use sessions::{SessionError, SessionPolicy, SessionService, SessionView, SignedIn};
pub use throttle::{LoginThrottle, ThrottleError};
