//! Standard Webhooks (and Svix, which it grew out of).
//!
//! Headers `webhook-id`, `webhook-timestamp`, `webhook-signature` (or the same with `svix-`).
//! Signed content is `{id}.{timestamp}.{body}`. The signature header is a space-separated list
//! of `version,base64` entries: `v1` is HMAC-SHA256 keyed with the base64 key after `whsec_`,
//! `v1a` is Ed25519 with a `whpk_` public key (signing uses the `whsk_` private key).
//! Spec: <https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>

use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::common::{MacKey, SigBuf, any_mac_matches, check_fresh, parse_unix_secs, required};
use super::{Algorithm, Checked, Code, KeyError, KeyPrep, Keys, Request, SignError, VerifyError};
use crate::secret::Secret;
use crate::time::Timestamp;

/// Standard Webhooks' row code: `whsec_`/`whpk_`/`whsk_` keys, and the id it signs.
pub(crate) const CODE: Code = Code {
    keys: KeyPrep::Own {
        verify: |_, secrets| verify_keys(secrets),
        sign: |_, secrets| sign_keys(secrets),
    },
    verify: |_, keys, req, now, tolerance| {
        let (at, id) = verify(keys, req, now, tolerance)?;
        Ok(Checked {
            signed_at: Some(at),
            signed_id: Some(id),
            canonical_digest: None,
        })
    },
    sign: |_, keys, req, id, timestamp| {
        sign(&keys.mac, &keys.ed25519_signing, id, timestamp, req.body)
    },
};

/// More signatures than this in one header is not rotation, it is an attack on CPU time.
const MAX_CANDIDATES: usize = 16;

/// Each `v1a` entry costs an Ed25519 verification, which hashes the whole body again: a
/// rotation needs two, so more than four is refused before any of them is checked.
const MAX_V1A: usize = 4;

/// Secrets are decoded whether or not their `=` padding survived copy and paste, as the
/// official libraries do (they re-pad before decoding). Signatures stay strictly padded.
const SECRET_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_b64(s: &str, index: usize) -> Result<Vec<u8>, KeyError> {
    let bytes = SECRET_BASE64
        .decode(s)
        .map_err(|_| KeyError::InvalidBase64(index))?;
    if bytes.is_empty() {
        return Err(KeyError::Empty(index));
    }
    Ok(bytes)
}

fn text(secret: &Secret, index: usize) -> Result<&str, KeyError> {
    secret.expose_str().ok_or(KeyError::InvalidBase64(index))
}

/// A `whsec_` (or bare base64) HMAC key.
fn mac_key(s: &str, index: usize) -> Result<MacKey, KeyError> {
    let b64 = s.strip_prefix("whsec_").unwrap_or(s);
    Ok(MacKey::new(Algorithm::Sha256, &decode_b64(b64, index)?))
}

fn verify_keys(secrets: &[Secret]) -> Result<Keys, KeyError> {
    let mut keys = Keys::default();
    for (i, secret) in secrets.iter().enumerate() {
        let s = text(secret, i)?;
        if let Some(pk) = s.strip_prefix("whpk_") {
            let bytes: [u8; 32] = decode_b64(pk, i)?
                .try_into()
                .map_err(|_| KeyError::InvalidEd25519(i, "public key"))?;
            let key = VerifyingKey::from_bytes(&bytes)
                .map_err(|_| KeyError::InvalidEd25519(i, "public key"))?;
            keys.ed25519.push(key);
        } else if s.starts_with("whsk_") {
            return Err(KeyError::WrongKeyKind(
                i,
                "whsk_ is a private signing key; configure the whpk_ public key to verify",
            ));
        } else {
            keys.mac.push(mac_key(s, i)?);
        }
    }
    Ok(keys)
}

fn sign_keys(secrets: &[Secret]) -> Result<Keys, KeyError> {
    let (mut mac, mut ed) = (Vec::new(), Vec::new());
    for (i, secret) in secrets.iter().enumerate() {
        let s = text(secret, i)?;
        if let Some(sk) = s.strip_prefix("whsk_") {
            ed.push(ed25519_signing_key(&decode_b64(sk, i)?, i)?);
        } else if s.starts_with("whpk_") {
            return Err(KeyError::WrongKeyKind(
                i,
                "whpk_ is a public key; signing needs the whsk_ private key",
            ));
        } else {
            mac.push(mac_key(s, i)?);
        }
    }
    Ok(Keys {
        mac,
        ed25519_signing: ed,
        ..Keys::default()
    })
}

