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
//! use hookline_core::verify::{Request, SchemeKind, Signer, Verifier};
//!
//! let secret = || Secret::new(b"whsec_test_secret".to_vec()).unwrap();
//! let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
//! let now = Timestamp::from_unix_secs(1_763_900_000);
//!
//! // What Stripe would send...
//! let signer = Signer::new(SchemeKind::Stripe, vec![secret()]).unwrap();
//! let unsigned = Headers::new();
//! let req = Request { method: "POST", url: "https://example.com/hooks/stripe", headers: &unsigned, body };
//! let headers: Headers = signer.sign(&req, "evt_1", now).unwrap().into_iter().collect();
//!
//! // ...verifies.
//! let verifier = Verifier::new(SchemeKind::Stripe, vec![secret()]).unwrap();
//! let req = Request { headers: &headers, ..req };
//! let verified = verifier.verify(&req, now).unwrap();
//! assert_eq!(verified.body(), body);
//! ```

mod common;
mod discord;
mod generic;
mod hmac_schemes;
mod standard;
mod supplied;
mod table;
mod twilio;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use generic::{GenericHmac, SecretEncoding, Template, TemplateError, TimestampFormat};
pub use supplied::{MacJob, MacPart, SuppliedMac, with_supplied_macs};
pub use table::{COMMON_FORWARDED_HEADERS, Handshake, SchemeKind, SchemeSpec};
pub use twilio::body_sha256_hex as twilio_body_sha256_hex;

use crate::headers::Headers;
use crate::secret::Secret;
use crate::time::Timestamp;
use common::MacKey;

/// The default replay window: a signed timestamp more than 5 minutes from `now`, in either
/// direction, is refused. Standard Webhooks, Stripe and Slack all recommend 5 minutes; Paddle
/// and Linear ask for less (see [`SchemeSpec::tolerance`]).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest replay window a configuration may set (1 hour): wider windows make captured
/// requests replayable for too long.
pub const MAX_TOLERANCE: Duration = Duration::from_secs(3600);

impl SchemeKind {
    /// The name used in configuration files.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Looks a scheme up by its configuration name or an alias (`svix` and `standard` name
    /// standard-webhooks).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| {
            let spec = k.spec();
            spec.name == name || spec.aliases.contains(&name)
        })
    }

    /// Every configuration name, in documentation order (aliases left out).
    pub fn names() -> [&'static str; Self::ALL.len()] {
        Self::ALL.map(Self::name)
    }

    /// True when the provider signs a timestamp, so a replay window applies.
    /// (The generic scheme has one only when it is configured with a timestamp header.)
    pub fn signs_timestamp(self) -> bool {
        self.spec().signs_timestamp()
    }

    /// The replay window the provider's own SDK applies (see [`SchemeSpec::tolerance`]).
    pub fn default_tolerance(self) -> Option<Duration> {
        self.spec().tolerance
    }

    /// Headers that carry signatures or credentials: never copied into envelopes or logs.
    pub fn signature_headers(self) -> &'static [&'static str] {
        self.spec().signature_headers
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

/// A configured scheme: its row of the table and, for the generic scheme, its parameters.
///
/// Made from a [`SchemeKind`] (`SchemeKind::Stripe.into()`) or from [`GenericHmac`]
/// parameters. The generic kind without parameters converts too, and is refused by
/// [`Verifier::new`] and [`Signer::new`] like any other unusable generic parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    kind: SchemeKind,
    /// `Some` only for [`SchemeKind::Generic`]: the constructors pair them.
    generic: Option<GenericHmac>,
}

impl Scheme {
    /// The scheme's kind.
    pub fn kind(&self) -> SchemeKind {
        self.kind
    }

    /// The scheme's row of the table.
    pub fn spec(&self) -> &'static SchemeSpec {
        self.kind.spec()
    }

    /// The parameterless scheme of a kind; `None` for [`SchemeKind::Generic`], which needs
    /// parameters.
    pub fn from_kind(kind: SchemeKind) -> Option<Self> {
        (kind != SchemeKind::Generic).then_some(Self {
            kind,
            generic: None,
        })
    }

    /// The generic scheme with its parameters.
    pub fn generic(params: GenericHmac) -> Self {
        Self {
            kind: SchemeKind::Generic,
            generic: Some(params),
        }
    }

    /// The generic scheme's parameters; `None` for every other scheme.
    pub fn generic_params(&self) -> Option<&GenericHmac> {
        self.generic.as_ref()
    }

    /// True when this configured scheme checks a signed timestamp.
    pub fn signs_timestamp(&self) -> bool {
        match &self.generic {
            Some(g) => g.timestamp_header.is_some(),
            None => self.kind.signs_timestamp(),
        }
    }

    /// The replay window before configuration changes it.
    fn default_tolerance(&self) -> Option<Duration> {
        match &self.generic {
            Some(g) => g.timestamp_header.as_ref().map(|_| DEFAULT_TOLERANCE),
            None => self.kind.default_tolerance(),
        }
    }
}

