//! Webhook signature schemes: verify what providers send, and sign the way they do.
//!
//! Every scheme works on the raw body bytes (never a re-encoded JSON value), compares MACs in
//! constant time with lengths checked, accepts a request when *any* of its signatures matches
//! *any* configured secret (so secrets can be rotated without downtime), and, where the provider
//! signs a timestamp, refuses requests outside the replay window ([`DEFAULT_TOLERANCE`] unless
//! configured otherwise).
//!
//! ```
//! use hookline_core::headers::Headers;
//! use hookline_core::secret::Secret;
//! use hookline_core::time::Timestamp;
//! use hookline_core::verify::{Request, Scheme, Signer, Verifier};
//!
//! let secret = || Secret::new(b"whsec_test_secret".to_vec()).unwrap();
//! let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
//! let now = Timestamp::from_unix_secs(1_763_900_000);
//!
//! // What Stripe would send...
//! let signer = Signer::new(Scheme::Stripe, vec![secret()]).unwrap();
//! let unsigned = Headers::new();
//! let req = Request { method: "POST", url: "https://example.com/hooks/stripe", headers: &unsigned, body };
//! let headers: Headers = signer.sign(&req, "evt_1", now).unwrap().into_iter().collect();
//!
//! // ...verifies.
//! let verifier = Verifier::new(Scheme::Stripe, vec![secret()]).unwrap();
//! let req = Request { headers: &headers, ..req };
//! let verified = verifier.verify(&req, now).unwrap();
//! assert_eq!(verified.body(), body);
//! ```

mod common;
mod discord;
mod generic;
mod hmac_schemes;
mod standard;
mod twilio;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use generic::{GenericHmac, SecretEncoding, Template, TemplateError, TimestampFormat};
pub use twilio::body_sha256_hex as twilio_body_sha256_hex;

use crate::headers::Headers;
use crate::secret::Secret;
use crate::time::Timestamp;
use common::MacKey;

/// The default replay window: a signed timestamp more than 5 minutes from `now`, in either
/// direction, is refused. Standard Webhooks, Stripe and Slack all recommend 5 minutes; Paddle
/// and Linear ask for less (see [`SchemeKind::default_tolerance`]).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest replay window a configuration may set (1 hour): wider windows make captured
/// requests replayable for too long.
pub const MAX_TOLERANCE: Duration = Duration::from_secs(3600);

/// The signature schemes hookline knows, without their parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemeKind {
    /// Standard Webhooks / Svix: `webhook-*` or `svix-*` headers, `v1` HMAC-SHA256, `v1a` Ed25519.
    StandardWebhooks,
    /// Stripe: `Stripe-Signature: t=..,v1=..`.
    Stripe,
    /// GitHub: `X-Hub-Signature-256: sha256=..`.
    Github,
    /// Slack: `X-Slack-Signature: v0=..` over `v0:{ts}:{body}`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC of the body.
    Shopify,
    /// Twilio: `X-Twilio-Signature`, HMAC-SHA1 over the URL and sorted form parameters.
    Twilio,
    /// Paddle Billing: `Paddle-Signature: ts=..;h1=..` over `{ts}:{body}`.
    Paddle,
    /// Zendesk: `X-Zendesk-Webhook-Signature` over `{timestamp}{body}`.
    Zendesk,
    /// Linear: `Linear-Signature`, hex HMAC of the body; `webhookTimestamp` in the body.
    Linear,
    /// Intercom: `X-Hub-Signature: sha1=..`.
    Intercom,
    /// Discord interactions: Ed25519 over `{timestamp}{body}`.
    Discord,
    /// Zoom: `x-zm-signature: v0=..` over `v0:{ts}:{body}`, Slack's layout under Zoom's header
    /// names.
    Zoom,
    /// A configurable HMAC scheme for everything else.
    Generic,
}

impl SchemeKind {
    /// Every scheme, in documentation order.
    pub const ALL: [SchemeKind; 13] = [
        SchemeKind::StandardWebhooks,
        SchemeKind::Stripe,
        SchemeKind::Github,
        SchemeKind::Slack,
        SchemeKind::Shopify,
        SchemeKind::Twilio,
        SchemeKind::Paddle,
        SchemeKind::Zendesk,
        SchemeKind::Linear,
        SchemeKind::Intercom,
        SchemeKind::Discord,
        SchemeKind::Zoom,
        SchemeKind::Generic,
    ];

