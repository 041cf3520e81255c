//! Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + sorted form parameters)).
//!
//! For form-encoded requests the parameters are appended to the full URL as `name` + `value`,
//! sorted by name then value (duplicates once). For JSON requests Twilio adds `bodySHA256=<hex>`
//! to the URL's query and signs the URL alone; the body must then hash to that value.
//! Twilio's own validators check the URL both with and without the port (its signing side is
//! inconsistent about default ports), so this one does too.
//!
//! Webhooks signed with a SharedKey (Twilio's webhook configuration API) announce
//! `algorithm=HMAC_SHA256` in `X-Twilio-Webhooks-Signature-Settings`; the string to sign is the
//! same. Letting that header choose between HMAC-SHA1 and HMAC-SHA256 under the same secret is
//! not a downgrade: both are sound MACs.
//! <https://www.twilio.com/docs/usage/webhooks/webhooks-security>
//!
//! Twilio's string to sign joins each name to its value with no separator, sorts the pairs and
//! (in its Python SDK, which this follows) drops duplicates. So different raw bodies can carry
//! the same signature: `Body=HiT&o=1` signs like `Body=Hi&To=1`. That is Twilio's design, not a
//! bypass of it, but consumers of a verified Twilio request should read the decoded parameters
//! rather than trust the raw bytes' layout.

use sha2::{Digest, Sha256};

use super::common::{MacKey, SigBuf, any_mac_matches, kv_pairs, optional, required};
use super::{Algorithm, Checked, Code, KeyPrep, Keys, Request, SignError, VerifyError};
use crate::secret::Secret;

/// Twilio's row code: each secret keys HMAC-SHA1 and HMAC-SHA256, and the signed URL and
/// parameters are digested for the envelope id.
pub(crate) const CODE: Code = Code {
    keys: KeyPrep::Own {
        verify: |_, secrets| Ok(mac_keys(secrets)),
        sign: |_, secrets| Ok(mac_keys(secrets)),
    },
    verify: |_, keys, req, _, _| {
        verify(&keys.mac, req)?;
        Ok(Checked {
            canonical_digest: canonical_digest(req),
            ..Checked::default()
        })
    },
    sign: |_, keys, req, _, _| sign(&keys.mac, req),
};

/// Every secret as both an HMAC-SHA1 key (auth tokens) and an HMAC-SHA256 key (SharedKeys).
fn mac_keys(secrets: &[Secret]) -> Keys {
    Keys {
        mac: [Algorithm::Sha1, Algorithm::Sha256]
            .into_iter()
            .flat_map(|alg| secrets.iter().map(move |s| MacKey::new(alg, s.expose())))
            .collect(),
        ..Keys::default()
    }
}

/// The algorithm `X-Twilio-Webhooks-Signature-Settings` names (HMAC-SHA1 when absent).
fn algorithm(req: &Request<'_>) -> Result<Algorithm, VerifyError> {
    let Some(settings) = optional(req, "x-twilio-webhooks-signature-settings")? else {
        return Ok(Algorithm::Sha1);
    };
    match kv_pairs(settings, ',').find(|(k, _)| *k == "algorithm") {
        None | Some((_, "HMAC_SHA1")) => Ok(Algorithm::Sha1),
        Some((_, "HMAC_SHA256")) => Ok(Algorithm::Sha256),
        Some(_) => Err(VerifyError::UnsupportedSignatureVersion),
    }
}

