//! Display names: fetched from Warren (`GET /api/v1/users/me` with the user's own token), cached
//! in memory, and remembered in the database so other members see a name for past senders
//! and while Warren is down.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::repositories::NameRepository;

/// How long a name fetched from Warren is trusted before asking again.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// Memory bound: the cache is cleared of stale entries past this many users.
const CAPACITY: usize = 10_000;

/// Only the name: the email is private to its owner and never becomes a display name, not even
/// in part (a local part like `ada.lovelace.secret` says more than its owner chose to share).
#[derive(Deserialize)]
struct Me {
    full_name: Option<String>,
}

pub struct NameDirectory {
    http: reqwest::Client,
    me_url: String,
    names: Arc<dyn NameRepository>,
    cache: RwLock<HashMap<Uuid, (String, Instant)>>,
}

impl NameDirectory {
    pub fn new(warren_url: &str, names: Arc<dyn NameRepository>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .expect("a client without TLS options always builds");
        let me_url = format!("{}/api/v1/users/me", warren_url.trim_end_matches('/'));
        Self { http, me_url, names, cache: RwLock::default() }
    }

    /// The user's display name; `token` is theirs and only used when the cache is stale.
    pub async fn name_of(&self, user: Uuid, token: &str) -> String {
        if let Some(name) = self.fresh(user) {
            return name;
        }
        match self.fetch(token).await {
            Ok(name) => {
                let name = if name.is_empty() { fallback(user) } else { name };
                if let Err(error) = self.names.save(user, &name, OffsetDateTime::now_utc()).await {
                    tracing::warn!(%error, "could not remember a display name");
                }
                self.remember(user, &name);
                name
            }
            Err(error) => {
                tracing::debug!(%error, "display name unavailable from Warren");
                self.names.find(user).await.ok().flatten().unwrap_or_else(|| fallback(user))
            }
        }
    }

    fn fresh(&self, user: Uuid) -> Option<String> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache.get(&user).filter(|(_, at)| at.elapsed() < FRESH_FOR).map(|(name, _)| name.clone())
    }

    fn remember(&self, user: Uuid, name: &str) {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CAPACITY {
            cache.retain(|_, (_, at)| at.elapsed() < FRESH_FOR);
        }
        cache.insert(user, (name.to_owned(), Instant::now()));
    }

    async fn fetch(&self, token: &str) -> Result<String, reqwest::Error> {
        let me: Me = self
            .http
            .get(&self.me_url)
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(me.full_name.filter(|n| !n.trim().is_empty()).unwrap_or_default())
    }
}

/// A stable, neutral placeholder for a user without a name: "Member " and the last four hex
/// digits of the id. The last ones, because a v7 id begins with its timestamp, so the first
/// digits of users who signed up close together would be the same.
pub fn fallback(user: Uuid) -> String {
    let simple = user.simple().to_string();
    format!("Member {}", &simple[simple.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_name_is_member_and_the_last_four_hex_digits_of_the_id() {
        let id = Uuid::parse_str("0190f3c2-7b4e-7d21-9a3c-5e6f7a8b1a2b").expect("uuid");
        assert_eq!(fallback(id), "Member 1a2b");
    }
}