    /// The name used in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::StandardWebhooks => "standard-webhooks",
            SchemeKind::Stripe => "stripe",
            SchemeKind::Github => "github",
            SchemeKind::Slack => "slack",
            SchemeKind::Shopify => "shopify",
            SchemeKind::Twilio => "twilio",
            SchemeKind::Paddle => "paddle",
            SchemeKind::Zendesk => "zendesk",
            SchemeKind::Linear => "linear",
            SchemeKind::Intercom => "intercom",
            SchemeKind::Discord => "discord",
            SchemeKind::Zoom => "zoom",
            SchemeKind::Generic => "generic",
        }
    }

    /// Looks a scheme up by its configuration name; `svix` and `standard` are accepted too.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "svix" | "standard" => Some(SchemeKind::StandardWebhooks),
            _ => Self::ALL.into_iter().find(|k| k.name() == name),
        }
    }

    /// True when the provider signs a timestamp, so a replay window applies.
    /// (The generic scheme has one only when it is configured with a timestamp header.)
    pub fn signs_timestamp(self) -> bool {
        !matches!(
            self,
            SchemeKind::Github | SchemeKind::Shopify | SchemeKind::Twilio | SchemeKind::Intercom
        )
    }

    /// The replay window the provider's own SDK applies: 5 s for Paddle, 60 s for Linear,
    /// [`DEFAULT_TOLERANCE`] for the others that sign a timestamp (Zendesk and Zoom ship no
    /// verifier, so they get Slack's 5 minutes); `None` when there is no signed timestamp.
    pub fn default_tolerance(self) -> Option<Duration> {
        match self {
            SchemeKind::Paddle => Some(Duration::from_secs(5)),
            SchemeKind::Linear => Some(Duration::from_secs(60)),
            k if k.signs_timestamp() => Some(DEFAULT_TOLERANCE),
            _ => None,
        }
    }

    /// Headers that carry signatures or credentials: never copied into envelopes or logs.
    pub fn signature_headers(self) -> &'static [&'static str] {
        match self {
            SchemeKind::StandardWebhooks => &["webhook-signature", "svix-signature"],
            SchemeKind::Stripe => &["stripe-signature"],
            SchemeKind::Github => &["x-hub-signature-256", "x-hub-signature"],
            SchemeKind::Slack => &["x-slack-signature"],
            SchemeKind::Shopify => &["x-shopify-hmac-sha256"],
            SchemeKind::Twilio => &["x-twilio-signature"],
            SchemeKind::Paddle => &["paddle-signature"],
            SchemeKind::Zendesk => &["x-zendesk-webhook-signature"],
            SchemeKind::Linear => &["linear-signature"],
            SchemeKind::Intercom => &["x-hub-signature"],
            SchemeKind::Discord => &["x-signature-ed25519"],
            // Zoom also still sends the deprecated verification token as `authorization`: a
            // credential that must not travel either, even when `forward_headers` lists it.
            SchemeKind::Zoom => &["x-zm-signature", "authorization"],
            SchemeKind::Generic => &[],
        }
    }
}

impl fmt::Display for SchemeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SchemeKind {
    type Err = UnknownScheme;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownScheme(s.to_owned()))
    }
}

/// A scheme name that hookline does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scheme `{0}`")]
pub struct UnknownScheme(pub String);

/// A configured scheme: its kind and, for the generic scheme, its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Scheme {
    /// See [`SchemeKind::StandardWebhooks`].
    StandardWebhooks,
    /// See [`SchemeKind::Stripe`].
    Stripe,
    /// See [`SchemeKind::Github`].
    Github,
    /// See [`SchemeKind::Slack`].
    Slack,
    /// See [`SchemeKind::Shopify`].
    Shopify,
    /// See [`SchemeKind::Twilio`].
    Twilio,
    /// See [`SchemeKind::Paddle`].
    Paddle,
    /// See [`SchemeKind::Zendesk`].
    Zendesk,
    /// See [`SchemeKind::Linear`].
    Linear,
    /// See [`SchemeKind::Intercom`].
    Intercom,
    /// See [`SchemeKind::Discord`].
    Discord,
    /// See [`SchemeKind::Zoom`].
    Zoom,
    /// See [`SchemeKind::Generic`].
    Generic(GenericHmac),
}

