//! Service clients (OAuth 2.0 client credentials): registering them (`warren clients …`),
//! authenticating them by id and secret, issuing their access tokens, and recognising those
//! tokens on the admin API. A client token is good while it is unexpired and its client exists:
//! deleting the client shuts its tokens out at once.

use std::sync::Arc;

use uuid::Uuid;

use super::{AuditLog, ClientContext};
use crate::core::clock::Clock;
use crate::core::security::{AccessTokens, ClientSecret, ClientSecrets, ClientTokenClaims};
use crate::domain::{AuthEventKind, ClientId, ClientName, Scopes, ServiceClient};
use crate::repositories::{ClientRepository, RepoError};

mod introspection;

pub use introspection::Introspection;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Unknown client, wrong secret, or a token that is not a live client token.
    #[error("client authentication failed")]
    InvalidClient,
    /// A scope the client was not given.
    #[error("the requested scope exceeds the client's")]
    InvalidScope,
    #[error("no service client {0}")]
    NotFound(String),
    #[error("cannot gather randomness for a secret: {0}")]
    Random(String),
    #[error("the token could not be signed: {0}")]
    Signing(String),
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

/// A client token's bearer, as the admin API sees it.
#[derive(Debug, Clone)]
pub struct ClientCaller {
    pub id: ClientId,
    pub scopes: Scopes,
}

/// An issued client token.
#[derive(Debug)]
pub struct ClientToken {
    pub token: String,
    pub expires_in: u64,
    pub scopes: Scopes,
}

#[derive(Debug)]
pub struct ClientService {
    clients: Arc<dyn ClientRepository>,
    secrets: ClientSecrets,
    /// Absent for the command line, which issues no tokens.
    tokens: Option<Arc<AccessTokens>>,
    audit: Option<Arc<AuditLog>>,
    clock: Arc<dyn Clock>,
}

impl ClientService {
    /// The registry alone: create, list, delete (the command line).
    pub fn registry(
        clients: Arc<dyn ClientRepository>,
        secrets: ClientSecrets,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { clients, secrets, tokens: None, audit: None, clock }
    }

    /// The registry with token issuance and verification (the server).
    #[must_use]
    pub fn issuing(self, tokens: Arc<AccessTokens>, audit: Arc<AuditLog>) -> Self {
        Self { tokens: Some(tokens), audit: Some(audit), ..self }
    }

    /// Registers a client; its secret is returned this once and stored only as a keyed hash.
    pub async fn create(
        &self,
        name: ClientName,
        scopes: Scopes,
    ) -> Result<(ServiceClient, ClientSecret), ClientError> {
        let client =
            ServiceClient { id: ClientId::generate(), name, scopes, created_at: self.clock.now() };
        let secret = ClientSecret::generate().map_err(|e| ClientError::Random(e.to_string()))?;
        let hash = self.secrets.hash(client.id, secret.expose());
        self.clients.insert(&client, &hash).await?;
        Ok((client, secret))
    }

    pub async fn list(&self) -> Result<Vec<ServiceClient>, ClientError> {
        Ok(self.clients.list().await?)
    }

    /// Deletes a client; its tokens stop working at once.
    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        let not_found = || ClientError::NotFound(id.to_owned());
        let uuid = Uuid::try_parse(id.trim()).map_err(|_| not_found())?;
        if self.clients.delete(ClientId::from_uuid(uuid)).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// The client whose id and secret these are. Every failure is the same `InvalidClient`.
    pub async fn authenticate(&self, id: &str, secret: &str) -> Result<ServiceClient, ClientError> {
        let id = Uuid::try_parse(id).map_err(|_| ClientError::InvalidClient)?;
        let id = ClientId::from_uuid(id);
        let (client, stored) = self.clients.find(id).await?.ok_or(ClientError::InvalidClient)?;
        if self.secrets.verify(id, secret, &stored) {
            Ok(client)
        } else {
            Err(ClientError::InvalidClient)
        }
    }

    /// A token for `client` with `requested` scopes (all of its own when `None`).
    pub async fn issue(
        &self,
        client: &ServiceClient,
        requested: Option<Scopes>,
        context: &ClientContext,
    ) -> Result<ClientToken, ClientError> {
        let scopes = requested.unwrap_or_else(|| client.scopes.clone());
        if !scopes.is_subset(&client.scopes) {
            return Err(ClientError::InvalidScope);
        }
        let tokens = self.tokens()?;
        let issued = tokens
            .issue_client(client.id, &scopes, self.clock.now())
            .map_err(|e| ClientError::Signing(e.to_string()))?;
        if let Some(audit) = &self.audit {
            audit
                .record_for_client(AuthEventKind::ClientTokenIssued, None, client.id, context)
                .await;
        }
        Ok(ClientToken { token: issued.token, expires_in: issued.expires_in, scopes })
    }

    /// The claims of a live client token: valid, unexpired, and its client still exists.
    pub async fn verify(&self, token: &str) -> Result<ClientTokenClaims, ClientError> {
        let claims = self.tokens()?.verify_client(token, self.clock.now()).map_err(|error| {
            tracing::debug!(%error, "client token refused");
            ClientError::InvalidClient
        })?;
        if self.clients.find(claims.client()).await?.is_none() {
            return Err(ClientError::InvalidClient);
        }
        Ok(claims)
    }

    /// The bearer of a live client token, with the token's scopes.
    pub async fn caller(&self, token: &str) -> Result<ClientCaller, ClientError> {
        let claims = self.verify(token).await?;
        let scopes = Scopes::parse(&claims.scope).map_err(|_| ClientError::InvalidClient)?;
        Ok(ClientCaller { id: claims.client(), scopes })
    }

    fn tokens(&self) -> Result<&AccessTokens, ClientError> {
        self.tokens
            .as_deref()
            .ok_or_else(|| ClientError::Signing("this process issues no tokens".to_owned()))
    }
}
