//! The portal's decisions, without I/O: its access tokens (Svix's app-portal-access), what each
//! may do (Svix's capabilities), and the security headers of its pages.
//!
//! A portal token is `hlp_{expiry}_{random}`: 24 random bytes (base64url) after the Unix second
//! it expires at. The service stores only its SHA-256 ([`digest`]) with the [`Grant`]; the
//! expiry in the clear lets an expired link be told apart from a wrong one ("ask for a new
//! link") without a store read, and changing it changes the digest, so it grants nothing.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::body::{self, Field};
use super::error::ApiError;
use crate::time::Timestamp;

/// What every portal token starts with.
pub const TOKEN_PREFIX: &str = "hlp_";
/// How many random bytes a token carries.
pub const TOKEN_RANDOM_BYTES: usize = 24;
/// A token's life when the request names none. Svix's default is 7 days; a link that opens an
/// application's endpoints and secrets should not outlive the page that asked for it by a week,
/// and an operator's product mints one per visit.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(3600);
/// The longest life a token may ask for (Svix's limit).
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// The shortest (Svix's is an hour; a second lets tests see a link expire).
pub const MIN_EXPIRY: Duration = Duration::from_secs(1);
/// The longest `sessionId`.
pub const MAX_SESSION_ID: usize = 256;

/// One of Svix's app-portal capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Read everything but endpoint secrets.
    ViewBase,
    /// Read endpoint secrets.
    ViewEndpointSecret,
    /// Read and rotate endpoint secrets.
    ManageEndpointSecret,
    /// Change transformations (hookline has none: accepted, grants nothing more).
    ManageTransformations,
    /// Resend, recover and send example messages.
    CreateAttempts,
    /// Create, change, disable and delete endpoints; implies every other capability.
    ManageEndpoint,
}

impl Capability {
    /// Every capability, in Svix's order.
    pub const ALL: [Capability; 6] = [
        Capability::ViewBase,
        Capability::ViewEndpointSecret,
        Capability::ManageEndpointSecret,
        Capability::ManageTransformations,
        Capability::CreateAttempts,
        Capability::ManageEndpoint,
    ];

    /// Svix's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Capability::ViewBase => "ViewBase",
            Capability::ViewEndpointSecret => "ViewEndpointSecret",
            Capability::ManageEndpointSecret => "ManageEndpointSecret",
            Capability::ManageTransformations => "ManageTransformations",
            Capability::CreateAttempts => "CreateAttempts",
            Capability::ManageEndpoint => "ManageEndpoint",
        }
    }

    /// The capability named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Capabilities(u8);

impl Capabilities {
    /// Every capability: API tokens, and portal tokens that name none (Svix's default).
    pub const ALL: Capabilities = Capabilities(0b11_1111);
    /// Reading only (`readOnly: true`).
    pub const READ_ONLY: Capabilities = Capabilities(Capability::ViewBase.bit());

    /// The set of `list`; `ViewBase` is always in it (Svix requires it).
    pub fn of(list: &[Capability]) -> Self {
        Capabilities(
            list.iter()
                .fold(Capability::ViewBase.bit(), |acc, c| acc | c.bit()),
        )
    }

    /// Whether the set allows what `c` allows: `ManageEndpoint` allows everything, and
    /// `ManageEndpointSecret` allows reading the secret too.
    pub fn allows(self, c: Capability) -> bool {
        let has = |x: Capability| self.0 & x.bit() != 0;
        has(c)
            || has(Capability::ManageEndpoint)
            || (c == Capability::ViewEndpointSecret && has(Capability::ManageEndpointSecret))
    }

    /// Svix's names of the capabilities in the set.
    pub fn names(self) -> Vec<&'static str> {
        Capability::ALL
            .into_iter()
            .filter(|c| self.0 & c.bit() != 0)
            .map(Capability::as_str)
            .collect()
    }

    /// Whether this is `ViewBase` alone.
    pub fn read_only(self) -> bool {
        self == Self::READ_ONLY
    }
}