impl Scheme {
    /// The scheme's kind.
    pub fn kind(&self) -> SchemeKind {
        match self {
            Scheme::StandardWebhooks => SchemeKind::StandardWebhooks,
            Scheme::Stripe => SchemeKind::Stripe,
            Scheme::Github => SchemeKind::Github,
            Scheme::Slack => SchemeKind::Slack,
            Scheme::Shopify => SchemeKind::Shopify,
            Scheme::Twilio => SchemeKind::Twilio,
            Scheme::Paddle => SchemeKind::Paddle,
            Scheme::Zendesk => SchemeKind::Zendesk,
            Scheme::Linear => SchemeKind::Linear,
            Scheme::Intercom => SchemeKind::Intercom,
            Scheme::Discord => SchemeKind::Discord,
            Scheme::Zoom => SchemeKind::Zoom,
            Scheme::Generic(_) => SchemeKind::Generic,
        }
    }

    /// The parameterless scheme of a kind; `None` for [`SchemeKind::Generic`], which needs
    /// parameters.
    pub fn from_kind(kind: SchemeKind) -> Option<Self> {
        Some(match kind {
            SchemeKind::StandardWebhooks => Scheme::StandardWebhooks,
            SchemeKind::Stripe => Scheme::Stripe,
            SchemeKind::Github => Scheme::Github,
            SchemeKind::Slack => Scheme::Slack,
            SchemeKind::Shopify => Scheme::Shopify,
            SchemeKind::Twilio => Scheme::Twilio,
            SchemeKind::Paddle => Scheme::Paddle,
            SchemeKind::Zendesk => Scheme::Zendesk,
            SchemeKind::Linear => Scheme::Linear,
            SchemeKind::Intercom => Scheme::Intercom,
            SchemeKind::Discord => Scheme::Discord,
            SchemeKind::Zoom => Scheme::Zoom,
            SchemeKind::Generic => return None,
        })
    }

    /// True when this configured scheme checks a signed timestamp.
    pub fn signs_timestamp(&self) -> bool {
        match self {
            Scheme::Generic(g) => g.timestamp_header.is_some(),
            other => other.kind().signs_timestamp(),
        }
    }

    /// The MAC algorithm of HMAC-based schemes.
    fn algorithm(&self) -> Algorithm {
        match self {
            Scheme::Intercom => Algorithm::Sha1,
            Scheme::Generic(g) => g.algorithm,
            _ => Algorithm::Sha256,
        }
    }
}

/// A hash function for HMAC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// HMAC-SHA1 (Twilio, Intercom and older APIs).
    Sha1,
    /// HMAC-SHA256.
    #[default]
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How a MAC is written in a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Hexadecimal (either case accepted when verifying; lower case when signing).
    #[default]
    Hex,
    /// Standard base64 with padding.
    Base64,
}

/// The parts of an HTTP request a scheme reads. `url` is the full URL the provider sent the
/// request to (Twilio signs it; behind a proxy, pass the public URL).
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The full request URL as the provider saw it.
    pub url: &'a str,
    /// The request headers.
    pub headers: &'a Headers,
    /// The raw body bytes, exactly as received.
    pub body: &'a [u8],
}

