//! The generic HMAC scheme, for providers hookline has no built-in scheme for.
//!
//! Configured by the signature header's name, an optional prefix (`sha256=`), the encoding
//! (hex or base64), the algorithm (SHA-1, SHA-256, SHA-512), and a template for the signed
//! content: `{body}` (the raw body), `{timestamp}` (the value of `timestamp_header`),
//! `{header:Name}`, `{method}`, `{url}`; `{{` and `}}` are literal braces. With a
//! `timestamp_header`, the replay window applies.
//!
//! The signed bytes must say where each value ends, or an attacker could move bytes from one
//! value to the next under the same signature: templates that cannot are refused
//! ([`GenericHmac::problems`]), timestamps are accepted in one spelling only, and a value that
//! contains the separator next to it is refused ([`VerifyError::SeparatorInValue`]).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::common::{
    MacKey, SigBuf, any_mac_matches, check_fresh, parse_canonical_digits, parse_rfc3339_canonical,
    parse_unix_secs,
};
use super::{
    Algorithm, Checked, Code, Encoding, KeyError, KeyPrep, Keys, Request, Scheme, SignError,
    VerifyError,
};
use crate::secret::Secret;
use crate::time::Timestamp;

/// The generic row's code: everything it does comes from the source's parameters.
pub(crate) const CODE: Code = Code {
    keys: KeyPrep::Own {
        verify: keys,
        sign: keys,
    },
    verify: |scheme, keys, req, now, tolerance| {
        let (signed_at, canonical_digest) =
            verify(params(scheme)?, &keys.mac, req, now, tolerance)?;
        Ok(Checked {
            signed_at,
            canonical_digest,
            ..Checked::default()
        })
    },
    sign: |scheme, keys, req, _, timestamp| {
        let g = scheme
            .generic_params()
            .ok_or(SignError::UnsupportedAlgorithm)?;
        sign(g, &keys.mac, req, timestamp)
    },
};

/// The scheme's parameters. `Verifier::new` refuses the generic scheme without them, so a
/// verifier never gets here without; refusing the request is the safe answer if one did.
fn params(scheme: &Scheme) -> Result<&GenericHmac, VerifyError> {
    scheme
        .generic_params()
        .ok_or(VerifyError::SignatureMismatch)
}