/// What a stored portal token grants: one application, its capabilities, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The application's id.
    pub app_id: String,
    /// What the holder may do there.
    pub capabilities: Capabilities,
    /// When the token stops working.
    pub expires_at: Timestamp,
    /// The operator's session id, for `expire-all` (Svix's `sessionId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A read `AppPortalAccessIn` (`POST /api/v1/auth/app-portal-access/{app}`).
#[derive(Clone, Debug, PartialEq)]
pub struct AccessIn {
    /// How long the token lives.
    pub expiry: Duration,
    /// What it may do.
    pub capabilities: Capabilities,
    /// Svix's `sessionId`.
    pub session_id: Option<String>,
    /// The application to create when the path names none (Svix's `application`).
    pub application: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AccessIn {
    /// Reads the body; an empty body is `{}` (every default).
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut b = if bytes.trim_ascii().is_empty() {
            body::from_object(serde_json::Map::new())
        } else {
            body::object(bytes)?
        };
        let expiry = b.integer(&["expiry"], MIN_EXPIRY.as_secs(), MAX_EXPIRY.as_secs());
        let read_only = b.boolean(&["readOnly"]).set().unwrap_or(false);
        let names =
            b.string_set(
                &["capabilities"],
                Capability::ALL.len(),
                |s| match Capability::parse(s) {
                    Some(_) => Ok(()),
                    None => Err(format!(
                        "unknown capability; expected one of {}",
                        Capability::ALL.map(Capability::as_str).join(", ")
                    )),
                },
            );
        let session_id = b.string(&["sessionId"], |s| {
            if s.is_empty() || s.len() > MAX_SESSION_ID {
                Err(format!("must be 1 to {MAX_SESSION_ID} characters"))
            } else {
                Ok(())
            }
        });
        let application = b.json_object(&["application"]).set();
        // Svix's feature flags select portal features hookline does not have.
        b.ignore(&["featureFlags"]);
        b.finish()?;
        let capabilities = match (read_only, names) {
            (true, _) => Capabilities::READ_ONLY,
            (false, Field::Set(list)) => Capabilities::of(
                &list
                    .iter()
                    .filter_map(|s| Capability::parse(s))
                    .collect::<Vec<_>>(),
            ),
            (false, Field::Absent | Field::Null) => Capabilities::ALL,
        };
        Ok(Self {
            expiry: expiry.set().map_or(DEFAULT_EXPIRY, Duration::from_secs),
            capabilities,
            session_id: session_id.set(),
            application,
        })
    }
}