/// Why a request failed verification. Never carries secret material or signature bytes; header
/// names are not secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header is absent.
    #[error("missing header `{0}`")]
    MissingHeader(Cow<'static, str>),
    /// A header that must appear once appears more than once.
    #[error("header `{0}` appears more than once")]
    DuplicateHeader(Cow<'static, str>),
    /// A signature header cannot be parsed.
    #[error("header `{0}` is malformed")]
    MalformedHeader(Cow<'static, str>),
    /// The scheme signs a timestamp but none was sent.
    #[error("missing signed timestamp")]
    MissingTimestamp,
    /// The timestamp is not a valid non-negative integer or date.
    #[error("invalid timestamp")]
    InvalidTimestamp,
    /// The timestamp is older than the replay window.
    #[error("timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the replay window.
    #[error("timestamp is in the future")]
    TimestampInFuture,
    /// The header holds no signature of a version this scheme accepts (e.g. only `v0`).
    #[error("no signature of a supported version")]
    UnsupportedSignatureVersion,
    /// No signature matched any configured secret.
    #[error("no signature matches")]
    SignatureMismatch,
    /// Twilio: the body does not hash to the `bodySHA256` the URL carries.
    #[error("body hash does not match")]
    BodyHashMismatch,
    /// The request URL cannot be used (Twilio signs it).
    #[error("request URL is malformed")]
    MalformedUrl,
    /// Twilio: a body that is neither form-encoded nor covered by `bodySHA256` is not signed,
    /// so it cannot be trusted.
    #[error("the body is not covered by the signature")]
    BodyNotSigned,
    /// Twilio: a form body that does not decode strictly (a broken `%` escape, or escapes
    /// that are not UTF-8), so its signed meaning is ambiguous.
    #[error("the form body is malformed")]
    MalformedForm,
    /// Generic scheme: a value signed next to a separator contains that separator, so the
    /// signed bytes would not say where the value ends (see [`GenericHmac`]).
    #[error("`{0}` contains the separator that follows it in the signed content")]
    SeparatorInValue(Cow<'static, str>),
}

impl VerifyError {
    /// A short, stable code for logs, metrics and JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader(_) => "missing_header",
            VerifyError::DuplicateHeader(_) => "duplicate_header",
            VerifyError::MalformedHeader(_) => "malformed_header",
            VerifyError::MissingTimestamp => "missing_timestamp",
            VerifyError::InvalidTimestamp => "invalid_timestamp",
            VerifyError::TimestampTooOld => "timestamp_too_old",
            VerifyError::TimestampInFuture => "timestamp_in_future",
            VerifyError::UnsupportedSignatureVersion => "unsupported_signature_version",
            VerifyError::SignatureMismatch => "signature_mismatch",
            VerifyError::BodyHashMismatch => "body_hash_mismatch",
            VerifyError::MalformedUrl => "malformed_url",
            VerifyError::BodyNotSigned => "body_not_signed",
            VerifyError::MalformedForm => "malformed_form",
            VerifyError::SeparatorInValue(_) => "separator_in_value",
        }
    }
}

/// Why a secret could not be used as a key for a scheme (configuration time).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No secrets were given.
    #[error("at least one secret is required")]
    NoSecrets,
    /// The secret is not valid base64 where the scheme needs base64 (e.g. after `whsec_`).
    #[error("secret #{0} is not valid base64")]
    InvalidBase64(usize),
    /// The secret is not valid hex where the scheme needs hex (e.g. a Discord public key).
    #[error("secret #{0} is not valid hex")]
    InvalidHex(usize),
    /// The secret decodes to an empty key.
    #[error("secret #{0} is empty")]
    Empty(usize),
    /// The secret is not a valid Ed25519 key of the right kind.
    #[error("secret #{0} is not a valid Ed25519 {1}")]
    InvalidEd25519(usize, &'static str),
    /// A signing key was configured where a verification key belongs, or the reverse.
    #[error("secret #{0}: {1}")]
    WrongKeyKind(usize, &'static str),
    /// The generic scheme's parameters are unsafe or inconsistent (see
    /// [`GenericHmac::problems`]).
    #[error("generic scheme: {0}")]
    InvalidParameters(String),
}

/// Refuses generic parameters that would verify what they should not.
fn check_scheme(scheme: &Scheme) -> Result<(), KeyError> {
    if let Scheme::Generic(g) = scheme {
        let problems = g.problems();
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            return Err(KeyError::InvalidParameters(text.join("; ")));
        }
    }
    Ok(())
}

/// Why a request could not be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The signed-content template names a header the request does not have.
    #[error("cannot sign: missing header `{0}`")]
    MissingHeader(String),
    /// The request URL cannot be used (Twilio signs it).
    #[error("cannot sign: request URL is malformed")]
    MalformedUrl,
    /// The request asks for a signature algorithm the scheme does not have.
    #[error("cannot sign: unsupported signature algorithm")]
    UnsupportedAlgorithm,
    /// Standard Webhooks: the message id contains `.`, the separator of the signed content
    /// `{id}.{timestamp}.{body}`, so the signature would be ambiguous (or the id is empty).
    #[error("cannot sign: the message id must be non-empty and must not contain `.`")]
    InvalidId,
    /// Twilio: the form body does not decode strictly.
    #[error("cannot sign: the form body is malformed")]
    MalformedForm,
    /// Generic scheme: a value signed next to a separator contains that separator.
    #[error("cannot sign: `{0}` contains the separator that follows it in the signed content")]
    SeparatorInValue(String),
}