/// A URL split around its authority's port: `prefix` is `scheme://[userinfo@]host`.
struct UrlParts<'a> {
    prefix: &'a str,
    port: Option<&'a str>,
    rest: &'a str,
    https: bool,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let scheme_end = url.find("://")?;
    let scheme = url.get(..scheme_end)?;
    let after = url.get(scheme_end + 3..)?;
    let auth_len = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = after.get(..auth_len)?;
    let rest = after.get(auth_len..)?;
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = authority.get(host_start..)?;
    // An IPv6 literal's colons are not a port separator.
    let port_sep = match host.rfind(']') {
        Some(close) => host.get(close..)?.find(':').map(|i| close + i),
        None => host.rfind(':'),
    };
    let (prefix_len, port) = match port_sep {
        Some(i) => (scheme_end + 3 + host_start + i, host.get(i + 1..)),
        None => (scheme_end + 3 + auth_len, None),
    };
    if host.is_empty() {
        return None;
    }
    Some(UrlParts {
        prefix: url.get(..prefix_len)?,
        port,
        rest,
        https: scheme.eq_ignore_ascii_case("https"),
    })
}

/// The URL as given, and the URL with the port toggled (added when absent, removed when present).
fn url_variants(url: &str) -> Option<[String; 2]> {
    let p = split_url(url)?;
    let other = match p.port {
        Some(_) => format!("{}{}", p.prefix, p.rest),
        None => format!("{}:{}{}", p.prefix, if p.https { 443 } else { 80 }, p.rest),
    };
    Some([url.to_owned(), other])
}

/// The value of `bodySHA256` in the URL's query, if any.
fn body_sha256_param(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
}

fn is_form(req: &Request<'_>) -> bool {
    req.headers
        .get_all("content-type")
        .next()
        .is_some_and(|ct| {
            ct.trim_start()
                .get(..33)
                .is_some_and(|p| p.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        })
}

/// Sorted, de-duplicated `(name, value)` pairs of a form body (none when the request is not a
/// form).
///
/// Decoding is strict: a `%` not followed by two hex digits, or escapes that decode to bytes
/// that are not UTF-8, refuse the body. A lenient decoder maps `%FF` and `%FE` alike to U+FFFD
/// and keeps `%ZZ` as it is, so two bodies that mean different things to a consumer would sign
/// the same string, and one of them could be swapped for the other under a captured signature.
fn sorted_params(req: &Request<'_>) -> Result<Vec<(String, String)>, MalformedForm> {
    if !is_form(req) {
        return Ok(Vec::new());
    }
    let mut params = Vec::new();
    for pair in req.body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (pair.get(..i), pair.get(i + 1..)),
            None => (Some(pair), Some(&b""[..])),
        };
        let (Some(name), Some(value)) = (name, value) else {
            return Err(MalformedForm);
        };
        params.push((decode_component(name)?, decode_component(value)?));
    }
    params.sort();
    params.dedup();
    Ok(params)
}

