//! Service clients' access tokens (OAuth 2.0 client credentials, RFC 9068): signed like user
//! tokens, by the same key, with `sub` and `client_id` both the client id, a space-separated
//! `scope`, and no session (`sid`) or token version (`ver`). A user-token check refuses them,
//! since those claims are missing, and the check here refuses user tokens for the same reason.

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ACCESS_TOKEN_TYPE, AccessTokens, IssuedAccessToken, LEEWAY_SECS, TokenError};
use crate::domain::{ClientId, Scopes};

/// The claims of a client token; all are required when verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientTokenClaims {
    pub iss: String,
    pub aud: String,
    /// The client id, as `client_id`.
    pub sub: String,
    pub client_id: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// Space-separated scopes.
    pub scope: String,
}

impl ClientTokenClaims {
    pub fn client(&self) -> ClientId {
        ClientId::from_uuid(self.client_id)
    }
}

/// The JWS algorithm of a key family Warren signs with.
fn algorithm_for(family: jsonwebtoken::AlgorithmFamily) -> Option<Algorithm> {
    match family {
        jsonwebtoken::AlgorithmFamily::Ed => Some(Algorithm::EdDSA),
        jsonwebtoken::AlgorithmFamily::Ec => Some(Algorithm::ES256),
        _ => None,
    }
}

impl AccessTokens {
    /// A token for `client` with `scopes`, signed by the current signing key.
    pub fn issue_client(
        &self,
        client: ClientId,
        scopes: &Scopes,
        now: OffsetDateTime,
    ) -> Result<IssuedAccessToken, TokenError> {
        let iat = now.unix_timestamp();
        let claims = ClientTokenClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: client.to_string(),
            client_id: client.as_uuid(),
            iat,
            nbf: iat,
            exp: iat + self.ttl_secs,
            jti: Uuid::now_v7(),
            scope: scopes.to_string(),
        };
        let key = self.keys.signing_key();
        let algorithm = algorithm_for(key.family())
            .ok_or_else(|| TokenError::Signing("unsupported signing key".to_owned()))?;
        let mut header = Header::new(algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.keys.signing_kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(IssuedAccessToken { token, expires_in: self.ttl_secs.unsigned_abs() })
    }

    /// Verifies a client token as strictly as a user token: known key, an algorithm Warren
    /// signs with, this issuer and audience, every claim present, times within bounds.
    pub fn verify_client(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<ClientTokenClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        if !matches!(header.alg, Algorithm::EdDSA | Algorithm::ES256) {
            return Err(TokenError::Invalid("unexpected algorithm".to_owned()));
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<ClientTokenClaims>(token, key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;
        if claims.sub != claims.client_id.to_string() {
            return Err(TokenError::Invalid("sub is not the client id".to_owned()));
        }
        check_client_times(&claims, now.unix_timestamp(), self.ttl_secs)?;
        Ok(claims)
    }
}

fn check_client_times(claims: &ClientTokenClaims, now: i64, max: i64) -> Result<(), TokenError> {
    if now >= claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::Expired);
    }
    if now.saturating_add(LEEWAY_SECS) < claims.nbf {
        return Err(TokenError::NotYetValid);
    }
    if claims.iat > now.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::IssuedInFuture);
    }
    if claims.exp.saturating_sub(claims.iat) > max {
        return Err(TokenError::LifetimeTooLong);
    }
    Ok(())
}