/// A request whose signature checked out. Only a [`Verifier`] can make one, so unverified bytes
/// cannot be forwarded by mistake.
#[derive(Clone, Debug)]
pub struct Verified<'a> {
    scheme: SchemeKind,
    body: &'a [u8],
    signed_at: Option<Timestamp>,
    signed_id: Option<&'a str>,
    canonical_digest: Option<[u8; 32]>,
}

impl<'a> Verified<'a> {
    /// The scheme that verified the request.
    pub fn scheme(&self) -> SchemeKind {
        self.scheme
    }
    /// The verified raw body.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
    /// The signed timestamp, for schemes that sign one.
    pub fn signed_at(&self) -> Option<Timestamp> {
        self.signed_at
    }
    /// The message id covered by the signature (Standard Webhooks' `webhook-id`).
    pub fn signed_id(&self) -> Option<&'a str> {
        self.signed_id
    }
    /// For a scheme that signs more than the body, or a canonical form of it, SHA-256 of what
    /// was signed (less a timestamp, which a retry may renew): Twilio's URL and sorted,
    /// de-duplicated form parameters, so requests that differ only in layout share it; the
    /// generic scheme's signed headers, method and URL with the body. `None` when the body (and
    /// a timestamp) is all that was signed.
    pub fn canonical_digest(&self) -> Option<&[u8; 32]> {
        self.canonical_digest.as_ref()
    }
}

/// Keys prepared for one scheme.
#[derive(Clone)]
pub(crate) struct Keys {
    /// HMAC keys with their pads pre-hashed.
    mac: Vec<MacKey>,
    /// Ed25519 public keys (Discord, Standard Webhooks `v1a`).
    ed25519: Vec<ed25519_dalek::VerifyingKey>,
}