fn keys(scheme: &Scheme, secrets: &[Secret]) -> Result<Keys, KeyError> {
    let g = scheme.generic_params().ok_or_else(|| {
        KeyError::InvalidParameters("the generic scheme needs its parameters".to_owned())
    })?;
    Ok(Keys {
        mac: mac_keys(g, secrets)?,
        ..Keys::default()
    })
}

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
        out.extend(self.boundary_problems());
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

    /// Refuses templates whose signed bytes could be split into placeholder values in more than
    /// one way: an attacker holding one signed request could then move bytes from one value to
    /// another (`amount=100` + `1763900000` signs the same bytes as `amount=10` + `01763900000`)
    /// and keep the signature. The rule, with its reasoning, is in docs/config.md
    /// ("Signed content is unambiguous"):
    ///
    /// - `{body}` can hold any byte, so it appears once and is the pivot: everything before it
    ///   is read from the left, everything after it from the right.
    /// - Every other placeholder needs a literal on the side facing away from `{body}` (the
    ///   literal after it when it comes before `{body}`, the one before it when it comes after),
    ///   so no two placeholders are ever side by side.
    /// - That literal's nearest character must be one the value cannot contain. For
    ///   `{timestamp}` this is decided here from its format (digits for `unix`, and also `-`,
    ///   `T`, `:` and `Z` for `rfc3339`); for `{header:..}`, `{method}` and `{url}`, whose
    ///   values the provider chooses, a request whose value contains that character is refused
    ///   when verifying ([`VerifyError::SeparatorInValue`]).
    fn boundary_problems(&self) -> Vec<(&'static str, String)> {
        let segments = &self.signed_content.segments;
        let mut out = Vec::new();
        if segments.iter().filter(|s| **s == Segment::Body).count() > 1 {
            out.push((
                "signed_content",
                "{body} may appear only once: it can hold any byte, so nothing could tell where \
                 one copy ends"
                    .to_owned(),
            ));
        }
        for pair in segments.windows(2) {
            if let [a, b] = pair
                && a.is_placeholder()
                && b.is_placeholder()
            {
                out.push((
                    "signed_content",
                    format!(
                        "{} and {} are side by side, so bytes could move from one to the other \
                         under the same signature; put a separator between them, e.g. {}\\n{}",
                        a.source(),
                        b.source(),
                        a.source(),
                        b.source()
                    ),
                ));
            }
        }
        // A value the provider chooses (a header, the method, the URL) must be bounded by a
        // character it can never hold. Refusing only the requests whose value holds the
        // separator is not enough: the provider's own request with `X-Req: a.b` and body `c`
        // would be refused, but its captured signature would verify `X-Req: a` with body `b.c`.
        for (i, seg) in segments.iter().enumerate() {
            let Some(sep) = boundary_char(segments, i) else {
                continue;
            };
            let (can_hold, advice) = match seg {
                // The timestamp header, signed by name: its value must parse as the timestamp.
                Segment::Header(h)
                    if self
                        .timestamp_header
                        .as_deref()
                        .is_some_and(|th| th.eq_ignore_ascii_case(h)) =>
                {
                    (
                        timestamp_can_contain(self.timestamp_format, sep),
                        "a character a timestamp cannot contain, such as `.`",
                    )
                }
                // Header values cannot hold a line break (RFC 9110 field values).
                Segment::Header(_) => (!matches!(sep, '\n' | '\r'), "a newline (\\n)"),
                // A request URL holds no whitespace.
                Segment::Url => (!sep.is_ascii_whitespace(), "a newline (\\n) or a space"),
                // A method is a token.
                Segment::Method => (
                    sep.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(sep),
                    "a newline (\\n) or a space",
                ),
                _ => (false, ""),
            };
            if can_hold {
                out.push((
                    "signed_content",
                    format!(
                        "{} is separated from the content next to it by `{}`, which its value \
                         can contain, so a captured signature could be re-split across the \
                         boundary; separate it with {advice}",
                        seg.source(),
                        sep.escape_default()
                    ),
                ));
            }
        }
        for (i, seg) in segments.iter().enumerate() {
            if *seg != Segment::Timestamp {
                continue;
            }
            let Some(sep) = boundary_char(segments, i) else {
                continue; // side by side, or no {body}: both reported already
            };
            if timestamp_can_contain(self.timestamp_format, sep) {
                out.push((
                    "signed_content",
                    format!(
                        "{{timestamp}} is separated from the content next to it by `{sep}`, which \
                         a timestamp in the {} format can contain, so characters could move \
                         across the boundary; use a separator it cannot contain, such as `.`",
                        self.timestamp_format.name()
                    ),
                ));
            }
        }
        out
    }
}

/// The character that marks the placeholder's boundary away from `{body}`: the first character
/// of the literal after it (before `{body}`) or the last of the literal before it (after
/// `{body}`). `None` when that neighbour is not a literal, or when there is no `{body}`.
fn boundary_char(segments: &[Segment], i: usize) -> Option<char> {
    let body_at = segments.iter().position(|s| *s == Segment::Body)?;
    let neighbour = if i < body_at {
        segments.get(i + 1)
    } else if i > body_at {
        segments.get(i.checked_sub(1)?)
    } else {
        None
    };
    match neighbour {
        Some(Segment::Literal(l)) if i < body_at => l.chars().next(),
        Some(Segment::Literal(l)) => l.chars().next_back(),
        _ => None,
    }
}

