//! Authentication: a signed assertion ([`api::AuthRequest`]) is exchanged in one round
//! trip for a stateless session.
//!
//! A session is `v1.<base64url claims JSON>.<base64url HMAC-SHA256>` under the account's
//! session secret (stored in the database, so every replica accepts every session).
//! Checking one needs no database write: the MAC is checked in constant time, then the
//! principal row is read to confirm it is not revoked or expired and that its key
//! generation still matches (a rotation ends every older session).
//!
//! An assertion is accepted once: after [`check_assertion`] passes, `POST /v1/auth`
//! stores its nonce with [`Store::use_auth_nonce`](crate::store::Store::use_auth_nonce)
//! until its timestamp leaves the clock-skew window (after which the timestamp check
//! refuses it anyway), and refuses a nonce already stored.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sesame_core::api::{self, Principal};
use sesame_core::crypto::verify_signature;
use sesame_core::encoding::{base64url_decode, base64url_encode};
use sesame_core::id::Id;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::wire;

const SESSION_PREFIX: &str = "v1.";

/// The HMAC key of sessions. `Debug` is redacted.
pub(crate) struct SessionKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

/// What a session says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Claims {
    /// Principal.
    pub(crate) p: Id,
    /// Account.
    pub(crate) a: Id,
    /// Key generation of the principal when the session was issued.
    pub(crate) g: u32,
    /// Expiry, unix seconds.
    pub(crate) exp: u64,
    /// Integration name.
    pub(crate) n: String,
    /// Integration version.
    pub(crate) v: String,
}

impl SessionKey {
    pub(crate) fn new(secret: Zeroizing<Vec<u8>>) -> Self {
        Self(secret)
    }

    fn mac(&self, signed: &[u8]) -> Result<[u8; 32], ApiError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(signed);
        Ok(mac.finalize().into_bytes().into())
    }

    /// A session string for `claims`.
    pub(crate) fn issue(&self, claims: &Claims) -> Result<String, ApiError> {
        let json = serde_json::to_vec(claims).map_err(ApiError::internal)?;
        let mut session = String::from(SESSION_PREFIX);
        session.push_str(&base64url_encode(json));
        let mac = self.mac(session.as_bytes())?;
        session.push('.');
        session.push_str(&base64url_encode(mac));
        Ok(session)
    }

    /// The claims of a session with a valid MAC that has not expired at `now`.
    pub(crate) fn verify(&self, session: &str, now: u64) -> Result<Claims, ApiError> {
        let malformed = || {
            ApiError::unauthenticated(
                "the session is malformed: send the `session` of POST /v1/auth as \
                 `Authorization: Bearer <session>`",
            )
        };
        let (signed, mac_text) = session.rsplit_once('.').ok_or_else(malformed)?;
        let claims_text = signed.strip_prefix(SESSION_PREFIX).ok_or_else(malformed)?;
        let mac = base64url_decode("session", mac_text).map_err(|_| malformed())?;
        let expected = self.mac(signed.as_bytes())?;
        if !bool::from(expected.as_slice().ct_eq(mac.as_slice())) {
            return Err(ApiError::unauthenticated(
                "the session was not issued by this server or was altered; authenticate again",
            ));
        }
        let json = base64url_decode("session", claims_text).map_err(|_| malformed())?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| malformed())?;
        if claims.exp <= now {
            return Err(ApiError::unauthenticated(
                "the session has expired; authenticate again",
            ));
        }
        Ok(claims)
    }
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks an integration name and version by the rule the client applies too
/// ([`api::validate_integration`]); the error names the field as the request does.
pub(crate) fn check_integration(name: &str, version: &str) -> Result<(), ApiError> {
    api::validate_integration(name, version).map_err(|e| {
        let field = match &e {
            sesame_core::Error::InvalidInput { what, .. } if what == "integration_version" => {
                "integrationVersion"
            }
            _ => "integrationName",
        };
        ApiError::invalid_field(field, &e)
    })
}

