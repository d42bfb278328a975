//! Business rules. Services take domain values, talk to repositories, and answer with their
//! own error enum; they know nothing of HTTP.

mod accounts;
mod audit;
mod email;
mod error;
mod sessions;
mod throttle;

pub use accounts::{AccountService, NewAccount, ProfileUpdate};
pub use audit::AuditLog;
pub use email::{Dispatcher, EmailService, MailTransport};
pub use error::{AccountError, Authenticated, ClientContext};
pub use sessions::{SessionPolicy, SessionService, SessionView, SignedIn};
pub use throttle::LoginThrottle;