/// A new token that expires at `expires_at`, from `random` bytes of a cryptographic source.
pub fn mint(random: &[u8; TOKEN_RANDOM_BYTES], expires_at: Timestamp) -> String {
    format!(
        "{TOKEN_PREFIX}{}_{}",
        expires_at.unix_secs(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// The expiry written in `token` when it has a portal token's exact form; `None` for anything
/// else (an API token, or a string that only starts like a portal token).
pub fn expiry_of(token: &[u8]) -> Option<Timestamp> {
    let rest = token.strip_prefix(TOKEN_PREFIX.as_bytes())?;
    let sep = rest.iter().position(|&c| c == b'_')?;
    let (secs, random) = rest.split_at(sep);
    let random = random.get(1..)?;
    // At most 12 digits (year 33658), no sign, no leading zero: one spelling per token.
    if secs.is_empty() || secs.len() > 12 || secs.first() == Some(&b'0') {
        return None;
    }
    if !secs.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(random)
        .ok()?;
    if decoded.len() != TOKEN_RANDOM_BYTES {
        return None;
    }
    let secs: i64 = std::str::from_utf8(secs).ok()?.parse().ok()?;
    Some(Timestamp::from_unix_secs(secs))
}

/// The stored key of a token: its SHA-256, hex. A leaked store leaks no usable token.
pub fn digest(token: &[u8]) -> String {
    hex::encode(Sha256::digest(token))
}

/// The origins allowed to frame the portal (`[api.portal] frame_ancestors`), checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameAncestors(Vec<String>);

impl FrameAncestors {
    /// Checks each origin: `https://host[:port]` (or `http://` for a loopback host), a host
    /// name of letters, digits, `-` and `.` (optionally starting `*.` for any subdomain) or
    /// an IP address in brackets, nothing else: a space, `;` or `'` would let the value rewrite
    /// the rest of the policy.
    pub fn new(origins: &[String]) -> Result<Self, Vec<(usize, String)>> {
        let errors: Vec<(usize, String)> = origins
            .iter()
            .enumerate()
            .filter_map(|(i, o)| check_origin(o).err().map(|e| (i, e)))
            .collect();
        if errors.is_empty() {
            Ok(Self(origins.to_vec()))
        } else {
            Err(errors)
        }
    }

    /// Whether no origin may frame the portal.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `frame-ancestors` source list.
    fn sources(&self) -> String {
        if self.0.is_empty() {
            "'none'".to_owned()
        } else {
            self.0.join(" ")
        }
    }
}

/// Why `o` is not an origin the portal may be framed by.
pub fn check_origin(o: &str) -> Result<(), String> {
    let (scheme, rest) = o
        .split_once("://")
        .ok_or_else(|| "must be an origin such as https://app.example.com".to_owned())?;
    let (host, _) = split_authority(rest)?;
    let loopback = is_loopback(host);
    match scheme {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err("must be https (http only for a loopback host)".to_owned()),
        _ => return Err("must start with https://".to_owned()),
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let bracketed = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    let plain = !name.is_empty()
        && name.len() <= 253
        && !name.starts_with(['.', '-'])
        && !name.ends_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if bracketed || plain {
        Ok(())
    } else {
        Err(BAD_HOST.to_owned())
    }
}

const BAD_HOST: &str =
    "must be scheme://host[:port] with a host of letters, digits, '-' and '.', and no path";

/// The host and port of `host[:port]` (an IPv6 address bracketed: its port follows the
/// bracket); a port must be 1 to 5 digits.
fn split_authority(authority: &str) -> Result<(&str, Option<&str>), String> {
    let bad_host = || BAD_HOST.to_owned();
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or_else(bad_host)?;
        let (h, tail) = authority.split_at_checked(end + 1).ok_or_else(bad_host)?;
        match tail {
            "" => (h, None),
            t => (h, Some(t.strip_prefix(':').ok_or_else(bad_host)?)),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the port must be 1 to 5 digits".to_owned());
    }
    Ok((host, port))
}

/// Whether `host` (no port) is this machine: `localhost`, an IPv4 loopback address written in
/// full (`127.0.0.1`, not `127.evil.example`), or `[::1]`.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The origin links name for a request that came to `authority` (its `Host` header): `http`
/// for a loopback host (`hookline dev`), `https` for every other; `None` when `authority` is
/// not a host and port.
pub fn origin_for_host(authority: &str) -> Option<String> {
    let (host, _) = split_authority(authority).ok()?;
    let scheme = if is_loopback(host) { "http" } else { "https" };
    let origin = format!("{scheme}://{authority}");
    check_origin(&origin).ok().map(|()| origin)
}

/// The event type every endpoint can be sent an example of (Svix's), whatever the catalogue.
pub const PING_EVENT_TYPE: &str = "svix.ping";

/// The payload of an example of `event_type` (`POST .../send-example`): `{"success":true}` for
/// [`PING_EVENT_TYPE`], else the `index`th of the examples of the event type's schema version
/// `"1"` (Svix's rule; the first when there are fewer), which must be a JSON object, as every
/// payload is. `schemas` is the event type's, `None` when it has none.
pub fn example_payload(
    event_type: &str,
    schemas: Option<&serde_json::Value>,
    index: usize,
) -> Result<String, ApiError> {
    if event_type == PING_EVENT_TYPE {
        return Ok(r#"{"success":true}"#.to_owned());
    }
    let examples = schemas
        .and_then(|s| s.get("1"))
        .and_then(|v| v.get("examples"))
        .and_then(serde_json::Value::as_array);
    match examples.and_then(|e| e.get(index).or_else(|| e.first())) {
        Some(example @ serde_json::Value::Object(_)) => Ok(example.to_string()),
        Some(_) => Err(ApiError::bad_request(
            "invalid_scheme",
            "The event type's example is not a JSON object.",
        )),
        None => Err(ApiError::bad_request(
            "invalid_scheme",
            "Unable to generate example message from event-type schema: give the event type \
             an example in schemas[\"1\"].examples.",
        )),
    }
}

/// The `Content-Security-Policy` of every portal response: only the portal's own script, style
/// and API; no inline code; DOM sinks that parse HTML refused by Trusted Types (the page builds
/// nodes and sets text only); framed only by `ancestors`.
pub fn content_security_policy(ancestors: &FrameAncestors) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; \
         require-trusted-types-for 'script'; trusted-types 'none'; frame-ancestors {}",
        ancestors.sources()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn tokens_round_trip_their_expiry_and_nothing_else_parses() {
        let t = Timestamp::from_unix_secs(2_000_000_000);
        let token = mint(&[7; TOKEN_RANDOM_BYTES], t);
        assert!(token.starts_with("hlp_2000000000_"));
        assert_eq!(expiry_of(token.as_bytes()), Some(t));
        let random = token.rsplit('_').next().unwrap();
        for bad in [
            String::new(),
            "hlp_".to_owned(),
            "hlp__".to_owned(),
            format!("hlp_{random}"),
            format!("hlp_02000000000_{random}"),
            format!("hlp_-5_{random}"),
            format!("hlp_+5_{random}"),
            format!("hlp_1234567890123_{random}"),
            format!("hlp_2000000000_{random}A"),
            format!("hlp_2000000000_{}", &random[1..]),
            format!("hlp_2000000000_{random}="),
            format!("HLP_2000000000_{random}"),
            format!("hlp_2000000000__{random}"),
            format!("hlp_2000000000_+{}", &random[1..]),
            "hlp_2000000000_\u{0}".to_owned(),
        ] {
            assert_eq!(expiry_of(bad.as_bytes()), None, "{bad:?}");
        }
        assert_ne!(digest(token.as_bytes()), digest(b"hlp_2000000001_x"));
        assert_eq!(digest(b"x").len(), 64);
    }

    #[test]
    fn access_in_defaults_limits_and_capabilities() {
        let a = AccessIn::parse(b"").unwrap();
        assert_eq!(a.expiry, DEFAULT_EXPIRY);
        assert_eq!(a.capabilities, Capabilities::ALL);
        let a = AccessIn::parse(br#"{"expiry": 7200, "featureFlags": ["x"], "sessionId": "s1"}"#)
            .unwrap();
        assert_eq!(a.expiry, Duration::from_secs(7200));
        assert_eq!(a.session_id.as_deref(), Some("s1"));
        let a =
            AccessIn::parse(br#"{"readOnly": true, "capabilities": ["ManageEndpoint"]}"#).unwrap();
        assert!(a.capabilities.read_only());
        assert!(!a.capabilities.allows(Capability::ViewEndpointSecret));
        let a = AccessIn::parse(br#"{"capabilities": ["ManageEndpointSecret"]}"#).unwrap();
        assert!(a.capabilities.allows(Capability::ViewBase));
        assert!(a.capabilities.allows(Capability::ViewEndpointSecret));
        assert!(!a.capabilities.allows(Capability::CreateAttempts));
        assert!(!a.capabilities.allows(Capability::ManageEndpoint));
        assert_eq!(a.capabilities.names(), ["ViewBase", "ManageEndpointSecret"]);
        let a = AccessIn::parse(br#"{"capabilities": []}"#).unwrap();
        assert!(a.capabilities.read_only());
        for (bad, at) in [
            (&br#"{"expiry": 0}"#[..], "expiry"),
            (br#"{"expiry": 604801}"#, "expiry"),
            (br#"{"expiry": "1h"}"#, "expiry"),
            (br#"{"capabilities": ["Root"]}"#, "capabilities"),
            (br#"{"capabilities": "ViewBase"}"#, "capabilities"),
            (br#"{"readOnly": "yes"}"#, "readOnly"),
            (br#"{"sessionId": ""}"#, "sessionId"),
            (br#"{"application": 1}"#, "application"),
        ] {
            let e = AccessIn::parse(bad).unwrap_err();
            assert_eq!(e.status(), 422, "{}", String::from_utf8_lossy(bad));
            assert!(e.body().contains(at), "{}", e.body());
        }
        assert_eq!(AccessIn::parse(b"[1]").unwrap_err().status(), 422);
        assert_eq!(AccessIn::parse(b"{").unwrap_err().status(), 400);
    }

    #[test]
    fn examples_come_from_the_schema_or_the_ping() {
        assert_eq!(
            example_payload("svix.ping", None, 0).unwrap(),
            r#"{"success":true}"#
        );
        let schemas = serde_json::json!({"1": {"examples": [{"a": 1}, {"b": "<script>"}]}});
        assert_eq!(
            example_payload("t", Some(&schemas), 0).unwrap(),
            r#"{"a":1}"#
        );
        assert_eq!(
            example_payload("t", Some(&schemas), 1).unwrap(),
            r#"{"b":"<script>"}"#
        );
        assert_eq!(
            example_payload("t", Some(&schemas), 9).unwrap(),
            r#"{"a":1}"#
        );
        for bad in [
            None,
            Some(serde_json::json!({})),
            Some(serde_json::json!({"1": {"examples": []}})),
            Some(serde_json::json!({"1": {"examples": "x"}})),
            Some(serde_json::json!({"2": {"examples": [{"a": 1}]}})),
            Some(serde_json::json!({"1": {"examples": [[1]]}})),
        ] {
            let e = example_payload("t", bad.as_ref(), 0).unwrap_err();
            assert_eq!(e.status(), 400);
            assert!(e.body().contains("invalid_scheme"), "{}", e.body());
        }
    }

    #[test]
    fn manage_endpoint_allows_everything() {
        let c = Capabilities::of(&[Capability::ManageEndpoint]);
        for cap in Capability::ALL {
            assert!(c.allows(cap), "{cap:?}");
            assert!(Capabilities::ALL.allows(cap));
        }
        assert!(!Capabilities::READ_ONLY.allows(Capability::CreateAttempts));
    }

    #[test]
    fn frame_ancestors_take_origins_only() {
        for good in [
            "https://app.example.com",
            "https://app.example.com:8443",
            "https://*.example.com",
            "http://127.0.0.1:5173",
            "http://localhost:3000",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
        ] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for bad in [
            "app.example.com",
            "*",
            "https://*",
            "'self'",
            "https://a.com; script-src *",
            "https://a.com 'unsafe-inline'",
            "https://a.com/path",
            "https://a.com:",
            "https://a.com:123456",
            "https://a.com:80x",
            "http://example.com",
            "http://127.evil.example",
            "http://127.0.0.1.evil.example",
            "javascript://x",
            "https://",
            "https://.a.com",
            "https://a..com",
            "https://a.com.",
            "https://[nothex]",
            "https://a.com\n",
            "https://a'.com",
            "data://x",
        ] {
            assert!(check_origin(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            origin_for_host("127.0.0.1:8787").as_deref(),
            Some("http://127.0.0.1:8787")
        );
        assert_eq!(
            origin_for_host("[::1]:1").as_deref(),
            Some("http://[::1]:1")
        );
        assert_eq!(
            origin_for_host("127.evil.example").as_deref(),
            Some("https://127.evil.example")
        );
        for bad in ["", "a b", "evil.com/x", "x:", "[::1"] {
            assert_eq!(origin_for_host(bad), None, "{bad:?}");
        }
        let f = FrameAncestors::new(&["https://a.com".into(), "bad".into()]).unwrap_err();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, 1);
        let csp = content_security_policy(&FrameAncestors::default());
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let f = FrameAncestors::new(&["https://a.com".into(), "https://b.com:444".into()]).unwrap();
        assert!(
            content_security_policy(&f)
                .ends_with("frame-ancestors https://a.com https://b.com:444")
        );
    }
}
