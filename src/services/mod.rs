//! Business rules. Services take domain values, talk to repositories, and answer with their
//! own small error enums; they know nothing of HTTP.

mod accounts;
mod sessions;

pub use accounts::{
    AccountError, AccountService, Authenticated, ClientContext, NewAccount, ProfileUpdate,
};
pub use sessions::{SessionPolicy, SessionService, SessionView, SignedIn};