/// Verifies requests for one source: a scheme, its secrets and a replay window.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    keys: Keys,
    tolerance: Option<Duration>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("mac_keys", &self.keys.mac.len())
            .field("ed25519_keys", &self.keys.ed25519.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// Prepares a verifier. Secrets are given exactly as the provider hands them out:
    /// `whsec_...`/`whpk_...` for Standard Webhooks, the hex public key for Discord, the signing
    /// secret as text for the others. Any one of them may match (rotation).
    pub fn new(scheme: Scheme, secrets: Vec<Secret>) -> Result<Self, KeyError> {
        if secrets.is_empty() {
            return Err(KeyError::NoSecrets);
        }
        check_scheme(&scheme)?;
        let keys = match &scheme {
            Scheme::StandardWebhooks => standard::verify_keys(&secrets)?,
            Scheme::Discord => discord::verify_keys(&secrets)?,
            Scheme::Twilio => Keys {
                mac: twilio::mac_keys(&secrets),
                ed25519: Vec::new(),
            },
            Scheme::Generic(g) => Keys {
                mac: generic::mac_keys(g, &secrets)?,
                ed25519: Vec::new(),
            },
            other => Keys {
                mac: secrets
                    .iter()
                    .map(|s| MacKey::new(other.algorithm(), s.expose()))
                    .collect(),
                ed25519: Vec::new(),
            },
        };
        let tolerance = match &scheme {
            Scheme::Generic(g) => g.timestamp_header.as_ref().map(|_| DEFAULT_TOLERANCE),
            other => other.kind().default_tolerance(),
        };
        Ok(Self {
            tolerance,
            scheme,
            keys,
        })
    }

    /// Sets the replay window (ignored by schemes that sign no timestamp).
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        if self.scheme.signs_timestamp() {
            self.tolerance = Some(tolerance);
        }
        self
    }

    /// Turns the replay window off. For tests that replay recorded requests only: in
    /// production this makes every captured request replayable forever.
    pub fn danger_disable_replay_window(mut self) -> Self {
        self.tolerance = None;
        self
    }

    /// The configured scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The replay window in force, if any.
    pub fn tolerance(&self) -> Option<Duration> {
        self.tolerance
    }

    /// Verifies one request at time `now`.
    pub fn verify<'a>(
        &self,
        req: &Request<'a>,
        now: Timestamp,
    ) -> Result<Verified<'a>, VerifyError> {
        let mut canonical_digest = None;
        let (signed_at, signed_id) = match &self.scheme {
            Scheme::StandardWebhooks => {
                let (at, id) = standard::verify(&self.keys, req, now, self.tolerance)?;
                (Some(at), Some(id))
            }
            Scheme::Discord => (
                Some(discord::verify(&self.keys, req, now, self.tolerance)?),
                None,
            ),
            Scheme::Twilio => {
                twilio::verify(&self.keys.mac, req)?;
                canonical_digest = twilio::canonical_digest(req);
                (None, None)
            }
            Scheme::Generic(g) => {
                let (at, digest) = generic::verify(g, &self.keys.mac, req, now, self.tolerance)?;
                canonical_digest = digest;
                (at, None)
            }
            other => (
                hmac_schemes::verify(other.kind(), &self.keys.mac, req, now, self.tolerance)?,
                None,
            ),
        };
        Ok(Verified {
            scheme: self.scheme.kind(),
            body: req.body,
            signed_at,
            signed_id,
            canonical_digest,
        })
    }

    /// Zoom's answer to its `endpoint.url_validation` challenge, the `encryptedToken` of
    /// `{"plainToken": .., "encryptedToken": ..}`: the lower-case hex HMAC-SHA256 of
    /// `plain_token` under the first configured secret (so list the secret Zoom holds now
    /// first). `None` unless the scheme is [`Scheme::Zoom`].
    ///
    /// Call it only after [`Verifier::verify`] accepted the request that carries the token, and
    /// only with the `payload.plainToken` of that verified body: Zoom signs the challenge like
    /// any event. Called on unverified input this is an HMAC oracle under the signing secret:
    /// asked for the token `v0:{ts}:{body}`, it returns a valid `x-zm-signature` for any event
    /// anyone cares to make up.
    pub fn zoom_encrypted_token(&self, plain_token: &str) -> Option<String> {
        if !matches!(self.scheme, Scheme::Zoom) {
            return None;
        }
        let key = self.keys.mac.first()?;
        Some(key.compute(&[plain_token.as_bytes()]).to_hex())
    }
}

/// Signs requests the way a provider would: for `hookline sign`, for the sender's outbound
/// deliveries (Standard Webhooks) and for tests.
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    mac: Vec<MacKey>,
    ed25519: Vec<ed25519_dalek::SigningKey>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("keys", &(self.mac.len() + self.ed25519.len()))
            .finish()
    }
}

impl Signer {
    /// Prepares a signer. For HMAC schemes the secrets are the same as the verifier's; for
    /// Ed25519 they are private keys (`whsk_...` for Standard Webhooks `v1a`, a 32-byte hex
    /// seed for Discord). With several secrets, schemes that carry a list of signatures
    /// (Standard Webhooks, Stripe, Paddle) sign with each; the others use the first.
    pub fn new(scheme: Scheme, secrets: Vec<Secret>) -> Result<Self, KeyError> {
        if secrets.is_empty() {
            return Err(KeyError::NoSecrets);
        }
        check_scheme(&scheme)?;
        let (mac, ed25519) = match &scheme {
            Scheme::StandardWebhooks => standard::sign_keys(&secrets)?,
            Scheme::Discord => (Vec::new(), discord::sign_keys(&secrets)?),
            Scheme::Twilio => (twilio::mac_keys(&secrets), Vec::new()),
            Scheme::Generic(g) => (generic::mac_keys(g, &secrets)?, Vec::new()),
            other => (
                secrets
                    .iter()
                    .map(|s| MacKey::new(other.algorithm(), s.expose()))
                    .collect(),
                Vec::new(),
            ),
        };
        Ok(Self {
            scheme,
            mac,
            ed25519,
        })
    }

