//! The provider schemes that are a plain HMAC over some arrangement of timestamp and body:
//! Stripe, GitHub, Slack, Shopify, Paddle, Zendesk, Linear, Intercom and Zoom.
//!
//! Each provider's layout, from its documentation:
//!
//! | scheme | signature header | signed content | encoding | timestamp |
//! |---|---|---|---|---|
//! | Stripe | `Stripe-Signature: t=T,v1=S[,v1=S2][,v0=..]` | `T.body` | hex | `t` (unix s) |
//! | GitHub | `X-Hub-Signature-256: sha256=S` | `body` | hex | none |
//! | Slack | `X-Slack-Signature: v0=S` | `v0:T:body` | hex | `X-Slack-Request-Timestamp` |
//! | Shopify | `X-Shopify-Hmac-Sha256: S` | `body` | base64 | none |
//! | Paddle | `Paddle-Signature: ts=T;h1=S[;h1=S2]` | `T:body` | hex | `ts` (unix s) |
//! | Zendesk | `X-Zendesk-Webhook-Signature: S` | `T` + `body` | base64 | `X-Zendesk-Webhook-Signature-Timestamp` (RFC 3339) |
//! | Linear | `Linear-Signature: S` | `body` | hex | `webhookTimestamp` in the JSON body (ms) |
//! | Intercom | `X-Hub-Signature: sha1=S` | `body` | hex (HMAC-SHA1) | none |
//! | Zoom | `x-zm-signature: v0=S` | `v0:T:body` | hex | `x-zm-request-timestamp` (unix s) |
//!
//! Zoom copied Slack's layout under its own header names, so the two share one code path
//! ([`V0Headers`]).

use std::borrow::Cow;
use std::time::Duration;

use super::common::{
    MacKey, SigBuf, any_mac_matches, check_fresh, kv_pairs, parse_rfc3339_canonical,
    parse_unix_secs, required,
};
use super::{Algorithm, Checked, Code, KeyPrep, Request, VerifyError};
use crate::time::Timestamp;

/// More signatures than this in one header is not rotation, it is an attack on CPU time.
const MAX_CANDIDATES: usize = 16;

/// Collects candidate signatures, refusing absurd counts.
struct Candidates {
    list: Vec<SigBuf>,
    /// True once an entry of a supported version was seen, even one that failed to decode:
    /// a malformed `v1=` must be a mismatch, not "no supported version".
    seen_supported: bool,
}

impl Candidates {
    fn new() -> Self {
        Self {
            list: Vec::new(),
            seen_supported: false,
        }
    }

    fn push(&mut self, sig: Option<SigBuf>, header: &'static str) -> Result<(), VerifyError> {
        self.seen_supported = true;
        if let Some(sig) = sig {
            if self.list.len() >= MAX_CANDIDATES {
                return Err(VerifyError::MalformedHeader(Cow::Borrowed(header)));
            }
            self.list.push(sig);
        }
        Ok(())
    }

    fn single(sig: Option<SigBuf>) -> Self {
        Self {
            list: sig.into_iter().collect(),
            seen_supported: true,
        }
    }

    fn check(&self, keys: &[MacKey], parts: &[&[u8]]) -> Result<(), VerifyError> {
        if !self.seen_supported {
            return Err(VerifyError::UnsupportedSignatureVersion);
        }
        if any_mac_matches(keys, parts, &self.list) {
            Ok(())
        } else {
            Err(VerifyError::SignatureMismatch)
        }
    }
}

/// Parses a `t=..,v1=..` (Stripe) or `ts=..;h1=..` (Paddle) header.
fn parse_timestamped_list<'h>(
    header_value: &'h str,
    header: &'static str,
    sep: char,
    ts_key: &str,
    sig_key: &str,
) -> Result<(&'h str, Candidates), VerifyError> {
    let mut ts = None;
    let mut candidates = Candidates::new();
    for (k, v) in kv_pairs(header_value, sep) {
        if k == ts_key {
            // Two timestamps: which one was signed? Refuse rather than guess.
            if ts.replace(v).is_some() {
                return Err(VerifyError::MalformedHeader(Cow::Borrowed(header)));
            }
        } else if k == sig_key {
            candidates.push(SigBuf::from_hex(v), header)?;
        }
    }
    let ts = ts.ok_or(VerifyError::MissingTimestamp)?;
    Ok((ts, candidates))
}

fn unix(ts: &str) -> Result<Timestamp, VerifyError> {
    parse_unix_secs(ts).map(Timestamp::from_unix_secs)
}