/// A 32-byte seed, or a 64-byte seed-and-public-key pair (checked for consistency).
pub(crate) fn ed25519_signing_key(bytes: &[u8], index: usize) -> Result<SigningKey, KeyError> {
    let bad = || KeyError::InvalidEd25519(index, "private key");
    match bytes.len() {
        32 => {
            let seed: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
            Ok(SigningKey::from_bytes(&seed))
        }
        64 => {
            let pair: [u8; 64] = bytes.try_into().map_err(|_| bad())?;
            SigningKey::from_keypair_bytes(&pair).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// Verifies; returns the signed timestamp and message id.
fn verify<'a>(
    keys: &Keys,
    req: &Request<'a>,
    now: Timestamp,
    tolerance: Option<Duration>,
) -> Result<(Timestamp, &'a str), VerifyError> {
    // Svix's own headers are accepted when no `webhook-signature` is present.
    let svix = !req.headers.contains("webhook-signature") && req.headers.contains("svix-signature");
    let (id_h, ts_h, sig_h) = if svix {
        ("svix-id", "svix-timestamp", "svix-signature")
    } else {
        ("webhook-id", "webhook-timestamp", "webhook-signature")
    };
    let id = required(req, id_h)?;
    if !is_unambiguous_id(id) {
        return Err(VerifyError::MalformedHeader(id_h.into()));
    }
    let ts = required(req, ts_h)?;
    let sig = required(req, sig_h)?;
    let at = Timestamp::from_unix_secs(parse_unix_secs(ts)?);
    check_fresh(at, now, tolerance)?;

    let mut v1 = Vec::new();
    let mut v1a = Vec::new();
    let mut supported = false;
    for entry in sig.split_ascii_whitespace() {
        let Some((version, value)) = entry.split_once(',') else {
            continue;
        };
        if !matches!(version, "v1" | "v1a") {
            continue;
        }
        supported = true;
        if v1.len() + v1a.len() >= MAX_CANDIDATES || (version == "v1a" && v1a.len() >= MAX_V1A) {
            return Err(VerifyError::MalformedHeader(sig_h.into()));
        }
        if let Some(s) = SigBuf::from_base64(value) {
            if version == "v1" {
                v1.push(s)
            } else {
                v1a.push(s)
            }
        }
    }
    if !supported {
        return Err(VerifyError::UnsupportedSignatureVersion);
    }
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", ts.as_bytes(), b".", req.body];
    if any_mac_matches(&keys.mac, &parts, &v1) {
        return Ok((at, id));
    }
    if !v1a.is_empty() && !keys.ed25519.is_empty() {
        let msg = parts.concat();
        let sigs: Vec<ed25519_dalek::Signature> = v1a
            .iter()
            .filter_map(|s| ed25519_dalek::Signature::from_slice(s.as_bytes()).ok())
            .collect();
        let ok = keys
            .ed25519
            .iter()
            .any(|key| sigs.iter().any(|s| key.verify_strict(&msg, s).is_ok()));
        if ok {
            return Ok((at, id));
        }
    }
    Err(VerifyError::SignatureMismatch)
}

/// Whether `id` can stand first in the signed content `{id}.{timestamp}.{body}` with one
/// reading only: not empty, and without the `.` separator. With an id that may hold a `.`, the
/// same signed bytes read as another id, timestamp and body: id `a`, timestamp `T` and body
/// `x.U.y` sign exactly what id `a.T.x`, timestamp `U` and body `y` sign. So such an id is
/// refused when verifying and never signed.
pub(crate) fn is_unambiguous_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('.')
}

/// `webhook-id`, `webhook-timestamp` and `webhook-signature` with one entry per key.
fn sign(
    mac: &[MacKey],
    ed: &[SigningKey],
    id: &str,
    timestamp: Timestamp,
    body: &[u8],
) -> Result<Vec<(String, String)>, SignError> {
    if !is_unambiguous_id(id) {
        return Err(SignError::InvalidId);
    }
    let ts = timestamp.unix_secs().to_string();
    let parts: [&[u8]; 5] = [id.as_bytes(), b".", ts.as_bytes(), b".", body];
    let mut sigs: Vec<String> = mac
        .iter()
        .map(|k| format!("v1,{}", k.compute(&parts).to_base64()))
        .collect();
    if !ed.is_empty() {
        let msg = parts.concat();
        sigs.extend(
            ed.iter()
                .map(|k| format!("v1a,{}", BASE64.encode(k.sign(&msg).to_bytes()))),
        );
    }
    Ok(vec![
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), ts),
        ("webhook-signature".to_owned(), sigs.join(" ")),
    ])
}
