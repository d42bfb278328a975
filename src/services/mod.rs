//! Business rules. Services take domain values, talk to repositories, and answer with their
//! own small error enums; they know nothing of HTTP.

mod accounts;

pub use accounts::{
    AccountError, AccountService, Authenticated, ClientContext, NewAccount, ProfileUpdate, SignedIn,
};