/// The row code of a scheme keyed by the secret's bytes with `algorithm`, verified and signed
/// by two plain functions of the MAC keys.
macro_rules! hmac_code {
    ($algorithm:expr, $verify:expr, $sign:expr) => {
        Code {
            keys: KeyPrep::Hmac($algorithm),
            verify: |_, keys, req, now, tolerance| {
                $verify(&keys.mac, req, now, tolerance).map(Checked::at)
            },
            sign: |_, keys, req, _, timestamp| Ok($sign(&keys.mac, req.body, timestamp)),
        }
    };
}

/// Stripe's row code.
pub(crate) const STRIPE: Code = hmac_code!(Algorithm::Sha256, stripe_verify, stripe_sign);
/// Paddle's row code.
pub(crate) const PADDLE: Code = hmac_code!(Algorithm::Sha256, paddle_verify, paddle_sign);
/// Slack's row code.
pub(crate) const SLACK: Code = hmac_code!(Algorithm::Sha256, slack_verify, slack_sign);
/// Zoom's row code.
pub(crate) const ZOOM: Code = hmac_code!(Algorithm::Sha256, zoom_verify, zoom_sign);
/// Zendesk's row code.
pub(crate) const ZENDESK: Code = hmac_code!(Algorithm::Sha256, zendesk_verify, zendesk_sign);
/// GitHub's row code.
pub(crate) const GITHUB: Code = hmac_code!(Algorithm::Sha256, github_verify, github_sign);
/// Intercom's row code: GitHub's layout under HMAC-SHA1.
pub(crate) const INTERCOM: Code = hmac_code!(Algorithm::Sha1, intercom_verify, intercom_sign);
/// Shopify's row code.
pub(crate) const SHOPIFY: Code = hmac_code!(Algorithm::Sha256, shopify_verify, shopify_sign);
/// Linear's row code.
pub(crate) const LINEAR: Code = hmac_code!(Algorithm::Sha256, linear_verify, linear_sign);

/// The signed timestamp, when the scheme has one, or the reason the request is refused.
type Outcome = Result<Option<Timestamp>, VerifyError>;

/// The layout Stripe and Paddle share: `{header}: {ts_key}=T{sep}{sig_key}=S[{sep}{sig_key}=S2]`,
/// hex HMAC-SHA256 of `T{joiner}body`, with `T` in unix seconds.
struct TimestampedList {
    /// The header, lower case (as looked up and reported in errors).
    header: &'static str,
    /// The header's name as the provider writes it, for signing.
    header_sent: &'static str,
    sep: char,
    ts_key: &'static str,
    sig_key: &'static str,
    /// What the provider signs between the timestamp and the body.
    joiner: &'static [u8],
}

const STRIPE_LIST: TimestampedList = TimestampedList {
    header: "stripe-signature",
    header_sent: "Stripe-Signature",
    sep: ',',
    ts_key: "t",
    sig_key: "v1",
    joiner: b".",
};

const PADDLE_LIST: TimestampedList = TimestampedList {
    header: "paddle-signature",
    header_sent: "Paddle-Signature",
    sep: ';',
    ts_key: "ts",
    sig_key: "h1",
    joiner: b":",
};

impl TimestampedList {
    // A hint to inline this into each scheme's verify function, where the separator and keys
    // are then constants. Measured (criterion, 1 KiB): without it Stripe's verify was 1,013 ns;
    // with `inline(always)` here and on `parse_timestamped_list`, 972 ns but the 64 KiB
    // receive path 10% slower through code layout alone; with the hint, 1,003 ns and no change
    // elsewhere (973-991 ns before the scheme table).
    #[inline]
    fn verify(
        &self,
        keys: &[MacKey],
        req: &Request<'_>,
        now: Timestamp,
        tol: Tolerance,
    ) -> Outcome {
        let value = required(req, self.header)?;
        let (ts, cands) =
            parse_timestamped_list(value, self.header, self.sep, self.ts_key, self.sig_key)?;
        let at = unix(ts)?;
        check_fresh(at, now, tol)?;
        cands.check(keys, &[ts.as_bytes(), self.joiner, req.body])?;
        Ok(Some(at))
    }

    /// One signature per key (rotation): the header holds a list.
    fn sign(&self, keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
        let ts = timestamp.unix_secs().to_string();
        let mut v = format!("{}={ts}", self.ts_key);
        for k in keys {
            v.push(self.sep);
            v.push_str(self.sig_key);
            v.push('=');
            v.push_str(&k.compute(&[ts.as_bytes(), self.joiner, body]).to_hex());
        }
        vec![h(self.header_sent, v)]
    }
}

fn stripe_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    STRIPE_LIST.verify(keys, req, now, tol)
}