/// An integration name or version made safe to record even when it failed the checks:
/// at most `max` characters ([`api::MAX_INTEGRATION_NAME_LEN`] or
/// [`api::MAX_INTEGRATION_VERSION_LEN`]), printable ASCII.
pub(crate) fn for_audit(value: &str, max: usize) -> String {
    value
        .chars()
        .take(max)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// Checks an [`api::AuthRequest`] against the principal it names (`None` if unknown).
pub(crate) fn check_assertion(
    account: &Id,
    request: &api::AuthRequest,
    principal: Option<&Principal>,
    now: u64,
) -> Result<(), ApiError> {
    check_integration(&request.integration_name, &request.integration_version)?;
    wire::decode::<16>("nonce", &request.nonce)?;
    // Any length: a signature of the wrong length is refused by the check below, as a
    // failed authentication like any other bad signature.
    let signature = base64url_decode("signature", &request.signature)
        .map_err(|e| ApiError::invalid_field("signature", &e))?;
    let skew = now.abs_diff(request.timestamp);
    if skew > api::AUTH_CLOCK_SKEW_SECONDS {
        return Err(ApiError::unauthenticated(format!(
            "the request timestamp is {skew} seconds away from the server clock (at most {} \
             allowed): check the system clock",
            api::AUTH_CLOCK_SKEW_SECONDS
        )));
    }
    let rejected = || {
        ApiError::unauthenticated(
            "the token was not accepted: the account or principal is unknown or the signature \
             does not match; check that the token belongs to this server",
        )
    };
    if request.account_id != *account {
        return Err(rejected());
    }
    let principal = principal.ok_or_else(rejected)?;
    let public_key = base64url_decode("the stored signing key", &principal.signing_public_key)
        .map_err(ApiError::internal)?;
    let message = api::auth_message(
        &request.account_id,
        &request.principal_id,
        request.timestamp,
        &request.nonce,
        &request.integration_name,
        &request.integration_version,
    );
    verify_signature(&public_key, &message, &signature).map_err(|_| rejected())?;
    check_active(principal, now)
}

/// A principal may act: not revoked, not expired.
pub(crate) fn check_active(principal: &Principal, now: u64) -> Result<(), ApiError> {
    if principal.revoked_at.is_some() {
        return Err(ApiError::unauthenticated(
            "the token was revoked; ask the account owner for a new one",
        ));
    }
    if principal
        .expires_at
        .is_some_and(|t| t.unix_timestamp() <= now as i64)
    {
        return Err(ApiError::unauthenticated(
            "the token has expired; ask the account owner for a new one",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sesame_core::api::{MAX_INTEGRATION_NAME_LEN, MAX_INTEGRATION_VERSION_LEN};

    use super::*;

    fn key() -> SessionKey {
        SessionKey::new(Zeroizing::new(vec![7; 32]))
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            p: Id::generate(),
            a: Id::generate(),
            g: 1,
            exp,
            n: "app".into(),
            v: "1.0".into(),
        }
    }

    #[test]
    fn sessions_round_trip_and_reject_tampering() {
        let c = claims(100);
        let session = key().issue(&c).unwrap();
        assert!(session.starts_with("v1."));
        assert_eq!(key().verify(&session, 99).unwrap(), c);
        assert!(key().verify(&session, 100).is_err(), "expired");
        let other = SessionKey::new(Zeroizing::new(vec![8; 32]));
        assert!(other.verify(&session, 1).is_err(), "other key");
        let forged = key().issue(&claims(200)).unwrap();
        let (head, _) = forged.rsplit_once('.').unwrap();
        let (_, mac) = session.rsplit_once('.').unwrap();
        assert!(
            key().verify(&format!("{head}.{mac}"), 1).is_err(),
            "spliced"
        );
        assert!(key().verify("garbage", 1).is_err());
    }

    /// The core's rule (40/20 characters, a stricter character set than the printable
    /// ASCII and 64 characters the server took before), with the request's field names.
    #[test]
    fn integration_rules() {
        assert!(check_integration("deploy-bot", "1.4.0").is_ok());
        let err = check_integration("", "1.0").unwrap_err();
        assert_eq!(err.code(), sesame_core::ErrorCode::InvalidInput);
        assert!(
            err.message().starts_with("integrationName is required"),
            "{err}"
        );
        assert!(check_integration(&"a".repeat(40), "1.0").is_ok());
        let err = check_integration(&"a".repeat(41), "1.0").unwrap_err();
        assert!(
            err.message()
                .starts_with("integrationName is 41 characters long"),
            "{err}"
        );
        assert!(check_integration("app", &"1".repeat(20)).is_ok());
        let err = check_integration("app", &"1".repeat(21)).unwrap_err();
        assert!(
            err.message()
                .starts_with("integrationVersion is 21 characters long"),
            "{err}"
        );
        let err = check_integration("tab\there", "1.0").unwrap_err();
        assert!(err.message().contains("only ASCII letters"), "{err}");
        assert!(check_integration("app", "1.0 beta").is_err());
        assert_eq!(for_audit("a\u{7}b", MAX_INTEGRATION_NAME_LEN), "a?b");
        assert_eq!(
            for_audit(&"v".repeat(30), MAX_INTEGRATION_VERSION_LEN),
            "v".repeat(20)
        );
    }
}