/// True when a canonical timestamp of `format` may contain `c` (see [`parse_timestamp`]).
fn timestamp_can_contain(format: TimestampFormat, c: char) -> bool {
    match format {
        TimestampFormat::Unix | TimestampFormat::UnixMs => c.is_ascii_digit(),
        TimestampFormat::Rfc3339 => c.is_ascii_digit() || matches!(c, '-' | 'T' | ':' | 'Z'),
    }
}

impl GenericHmac {
    /// Whether the signed content includes the header `name` (in any case).
    pub fn signs_header(&self, name: &str) -> bool {
        self.signed_content
            .segments
            .iter()
            .any(|seg| matches!(seg, Segment::Header(h) if h.eq_ignore_ascii_case(name)))
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
    /// RFC 3339 exactly as hookline writes it: `2026-11-23T12:00:00Z` (UTC, whole seconds).
    Rfc3339,
}

impl TimestampFormat {
    /// The name used in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            TimestampFormat::Unix => "unix",
            TimestampFormat::UnixMs => "unix_ms",
            TimestampFormat::Rfc3339 => "rfc3339",
        }
    }
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

fn mac_keys(g: &GenericHmac, secrets: &[Secret]) -> Result<Vec<MacKey>, KeyError> {
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
                    Cow::Owned(hex::decode(text).map_err(|_| KeyError::InvalidHex(i))?)
                }
            };
            if bytes.is_empty() {
                return Err(KeyError::Empty(i));
            }
            Ok(MacKey::new(g.algorithm, &bytes))
        })
        .collect()
}

fn header_value<'a>(req: &Request<'a>, name: &str) -> Result<&'a str, VerifyError> {
    req.headers
        .get_one(name)
        .map_err(|_| VerifyError::DuplicateHeader(Cow::Owned(name.to_ascii_lowercase())))?
        .ok_or_else(|| VerifyError::MissingHeader(Cow::Owned(name.to_ascii_lowercase())))
}

/// Parses a signed timestamp in its one canonical spelling: digits without leading zeros for
/// `unix` (at most 12) and `unix_ms` (at most 15), hookline's own form for `rfc3339`.
fn parse_timestamp(s: &str, format: TimestampFormat) -> Result<Timestamp, VerifyError> {
    match format {
        TimestampFormat::Unix => parse_unix_secs(s).map(Timestamp::from_unix_secs),
        TimestampFormat::UnixMs => parse_canonical_digits(s, 15)
            .map(Timestamp::from_unix_millis)
            .ok_or(VerifyError::InvalidTimestamp),
        TimestampFormat::Rfc3339 => parse_rfc3339_canonical(s),
    }
}

fn format_timestamp(t: Timestamp, format: TimestampFormat) -> String {
    match format {
        TimestampFormat::Unix => t.unix_secs().to_string(),
        TimestampFormat::UnixMs => t.unix_millis().to_string(),
        TimestampFormat::Rfc3339 => Timestamp::from_unix_secs(t.unix_secs()).to_rfc3339(),
    }
}

/// The signed content's parts; `header` reads a header for `{header:..}`. A `{header:..}`,
/// `{method}` or `{url}` value holding its boundary character (see [`boundary_char`]) is
/// refused with `separator_in`: split there, the same bytes would read as other values.
fn parts<'a, E>(
    g: &'a GenericHmac,
    req: &Request<'a>,
    ts: &'a str,
    header: impl Fn(&str) -> Result<&'a str, E>,
    separator_in: impl Fn(&Segment) -> E,
) -> Result<Vec<&'a [u8]>, E> {
    let segments = &g.signed_content.segments;
    segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let value = match seg {
                Segment::Literal(l) => return Ok(l.as_bytes()),
                Segment::Body => return Ok(req.body),
                // Canonical by construction: parsed strictly, or written by `format_timestamp`.
                Segment::Timestamp => return Ok(ts.as_bytes()),
                Segment::Method => req.method,
                Segment::Url => req.url,
                Segment::Header(name) => header(name)?,
            };
            match boundary_char(segments, i) {
                Some(c) if value.contains(c) => Err(separator_in(seg)),
                _ => Ok(value.as_bytes()),
            }
        })
        .collect()
}