fn paddle_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    PADDLE_LIST.verify(keys, req, now, tol)
}

fn slack_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    SLACK_HEADERS.verify(keys, req, now, tol)
}

fn zoom_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    ZOOM_HEADERS.verify(keys, req, now, tol)
}

fn zendesk_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    let sig = required(req, "x-zendesk-webhook-signature")?;
    let ts = required(req, "x-zendesk-webhook-signature-timestamp")?;
    // Zendesk signs `{timestamp}{body}` with nothing between them: the timestamp must
    // have one spelling (see `parse_rfc3339_canonical`) so no byte can change sides.
    let at = parse_rfc3339_canonical(ts)?;
    check_fresh(at, now, tol)?;
    Candidates::single(SigBuf::from_base64(sig)).check(keys, &[ts.as_bytes(), req.body])?;
    Ok(Some(at))
}

fn github_verify(keys: &[MacKey], req: &Request<'_>, _: Timestamp, _: Tolerance) -> Outcome {
    let sig = required(req, "x-hub-signature-256")?;
    prefixed(sig, "sha256=")?.check(keys, &[req.body])?;
    Ok(None)
}

fn intercom_verify(keys: &[MacKey], req: &Request<'_>, _: Timestamp, _: Tolerance) -> Outcome {
    let sig = required(req, "x-hub-signature")?;
    prefixed(sig, "sha1=")?.check(keys, &[req.body])?;
    Ok(None)
}

fn shopify_verify(keys: &[MacKey], req: &Request<'_>, _: Timestamp, _: Tolerance) -> Outcome {
    let sig = required(req, "x-shopify-hmac-sha256")?;
    Candidates::single(SigBuf::from_base64(sig)).check(keys, &[req.body])?;
    Ok(None)
}

fn linear_verify(keys: &[MacKey], req: &Request<'_>, now: Timestamp, tol: Tolerance) -> Outcome {
    let sig = required(req, "linear-signature")?;
    Candidates::single(SigBuf::from_hex(sig)).check(keys, &[req.body])?;
    // The timestamp lives inside the signed body, so it is trustworthy only now.
    let at = linear_timestamp(req.body)?;
    check_fresh(at, now, tol)?;
    Ok(Some(at))
}

/// The replay window passed to verify functions.
type Tolerance = Option<Duration>;

/// The layout Slack introduced and Zoom copied: `{signature}: v0=` + hex HMAC-SHA256 of
/// `v0:{ts}:{body}`, where `ts` is the `{timestamp}` header's value in unix seconds.
struct V0Headers {
    /// The timestamp header, lower case (as looked up and reported in errors).
    timestamp: &'static str,
    /// The signature header, lower case.
    signature: &'static str,
    /// The two names as the provider writes them, for signing.
    timestamp_sent: &'static str,
    signature_sent: &'static str,
}

const SLACK_HEADERS: V0Headers = V0Headers {
    timestamp: "x-slack-request-timestamp",
    signature: "x-slack-signature",
    timestamp_sent: "X-Slack-Request-Timestamp",
    signature_sent: "X-Slack-Signature",
};

/// Zoom writes its header names in lower case.
const ZOOM_HEADERS: V0Headers = V0Headers {
    timestamp: "x-zm-request-timestamp",
    signature: "x-zm-signature",
    timestamp_sent: "x-zm-request-timestamp",
    signature_sent: "x-zm-signature",
};

impl V0Headers {
    fn verify(
        &self,
        keys: &[MacKey],
        req: &Request<'_>,
        now: Timestamp,
        tolerance: Tolerance,
    ) -> Outcome {
        let ts = required(req, self.timestamp)?;
        let sig = required(req, self.signature)?;
        let at = unix(ts)?;
        check_fresh(at, now, tolerance)?;
        let cands = prefixed(sig, "v0=")?;
        cands.check(keys, &[b"v0:", ts.as_bytes(), b":", req.body])?;
        Ok(Some(at))
    }

    /// One signature, with the first key: the header has room for no more.
    fn sign(&self, keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
        let ts = timestamp.unix_secs().to_string();
        let sig = first(keys, &[b"v0:", ts.as_bytes(), b":", body]).to_hex();
        vec![
            (self.timestamp_sent.to_owned(), ts),
            (self.signature_sent.to_owned(), format!("v0={sig}")),
        ]
    }
}

/// A single hex signature behind a version prefix such as `sha256=`.
fn prefixed(value: &str, prefix: &str) -> Result<Candidates, VerifyError> {
    let hex = value
        .strip_prefix(prefix)
        .ok_or(VerifyError::UnsupportedSignatureVersion)?;
    Ok(Candidates::single(SigBuf::from_hex(hex)))
}

