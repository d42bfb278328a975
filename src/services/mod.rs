//! Business rules. Services take domain values, talk to repositories, and answer with their
//! own error enum; they know nothing of HTTP.

mod accounts;
mod admin;
mod audit;
mod error;
mod export;
mod sessions;
mod throttle;

pub use accounts::{AccountService, NewAccount, ProfileUpdate};
pub use admin::{AccountRef, AdminError, AdminService};
pub use audit::AuditLog;
pub use error::{AccountError, Authenticated, ClientContext};
pub use export::{AccountExport, ExportService};
pub use sessions::{SessionPolicy, SessionService, SessionView, SignedIn};
pub use throttle::LoginThrottle;
