//! Secrets and secret references.
//!
//! A [`Secret`] is key material: it is never empty, never printed (`Debug` shows `Secret(..)`,
//! there is no `Display` and no `Serialize`), and its bytes are wiped when it is dropped.
//!
//! Configuration never holds secrets, only [`SecretRef`]s: `env:NAME` names an environment
//! variable (on Cloudflare, a Worker secret of that name; on AWS, a variable that a SAM dynamic
//! reference fills from Secrets Manager or SSM). `literal:VALUE` exists for local development and
//! tests only.

use std::fmt;
use std::str::FromStr;

/// Key material that never prints and is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Wraps key bytes; an empty key is refused, because an HMAC with an empty key is forgeable
    /// by anyone who knows the scheme.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes: Vec<u8> = bytes.into();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self(bytes.into_boxed_slice()))
    }

    /// The key bytes. Named so that every use stands out in review.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The key as UTF-8 text, when it is text (most providers hand out printable secrets).
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // `zeroize` writes with volatile semantics, so the optimiser cannot drop the wipe.
        zeroize::Zeroize::zeroize(&mut *self.0);
    }
}

/// Where a secret is read from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable or Worker secret binding of this name.
    Env(String),
    /// A value written in the configuration: for local development and tests only.
    Literal(Secret),
}

impl SecretRef {
    /// Reads the secret, using `lookup` to read environment variables or bindings.
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Secret, SecretError> {
        match self {
            SecretRef::Literal(secret) => Ok(secret.clone()),
            SecretRef::Env(name) => match lookup(name) {
                None => Err(SecretError::NotSet(name.clone())),
                Some(value) if value.is_empty() => Err(SecretError::EmptyVariable(name.clone())),
                Some(value) => Secret::new(value.into_bytes()),
            },
        }
    }

    /// True for `literal:` references, which `hookline check` flags outside local development.
    pub fn is_literal(&self) -> bool {
        matches!(self, SecretRef::Literal(_))
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "env:{name}"),
            SecretRef::Literal(_) => f.write_str("literal:(..)"),
        }
    }
}

impl FromStr for SecretRef {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("env:") {
            if is_env_name(name) {
                Ok(SecretRef::Env(name.to_owned()))
            } else {
                // The name is not secret, but it may be a pasted secret: don't echo it.
                Err(SecretError::BadEnvName)
            }
        } else if let Some(value) = s.strip_prefix("literal:") {
            Ok(SecretRef::Literal(Secret::new(value.as_bytes().to_vec())?))
        } else {
            Err(SecretError::BadReference)
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names shells, Workers and Lambda all accept.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a secret or a secret reference was refused. Never carries secret material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The key is empty.
    #[error("the secret is empty")]
    Empty,
    /// The reference has neither an `env:` nor a `literal:` prefix.
    #[error("a secret reference must be `env:NAME` (or `literal:VALUE` for local development)")]
    BadReference,
    /// `env:` is followed by something that is not a variable name.
    #[error("`env:` must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)")]
    BadEnvName,
    /// The named variable or binding does not exist.
    #[error("environment variable or secret `{0}` is not set")]
    NotSet(String),
    /// The named variable exists but is empty.
    #[error("environment variable or secret `{0}` is empty")]
    EmptyVariable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_is_rejected() {
        assert_eq!(Secret::new(Vec::new()), Err(SecretError::Empty));
        assert_eq!("literal:".parse::<SecretRef>(), Err(SecretError::Empty));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let s = Secret::new(b"whsec_topsecret".to_vec()).unwrap();
        assert_eq!(format!("{s:?}"), "Secret(..)");
        let r: SecretRef = "literal:whsec_topsecret".parse().unwrap();
        assert!(!format!("{r:?}").contains("topsecret"));
    }

    #[test]
    fn references_parse_and_resolve() {
        let r: SecretRef = "env:STRIPE_SECRET".parse().unwrap();
        assert_eq!(r, SecretRef::Env("STRIPE_SECRET".into()));
        let got = r
            .resolve(|n| (n == "STRIPE_SECRET").then(|| "whsec_x".to_string()))
            .unwrap();
        assert_eq!(got.expose(), b"whsec_x");
        assert_eq!(
            r.resolve(|_| None),
            Err(SecretError::NotSet("STRIPE_SECRET".into()))
        );
        assert_eq!(
            r.resolve(|_| Some(String::new())),
            Err(SecretError::EmptyVariable("STRIPE_SECRET".into()))
        );
    }

    #[test]
    fn bad_references_do_not_echo_their_text() {
        for bad in ["whsec_abc", "env:1ABC", "env:A-B", "ENV:X", "env:whsec_x y"] {
            let err = bad.parse::<SecretRef>().unwrap_err();
            assert!(!err.to_string().contains(bad), "{err} echoes {bad}");
        }
        assert_eq!("env:".parse::<SecretRef>(), Err(SecretError::BadEnvName));
        assert_eq!("".parse::<SecretRef>(), Err(SecretError::BadReference));
    }
}