/// Linear's `webhookTimestamp`: milliseconds since the epoch, in the JSON body.
fn linear_timestamp(body: &[u8]) -> Result<Timestamp, VerifyError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "webhookTimestamp")]
        webhook_timestamp: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(body).map_err(|_| VerifyError::MissingTimestamp)?;
    let ms = probe
        .webhook_timestamp
        .ok_or(VerifyError::MissingTimestamp)?
        .as_i64()
        .filter(|ms| *ms >= 0)
        .ok_or(VerifyError::InvalidTimestamp)?;
    Ok(Timestamp::from_unix_millis(ms))
}

fn first(keys: &[MacKey], parts: &[&[u8]]) -> SigBuf {
    keys.first()
        .map_or_else(|| SigBuf::from_slice(&[]), |k| k.compute(parts))
}

/// The headers the provider would send.
type Headers = Vec<(String, String)>;

fn h(name: &str, value: String) -> (String, String) {
    (name.to_owned(), value)
}

fn stripe_sign(keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
    STRIPE_LIST.sign(keys, body, timestamp)
}

fn paddle_sign(keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
    PADDLE_LIST.sign(keys, body, timestamp)
}

fn slack_sign(keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
    SLACK_HEADERS.sign(keys, body, timestamp)
}

fn zoom_sign(keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
    ZOOM_HEADERS.sign(keys, body, timestamp)
}

fn zendesk_sign(keys: &[MacKey], body: &[u8], timestamp: Timestamp) -> Headers {
    let ts = Timestamp::from_unix_secs(timestamp.unix_secs()).to_rfc3339();
    let sig = first(keys, &[ts.as_bytes(), body]).to_base64();
    vec![
        h("X-Zendesk-Webhook-Signature", sig),
        h("X-Zendesk-Webhook-Signature-Timestamp", ts),
    ]
}

fn github_sign(keys: &[MacKey], body: &[u8], _: Timestamp) -> Headers {
    let sig = first(keys, &[body]).to_hex();
    vec![h("X-Hub-Signature-256", format!("sha256={sig}"))]
}

fn intercom_sign(keys: &[MacKey], body: &[u8], _: Timestamp) -> Headers {
    let sig = first(keys, &[body]).to_hex();
    vec![h("X-Hub-Signature", format!("sha1={sig}"))]
}

fn shopify_sign(keys: &[MacKey], body: &[u8], _: Timestamp) -> Headers {
    vec![h("X-Shopify-Hmac-Sha256", first(keys, &[body]).to_base64())]
}

