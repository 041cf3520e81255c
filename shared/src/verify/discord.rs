//! Discord interactions: Ed25519 over `{timestamp}{body}`.
//!
//! Headers `X-Signature-Ed25519` (hex signature) and `X-Signature-Timestamp` (unix seconds);
//! the key is the application's public key, in hex, from the developer portal.
//! <https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers>

use std::time::Duration;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::common::{SigBuf, check_fresh, parse_unix_secs, required};
use super::{Checked, Code, KeyError, KeyPrep, Keys, Request, VerifyError};
use crate::secret::Secret;
use crate::time::Timestamp;

/// Discord's row code: hex Ed25519 keys.
pub(crate) const CODE: Code = Code {
    keys: KeyPrep::Own {
        verify: |_, secrets| verify_keys(secrets),
        sign: |_, secrets| {
            Ok(Keys {
                ed25519_signing: sign_keys(secrets)?,
                ..Keys::default()
            })
        },
    },
    verify: |_, keys, req, now, tolerance| {
        verify(keys, req, now, tolerance).map(|at| Checked::at(Some(at)))
    },
    sign: |_, keys, req, _, timestamp| Ok(sign(&keys.ed25519_signing, timestamp, req.body)),
};

fn hex32(secret: &Secret, index: usize) -> Result<[u8; 32], KeyError> {
    let s = secret.expose_str().ok_or(KeyError::InvalidHex(index))?;
    let buf = SigBuf::from_hex(s.trim()).ok_or(KeyError::InvalidHex(index))?;
    buf.as_bytes()
        .try_into()
        .map_err(|_| KeyError::InvalidEd25519(index, "key (expected 32 bytes of hex)"))
}

fn verify_keys(secrets: &[Secret]) -> Result<Keys, KeyError> {
    let ed25519 = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            VerifyingKey::from_bytes(&hex32(s, i)?)
                .map_err(|_| KeyError::InvalidEd25519(i, "public key"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Keys {
        ed25519,
        ..Keys::default()
    })
}

fn sign_keys(secrets: &[Secret]) -> Result<Vec<SigningKey>, KeyError> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| Ok(SigningKey::from_bytes(&hex32(s, i)?)))
        .collect()
}

fn verify(
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

fn sign(keys: &[SigningKey], timestamp: Timestamp, body: &[u8]) -> Vec<(String, String)> {
    let ts = timestamp.unix_secs().to_string();
    let msg = [ts.as_bytes(), body].concat();
    let sig = keys
        .first()
        .map(|k| hex::encode(k.sign(&msg).to_bytes()))
        .unwrap_or_default();
    vec![
        ("X-Signature-Ed25519".to_owned(), sig),
        ("X-Signature-Timestamp".to_owned(), ts),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::Headers;

    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const NOW: i64 = 1_763_900_000;

    /// Verifies `body` under `ts` with the signature of `signed_ts` + `signed_body`.
    fn run(
        signed_ts: &str,
        signed_body: &str,
        ts: &str,
        body: &str,
    ) -> Result<Timestamp, VerifyError> {
        let seed = Secret::new(SEED.as_bytes().to_vec()).unwrap();
        let signing = sign_keys(std::slice::from_ref(&seed)).unwrap();
        let msg = [signed_ts.as_bytes(), signed_body.as_bytes()].concat();
        let sig = SigBuf::from_slice(&signing[0].sign(&msg).to_bytes()).to_hex();
        let public = SigBuf::from_slice(signing[0].verifying_key().as_bytes()).to_hex();
        let keys = verify_keys(&[Secret::new(public.into_bytes()).unwrap()]).unwrap();
        let headers: Headers = [
            ("X-Signature-Ed25519", sig),
            ("X-Signature-Timestamp", ts.to_owned()),
        ]
        .into_iter()
        .collect();
        let req = Request::post(
            "https://hooks.example.com/hooks/discord",
            &headers,
            body.as_bytes(),
        );
        verify(
            &keys,
            &req,
            Timestamp::from_unix_secs(NOW),
            Some(Duration::from_secs(300)),
        )
    }

    #[test]
    fn discord_digit_moved_between_timestamp_and_body_is_refused() {
        // Discord signs `{timestamp}{body}` with nothing between them. A body starting with
        // digits lends one to the timestamp, or takes one from it: the signed bytes stay the
        // same, but the timestamp's value changes tenfold, far outside the window.
        let (ts, body) = ("1763900000", "5{\"type\":1}");
        assert_eq!(run(ts, body, ts, body), Ok(Timestamp::from_unix_secs(NOW)));
        assert_eq!(
            run(ts, body, "17639000005", "{\"type\":1}"),
            Err(VerifyError::TimestampInFuture)
        );
        assert_eq!(
            run(ts, body, "176390000", "05{\"type\":1}"),
            Err(VerifyError::TimestampTooOld)
        );
        // A body starting with `0` cannot lend it as a leading zero of the next timestamp
        // either: `0` written first is not a spelling of a timestamp.
        let (ts, body) = ("1763900000", "01{}");
        assert_eq!(
            run(ts, body, "17639000000", "1{}"),
            Err(VerifyError::TimestampInFuture)
        );
        assert_eq!(
            run("0", "1763900000{}", "01763900000", "{}"),
            Err(VerifyError::InvalidTimestamp)
        );
    }
}