/// A form body that does not decode strictly (see [`sorted_params`]).
#[derive(Debug)]
pub(crate) struct MalformedForm;

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX` a
/// byte; anything else in the input is taken as is. The result must be UTF-8.
fn decode_component(input: &[u8]) -> Result<String, MalformedForm> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(|&c| char::from(c).to_digit(16));
                let lo = bytes.next().and_then(|&c| char::from(c).to_digit(16));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(MalformedForm);
                };
                // Two hex digits are at most 255.
                out.push(u8::try_from(hi * 16 + lo).map_err(|_| MalformedForm)?);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| MalformedForm)
}

/// SHA-256 over exactly what Twilio's signature covers: the URL (without its port, so both
/// variants that verify agree; with its query, which carries `bodySHA256` when the body is
/// signed through it), then each sorted, de-duplicated form parameter name and value,
/// concatenated with no separators. Requests that verify under the same signature (parameters
/// reordered or repeated, a name/value boundary moved, empty pairs added) share this digest;
/// requests that differ in anything signed (the URL's path or query, a parameter, the body of a
/// `bodySHA256` request) do not. The `Content-Type` changes nothing here unless it changes what
/// is signed. `None` only for a request that could not have verified.
pub(crate) fn canonical_digest(req: &Request<'_>) -> Option<[u8; 32]> {
    let parts = split_url(req.url)?;
    let params = if body_sha256_param(req.url).is_some() {
        Vec::new()
    } else {
        sorted_params(req).ok()?
    };
    let mut h = Sha256::new();
    h.update(parts.prefix.as_bytes());
    h.update(parts.rest.as_bytes());
    for part in signed_parts("", &params) {
        h.update(part);
    }
    Some(h.finalize().into())
}

/// The lower-case hex SHA-256 of a body, as Twilio puts it in `bodySHA256`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn signed_parts<'p>(url: &'p str, params: &'p [(String, String)]) -> Vec<&'p [u8]> {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + params.len() * 2);
    parts.push(url.as_bytes());
    for (k, v) in params {
        parts.push(k.as_bytes());
        parts.push(v.as_bytes());
    }
    parts
}

fn verify(keys: &[MacKey], req: &Request<'_>) -> Result<(), VerifyError> {
    let sig = required(req, "x-twilio-signature")?;
    let variants = url_variants(req.url).ok_or(VerifyError::MalformedUrl)?;
    let params = match body_sha256_param(req.url) {
        Some(expected) => {
            let actual = SigBuf::from_slice(&Sha256::digest(req.body));
            let matches = SigBuf::from_hex(&expected).is_some_and(|e| e.ct_eq(&actual));
            if !matches {
                return Err(VerifyError::BodyHashMismatch);
            }
            Vec::new()
        }
        None if is_form(req) => sorted_params(req).map_err(|_| VerifyError::MalformedForm)?,
        // Twilio signs a body only as form parameters or through bodySHA256: any other body
        // would ride along unauthenticated.
        None if !req.body.is_empty() => return Err(VerifyError::BodyNotSigned),
        None => Vec::new(),
    };
    let alg = algorithm(req)?;
    let candidates: Vec<SigBuf> = SigBuf::from_base64(sig).into_iter().collect();
    let ok = variants.iter().any(|url| {
        let keys = keys.iter().filter(|k| k.algorithm() == alg);
        any_mac_matches(keys, &signed_parts(url, &params), &candidates)
    });
    if ok {
        Ok(())
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

fn sign(keys: &[MacKey], req: &Request<'_>) -> Result<Vec<(String, String)>, SignError> {
    split_url(req.url).ok_or(SignError::MalformedUrl)?;
    let params = if body_sha256_param(req.url).is_some() {
        Vec::new()
    } else {
        sorted_params(req).map_err(|_| SignError::MalformedForm)?
    };
    let alg = algorithm(req).map_err(|_| SignError::UnsupportedAlgorithm)?;
    let sig = keys
        .iter()
        .find(|k| k.algorithm() == alg)
        .map(|k| k.compute(&signed_parts(req.url, &params)).to_base64())
        .unwrap_or_default();
    Ok(vec![("X-Twilio-Signature".to_owned(), sig)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_variants() {
        let v = url_variants("https://example.com/sms?x=1").unwrap();
        assert_eq!(v[1], "https://example.com:443/sms?x=1");
        let v = url_variants("https://example.com:443/sms").unwrap();
        assert_eq!(v[1], "https://example.com/sms");
        let v = url_variants("http://u:p@example.com").unwrap();
        assert_eq!(v[1], "http://u:p@example.com:80");
        let v = url_variants("https://[::1]:8443/x").unwrap();
        assert_eq!(v[1], "https://[::1]/x");
        let v = url_variants("https://[::1]/x").unwrap();
        assert_eq!(v[1], "https://[::1]:443/x");
        assert!(url_variants("not a url").is_none());
        assert!(url_variants("https:///path").is_none());
    }

    #[test]
    fn body_hash_param_is_read_from_the_query() {
        assert_eq!(
            body_sha256_param("https://e.com/x?a=1&bodySHA256=ab12#f").as_deref(),
            Some("ab12")
        );
        assert_eq!(body_sha256_param("https://e.com/x?a=1"), None);
    }
}