fn linear_sign(keys: &[MacKey], body: &[u8], _: Timestamp) -> Headers {
    vec![h("Linear-Signature", first(keys, &[body]).to_hex())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::Headers;
    use crate::verify::{Keys, Scheme, SchemeKind, SignError};

    /// Runs `kind`'s row code, as `Verifier::verify` does.
    fn verify(
        kind: SchemeKind,
        keys: &[MacKey],
        req: &Request<'_>,
        now: Timestamp,
        tolerance: Option<Duration>,
    ) -> Outcome {
        let keys = Keys {
            mac: keys.to_vec(),
            ..Keys::default()
        };
        let (_, verify) = kind.verify_code();
        verify(&Scheme::from(kind), &keys, req, now, tolerance).map(|c| c.signed_at)
    }

    /// Runs `kind`'s row code, as `Signer::sign` does.
    fn sign(
        kind: SchemeKind,
        keys: &[MacKey],
        req: &Request<'_>,
        timestamp: Timestamp,
    ) -> Result<Vec<(String, String)>, SignError> {
        let keys = Keys {
            mac: keys.to_vec(),
            ..Keys::default()
        };
        let (_, sign) = kind.sign_code();
        sign(&Scheme::from(kind), &keys, req, "", timestamp)
    }

    const BODY: &[u8] =
        br#"{"event":"meeting.started","payload":{"account_id":"acc"},"event_ts":1763899990123}"#;
    const TS: &str = "1763899990";
    const ZOOM_SIG: &str = "v0=fa0cdd9096b7064f8913a8d2c4b756eb611bcac06b815f2c9e94b9bb6efdbfa3";

    fn keys() -> Vec<MacKey> {
        vec![MacKey::new(Algorithm::Sha256, b"zoom-secret-token-1")]
    }

    fn run(kind: SchemeKind, headers: &[(&str, &str)]) -> Result<Option<Timestamp>, VerifyError> {
        let headers: Headers = headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        let req = Request::post("https://hooks.example.com/hooks/zoom", &headers, BODY);
        let now = Timestamp::from_unix_secs(1_763_900_000);
        verify(kind, &keys(), &req, now, Some(Duration::from_secs(300)))
    }

    #[test]
    fn zendesk_character_moved_between_timestamp_and_body_is_refused() {
        // Zendesk signs `{timestamp}{body}` with nothing between them. Its timestamp has one
        // spelling, 20 characters ending in `Z`, so no character can change sides, and no
        // other spelling of the same instant is accepted.
        let key = || vec![MacKey::new(Algorithm::Sha256, b"zendesk-secret")];
        let now = Timestamp::from_unix_secs(1_763_900_000);
        let check = |signed: &str, ts: &str, body: &str| {
            let sig = key()[0].compute(&[signed.as_bytes()]).to_base64();
            let headers: Headers = [
                ("X-Zendesk-Webhook-Signature", sig),
                ("X-Zendesk-Webhook-Signature-Timestamp", ts.to_owned()),
            ]
            .into_iter()
            .collect();
            let req = Request::post(
                "https://hooks.example.com/hooks/zendesk",
                &headers,
                body.as_bytes(),
            );
            verify(
                SchemeKind::Zendesk,
                &key(),
                &req,
                now,
                Some(Duration::from_secs(300)),
            )
        };
        let ts = "2025-11-23T12:13:20Z";
        let signed = format!("{ts}0{{}}");
        assert_eq!(check(&signed, ts, "0{}"), Ok(Some(now)));
        for (ts, body) in [
            ("2025-11-23T12:13:20Z0", "{}"),
            ("2025-11-23T12:13:2", "0Z0{}"),
        ] {
            assert_eq!(
                check(&signed, ts, body),
                Err(VerifyError::InvalidTimestamp),
                "{ts}"
            );
        }
        // The same instant spelled otherwise, even correctly signed, is refused: one spelling.
        for ts in [
            "2025-11-23T12:13:20.0Z",
            "2025-11-23T12:13:20+00:00",
            "2025-11-23t12:13:20z",
        ] {
            assert_eq!(
                check(&format!("{ts}{{}}"), ts, "{}"),
                Err(VerifyError::InvalidTimestamp),
                "{ts}"
            );
        }
    }

    #[test]
    fn zoom_verifies_the_documented_signature() {
        let at = run(
            SchemeKind::Zoom,
            &[("x-zm-request-timestamp", TS), ("x-zm-signature", ZOOM_SIG)],
        );
        assert_eq!(at, Ok(Some(Timestamp::from_unix_secs(1_763_899_990))));
    }

    #[test]
    fn zoom_and_slack_read_only_their_own_headers() {
        // The same MAC under the other provider's header names is not that provider's request.
        assert_eq!(
            run(
                SchemeKind::Slack,
                &[("x-zm-request-timestamp", TS), ("x-zm-signature", ZOOM_SIG)],
            ),
            Err(VerifyError::MissingHeader(Cow::Borrowed(
                "x-slack-request-timestamp"
            )))
        );
        assert_eq!(
            run(
                SchemeKind::Zoom,
                &[
                    ("X-Slack-Request-Timestamp", TS),
                    ("X-Slack-Signature", ZOOM_SIG)
                ],
            ),
            Err(VerifyError::MissingHeader(Cow::Borrowed(
                "x-zm-request-timestamp"
            )))
        );
        assert_eq!(
            run(
                SchemeKind::Zoom,
                &[
                    ("x-zm-request-timestamp", TS),
                    ("X-Slack-Signature", ZOOM_SIG)
                ],
            ),
            Err(VerifyError::MissingHeader(Cow::Borrowed("x-zm-signature")))
        );
    }

    #[test]
    fn zoom_signature_without_v0_prefix_is_unsupported() {
        let bare = ZOOM_SIG.trim_start_matches("v0=");
        assert_eq!(
            run(
                SchemeKind::Zoom,
                &[("x-zm-request-timestamp", TS), ("x-zm-signature", bare)],
            ),
            Err(VerifyError::UnsupportedSignatureVersion)
        );
    }

    #[test]
    fn zoom_signer_writes_the_documented_headers() {
        let headers = Headers::new();
        let req = Request::post("https://hooks.example.com/hooks/zoom", &headers, BODY);
        let signed = sign(
            SchemeKind::Zoom,
            &keys(),
            &req,
            Timestamp::from_unix_secs(1_763_899_990),
        )
        .unwrap();
        assert_eq!(
            signed,
            vec![
                ("x-zm-request-timestamp".to_owned(), TS.to_owned()),
                ("x-zm-signature".to_owned(), ZOOM_SIG.to_owned()),
            ]
        );
    }
}
