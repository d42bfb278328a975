//! Token introspection (RFC 7662): whether a token is live now, and what it says. A user token
//! is live only while its account is active, its session unrevoked and unexpired and its token
//! version current, checked by the same read that authenticates API requests, so a service
//! asking here honours a sign-out at once. A client token is live while its client exists.

use super::{ClientError, ClientService};
use crate::services::{SessionError, SessionService};

/// The answer about one token; every field but `active` is absent for an inactive token.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    pub sub: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub sid: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub iss: Option<String>,
    pub aud: Option<String>,
}

impl ClientService {
    /// What `token` is, if it is live; `active: false` for anything else, without saying why.
    pub async fn introspect(
        &self,
        sessions: &SessionService,
        token: &str,
    ) -> Result<Introspection, ClientError> {
        match sessions.authenticate(token).await {
            Ok(_) => {
                // Verified just now, so this answers from the verified-token cache.
                let Ok(claims) = self.tokens()?.verify(token, self.clock.now()) else {
                    return Ok(Introspection::default());
                };
                return Ok(Introspection {
                    active: true,
                    sub: Some(claims.sub.to_string()),
                    sid: Some(claims.sid.to_string()),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    iss: Some(claims.iss),
                    aud: Some(claims.aud),
                    ..Introspection::default()
                });
            }
            Err(SessionError::Unauthenticated) => {}
            Err(SessionError::Unavailable(cause)) => return Err(ClientError::Storage(cause)),
            Err(other) => return Err(ClientError::Signing(other.to_string())),
        }
        match self.verify(token).await {
            Ok(claims) => Ok(Introspection {
                active: true,
                sub: Some(claims.sub),
                client_id: Some(claims.client_id.to_string()),
                scope: Some(claims.scope),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                iss: Some(claims.iss),
                aud: Some(claims.aud),
                ..Introspection::default()
            }),
            Err(ClientError::InvalidClient) => Ok(Introspection::default()),
            Err(other) => Err(other),
        }
    }
}
