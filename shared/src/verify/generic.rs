//! The generic HMAC scheme, for providers hookline has no built-in scheme for.
//!
//! Configured by the signature header's name, an optional prefix (`sha256=`), the encoding
//! (hex or base64), the algorithm (SHA-1, SHA-256, SHA-512), and a template for the signed
//! content: `{body}` (the raw body), `{timestamp}` (the value of `timestamp_header`),
//! `{header:Name}`, `{method}`, `{url}`; `{{` and `}}` are literal braces. With a
//! `timestamp_header`, the replay window applies.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::common::{MacKey, SigBuf, any_mac_matches, check_fresh};
use super::{Algorithm, Encoding, KeyError, Request, SignError, VerifyError};
use crate::secret::Secret;
use crate::time::Timestamp;

/// Parameters of the generic HMAC scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericHmac {
    /// The header carrying the signature, e.g. `X-Signature`.
    pub header: String,
    /// Text before the signature in the header, e.g. `sha256=`.
    #[serde(default)]
    pub prefix: String,
    /// How the MAC is written.
    #[serde(default)]
    pub encoding: Encoding,
    /// The HMAC hash function.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// What is signed; defaults to `{body}`.
    #[serde(default)]
    pub signed_content: Template,
    /// The header carrying the signed timestamp, if the provider signs one.
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// How that timestamp is written.
    #[serde(default)]
    pub timestamp_format: TimestampFormat,
    /// How the configured secret is turned into key bytes.
    #[serde(default)]
    pub secret_encoding: SecretEncoding,
}

impl GenericHmac {
    /// Checks the parameters; each problem comes with the name of its field.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !is_token(&self.header) {
            out.push((
                "header",
                format!("`{}` is not a valid header name", self.header),
            ));
        }
        if let Some(th) = &self.timestamp_header
            && !is_token(th)
        {
            out.push((
                "timestamp_header",
                format!("`{th}` is not a valid header name"),
            ));
        }
        let segments = &self.signed_content.segments;
        if !segments.contains(&Segment::Body) {
            out.push((
                "signed_content",
                "must include {body}, or the body would not be authenticated".to_owned(),
            ));
        }
        if segments.contains(&Segment::Timestamp) && self.timestamp_header.is_none() {
            out.push((
                "signed_content",
                "uses {timestamp} but no timestamp_header is set".to_owned(),
            ));
        }
        // A timestamp that is checked but not signed can be set to anything: the replay window
        // would only look like it works.
        if let Some(th) = &self.timestamp_header {
            let signed = segments.iter().any(|seg| match seg {
                Segment::Timestamp => true,
                Segment::Header(h) => h.eq_ignore_ascii_case(th),
                _ => false,
            });
            if !signed {
                out.push((
                    "timestamp_header",
                    "the timestamp is not signed: add {timestamp} to signed_content".to_owned(),
                ));
            }
        }
        // Two placeholders side by side have no boundary between them: bytes can move from one
        // to the other (`{header:X}{body}` verifies X="a{" with body "...}" as X="a", body
        // "{...}"). Only {timestamp} may touch another placeholder, because the replay window
        // pins it to a fixed number of digits (or an RFC 3339 date ending in Z or an offset).
        for pair in segments.windows(2) {
            if let [a, b] = pair
                && a.is_placeholder()
                && b.is_placeholder()
                && *a != Segment::Timestamp
                && *b != Segment::Timestamp
            {
                out.push((
                    "signed_content",
                    format!(
                        "{} and {} are side by side; put a separator between them, e.g. {}.{}",
                        a.source(),
                        b.source(),
                        a.source(),
                        b.source()
                    ),
                ));
            }
        }
        for seg in segments {
            if let Segment::Header(name) = seg
                && !is_token(name)
            {
                out.push((
                    "signed_content",
                    format!("{{header:{name}}} is not a valid header name"),
                ));
            }
        }
        out
    }
}

/// An RFC 9110 token: what a header name may be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How a signed timestamp is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Unix seconds.
    #[default]
    Unix,
    /// Unix milliseconds.
    UnixMs,
    /// RFC 3339, e.g. `2026-11-23T12:00:00Z`.
    Rfc3339,
}

/// How the configured secret becomes key bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes, as most providers use them.
    #[default]
    Utf8,
    /// Standard base64 (an optional `whsec_` prefix is not stripped: use utf8 or standard-webhooks).
    Base64,
    /// Hexadecimal.
    Hex,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(String),
    Body,
    Timestamp,
    Method,
    Url,
    /// A header name, lower-cased.
    Header(String),
}

impl Segment {
    fn is_placeholder(&self) -> bool {
        !matches!(self, Segment::Literal(_))
    }

    /// How the placeholder is written in a template.
    fn source(&self) -> String {
        match self {
            Segment::Literal(l) => l.clone(),
            Segment::Body => "{body}".to_owned(),
            Segment::Timestamp => "{timestamp}".to_owned(),
            Segment::Method => "{method}".to_owned(),
            Segment::Url => "{url}".to_owned(),
            Segment::Header(h) => format!("{{header:{h}}}"),
        }
    }
}