impl From<SchemeKind> for Scheme {
    fn from(kind: SchemeKind) -> Self {
        Self {
            kind,
            generic: None,
        }
    }
}

impl From<GenericHmac> for Scheme {
    fn from(params: GenericHmac) -> Self {
        Self::generic(params)
    }
}

/// A scheme's code, in its row: how secrets become keys, and how requests are verified and
/// signed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Code {
    pub(crate) keys: KeyPrep,
    pub(crate) verify: VerifyFn,
    pub(crate) sign: SignFn,
}

impl Code {
    /// The half that verifies: how secrets become verifying keys, and the check.
    pub(crate) const fn verifying(self) -> (KeySource, VerifyFn) {
        (self.keys.to_verify(), self.verify)
    }

    /// The half that signs: how secrets become signing keys, and the signer.
    pub(crate) const fn signing(self) -> (KeySource, SignFn) {
        (self.keys.to_sign(), self.sign)
    }
}

/// Checks a request with prepared keys at `now` under a replay window.
pub(crate) type VerifyFn = for<'a> fn(
    &Scheme,
    &Keys,
    &Request<'a>,
    Timestamp,
    Option<Duration>,
) -> Result<Checked<'a>, VerifyError>;

/// The headers the provider would add to a request, for a message id at a time.
pub(crate) type SignFn =
    fn(&Scheme, &Keys, &Request<'_>, &str, Timestamp) -> Result<Vec<(String, String)>, SignError>;

/// Prepares keys from the configured secrets.
pub(crate) type KeyFn = fn(&Scheme, &[Secret]) -> Result<Keys, KeyError>;

/// How a scheme turns secrets into keys.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyPrep {
    /// Each secret's bytes key an HMAC with this hash, to verify and to sign alike.
    Hmac(Algorithm),
    /// The scheme's own key formats (Ed25519 keys, encoded HMAC keys, several hashes).
    Own {
        /// Keys that verify.
        verify: KeyFn,
        /// Keys that sign.
        sign: KeyFn,
    },
}

impl KeyPrep {
    /// How secrets become keys that verify.
    pub(crate) const fn to_verify(self) -> KeySource {
        match self {
            KeyPrep::Hmac(algorithm) => KeySource::Hmac(algorithm),
            KeyPrep::Own { verify, .. } => KeySource::Own(verify),
        }
    }

    /// How secrets become keys that sign.
    pub(crate) const fn to_sign(self) -> KeySource {
        match self {
            KeyPrep::Hmac(algorithm) => KeySource::Hmac(algorithm),
            KeyPrep::Own { sign, .. } => KeySource::Own(sign),
        }
    }
}

/// One half of a [`KeyPrep`]: how secrets become keys for one purpose.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeySource {
    /// Each secret's bytes key an HMAC with this hash.
    Hmac(Algorithm),
    /// The scheme's own key code.
    Own(KeyFn),
}

/// What a scheme's verify code found besides the body, for [`Verified`].
#[derive(Debug, Default)]
pub(crate) struct Checked<'a> {
    pub(crate) signed_at: Option<Timestamp>,
    pub(crate) signed_id: Option<&'a str>,
    pub(crate) canonical_digest: Option<[u8; 32]>,
}