fn verify(
    g: &GenericHmac,
    keys: &[MacKey],
    req: &Request<'_>,
    now: Timestamp,
    tolerance: Option<Duration>,
) -> Result<(Option<Timestamp>, Option<[u8; 32]>), VerifyError> {
    let value = header_value(req, &g.header)?;
    let encoded = value
        .strip_prefix(g.prefix.as_str())
        .ok_or(VerifyError::UnsupportedSignatureVersion)?;
    let (ts, at) = match &g.timestamp_header {
        Some(th) => {
            let ts = header_value(req, th)?;
            let at = parse_timestamp(ts, g.timestamp_format)?;
            check_fresh(at, now, tolerance)?;
            (ts, Some(at))
        }
        None => ("", None),
    };
    let parts = parts(
        g,
        req,
        ts,
        |name| header_value(req, name),
        |seg| VerifyError::SeparatorInValue(Cow::Owned(seg.source())),
    )?;
    let candidates: Vec<SigBuf> = SigBuf::decode(encoded, g.encoding).into_iter().collect();
    if any_mac_matches(keys, &parts, &candidates) {
        Ok((at, canonical_digest(g, &parts)))
    } else {
        Err(VerifyError::SignatureMismatch)
    }
}

/// SHA-256 over everything the template signs but the timestamp, for the envelope id; `None`
/// when it signs nothing besides the body and the timestamp (the body digest is then the id).
/// Two requests with one body but different signed headers, method or URL are two events, and
/// must not share an id that consumers dedupe on; a provider's retry, re-stamped with a new
/// timestamp, is the same event and keeps its id. The template is unambiguous (see
/// [`GenericHmac::problems`]), and dropping the timestamp keeps the literals around it, so the
/// digested bytes still split one way only.
fn canonical_digest(g: &GenericHmac, parts: &[&[u8]]) -> Option<[u8; 32]> {
    let segments = &g.signed_content.segments;
    let signs_more = segments
        .iter()
        .any(|s| matches!(s, Segment::Method | Segment::Url | Segment::Header(_)));
    if !signs_more {
        return None;
    }
    let mut h = Sha256::new();
    for (seg, part) in segments.iter().zip(parts) {
        if *seg != Segment::Timestamp {
            h.update(part);
        }
    }
    Some(h.finalize().into())
}