    /// The headers a provider would add to `req`, for a message `id` sent at `timestamp`.
    /// `id` is signed by Standard Webhooks only; `req.headers` are the request's other headers
    /// (the generic scheme's template may read them, Twilio reads the content type).
    pub fn sign(
        &self,
        req: &Request<'_>,
        id: &str,
        timestamp: Timestamp,
    ) -> Result<Vec<(String, String)>, SignError> {
        match &self.scheme {
            Scheme::StandardWebhooks => {
                standard::sign(&self.mac, &self.ed25519, id, timestamp, req.body)
            }
            Scheme::Discord => Ok(discord::sign(&self.ed25519, timestamp, req.body)),
            Scheme::Twilio => twilio::sign(&self.mac, req),
            Scheme::Generic(g) => generic::sign(g, &self.mac, req, timestamp),
            other => hmac_schemes::sign(other.kind(), &self.mac, req, timestamp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for kind in SchemeKind::ALL {
            assert_eq!(SchemeKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.to_string().parse::<SchemeKind>(), Ok(kind));
        }
        assert_eq!(
            SchemeKind::from_name("svix"),
            Some(SchemeKind::StandardWebhooks)
        );
        assert!("strpe".parse::<SchemeKind>().is_err());
    }

    #[test]
    fn no_secrets_is_a_key_error() {
        assert_eq!(
            Verifier::new(Scheme::Stripe, vec![]).unwrap_err(),
            KeyError::NoSecrets
        );
    }

    #[test]
    fn rotation_signs_with_every_secret_and_verifies_with_any_one() {
        // Outbound: one signature per configured secret, so an endpoint holding either the old
        // or the new secret verifies. Inbound: a request signed with either verifies against
        // the pair.
        let old = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let new = "whsec_aG9va2xpbmUtZGVtby1vdXRib3VuZC1rZXkhIQ==";
        let key = |s: &str| Secret::new(s.as_bytes().to_vec()).unwrap();
        let now = Timestamp::from_unix_secs(1_795_435_200);
        let body = br#"{"type":"a.b"}"#;
        let none = Headers::new();
        fn req<'a>(headers: &'a Headers, body: &'a [u8]) -> Request<'a> {
            Request {
                method: "POST",
                url: "https://example.com/",
                headers,
                body,
            }
        }
        let both = Signer::new(Scheme::StandardWebhooks, vec![key(old), key(new)]).unwrap();
        let headers: Headers = both
            .sign(&req(&none, body), "msg_1", now)
            .unwrap()
            .into_iter()
            .collect();
        let sig = headers.get_all("webhook-signature").next().unwrap();
        assert_eq!(sig.split(' ').count(), 2, "{sig}");
        for one in [old, new] {
            let v = Verifier::new(Scheme::StandardWebhooks, vec![key(one)]).unwrap();
            assert!(v.verify(&req(&headers, body), now).is_ok(), "{one}");
        }
        let pair = Verifier::new(Scheme::StandardWebhooks, vec![key(old), key(new)]).unwrap();
        for one in [old, new] {
            let signer = Signer::new(Scheme::StandardWebhooks, vec![key(one)]).unwrap();
            let h: Headers = signer
                .sign(&req(&none, body), "msg_1", now)
                .unwrap()
                .into_iter()
                .collect();
            assert!(pair.verify(&req(&h, body), now).is_ok(), "{one}");
        }
        let stranger =
            Signer::new(Scheme::StandardWebhooks, vec![key("whsec_c3RyYW5nZXI=")]).unwrap();
        let h: Headers = stranger
            .sign(&req(&none, body), "msg_1", now)
            .unwrap()
            .into_iter()
            .collect();
        assert!(pair.verify(&req(&h, body), now).is_err());
    }

    #[test]
    fn tolerance_applies_only_to_timestamped_schemes() {
        let s = || vec![Secret::new(b"k".to_vec()).unwrap()];
        let github = Verifier::new(Scheme::Github, s()).unwrap();
        assert_eq!(github.tolerance(), None);
        let github = github.with_tolerance(Duration::from_secs(1));
        assert_eq!(github.tolerance(), None);
        let stripe = Verifier::new(Scheme::Stripe, s()).unwrap();
        assert_eq!(stripe.tolerance(), Some(DEFAULT_TOLERANCE));
        assert_eq!(stripe.danger_disable_replay_window().tolerance(), None);
    }

    #[test]
    fn unsafe_generic_parameters_are_refused_by_the_constructors() {
        // Without {body} any body would come back as Verified: the config loader refuses this,
        // and so must code that builds a verifier directly.
        let g: GenericHmac = serde_json::from_str(
            r#"{"header":"X-Sig","signed_content":"{timestamp}","timestamp_header":"X-Ts"}"#,
        )
        .unwrap();
        let s = || vec![Secret::new(b"k".to_vec()).unwrap()];
        assert!(matches!(
            Verifier::new(Scheme::Generic(g.clone()), s()),
            Err(KeyError::InvalidParameters(_))
        ));
        assert!(matches!(
            Signer::new(Scheme::Generic(g), s()),
            Err(KeyError::InvalidParameters(_))
        ));
    }

    #[test]
    fn too_many_v1a_entries_are_refused_before_any_is_checked() {
        let v = Verifier::new(
            Scheme::StandardWebhooks,
            vec![
                Secret::new(b"whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".to_vec()).unwrap(),
            ],
        )
        .unwrap();
        let sig = format!("v1a,{}", "A".repeat(86) + "==");
        let headers: Headers = [
            ("webhook-id", "msg_1".to_owned()),
            ("webhook-timestamp", "1763900000".to_owned()),
            ("webhook-signature", vec![sig; 5].join(" ")),
        ]
        .into_iter()
        .collect();
        let req = Request {
            method: "POST",
            url: "https://e.com/",
            headers: &headers,
            body: b"{}",
        };
        assert!(matches!(
            v.verify(&req, Timestamp::from_unix_secs(1_763_900_000)),
            Err(VerifyError::MalformedHeader(_))
        ));
    }

    const ZOOM_PLAIN_TOKEN: &str = "qgg8vlvZRS6UYooatFL8Aw";
    const ZOOM_ENCRYPTED_TOKEN: &str =
        "0e5b0d12b8a75ee80179999fbb875d29b1469544a54e8863e0687da36bade919";

    #[test]
    fn zoom_encrypted_token_is_the_hmac_of_the_plain_token_under_the_first_secret() {
        let secrets = || {
            vec![
                Secret::new(b"zoom-secret-token-1".to_vec()).unwrap(),
                Secret::new(b"zoom-secret-token-2".to_vec()).unwrap(),
            ]
        };
        let v = Verifier::new(Scheme::Zoom, secrets()).unwrap();
        assert_eq!(
            v.zoom_encrypted_token(ZOOM_PLAIN_TOKEN).as_deref(),
            Some(ZOOM_ENCRYPTED_TOKEN),
            "python3: hmac.new(b'zoom-secret-token-1', b'{ZOOM_PLAIN_TOKEN}', sha256).hexdigest()"
        );
        for kind in SchemeKind::ALL {
            if kind == SchemeKind::Zoom {
                continue;
            }
            let Some(scheme) = Scheme::from_kind(kind) else {
                continue;
            };
            // Discord and Standard Webhooks refuse these secrets as keys; nothing to ask then.
            if let Ok(v) = Verifier::new(scheme, secrets()) {
                assert_eq!(v.zoom_encrypted_token(ZOOM_PLAIN_TOKEN), None, "{kind}");
            }
        }
    }

    #[test]
    fn zoom_never_forwards_its_legacy_verification_token() {
        assert!(
            SchemeKind::Zoom
                .signature_headers()
                .contains(&"authorization")
        );
        assert_eq!(SchemeKind::Zoom.signature_headers()[0], "x-zm-signature");
        assert_eq!(
            SchemeKind::Zoom.default_tolerance(),
            Some(DEFAULT_TOLERANCE)
        );
    }

    #[test]
    fn debug_output_hides_keys() {
        let v = Verifier::new(
            Scheme::Stripe,
            vec![Secret::new(b"whsec_topsecret".to_vec()).unwrap()],
        )
        .unwrap();
        assert!(!format!("{v:?}").contains("topsecret"));
    }
}