/// A signed-content template such as `{timestamp}.{body}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl Default for Template {
    fn default() -> Self {
        Self {
            source: "{body}".to_owned(),
            segments: vec![Segment::Body],
        }
    }
}

crate::string_backed!(Template, this => this.source.as_str());

/// Why a template does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("unclosed `{{` at byte {0}")]
    Unclosed(usize),
    /// A `}` that closes nothing (write `}}` for a literal brace).
    #[error("unmatched `}}` at byte {0} (write `}}}}` for a literal brace)")]
    Unmatched(usize),
    /// A placeholder that is not one of the known ones.
    #[error(
        "unknown placeholder `{{{0}}}`; expected {{body}}, {{timestamp}}, {{method}}, {{url}} or {{header:Name}}"
    )]
    Unknown(String),
}

impl FromStr for Template {
    type Err = TemplateError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = src.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::Unmatched(i)),
                '{' => {
                    let rest = src.get(i + 1..).unwrap_or("");
                    let end = rest.find('}').ok_or(TemplateError::Unclosed(i))?;
                    let name = rest.get(..end).unwrap_or("");
                    let seg = match name {
                        "body" => Segment::Body,
                        "timestamp" => Segment::Timestamp,
                        "method" => Segment::Method,
                        "url" => Segment::Url,
                        _ => match name.strip_prefix("header:") {
                            Some(h) => Segment::Header(h.to_ascii_lowercase()),
                            None => return Err(TemplateError::Unknown(name.to_owned())),
                        },
                    };
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(seg);
                    // Skip the placeholder's characters and its closing brace.
                    while let Some((j, _)) = chars.peek() {
                        if *j > i + end + 1 {
                            break;
                        }
                        chars.next();
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Self {
            source: src.to_owned(),
            segments,
        })
    }
}

pub(crate) fn mac_keys(g: &GenericHmac, secrets: &[Secret]) -> Result<Vec<MacKey>, KeyError> {
    secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let bytes: Cow<'_, [u8]> = match g.secret_encoding {
                SecretEncoding::Utf8 => Cow::Borrowed(s.expose()),
                SecretEncoding::Base64 => Cow::Owned(
                    BASE64
                        .decode(s.expose())
                        .map_err(|_| KeyError::InvalidBase64(i))?,
                ),
                SecretEncoding::Hex => {
                    let text = s.expose_str().ok_or(KeyError::InvalidHex(i))?;
                    Cow::Owned(decode_hex_any_len(text).ok_or(KeyError::InvalidHex(i))?)
                }
            };
            if bytes.is_empty() {
                return Err(KeyError::Empty(i));
            }
            Ok(MacKey::new(g.algorithm, &bytes))
        })
        .collect()
}

fn decode_hex_any_len(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

fn header_value<'a>(req: &Request<'a>, name: &str) -> Result<&'a str, VerifyError> {
    req.headers
        .get_one(name)
        .map_err(|_| VerifyError::DuplicateHeader(Cow::Owned(name.to_ascii_lowercase())))?
        .ok_or_else(|| VerifyError::MissingHeader(Cow::Owned(name.to_ascii_lowercase())))
}

fn parse_timestamp(s: &str, format: TimestampFormat) -> Option<Timestamp> {
    let digits = |max: usize| {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    match format {
        TimestampFormat::Unix => digits(12).map(Timestamp::from_unix_secs),
        TimestampFormat::UnixMs => digits(15).map(Timestamp::from_unix_millis),
        TimestampFormat::Rfc3339 => Timestamp::parse_rfc3339(s),
    }
}

fn format_timestamp(t: Timestamp, format: TimestampFormat) -> String {
    match format {
        TimestampFormat::Unix => t.unix_secs().to_string(),
        TimestampFormat::UnixMs => t.unix_millis().to_string(),
        TimestampFormat::Rfc3339 => Timestamp::from_unix_secs(t.unix_secs()).to_rfc3339(),
    }
}

/// The signed content's parts; `header` reads a header for `{header:..}`.
fn parts<'a, E>(
    g: &'a GenericHmac,
    req: &Request<'a>,
    ts: &'a str,
    header: impl Fn(&str) -> Result<&'a str, E>,
) -> Result<Vec<&'a [u8]>, E> {
    g.signed_content
        .segments
        .iter()
        .map(|seg| {
            Ok(match seg {
                Segment::Literal(l) => l.as_bytes(),
                Segment::Body => req.body,
                Segment::Timestamp => ts.as_bytes(),
                Segment::Method => req.method.as_bytes(),
                Segment::Url => req.url.as_bytes(),
                Segment::Header(name) => header(name)?.as_bytes(),
            })
        })
        .collect()
}