fn sign(
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
    let parts = parts(g, req, &ts, header, |seg| {
        SignError::SeparatorInValue(seg.source())
    })?;
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

    /// [`params`] with the timestamp header `X-Ts` when, and only when, the template signs
    /// `{timestamp}`.
    fn params_for(template: &str) -> GenericHmac {
        params(template, template.contains("{timestamp}").then_some("X-Ts"))
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

    fn boundary_problems(t: &str, format: TimestampFormat) -> Vec<String> {
        let mut g = params_for(t);
        g.timestamp_format = format;
        g.problems()
            .into_iter()
            .filter(|(f, _)| *f == "signed_content")
            .map(|(_, m)| m)
            .collect()
    }

    #[test]
    fn template_with_adjacent_placeholders_is_refused_at_load() {
        for t in [
            "{header:X-Id}{body}",
            "{body}{header:X-Id}",
            "{method}{body}",
            "{url}{method}.{body}",
            // The reported bypasses: nothing separates the timestamp from its neighbour.
            "{body}{timestamp}",
            "{header:X-Req}{timestamp}.{body}",
            "{timestamp}{body}",
            "{timestamp}{header:X-Req}.{body}",
            "{body}.{header:X-Req}{timestamp}",
        ] {
            for format in [
                TimestampFormat::Unix,
                TimestampFormat::UnixMs,
                TimestampFormat::Rfc3339,
            ] {
                let p = boundary_problems(t, format);
                assert!(
                    p.iter().any(|m| m.contains("side by side")),
                    "{t} ({format:?}): {p:?}"
                );
            }
        }
    }

    #[test]
    fn template_whose_timestamp_separator_a_timestamp_can_contain_is_refused_at_load() {
        let refused = [
            ("{timestamp}1{body}", TimestampFormat::Unix),
            ("{body}0{timestamp}", TimestampFormat::Unix),
            ("{timestamp}7:{body}", TimestampFormat::UnixMs),
            ("{timestamp}-{body}", TimestampFormat::Rfc3339),
            ("{timestamp}:{body}", TimestampFormat::Rfc3339),
            ("{timestamp}Z{body}", TimestampFormat::Rfc3339),
            ("{body}T{timestamp}", TimestampFormat::Rfc3339),
            ("{body}.1{timestamp}", TimestampFormat::Unix),
        ];
        for (t, format) in refused {
            let p = boundary_problems(t, format);
            assert!(
                p.iter().any(|m| m.contains("a timestamp in the")),
                "{t} ({format:?}): {p:?}"
            );
        }
        let accepted = [
            ("{timestamp}.{body}", TimestampFormat::Unix),
            ("{timestamp}:{body}", TimestampFormat::Unix),
            ("{timestamp}.{body}", TimestampFormat::Rfc3339),
            (
                "{timestamp}|{header:X-Request-Id}\n{body}",
                TimestampFormat::Rfc3339,
            ),
            ("{body}.{timestamp}", TimestampFormat::UnixMs),
            ("v0:{timestamp}:{body}", TimestampFormat::Unix),
            ("{method}\n{url}\n{{v1}}\n{body}", TimestampFormat::Unix),
            ("{body}\n{header:X-Id}", TimestampFormat::Unix),
        ];
        for (t, format) in accepted {
            assert_eq!(boundary_problems(t, format), Vec::<String>::new(), "{t}");
        }
    }

    #[test]
    fn template_with_two_bodies_is_refused_at_load() {
        let p = boundary_problems("{body}.{body}", TimestampFormat::Unix);
        assert!(p.iter().any(|m| m.contains("only once")), "{p:?}");
    }

    const KEY: &[u8] = b"generic-boundary-key";

    fn keys() -> Vec<MacKey> {
        vec![MacKey::new(Algorithm::Sha256, KEY)]
    }

    /// Verifies a request whose signature is the MAC of `signed` (what a provider signed).
    fn verify_signed(
        g: &GenericHmac,
        signed: &str,
        headers: &[(&str, &str)],
        body: &str,
        now_secs: i64,
    ) -> Result<Option<Timestamp>, VerifyError> {
        let sig = keys()[0].compute(&[signed.as_bytes()]).to_hex();
        let mut headers: crate::headers::Headers =
            headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        headers.push("X-Sig", sig);
        let req = Request::post(
            "https://hooks.example.com/hooks/g",
            &headers,
            body.as_bytes(),
        );
        verify(
            g,
            &keys(),
            &req,
            Timestamp::from_unix_secs(now_secs),
            Some(Duration::from_secs(300)),
        )
        .map(|(at, _digest)| at)
    }

    #[test]
    fn generic_leading_zero_timestamp_cannot_absorb_body_digits() {
        // The reported bypass, on the verifier itself (the constructors refuse this template
        // too): the provider signed body `amount=100` at 1763900000; the attacker sends body
        // `amount=1` with timestamp `001763900000`, the same value and the same signed bytes.
        let g = params("{body}{timestamp}", Some("X-Ts"));
        let signed = "amount=1001763900000";
        let now = 1_763_900_000;
        assert_eq!(
            verify_signed(&g, signed, &[("X-Ts", "1763900000")], "amount=100", now),
            Ok(Some(Timestamp::from_unix_secs(now))),
            "the genuine request verifies"
        );
        assert_eq!(
            verify_signed(&g, signed, &[("X-Ts", "001763900000")], "amount=1", now),
            Err(VerifyError::InvalidTimestamp)
        );
        for format in [TimestampFormat::UnixMs, TimestampFormat::Unix] {
            let mut g = g.clone();
            g.timestamp_format = format;
            assert_eq!(
                verify_signed(&g, signed, &[("X-Ts", "01763900000")], "amount=10", now),
                Err(VerifyError::InvalidTimestamp),
                "{format:?}"
            );
        }
    }

    #[test]
    fn generic_rfc3339_timestamp_has_one_spelling() {
        let mut g = params("{timestamp}.{body}", Some("X-Ts"));
        g.timestamp_format = TimestampFormat::Rfc3339;
        let now = 1_763_900_000;
        let ok = "2025-11-23T12:13:20Z";
        assert!(verify_signed(&g, &format!("{ok}.b"), &[("X-Ts", ok)], "b", now).is_ok());
        for other in [
            "2025-11-23T12:13:20.000Z",
            "2025-11-23T12:13:20+00:00",
            "2025-11-23t12:13:20z",
        ] {
            assert_eq!(
                verify_signed(&g, &format!("{other}.b"), &[("X-Ts", other)], "b", now),
                Err(VerifyError::InvalidTimestamp),
                "{other}"
            );
        }
    }

    #[test]
    fn template_whose_value_separator_the_value_can_contain_is_refused_at_load() {
        // `{header:X-Req}.{body}`: the provider signs X-Req `a.b` with body `c`; the same
        // signature verifies X-Req `a` with body `b.c`. Refusing only the first request would
        // still accept the second, so such templates are refused outright.
        for ambiguous in [
            "{header:X-Req}.{body}",
            "{timestamp}|{header:X-Req}|{body}",
            "{body}.{header:X-Req}",
            "{url}/{body}",
            "{url}?{body}",
            "{method}.{body}",
            "{method}P{body}",
        ] {
            let g = params_for(ambiguous);
            assert!(
                g.problems()
                    .iter()
                    .any(|(_, m)| m.contains("its value can contain")),
                "{ambiguous}: {:?}",
                g.problems()
            );
            assert!(matches!(
                crate::verify::Verifier::new(
                    crate::verify::Scheme::generic(g),
                    vec![Secret::new(b"k".to_vec()).unwrap()]
                ),
                Err(KeyError::InvalidParameters(_))
            ));
        }
        for unambiguous in [
            "{header:X-Req}\n{body}",
            "{timestamp}.{header:X-Req}\n{body}",
            "{body}\n{header:X-Req}",
            "{url} {body}",
            "{method} {url}\n{body}",
            "{method}\n{url}\n{{v1}}\n{body}",
        ] {
            let g = params_for(unambiguous);
            assert!(g.problems().is_empty(), "{unambiguous}: {:?}", g.problems());
        }
        // A value that nonetheless holds its separator (not a real header) is still refused.
        let g = params("{body}\n{header:X-Req}", None);
        let now = 1_763_900_000;
        assert_eq!(
            verify_signed(&g, "b\nx\ny", &[("X-Req", "x\ny")], "b", now),
            Err(VerifyError::SeparatorInValue(Cow::Borrowed(
                "{header:x-req}"
            )))
        );
        let g = params("{header:X-Req}\n{body}", None);
        assert_eq!(
            verify_signed(&g, "a\nb", &[("X-Req", "a")], "b", now),
            Ok(None)
        );
    }

    #[test]
    fn signer_refuses_a_value_holding_its_separator() {
        let g = params("{header:X-Req}\n{body}", None);
        let headers: crate::headers::Headers = [("X-Req", "a\nb".to_owned())].into_iter().collect();
        let req = Request::post("https://e.com/", &headers, b"c");
        assert_eq!(
            sign(&g, &keys(), &req, Timestamp::from_unix_secs(0)),
            Err(SignError::SeparatorInValue("{header:x-req}".into()))
        );
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