impl Checked<'_> {
    /// Only a signed timestamp.
    pub(crate) fn at(signed_at: Option<Timestamp>) -> Self {
        Self {
            signed_at,
            ..Self::default()
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

impl<'a> Request<'a> {
    /// A `POST` of `body` to `url` with `headers`: how webhook providers send.
    pub const fn post(url: &'a str, headers: &'a Headers, body: &'a [u8]) -> Self {
        Self {
            method: "POST",
            url,
            headers,
            body,
        }
    }
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

/// Refuses generic parameters that would verify what they should not, and the generic scheme
/// without any.
fn check_scheme(scheme: &Scheme) -> Result<(), KeyError> {
    match (scheme.kind, &scheme.generic) {
        (SchemeKind::Generic, None) => Err(KeyError::InvalidParameters(
            "the generic scheme needs its parameters".to_owned(),
        )),
        (_, Some(g)) => {
            let problems = g.problems();
            if problems.is_empty() {
                Ok(())
            } else {
                let text: Vec<String> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
                Err(KeyError::InvalidParameters(text.join("; ")))
            }
        }
        _ => Ok(()),
    }
}

/// The keys `source` (one half of a scheme row's [`KeyPrep`]) prepares from `secrets`.
fn prepare_keys(scheme: &Scheme, secrets: &[Secret], source: KeySource) -> Result<Keys, KeyError> {
    if secrets.is_empty() {
        return Err(KeyError::NoSecrets);
    }
    check_scheme(scheme)?;
    match source {
        KeySource::Hmac(algorithm) => Ok(Keys {
            mac: secrets
                .iter()
                .map(|s| MacKey::new(algorithm, s.expose()))
                .collect(),
            ..Keys::default()
        }),
        KeySource::Own(f) => f(scheme, secrets),
    }
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
#[derive(Clone, Default)]
pub(crate) struct Keys {
    /// HMAC keys with their pads pre-hashed.
    pub(crate) mac: Vec<MacKey>,
    /// Ed25519 public keys (Discord, Standard Webhooks `v1a`), to verify.
    pub(crate) ed25519: Vec<ed25519_dalek::VerifyingKey>,
    /// Ed25519 private keys, to sign.
    pub(crate) ed25519_signing: Vec<ed25519_dalek::SigningKey>,
}

impl Keys {
    /// How many keys of each kind, for `Debug` output that shows no key.
    fn counts(&self) -> (usize, usize) {
        (
            self.mac.len(),
            self.ed25519.len() + self.ed25519_signing.len(),
        )
    }
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
        let (mac, ed25519) = self.keys.counts();
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("mac_keys", &mac)
            .field("ed25519_keys", &ed25519)
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// Prepares a verifier. Secrets are given exactly as the provider hands them out:
    /// `whsec_...`/`whpk_...` for Standard Webhooks, the hex public key for Discord, the signing
    /// secret as text for the others. Any one of them may match (rotation).
    pub fn new(scheme: impl Into<Scheme>, secrets: Vec<Secret>) -> Result<Self, KeyError> {
        let scheme = scheme.into();
        let keys = prepare_keys(&scheme, &secrets, scheme.kind().verify_code().0)?;
        Ok(Self {
            tolerance: scheme.default_tolerance(),
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
        let (_, verify) = self.scheme.kind().verify_code();
        let checked = verify(&self.scheme, &self.keys, req, now, self.tolerance)?;
        Ok(Verified {
            scheme: self.scheme.kind(),
            body: req.body,
            signed_at: checked.signed_at,
            signed_id: checked.signed_id,
            canonical_digest: checked.canonical_digest,
        })
    }

    /// Zoom's answer to its `endpoint.url_validation` challenge, the `encryptedToken` of
    /// `{"plainToken": .., "encryptedToken": ..}`: the lower-case hex HMAC-SHA256 of
    /// `plain_token` under the first configured secret (so list the secret Zoom holds now
    /// first). `None` unless the scheme answers [`Handshake::ZoomUrlValidation`].
    ///
    /// Call it only after [`Verifier::verify`] accepted the request that carries the token, and
    /// only with the `payload.plainToken` of that verified body: Zoom signs the challenge like
    /// any event. Called on unverified input this is an HMAC oracle under the signing secret:
    /// asked for the token `v0:{ts}:{body}`, it returns a valid `x-zm-signature` for any event
    /// anyone cares to make up.
    pub fn zoom_encrypted_token(&self, plain_token: &str) -> Option<String> {
        if self.scheme.spec().handshake != Some(Handshake::ZoomUrlValidation) {
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
    keys: Keys,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mac, ed25519) = self.keys.counts();
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("keys", &(mac + ed25519))
            .finish()
    }
}

impl Signer {
    /// Prepares a signer. For HMAC schemes the secrets are the same as the verifier's; for
    /// Ed25519 they are private keys (`whsk_...` for Standard Webhooks `v1a`, a 32-byte hex
    /// seed for Discord). With several secrets, schemes that carry a list of signatures
    /// (Standard Webhooks, Stripe, Paddle) sign with each; the others use the first.
    pub fn new(scheme: impl Into<Scheme>, secrets: Vec<Secret>) -> Result<Self, KeyError> {
        let scheme = scheme.into();
        let keys = prepare_keys(&scheme, &secrets, scheme.kind().sign_code().0)?;
        Ok(Self { scheme, keys })
    }

    /// The configured scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
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
        let (_, sign) = self.scheme.kind().sign_code();
        sign(&self.scheme, &self.keys, req, id, timestamp)
    }

    /// `req.headers` with [`Self::sign`]'s headers added: every header a provider would send.
    pub fn signed_headers(
        &self,
        req: &Request<'_>,
        id: &str,
        timestamp: Timestamp,
    ) -> Result<Headers, SignError> {
        let mut headers = req.headers.clone();
        for (name, value) in self.sign(req, id, timestamp)? {
            headers.push(name, value);
        }
        Ok(headers)
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
            Verifier::new(SchemeKind::Stripe, vec![]).unwrap_err(),
            KeyError::NoSecrets
        );
    }

    #[test]
    fn signed_headers_are_the_request_headers_then_the_signature() {
        let key = Secret::new(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_vec()).unwrap();
        let signer = Signer::new(SchemeKind::StandardWebhooks, vec![key]).unwrap();
        let now = Timestamp::from_unix_secs(1_795_435_200);
        let base: Headers = [("Content-Type", "application/json")].into_iter().collect();
        let req = Request::post("https://example.com/", &base, b"{}");
        let mut expected = base.clone();
        for (name, value) in signer.sign(&req, "msg_1", now).unwrap() {
            expected.push(name, value);
        }
        let signed = signer.signed_headers(&req, "msg_1", now).unwrap();
        assert_eq!(signed, expected);
        assert_eq!(signed.get_all("content-type").count(), 1);
        assert_eq!(signed.get_all("webhook-signature").count(), 1);
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
            Request::post("https://example.com/", headers, body)
        }
        let both = Signer::new(SchemeKind::StandardWebhooks, vec![key(old), key(new)]).unwrap();
        let headers: Headers = both
            .sign(&req(&none, body), "msg_1", now)
            .unwrap()
            .into_iter()
            .collect();
        let sig = headers.get_all("webhook-signature").next().unwrap();
        assert_eq!(sig.split(' ').count(), 2, "{sig}");
        for one in [old, new] {
            let v = Verifier::new(SchemeKind::StandardWebhooks, vec![key(one)]).unwrap();
            assert!(v.verify(&req(&headers, body), now).is_ok(), "{one}");
        }
        let pair = Verifier::new(SchemeKind::StandardWebhooks, vec![key(old), key(new)]).unwrap();
        for one in [old, new] {
            let signer = Signer::new(SchemeKind::StandardWebhooks, vec![key(one)]).unwrap();
            let h: Headers = signer
                .sign(&req(&none, body), "msg_1", now)
                .unwrap()
                .into_iter()
                .collect();
            assert!(pair.verify(&req(&h, body), now).is_ok(), "{one}");
        }
        let stranger = Signer::new(
            SchemeKind::StandardWebhooks,
            vec![key("whsec_c3RyYW5nZXI=")],
        )
        .unwrap();
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
        let github = Verifier::new(SchemeKind::Github, s()).unwrap();
        assert_eq!(github.tolerance(), None);
        let github = github.with_tolerance(Duration::from_secs(1));
        assert_eq!(github.tolerance(), None);
        let stripe = Verifier::new(SchemeKind::Stripe, s()).unwrap();
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
            Verifier::new(Scheme::generic(g.clone()), s()),
            Err(KeyError::InvalidParameters(_))
        ));
        assert!(matches!(
            Signer::new(Scheme::generic(g), s()),
            Err(KeyError::InvalidParameters(_))
        ));
    }

    #[test]
    fn too_many_v1a_entries_are_refused_before_any_is_checked() {
        let v = Verifier::new(
            SchemeKind::StandardWebhooks,
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
        let req = Request::post("https://e.com/", &headers, b"{}");
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
        let v = Verifier::new(SchemeKind::Zoom, secrets()).unwrap();
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
            SchemeKind::Stripe,
            vec![Secret::new(b"whsec_topsecret".to_vec()).unwrap()],
        )
        .unwrap();
        assert!(!format!("{v:?}").contains("topsecret"));
    }
}
