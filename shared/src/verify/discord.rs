//! Discord interactions: Ed25519 over `{timestamp}{body}`.
//!
//! Headers `X-Signature-Ed25519` (hex signature) and `X-Signature-Timestamp` (unix seconds);
//! the key is the application's public key, in hex, from the developer portal.
//! <https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers>

use std::time::Duration;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::common::{SigBuf, check_fresh, parse_unix_secs, required};
use super::{KeyError, Keys, Request, VerifyError};
use crate::secret::Secret;
use crate::time::Timestamp;

fn hex32(secret: &Secret, index: usize) -> Result<[u8; 32], KeyError> {
    let s = secret.expose_str().ok_or(KeyError::InvalidHex(index))?;
    let buf = SigBuf::from_hex(s.trim()).ok_or(KeyError::InvalidHex(index))?;
    buf.as_bytes()
        .try_into()
        .map_err(|_| KeyError::InvalidEd25519(index, "key (expected 32 bytes of hex)"))
}

pub(crate) fn verify_keys(secrets: &[Secret]) -> Result<Keys, KeyError> {
    let ed25519 = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            VerifyingKey::from_bytes(&hex32(s, i)?)
                .map_err(|_| KeyError::InvalidEd25519(i, "public key"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Keys {
        mac: Vec::new(),
        ed25519,
    })
}

pub(crate) fn sign_keys(secrets: &[Secret]) -> Result<Vec<SigningKey>, KeyError> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Ok(SigningKey::from_bytes(&hex32(s, i)?)))
        .collect()
}

pub(crate) fn verify(
    keys: &Keys,
    req: &Request<'_>,
    now: Timestamp,
    tolerance: Option<Duration>,
) -> Result<Timestamp, VerifyError> {
    let sig = required(req, "x-signature-ed25519")?;
    let ts = required(req, "x-signature-timestamp")?;
    let at = Timestamp::from_unix_secs(parse_unix_secs(ts)?);
    check_fresh(at, now, tolerance)?;
    let sig = SigBuf::from_hex(sig)
        .and_then(|s| Signature::from_slice(s.as_bytes()).ok())
        .ok_or(VerifyError::SignatureMismatch)?;
    let msg = [ts.as_bytes(), req.body].concat();
    if keys
        .ed25519
        .iter()
        .any(|k| k.verify_strict(&msg, &sig).is_ok())
    {
        Ok(at)
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

pub(crate) fn sign(
    keys: &[SigningKey],
    timestamp: Timestamp,
    body: &[u8],
) -> Vec<(String, String)> {
    let ts = timestamp.unix_secs().to_string();
    let msg = [ts.as_bytes(), body].concat();
    let sig = keys
        .first()
        .map(|k| SigBuf::from_slice(&k.sign(&msg).to_bytes()).to_hex())
        .unwrap_or_default();
    vec![
        ("X-Signature-Ed25519".to_owned(), sig),
        ("X-Signature-Timestamp".to_owned(), ts),
    ]
}
