//! Who may call the API: bearer tokens and their scopes.
//!
//! Tokens are compared in constant time (SHA-256 of each side, compared with `subtle`), every
//! configured token is compared (no early exit that would tell which one was close), and a token
//! never appears in an error, a log line or a `Debug` output (it lives in a [`Secret`]).

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use crate::secret::Secret;

/// What a token may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything: every application, event types, the application list.
    All,
    /// One application (by id or `uid`) and what belongs to it; it may read the event types
    /// (a portal needs them to subscribe an endpoint) but change nothing global.
    App(String),
}

impl Scope {
    /// Whether this scope reaches the application with `id` and, if it has one, `uid`.
    pub fn reaches_app(&self, id: &str, uid: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::App(a) => a == id || uid.is_some_and(|u| u == a),
        }
    }

    /// `Ok` for the all-applications scope, `403` otherwise: for global routes.
    pub fn require_all(&self) -> Result<(), ApiError> {
        match self {
            Self::All => Ok(()),
            Self::App(_) => Err(ApiError::forbidden()),
        }
    }

    /// A stable name for the scope, to keep idempotency keys of different scopes apart.
    pub fn key(&self) -> String {
        match self {
            Self::All => "*".to_owned(),
            Self::App(a) => format!("app:{a}"),
        }
    }
}

/// One configured token.
#[derive(Clone, Debug)]
pub struct Token {
    digest: [u8; 32],
    scope: Scope,
}

impl Token {
    /// A token with its scope.
    pub fn new(secret: &Secret, scope: Scope) -> Self {
        Self {
            digest: Sha256::digest(secret.expose()).into(),
            scope,
        }
    }
}

/// The configured tokens.
#[derive(Clone, Debug, Default)]
pub struct Tokens(Vec<Token>);

impl Tokens {
    /// The tokens, in any order.
    pub fn new(tokens: Vec<Token>) -> Self {
        Self(tokens)
    }

    /// The scope of the bearer token in an `Authorization` header value, or `401`.
    ///
    /// Only the header counts: a token in the query string is not looked at.
    pub fn authorize(&self, authorization: Option<&[u8]>) -> Result<Scope, ApiError> {
        let presented = authorization
            .and_then(bearer)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found: Option<&Scope> = None;
        for t in &self.0 {
            // Every token is compared; the match is kept without branching on the comparison's
            // progress.
            if bool::from(t.digest.ct_eq(&digest)) && found.is_none() {
                found = Some(&t.scope);
            }
        }
        found.cloned().ok_or_else(ApiError::unauthorized)
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, as RFC 9110 says).
pub fn bearer(v: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = v.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = rest.trim_ascii();
    Some(token)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(vec![
            Token::new(&Secret::new("root-token").unwrap(), Scope::All),
            Token::new(
                &Secret::new("acme-token").unwrap(),
                Scope::App("acme".into()),
            ),
        ])
    }

    #[test]
    fn bearer_tokens_map_to_scopes() {
        let t = tokens();
        assert_eq!(t.authorize(Some(b"Bearer root-token")).unwrap(), Scope::All);
        assert_eq!(
            t.authorize(Some(b"bearer  acme-token ")).unwrap(),
            Scope::App("acme".into())
        );
    }

    #[test]
    fn every_other_form_is_401() {
        let t = tokens();
        for bad in [
            None,
            Some(&b""[..]),
            Some(b"Bearer "),
            Some(b"Bearer"),
            Some(b"root-token"),
            Some(b"Basic root-token"),
            Some(b"Bearer root-token2"),
            Some(b"Bearer root-toke"),
            Some(b"Bearer ROOT-TOKEN"),
            Some(b"Bearer \xff\xfe"),
        ] {
            let e = t.authorize(bad).unwrap_err();
            assert_eq!(e.status(), 401, "{bad:?}");
            // The error never repeats what was presented.
            assert!(!e.body().contains("root"), "{}", e.body());
        }
        assert_eq!(
            Tokens::default()
                .authorize(Some(b"Bearer x"))
                .unwrap_err()
                .status(),
            401
        );
    }

    #[test]
    fn scopes() {
        let s = Scope::App("acme".into());
        assert!(s.reaches_app("app_1", Some("acme")));
        assert!(s.reaches_app("acme", None));
        assert!(!s.reaches_app("app_2", Some("other")));
        assert_eq!(s.require_all().unwrap_err().status(), 403);
        assert!(Scope::All.reaches_app("x", None));
        assert!(format!("{:?}", tokens()).contains("digest"));
        assert!(!format!("{:?}", tokens()).contains("root-token"));
    }
}
