//! `warren users …`: account administration on the configured database, for operators.
//! Output is a plain table (or one `key: value` block) for people and `--json` for scripts;
//! the exit status says what happened (0 done, 1 no such account or refused, 2 usage).

use std::sync::Arc;

use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Refused, UsageError};
use crate::api::v1::schemas::UserResponse;
use crate::core::clock::SystemClock;
use crate::core::config::Settings;
use crate::domain::User;
use crate::preflight;
use crate::services::{AccountRef, Actor, AdminError, AdminService, AuditLog, MAX_PAGE, Publisher};

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// List accounts, oldest first (in id order), optionally only those whose email or name contains TEXT.
    List {
        #[arg(long, value_name = "TEXT")]
        query: Option<String>,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Show one account.
    Show { account: String },
    /// Deactivate an account: signin then fails like a wrong password, its tokens get 401.
    Deactivate { account: String },
    /// Activate a deactivated account again.
    Activate { account: String },
    /// Sign the account out everywhere: every session revoked, every access token invalid.
    SignOut { account: String },
    /// Delete the account with its sessions (its audit events stay). Requires --yes.
    Delete {
        account: String,
        /// Confirm the deletion; without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs one `users` action and prints its outcome.
pub async fn run(settings: &Settings, action: UsersAction, as_json: bool) -> anyhow::Result<()> {
    if let UsersAction::Delete { yes: false, account } = &action {
        return Err(Refused(format!("not deleting {account}: add --yes to confirm")).into());
    }
    let database = preflight::connect_database(settings).await?;
    let repositories = database.repositories().clone();
    let clock = Arc::new(SystemClock);
    let audit = Arc::new(AuditLog::new(repositories.audit, clock.clone()));
    let events = Publisher::new(database.event_channel());
    let admin = AdminService::new(repositories.users, repositories.sessions, audit, events, clock);
    let outcome = act(&admin, action, as_json).await;
    database.close().await;
    outcome.map_err(|error| match error {
        AdminError::BadTarget(_) => UsageError(error.to_string()).into(),
        AdminError::NotFound(_) => Refused(error.to_string()).into(),
        AdminError::Storage(_) => anyhow::Error::new(error),
    })
}

async fn act(admin: &AdminService, action: UsersAction, as_json: bool) -> Result<(), AdminError> {
    let (user, message) = match action {
        UsersAction::List { query, limit } => {
            let users = list(admin, query.as_deref(), limit).await?;
            print_list(&users, as_json);
            return Ok(());
        }
        UsersAction::Show { account } => (admin.find(&AccountRef::parse(&account)?).await?, None),
        UsersAction::Deactivate { account } => (
            admin.set_active(&AccountRef::parse(&account)?, false, &Actor::Cli).await?,
            Some("deactivated"),
        ),
        UsersAction::Activate { account } => (
            admin.set_active(&AccountRef::parse(&account)?, true, &Actor::Cli).await?,
            Some("activated"),
        ),
        UsersAction::SignOut { account } => {
            let (user, revoked) =
                admin.sign_out(&AccountRef::parse(&account)?, &Actor::Cli).await?;
            print_outcome(&user, &format!("signed out ({revoked} sessions revoked)"), as_json);
            return Ok(());
        }
        UsersAction::Delete { account, .. } => {
            (admin.delete(&AccountRef::parse(&account)?, &Actor::Cli).await?, Some("deleted"))
        }
    };
    match message {
        Some(message) => print_outcome(&user, message, as_json),
        None => print_user(&user, as_json),
    }
    Ok(())
}

/// Up to `limit` accounts, fetched page by page through the same paged call the admin API
/// makes, so both list accounts alike.
async fn list(
    admin: &AdminService,
    query: Option<&str>,
    limit: u32,
) -> Result<Vec<User>, AdminError> {
    let mut users: Vec<User> = Vec::new();
    let mut after = None;
    loop {
        let wanted = limit.saturating_sub(u32::try_from(users.len()).unwrap_or(u32::MAX));
        if wanted == 0 {
            return Ok(users);
        }
        let page = admin.list(query, after, wanted.min(MAX_PAGE), &Actor::Cli).await?;
        users.extend(page.users);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(users),
        }
    }
}

fn print_list(users: &[User], as_json: bool) {
    if as_json {
        let users: Vec<UserResponse> = users.iter().map(UserResponse::from).collect();
        print_json(&users);
        return;
    }
    println!(
        "{:<36}  {:<40}  {:<8}  {:<8}  {:<20}  NAME",
        "ID", "EMAIL", "ACTIVE", "VERIFIED", "CREATED"
    );
    for user in users {
        println!(
            "{:<36}  {:<40}  {:<8}  {:<8}  {:<20}  {}",
            user.id,
            user.email.as_str(),
            yes_no(user.is_active),
            yes_no(user.email_verified),
            seconds(user.created_at),
            user.full_name.as_ref().map_or("", |name| name.as_str()),
        );
    }
}

fn print_user(user: &User, as_json: bool) {
    let response = UserResponse::from(user);
    if as_json {
        print_json(&response);
        return;
    }
    let fields = [
        ("id", response.id),
        ("email", response.email),
        ("full_name", response.full_name.unwrap_or_default()),
        ("is_active", response.is_active.to_string()),
        ("email_verified", response.email_verified.to_string()),
        ("pending_email", response.pending_email.unwrap_or_default()),
        ("avatar_url", response.avatar_url.unwrap_or_default()),
        ("created_at", seconds(response.created_at)),
        ("updated_at", seconds(response.updated_at)),
    ];
    for (key, value) in fields {
        println!("{key:<15} {value}");
    }
}

fn print_outcome(user: &User, outcome: &str, as_json: bool) {
    if as_json {
        print_json(&Outcome { outcome, user: UserResponse::from(user) });
    } else {
        println!("{} ({}): {outcome}", user.email.as_str(), user.id);
    }
}

/// What an action did, for `--json`.
#[derive(Serialize)]
struct Outcome<'a> {
    outcome: &'a str,
    user: UserResponse,
}

/// One line of JSON, fields in their declared order.
fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("error: cannot print JSON: {error}"),
    }
}

/// RFC 3339 to the second, as people read it in a table.
fn seconds(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}