pub(crate) fn verify(
    g: &GenericHmac,
    keys: &[MacKey],
    req: &Request<'_>,
    now: Timestamp,
    tolerance: Option<Duration>,
) -> Result<Option<Timestamp>, VerifyError> {
    let value = header_value(req, &g.header)?;
    let encoded = value
        .strip_prefix(g.prefix.as_str())
        .ok_or(VerifyError::UnsupportedSignatureVersion)?;
    let (ts, at) = match &g.timestamp_header {
        Some(th) => {
            let ts = header_value(req, th)?;
            let at =
                parse_timestamp(ts, g.timestamp_format).ok_or(VerifyError::InvalidTimestamp)?;
            check_fresh(at, now, tolerance)?;
            (ts, Some(at))
        }
        None => ("", None),
    };
    let parts = parts(g, req, ts, |name| header_value(req, name))?;
    let candidates: Vec<SigBuf> = SigBuf::decode(encoded, g.encoding).into_iter().collect();
    if any_mac_matches(keys, &parts, &candidates) {
        Ok(at)
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

pub(crate) fn sign(
    g: &GenericHmac,
    keys: &[MacKey],
    req: &Request<'_>,
    timestamp: Timestamp,
) -> Result<Vec<(String, String)>, SignError> {
    let ts = format_timestamp(timestamp, g.timestamp_format);
    let header = |name: &str| {
        req.headers
            .get_all(name)
            .next()
            .ok_or_else(|| SignError::MissingHeader(name.to_owned()))
    };
    let parts = parts(g, req, &ts, header)?;
    let sig = keys
        .first()
        .map(|k| k.compute(&parts).encode(g.encoding))
        .unwrap_or_default();
    let mut out = vec![(g.header.clone(), format!("{}{}", g.prefix, sig))];
    if let Some(th) = &g.timestamp_header {
        out.push((th.clone(), ts));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        let t: Template = "{timestamp}.{body}".parse().unwrap();
        assert_eq!(
            t.segments,
            [
                Segment::Timestamp,
                Segment::Literal(".".into()),
                Segment::Body
            ]
        );
        let t: Template = "{{{method}}}:{header:X-Id}{body}".parse().unwrap();
        assert_eq!(
            t.segments,
            [
                Segment::Literal("{".into()),
                Segment::Method,
                Segment::Literal("}:".into()),
                Segment::Header("x-id".into()),
                Segment::Body
            ]
        );
        assert_eq!(t.to_string(), "{{{method}}}:{header:X-Id}{body}");
        assert_eq!("{body".parse::<Template>(), Err(TemplateError::Unclosed(0)));
        assert_eq!("a}b".parse::<Template>(), Err(TemplateError::Unmatched(1)));
        assert_eq!(
            "{bdy}".parse::<Template>(),
            Err(TemplateError::Unknown("bdy".into()))
        );
        assert_eq!("é{body}ü".parse::<Template>().unwrap().segments.len(), 3);
    }

    fn params(template: &str, timestamp_header: Option<&str>) -> GenericHmac {
        GenericHmac {
            header: "X-Sig".into(),
            prefix: String::new(),
            encoding: Encoding::Hex,
            algorithm: Algorithm::Sha256,
            signed_content: template.parse().unwrap(),
            timestamp_header: timestamp_header.map(Into::into),
            timestamp_format: TimestampFormat::Unix,
            secret_encoding: SecretEncoding::Utf8,
        }
    }

    #[test]
    fn unsigned_timestamp_header_is_refused() {
        // Checked but not signed: an attacker would simply send a fresh timestamp.
        let p = params("{body}", Some("X-Ts")).problems();
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "timestamp_header");
        assert!(
            params("{timestamp}.{body}", Some("X-Ts"))
                .problems()
                .is_empty()
        );
        assert!(
            params("{header:x-ts}.{body}", Some("X-Ts"))
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn adjacent_placeholders_are_refused() {
        for t in [
            "{header:X-Id}{body}",
            "{body}{header:X-Id}",
            "{method}{body}",
            "{url}{method}.{body}",
        ] {
            let p = params(t, None).problems();
            assert!(
                p.iter()
                    .any(|(f, m)| *f == "signed_content" && m.contains("side by side")),
                "{t}: {p:?}"
            );
        }
        // The replay window pins {timestamp}'s shape, so it may touch {body} (Zendesk's layout).
        assert!(
            params("{timestamp}{body}", Some("X-Ts"))
                .problems()
                .is_empty()
        );
        assert!(params("{header:X-Id}.{body}", None).problems().is_empty());
    }

    #[test]
    fn problems_name_their_field() {
        let g = GenericHmac {
            header: "X Sig".into(),
            prefix: String::new(),
            encoding: Encoding::Hex,
            algorithm: Algorithm::Sha256,
            signed_content: "{timestamp}".parse().unwrap(),
            timestamp_header: None,
            timestamp_format: TimestampFormat::Unix,
            secret_encoding: SecretEncoding::Utf8,
        };
        let fields: Vec<_> = g.problems().into_iter().map(|p| p.0).collect();
        assert_eq!(fields, ["header", "signed_content", "signed_content"]);
    }
}
