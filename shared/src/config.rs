//! The configuration model: inbound **sources** and outbound **endpoints**.
//!
//! One model serves every deployable: `hookline dev` reads it from `hookline.toml`, the Worker
//! from a JSON var, the Lambda from its environment. Loading never stops at the first problem:
//! [`Config::from_toml`] and [`Config::from_json`] report every unknown field (with the closest
//! known name) and every invalid value with its path
//! (`sources.stripe.scheme: unknown scheme "strpe" (did you mean "stripe"?)`), so one edit fixes
//! a file. Only what leaves nothing reliable to read past stops it: a syntax error, or a value of
//! the wrong type (one per source or endpoint when there are unknown fields too).
//!
//! ```toml
//! [sources.stripe]
//! scheme = "stripe"
//! secrets = ["env:STRIPE_WEBHOOK_SECRET", "env:STRIPE_WEBHOOK_SECRET_PREVIOUS"]
//!
//! [sources.acme]
//! scheme = "generic"
//! secrets = ["env:ACME_SECRET"]
//! generic = { header = "X-Acme-Signature", prefix = "sha256=", signed_content = "{timestamp}.{body}", timestamp_header = "X-Acme-Timestamp" }
//! event_type = { pointer = "/event" }
//!
//! [endpoints.billing]
//! url = "https://billing.example.com/webhooks"
//! secrets = ["env:BILLING_WHSEC"]
//! events = ["invoice.*", "customer.created"]
//! ```
//!
//! Secrets are references (`env:NAME`), resolved by [`Config::resolve_sources`] and
//! [`Config::resolve_endpoint_secrets`] with a lookup the adapter provides (Worker secrets,
//! process environment).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::headers::Headers;
use crate::lazy_json::LazyJson;
use crate::pattern::EventPattern;
use crate::render::BodyTemplate;
use crate::retry::RetryPolicy;
use crate::secret::{Secret, SecretRef};
use crate::ssrf::Cidr;
#[cfg(doc)]
use crate::verify::SchemeSpec;
use crate::verify::{MAX_TOLERANCE, Scheme, SchemeKind, Verifier};

/// Default largest body a source accepts (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1024 * 1024;
/// The largest `max_body_bytes` a source may set (100 MiB, Cloudflare's request-body limit on
/// the Free and Pro plans).
pub const MAX_BODY_BYTES_LIMIT: u64 = 100 * 1024 * 1024;
/// Default time a delivery may take before it counts as a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest delivery timeout an endpoint may set. Lambda functions run at most 15 minutes and
/// a batch holds several deliveries; a minute per delivery is already generous.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// A whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Inbound sources by name (the `{source}` of `/hooks/{source}`).
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    /// Outbound endpoints by name.
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointConfig>,
    /// Defaults for every outbound delivery.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// The management API (`/api/v1`): its tokens and limits.
    #[serde(default)]
    pub api: ApiConfig,
}

/// The management API's settings (`[api]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The bearer tokens, each a secret reference, optionally scoped to one application.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<ApiTokenConfig>,
    /// Accept `http://` endpoint URLs (`hookline dev` always does).
    #[serde(default)]
    pub allow_http: bool,
    /// How long messages, their attempts and statuses are kept (default 30 days).
    #[serde(default = "default_retention", with = "crate::time::duration_serde")]
    pub retention: Duration,
    /// How long the sender may use an application's endpoints before reading them again.
    #[serde(
        default = "default_registry_cache",
        with = "crate::time::duration_serde"
    )]
    pub registry_cache: Duration,
    /// Endpoints of this configuration that also receive the operational webhooks
    /// (`endpoint.disabled`, `message.attempt.exhausted`, ...), besides those registered through
    /// `/api/v1/operational-webhook/endpoint`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operational_endpoints: Vec<String>,
    /// The portal the API serves at `/portal/` (`[api.portal]`).
    #[serde(default)]
    pub portal: PortalConfig,
}

/// The portal's settings (`[api.portal]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// The public address the API is reached at (`https://hooks.example.com`), which
    /// app-portal links start with; by default the address the request came to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The origins allowed to show the portal in a frame (`https://app.example.com`); none by
    /// default, so it opens only as a page of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frame_ancestors: Vec<String>,
}

/// One API token (`[[api.tokens]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenConfig {
    /// Where the token is read from, `env:NAME`.
    pub secret: String,
    /// The application (id or `uid`) it is limited to; every application when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// The default of `api.retention`.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The default of `api.registry_cache`: how stale a warm sender's view of endpoints may be.
pub const DEFAULT_REGISTRY_CACHE: Duration = Duration::from_secs(30);
/// The longest `api.registry_cache`.
pub const MAX_REGISTRY_CACHE: Duration = Duration::from_secs(600);

fn default_retention() -> Duration {
    DEFAULT_RETENTION
}

fn default_registry_cache() -> Duration {
    DEFAULT_REGISTRY_CACHE
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            allow_http: false,
            retention: DEFAULT_RETENTION,
            registry_cache: DEFAULT_REGISTRY_CACHE,
            operational_endpoints: Vec::new(),
            portal: PortalConfig::default(),
        }
    }
}

impl ApiConfig {
    fn check(&self, p: &mut Problems) {
        for (i, t) in self.tokens.iter().enumerate() {
            if let Err(e) = t.secret.parse::<SecretRef>() {
                p.add(format!("api.tokens[{i}].secret"), e.to_string());
            }
            if let Some(app) = &t.app
                && crate::api::id::check_name(app).is_err()
            {
                p.add(
                    format!("api.tokens[{i}].app"),
                    "must be an application id or uid (1 to 256 of a-z A-Z 0-9 - _ .)",
                );
            }
        }
        if self.retention < Duration::from_secs(3600) {
            p.add("api.retention", "must be at least 1h");
        }
        if self.registry_cache > MAX_REGISTRY_CACHE {
            p.add("api.registry_cache", "must be at most 10m");
        }
        if let Err(errors) = crate::api::portal::FrameAncestors::new(&self.portal.frame_ancestors) {
            for (i, e) in errors {
                p.add(format!("api.portal.frame_ancestors[{i}]"), e);
            }
        }
        if let Some(url) = &self.portal.url
            && let Err(e) = crate::api::portal::check_origin(url)
        {
            p.add("api.portal.url", e);
        }
    }

    /// Reads every token through `lookup`, reporting every unresolvable one at once.
    pub fn resolve_tokens(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<crate::api::auth::Tokens, ConfigErrors> {
        use crate::api::auth::{Scope, Token, Tokens};
        let mut p = Problems::default();
        let mut out = Vec::new();
        for (i, t) in self.tokens.iter().enumerate() {
            match t
                .secret
                .parse::<SecretRef>()
                .and_then(|r| r.resolve(&lookup))
            {
                // The API reads a token of a portal link's form as one: this one would never
                // match.
                Ok(secret) if crate::api::portal::expiry_of(secret.expose()).is_some() => p.add(
                    format!("api.tokens[{i}].secret"),
                    "has the form of a portal link's token (hlp_...): choose another",
                ),
                Ok(secret) => out.push(Token::new(
                    &secret,
                    t.app.clone().map_or(Scope::All, Scope::App),
                )),
                Err(e) => p.add(format!("api.tokens[{i}].secret"), e.to_string()),
            }
        }
        p.finish(Tokens::new(out))
    }
}

/// One inbound source. Its `Debug` output hides `literal:` secrets.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The signature scheme's name (see [`SchemeKind::name`]).
    pub scheme: String,
    /// Secret references, `env:NAME`; several for rotation (any one may match).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The replay window for schemes that sign a timestamp (default 5 minutes, at most 1 hour).
    #[serde(
        default,
        with = "crate::time::duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerance: Option<Duration>,
    /// The largest accepted body in bytes (default 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
    /// Where the event id is read from (default: the scheme's usual place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<FieldRef>,
    /// Where the event type is read from (default: the scheme's usual place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<FieldRef>,
    /// Where verified events go.
    #[serde(default)]
    pub destination: Destination,
    /// With `destination = "relay"`: the outbound endpoints to deliver to (empty = every
    /// endpoint subscribed to the event's type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relay_endpoints: Vec<String>,
    /// Parameters of the generic scheme (required when `scheme = "generic"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generic: Option<crate::verify::GenericHmac>,
    /// The URL the provider posts to, when it differs from the URL the receiver sees (Twilio
    /// signs the URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Extra request headers to copy into the envelope, besides the scheme's defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_headers: Vec<String>,
}

/// Where a source's verified events go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// The inbound queue, for your consumers (Cloudflare Queues, forwarded to SQS when set).
    #[default]
    Queue,
    /// Straight to the outbound queue as outbound messages: an inbound webhook fans out to
    /// your endpoints with signed, retried delivery.
    Relay,
}

/// Where a value is read from: a request header or a JSON pointer into the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldRef {
    /// A header, e.g. `X-GitHub-Delivery`.
    Header(String),
    /// A JSON pointer (RFC 6901) into a JSON body, e.g. `/data/id`.
    Pointer(String),
}

impl FieldRef {
    /// Reads the value from a request: a header's value, or a string or number in the JSON body.
    pub fn extract(&self, headers: &Headers, json: Option<&LazyJson<'_>>) -> Option<String> {
        let value = match self {
            FieldRef::Header(name) => headers.get_all(name).next().map(str::to_owned),
            FieldRef::Pointer(ptr) => match json?.pointer(ptr)? {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            },
        }?;
        (!value.is_empty()).then_some(value)
    }
}

pub use crate::render::Format;

/// One outbound endpoint. Its `Debug` output hides `literal:` secrets and the URL (which is
/// itself a secret for Slack and Discord webhooks).
///
/// Read and written through [`EndpointWire`], whose fields are the file's keys: the file keeps
/// `format` and `template` apart, this type holds the template inside its [`Format`].
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EndpointWire", into = "EndpointWire")]
pub struct EndpointConfig {
    /// The URL deliveries are POSTed to, or `env:NAME` when the URL itself is a secret
    /// (Slack and Discord incoming webhooks).
    pub url: String,
    /// Signing secret references (`whsec_...` values); several sign with each (rotation).
    pub secrets: Vec<String>,
    /// Event-type patterns the endpoint subscribes to (default: every event).
    pub events: Vec<String>,
    /// The body format; with `format = "template"` in the file, the parsed `template`.
    pub format: Format,
    /// A filter expression over the payload (see [`crate::filter`]): only matching events are
    /// delivered.
    pub filter: Option<String>,
    /// Extra headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    /// Delivery timeout (default [`DeliveryConfig::timeout`]).
    pub timeout: Option<Duration>,
    /// Retry policy (default [`DeliveryConfig::retry`]).
    pub retry: Option<RetryPolicy>,
    /// A disabled endpoint receives nothing; its messages are not lost, just not fanned out.
    pub enabled: bool,
}

/// The `format` key of an endpoint: a [`Format`] without its template.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FormatName {
    #[default]
    Standard,
    Raw,
    Slack,
    Discord,
    Template,
}

/// An endpoint as the file spells it (field docs on [`EndpointConfig`]).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointWire {
    url: String,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default = "every_event")]
    events: Vec<String>,
    #[serde(default)]
    format: FormatName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<BodyTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    #[serde(
        default,
        with = "crate::time::duration_serde::option",
        skip_serializing_if = "Option::is_none"
    )]
    timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry: Option<RetryPolicy>,
    #[serde(default = "yes")]
    enabled: bool,
}

/// Why an endpoint's `format` and `template` do not fit together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointFormatError {
    /// `format = "template"` without a `template`.
    #[error("template: format = 'template' needs a template")]
    MissingTemplate,
    /// A `template` beside another format, which would silently ignore it.
    #[error("template: a template is only used with format = 'template'")]
    UnusedTemplate,
}

impl TryFrom<EndpointWire> for EndpointConfig {
    type Error = EndpointFormatError;

    fn try_from(wire: EndpointWire) -> Result<Self, Self::Error> {
        let format = match (wire.format, wire.template) {
            (FormatName::Template, Some(template)) => Format::Template(template),
            (FormatName::Template, None) => return Err(EndpointFormatError::MissingTemplate),
            (_, Some(_)) => return Err(EndpointFormatError::UnusedTemplate),
            (FormatName::Standard, None) => Format::Standard,
            (FormatName::Raw, None) => Format::Raw,
            (FormatName::Slack, None) => Format::Slack,
            (FormatName::Discord, None) => Format::Discord,
        };
        Ok(Self {
            url: wire.url,
            secrets: wire.secrets,
            events: wire.events,
            format,
            filter: wire.filter,
            headers: wire.headers,
            timeout: wire.timeout,
            retry: wire.retry,
            enabled: wire.enabled,
        })
    }
}

impl From<EndpointConfig> for EndpointWire {
    fn from(e: EndpointConfig) -> Self {
        let (format, template) = match e.format {
            Format::Standard => (FormatName::Standard, None),
            Format::Raw => (FormatName::Raw, None),
            Format::Slack => (FormatName::Slack, None),
            Format::Discord => (FormatName::Discord, None),
            Format::Template(t) => (FormatName::Template, Some(t)),
        };
        Self {
            url: e.url,
            secrets: e.secrets,
            events: e.events,
            format,
            template,
            filter: e.filter,
            headers: e.headers,
            timeout: e.timeout,
            retry: e.retry,
            enabled: e.enabled,
        }
    }
}

/// Secret references as `Debug` may show them: `env:NAME` as is, literal values hidden.
fn redacted_refs(refs: &[String]) -> Vec<&str> {
    refs.iter()
        .map(|r| {
            if r.starts_with("env:") {
                r.as_str()
            } else {
                "(hidden)"
            }
        })
        .collect()
}

impl fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceConfig")
            .field("scheme", &self.scheme)
            .field("secrets", &redacted_refs(&self.secrets))
            .field("tolerance", &self.tolerance)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("destination", &self.destination)
            .field("relay_endpoints", &self.relay_endpoints)
            .field("generic", &self.generic)
            .field("public_url", &self.public_url)
            .field("forward_headers", &self.forward_headers)
            .finish()
    }
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = if self.url.starts_with("env:") {
            self.url.as_str()
        } else {
            "(hidden)"
        };
        f.debug_struct("EndpointConfig")
            .field("url", &url)
            .field("secrets", &redacted_refs(&self.secrets))
            .field("events", &self.events)
            .field("format", &self.format)
            .field("filter", &self.filter)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

fn every_event() -> Vec<String> {
    vec!["*".to_owned()]
}

fn yes() -> bool {
    true
}

/// Defaults for every outbound delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// The retry policy.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// The delivery timeout.
    #[serde(default = "default_timeout", with = "crate::time::duration_serde")]
    pub timeout: Duration,
    /// Address blocks the SSRF guard lets through (e.g. `127.0.0.0/8` for local development).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssrf_allow: Vec<Cidr>,
    /// When an endpoint that keeps failing is disabled.
    #[serde(default)]
    pub auto_disable: AutoDisableConfig,
}

/// `[delivery.auto_disable]`: when an endpoint that keeps failing is disabled (registered
/// endpoints through the API's `disabled`; configured ones in the store, until re-enabled).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoDisableConfig {
    /// Whether endpoints are disabled automatically at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// At least this many failed attempts in a row...
    #[serde(default = "default_disable_failures")]
    pub failures: u32,
    /// ...over at least this long since the first of them.
    #[serde(
        default = "default_disable_failing_for",
        with = "crate::time::duration_serde"
    )]
    pub failing_for: Duration,
    /// Disable at once on `410 Gone`.
    #[serde(default = "default_true")]
    pub on_gone: bool,
}

fn default_true() -> bool {
    true
}

fn default_disable_failures() -> u32 {
    crate::api::history::HealthPolicy::DEFAULT.failures
}

fn default_disable_failing_for() -> Duration {
    crate::api::history::HealthPolicy::DEFAULT.failing_for
}

impl Default for AutoDisableConfig {
    fn default() -> Self {
        Self::from(crate::api::history::HealthPolicy::DEFAULT)
    }
}

impl From<crate::api::history::HealthPolicy> for AutoDisableConfig {
    fn from(p: crate::api::history::HealthPolicy) -> Self {
        Self {
            enabled: p.enabled,
            failures: p.failures,
            failing_for: p.failing_for,
            on_gone: p.on_gone,
        }
    }
}

impl AutoDisableConfig {
    /// The policy the sender applies.
    pub fn policy(&self) -> crate::api::history::HealthPolicy {
        crate::api::history::HealthPolicy {
            enabled: self.enabled,
            failures: self.failures,
            failing_for: self.failing_for,
            on_gone: self.on_gone,
        }
    }
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            ssrf_allow: Vec::new(),
            auto_disable: AutoDisableConfig::default(),
        }
    }
}

/// One problem in a configuration, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: a dotted path such as `sources.stripe.secrets[0]`, or `line 3, column 9` for syntax
    /// errors.
    pub path: String,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl ConfigErrors {
    fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigErrors(vec![ConfigError {
            path: path.into(),
            message: message.into(),
        }])
    }
}

/// Collects problems while walking a config.
#[derive(Default)]
struct Problems(Vec<ConfigError>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn finish<T>(self, ok: T) -> Result<T, ConfigErrors> {
        if self.0.is_empty() {
            Ok(ok)
        } else {
            Err(ConfigErrors(self.0))
        }
    }
}

/// The largest config file accepted, so a hostile or corrupted var cannot exhaust memory.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

impl Config {
    /// Parses and validates TOML.
    pub fn from_toml(text: &str) -> Result<Self, ConfigErrors> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigErrors::single(
                "",
                "configuration is larger than 1 MiB",
            ));
        }
        let toml_error = |e: toml::de::Error| {
            let path = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or_default();
            ConfigErrors::single(path, redact_values(e.message()))
        };
        let table: toml::Table = toml::from_str(text).map_err(toml_error)?;
        // A TOML table is always representable as JSON (a date becomes an object, which the
        // typed parse then refuses with its own message), so this error is only reported, never
        // expected.
        let tree = serde_json::to_value(&table)
            .map_err(|e| ConfigErrors::single("", redact_values(&e.to_string())))?;
        Self::load(tree, || toml::from_str::<Config>(text).map_err(toml_error))
    }

    /// Parses and validates JSON (the Worker's `HOOKLINE_CONFIG` var, the Lambda's environment).
    pub fn from_json(text: &str) -> Result<Self, ConfigErrors> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigErrors::single(
                "",
                "configuration is larger than 1 MiB",
            ));
        }
        let json_error = |e: serde_json::Error| {
            ConfigErrors::single(
                format!("line {}, column {}", e.line(), e.column()),
                redact_values(&e.to_string()),
            )
        };
        let tree: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        Self::load(tree, || {
            serde_json::from_str::<Config>(text).map_err(json_error)
        })
    }

    /// Reports every unknown field (with a "did you mean"), then reads the configuration and
    /// validates it. Without unknown fields it is read from the text by `typed`, whose errors
    /// carry a line and column; with some, from `tree` once they are taken out, one source or
    /// endpoint at a time so that every one of them is reported.
    fn load(
        mut tree: serde_json::Value,
        typed: impl FnOnce() -> Result<Config, ConfigErrors>,
    ) -> Result<Self, ConfigErrors> {
        let mut p = Problems::default();
        Shape::Config.take_unknown_fields(&mut tree, "", &mut p);
        let config = if p.0.is_empty() {
            typed()?
        } else {
            match Config::from_tree(tree, &mut p) {
                Some(config) => config,
                None => return Err(ConfigErrors(p.0)),
            }
        };
        if let Err(errors) = config.validate() {
            p.0.extend(errors.0);
        }
        p.finish(config)
    }

    /// Reads a configuration from a tree that has no unknown fields left, reporting the value
    /// of each source, endpoint and `[delivery]` that does not fit. `None` when one did not:
    /// validating the rest would report references to it as dangling.
    fn from_tree(tree: serde_json::Value, p: &mut Problems) -> Option<Config> {
        let before = p.0.len();
        let mut top = match tree {
            serde_json::Value::Object(top) => top,
            other => {
                if let Err(e) = serde_json::from_value::<Config>(other) {
                    p.add("", redact_values(&e.to_string()));
                }
                return None;
            }
        };
        let config = Config {
            sources: entries(top.remove("sources"), "sources", p),
            endpoints: entries(top.remove("endpoints"), "endpoints", p),
            delivery: match top.remove("delivery") {
                None => DeliveryConfig::default(),
                Some(v) => serde_json::from_value(v)
                    .map_err(|e| p.add("delivery", redact_values(&e.to_string())))
                    .unwrap_or_default(),
            },
            api: match top.remove("api") {
                None => ApiConfig::default(),
                Some(v) => serde_json::from_value(v)
                    .map_err(|e| p.add("api", redact_values(&e.to_string())))
                    .unwrap_or_default(),
            },
        };
        (p.0.len() == before).then_some(config)
    }

    /// Checks everything that can be checked without reading secrets.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut p = Problems::default();
        check_sources(&self.sources, &self.endpoints, &mut p);
        for (name, endpoint) in &self.endpoints {
            let at = format!("endpoints.{name}");
            if !is_name(name) {
                p.add(&at, NAME_RULE);
            }
            endpoint.check(&at, &mut p);
        }
        if let Err(e) = self.delivery.retry.validate() {
            p.add("delivery.retry", e.to_string());
        }
        check_timeout("delivery.timeout", self.delivery.timeout, &mut p);
        if self.delivery.auto_disable.failures == 0 {
            p.add("delivery.auto_disable.failures", "must be at least 1");
        }
        self.api.check(&mut p);
        for (i, name) in self.api.operational_endpoints.iter().enumerate() {
            if !self.endpoints.contains_key(name) {
                p.add(
                    format!("api.operational_endpoints[{i}]"),
                    format!("no endpoint named \"{name}\" in [endpoints]"),
                );
            }
        }
        p.finish(())
    }

    /// Builds a ready verifier for every source, reading secrets through `lookup`. Reports every
    /// missing or unusable secret at once.
    pub fn resolve_sources(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<String, ResolvedSource>, ConfigErrors> {
        resolve_sources(&self.sources, lookup)
    }

    /// Reads an endpoint's signing secrets through `lookup`.
    pub fn resolve_endpoint_secrets(
        &self,
        endpoint: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<Secret>, ConfigErrors> {
        let at = format!("endpoints.{endpoint}");
        let Some(e) = self.endpoints.get(endpoint) else {
            return Err(ConfigErrors::single(at, "no such endpoint"));
        };
        let mut p = Problems::default();
        let secrets = resolve_secrets(&e.secrets, &format!("{at}.secrets"), &lookup, &mut p);
        p.finish(secrets)
    }
}

/// Reads `sources` or `endpoints` one entry at a time, reporting each that does not fit under
/// its own path. Entries that do not fit are left out; the caller refuses the whole config then.
fn entries<T: serde::de::DeserializeOwned>(
    value: Option<serde_json::Value>,
    at: &str,
    p: &mut Problems,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    match value {
        None => {}
        Some(serde_json::Value::Object(map)) => {
            for (name, item) in map {
                match serde_json::from_value(item) {
                    Ok(entry) => {
                        out.insert(name, entry);
                    }
                    Err(e) => p.add(format!("{at}.{name}"), redact_values(&e.to_string())),
                }
            }
        }
        Some(other) => {
            if let Err(e) = serde_json::from_value::<BTreeMap<String, T>>(other) {
                p.add(at, redact_values(&e.to_string()));
            }
        }
    }
    out
}

/// Checks every source (`endpoints`: the configuration's `[endpoints]`, for relay names).
fn check_sources<E>(
    sources: &BTreeMap<String, SourceConfig>,
    endpoints: &BTreeMap<String, E>,
    p: &mut Problems,
) {
    for (name, source) in sources {
        let at = format!("sources.{name}");
        if !is_name(name) {
            p.add(&at, NAME_RULE);
        }
        source.check(&at, endpoints, p);
    }
}

/// Builds a ready verifier for every source, reading secrets through `lookup`; reports every
/// missing or unusable secret at once.
fn resolve_sources(
    sources: &BTreeMap<String, SourceConfig>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, ResolvedSource>, ConfigErrors> {
    let mut p = Problems::default();
    let mut out = BTreeMap::new();
    for (name, source) in sources {
        let at = format!("sources.{name}");
        if let Some(resolved) = source.resolve(name, &at, &lookup, &mut p) {
            out.insert(name.clone(), resolved);
        }
    }
    p.finish(out)
}

/// What the receiver Worker reads of a configuration: `[sources]`, checked as [`Config`] checks
/// them, and the names of `[endpoints]` (relay sources name them). `[delivery]`, `[api]` and the
/// endpoints' settings are the sender's and the API's: the Worker accepts them unread, so that
/// their code (filter expressions, retry policies, URL rules...) is not in its bundle. Those
/// sections are checked where they are used, and the whole file by `hookline check` and
/// [`Config::from_json`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesConfig {
    /// Inbound sources by name.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    #[serde(default)]
    endpoints: BTreeMap<String, serde::de::IgnoredAny>,
    // Accepted, never read (see above).
    #[serde(default, rename = "delivery")]
    _delivery: serde::de::IgnoredAny,
    #[serde(default, rename = "api")]
    _api: serde::de::IgnoredAny,
}

impl SourcesConfig {
    /// Reads and checks the sources of a configuration given as JSON (the Worker's
    /// `HOOKLINE_CONFIG`). Errors carry a line and column, or the source they are about; values
    /// are left out of them, as [`Config::from_json`] leaves them out.
    pub fn from_json(text: &str) -> Result<Self, ConfigErrors> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigErrors::single(
                "",
                "configuration is larger than 1 MiB",
            ));
        }
        let view: SourcesConfig = serde_json::from_str(text).map_err(|e| {
            ConfigErrors::single(
                format!("line {}, column {}", e.line(), e.column()),
                redact_values(&e.to_string()),
            )
        })?;
        let mut p = Problems::default();
        check_sources(&view.sources, &view.endpoints, &mut p);
        p.finish(view)
    }

    /// Builds a ready verifier for every source, reading secrets through `lookup`.
    pub fn resolve_sources(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<BTreeMap<String, ResolvedSource>, ConfigErrors> {
        resolve_sources(&self.sources, lookup)
    }
}

/// The tables of a configuration that have fixed field names, for reporting every unknown
/// field at once. Their names come from the structs themselves ([`field_names`]); only which
/// field holds which table is written here.
#[derive(Clone, Copy)]
enum Shape {
    Config,
    Source,
    Endpoint,
    Delivery,
    Api,
    Portal,
    Generic,
    Retry,
}

/// What a field of a [`Shape`] holds, when it holds tables with fixed field names.
enum Holds {
    /// One table (`delivery`, `generic`, `retry`).
    Table(Shape),
    /// Tables by name (`sources`, `endpoints`).
    Named(Shape),
}

impl Shape {
    fn fields(self) -> &'static [&'static str] {
        match self {
            Shape::Config => field_names::<Config>(),
            Shape::Source => field_names::<SourceConfig>(),
            Shape::Endpoint => field_names::<EndpointConfig>(),
            Shape::Delivery => field_names::<DeliveryConfig>(),
            Shape::Api => field_names::<ApiConfig>(),
            Shape::Portal => field_names::<PortalConfig>(),
            Shape::Generic => field_names::<crate::verify::GenericHmac>(),
            Shape::Retry => field_names::<RetryPolicy>(),
        }
    }

    fn holds(self, field: &str) -> Option<Holds> {
        match (self, field) {
            (Shape::Config, "sources") => Some(Holds::Named(Shape::Source)),
            (Shape::Config, "endpoints") => Some(Holds::Named(Shape::Endpoint)),
            (Shape::Config, "delivery") => Some(Holds::Table(Shape::Delivery)),
            (Shape::Config, "api") => Some(Holds::Table(Shape::Api)),
            (Shape::Api, "portal") => Some(Holds::Table(Shape::Portal)),
            (Shape::Source, "generic") => Some(Holds::Table(Shape::Generic)),
            (Shape::Endpoint | Shape::Delivery, "retry") => Some(Holds::Table(Shape::Retry)),
            _ => None,
        }
    }

    /// Reports and removes every field of `tree` (a table of this shape) that the shape does
    /// not have, then does the same in the tables it holds. A value that is not a table is left
    /// for the typed parse to report.
    fn take_unknown_fields(self, tree: &mut serde_json::Value, at: &str, p: &mut Problems) {
        let Some(table) = tree.as_object_mut() else {
            return;
        };
        let known = self.fields();
        let unknown: Vec<String> = table
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            table.remove(&key);
            let hint = closest(&key, known)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            let expected: Vec<String> = known.iter().map(|f| format!("`{f}`")).collect();
            p.add(
                join_path(at, &key),
                format!(
                    "unknown field `{key}`{hint}; expected one of {}",
                    expected.join(", ")
                ),
            );
        }
        for (key, value) in table.iter_mut() {
            let at = join_path(at, key);
            match self.holds(key) {
                Some(Holds::Table(shape)) => shape.take_unknown_fields(value, &at, p),
                Some(Holds::Named(shape)) => {
                    if let Some(named) = value.as_object_mut() {
                        for (name, item) in named.iter_mut() {
                            shape.take_unknown_fields(item, &join_path(&at, name), p);
                        }
                    }
                }
                None => {}
            }
        }
    }
}

fn join_path(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// The field names a struct's `Deserialize` accepts, read from the derive itself: it hands them
/// to `deserialize_struct`, which this deserializer records before refusing to go on.
fn field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Deserializer, Error as _, Visitor, value::Error};

    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Error> {
            *self.0 = fields;
            Err(Error::custom("field names read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // Always an error: the probe stops every derive as soon as it has read the names.
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// A source with its secrets read and its defaults filled in: what the receiver runs.
#[derive(Clone, Debug)]
pub struct ResolvedSource {
    /// The source's name.
    pub name: String,
    /// The verifier, with the source's replay window.
    pub verifier: Verifier,
    /// The largest accepted body.
    pub max_body_bytes: u64,
    /// Where the event id is read (None: derive one from the verified request).
    pub event_id: Option<FieldRef>,
    /// Where the event type is read.
    pub event_type: Option<FieldRef>,
    /// Where verified events go.
    pub destination: Destination,
    /// Endpoints for `destination = "relay"`.
    pub relay_endpoints: Vec<String>,
    /// The URL the provider signs, when it differs from the request's.
    pub public_url: Option<String>,
    /// Lower-case names of the headers copied into the envelope.
    pub forward_headers: Vec<String>,
}

const NAME_RULE: &str =
    "names must be 1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit";

/// `[a-z0-9][a-z0-9_-]{0,62}`: safe in URL paths, queue attributes and metric dimensions.
pub fn is_name(name: &str) -> bool {
    let b = name.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

fn check_timeout(at: &str, t: Duration, p: &mut Problems) {
    if t.is_zero() || t > MAX_TIMEOUT {
        p.add(at, "must be more than 0 and at most 60s");
    }
}

fn check_secret_refs(refs: &[String], at: &str, required: bool, p: &mut Problems) {
    if required && refs.is_empty() {
        p.add(
            format!("{at}.secrets"),
            "at least one secret reference is required, e.g. secrets = [\"env:MY_SECRET\"]",
        );
    }
    for (i, r) in refs.iter().enumerate() {
        if let Err(e) = r.parse::<SecretRef>() {
            p.add(format!("{at}.secrets[{i}]"), e.to_string());
        }
    }
}

fn resolve_secrets(
    refs: &[String],
    at: &str,
    lookup: &impl Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Vec<Secret> {
    let mut out = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        match r.parse::<SecretRef>().and_then(|r| r.resolve(lookup)) {
            Ok(s) => out.push(s),
            Err(e) => p.add(format!("{at}[{i}]"), e.to_string()),
        }
    }
    out
}

impl SourceConfig {
    /// `endpoints`: the configuration's `[endpoints]` (only their names are read).
    fn check<E>(&self, at: &str, endpoints: &BTreeMap<String, E>, p: &mut Problems) {
        let kind = match SchemeKind::from_name(&self.scheme) {
            Some(kind) => Some(kind),
            None => {
                let names = SchemeKind::names();
                let hint = closest(&self.scheme, &names)
                    .map(|s| format!(" (did you mean \"{s}\"?)"))
                    .unwrap_or_default();
                p.add(
                    format!("{at}.scheme"),
                    format!(
                        "unknown scheme \"{}\"{hint}; expected one of: {}",
                        self.scheme,
                        names.join(", ")
                    ),
                );
                None
            }
        };
        check_secret_refs(&self.secrets, at, true, p);
        match (kind, &self.generic) {
            (Some(SchemeKind::Generic), None) => p.add(
                format!("{at}.generic"),
                "the generic scheme needs its parameters, e.g. generic = { header = \"X-Signature\" }",
            ),
            (Some(SchemeKind::Generic), Some(g)) => {
                for (field, msg) in g.problems() {
                    p.add(format!("{at}.generic.{field}"), msg);
                }
            }
            (Some(_), Some(_)) => p.add(
                format!("{at}.generic"),
                "only the generic scheme takes parameters",
            ),
            _ => {}
        }
        if let Some(t) = self.tolerance
            && (t.is_zero() || t > MAX_TOLERANCE)
        {
            p.add(
                format!("{at}.tolerance"),
                "must be more than 0 and at most 1h",
            );
        }
        if let Some(n) = self.max_body_bytes
            && (n == 0 || n > MAX_BODY_BYTES_LIMIT)
        {
            p.add(
                format!("{at}.max_body_bytes"),
                format!("must be between 1 and {MAX_BODY_BYTES_LIMIT}"),
            );
        }
        for (field, f) in [
            ("event_id", &self.event_id),
            ("event_type", &self.event_type),
        ] {
            if let Some(f) = f {
                f.check(&format!("{at}.{field}"), p);
            }
        }
        // The id is what consumers dedupe on, the type what endpoints subscribe to: read from a
        // header the provider does not sign, a replay could set them to anything (a fresh id
        // passes dedup as a new event; a new type reaches endpoints the event was never for).
        // Only a header the generic scheme signs may be either. Standard Webhooks' signed
        // `webhook-id` is the id already, and naming a header could pick the unsigned family
        // (`svix-id` next to a signed `webhook-*` set, or the reverse).
        for (field, f) in [
            ("event_id", &self.event_id),
            ("event_type", &self.event_type),
        ] {
            if let (Some(kind), Some(FieldRef::Header(h))) = (kind, f)
                && !h.is_empty()
            {
                let signed = kind == SchemeKind::Generic
                    && self.generic.as_ref().is_some_and(|g| g.signs_header(h));
                if !signed {
                    p.add(
                        format!("{at}.{field}"),
                        format!(
                            "the {kind} scheme does not sign the header \"{h}\": a replay could \
                             set it to anything, so it cannot be the event's {what}. Read it from \
                             the signed body with {{ pointer = \"/...\" }}, leave {field} out \
                             (the header is still forwarded in the envelope's headers), or, with \
                             the generic scheme, sign the header in signed_content",
                            what = if field == "event_id" { "id" } else { "type" },
                        ),
                    );
                }
            }
        }
        if self.destination != Destination::Relay && !self.relay_endpoints.is_empty() {
            p.add(
                format!("{at}.relay_endpoints"),
                "only used with destination = \"relay\"",
            );
        }
        // A receiver-only deployment has no [endpoints]: names can only be checked when there are.
        if !endpoints.is_empty() {
            for (i, e) in self.relay_endpoints.iter().enumerate() {
                if !endpoints.contains_key(e) {
                    p.add(
                        format!("{at}.relay_endpoints[{i}]"),
                        format!("no endpoint named \"{e}\""),
                    );
                }
            }
        }
        if let Some(url) = &self.public_url
            && let Err(msg) = check_url(url)
        {
            p.add(format!("{at}.public_url"), msg);
        }
        for (i, h) in self.forward_headers.iter().enumerate() {
            if h.is_empty()
                || !h
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.add(format!("{at}.forward_headers[{i}]"), "not a header name");
            }
        }
    }

    fn resolve(
        &self,
        name: &str,
        at: &str,
        lookup: &impl Fn(&str) -> Option<String>,
        p: &mut Problems,
    ) -> Option<ResolvedSource> {
        let kind = SchemeKind::from_name(&self.scheme)?;
        let scheme = match kind {
            SchemeKind::Generic => Scheme::generic(self.generic.clone()?),
            other => Scheme::from(other),
        };
        let secrets = resolve_secrets(&self.secrets, &format!("{at}.secrets"), lookup, p);
        if secrets.len() != self.secrets.len() {
            return None;
        }
        let verifier = match Verifier::new(scheme, secrets) {
            Ok(v) => v,
            Err(e) => {
                p.add(format!("{at}.secrets"), e.to_string());
                return None;
            }
        };
        let verifier = match self.tolerance {
            Some(t) => verifier.with_tolerance(t),
            None => verifier,
        };
        let (default_id, default_type) = default_fields(kind);
        let mut forward_headers: Vec<String> = default_forward_headers(kind)
            .map(str::to_owned)
            .chain(self.forward_headers.iter().map(|h| h.to_ascii_lowercase()))
            .collect();
        forward_headers.sort();
        forward_headers.dedup();
        // Signature headers never travel in envelopes, even when asked for.
        let generic_header = self.generic.as_ref().map(|g| g.header.to_ascii_lowercase());
        forward_headers.retain(|h| {
            !kind.signature_headers().contains(&h.as_str()) && generic_header.as_ref() != Some(h)
        });
        Some(ResolvedSource {
            name: name.to_owned(),
            verifier,
            max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            event_id: self.event_id.clone().or(default_id),
            event_type: self.event_type.clone().or(default_type),
            destination: self.destination,
            relay_endpoints: self.relay_endpoints.clone(),
            public_url: self.public_url.clone(),
            forward_headers,
        })
    }
}

impl FieldRef {
    fn check(&self, at: &str, p: &mut Problems) {
        match self {
            FieldRef::Header(h) if h.is_empty() => p.add(at, "header name is empty"),
            FieldRef::Pointer(ptr) if !ptr.is_empty() && !ptr.starts_with('/') => p.add(
                at,
                format!(
                    "\"{ptr}\" is not a JSON pointer; pointers start with '/', e.g. \"/data/id\""
                ),
            ),
            _ => {}
        }
    }
}

impl EndpointConfig {
    fn check(&self, at: &str, p: &mut Problems) {
        if !self.url.starts_with("env:") {
            if let Err(msg) = check_url(&self.url) {
                p.add(format!("{at}.url"), msg);
            }
        } else if let Err(e) = self.url.parse::<SecretRef>() {
            p.add(format!("{at}.url"), e.to_string());
        }
        check_secret_refs(&self.secrets, at, self.format.is_signed(), p);
        if self.events.is_empty() {
            p.add(
                format!("{at}.events"),
                "an empty event filter matches nothing; use [\"*\"] for every event or remove the endpoint",
            );
        }
        for (i, e) in self.events.iter().enumerate() {
            if let Err(err) = e.parse::<EventPattern>() {
                p.add(format!("{at}.events[{i}]"), err.to_string());
            }
        }
        if let Some(f) = &self.filter
            && let Err(e) = f.parse::<crate::filter::Filter>()
        {
            p.add(format!("{at}.filter"), e.to_string());
        }
        for name in self.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.add(format!("{at}.headers.{name}"), "not a header name");
            } else if lower.starts_with("webhook-") || lower == "content-length" || lower == "host"
            {
                p.add(
                    format!("{at}.headers.{name}"),
                    "set by hookline itself and cannot be overridden",
                );
            }
        }
        if let Some(t) = self.timeout {
            check_timeout(&format!("{at}.timeout"), t, p);
        }
        if let Some(r) = &self.retry
            && let Err(e) = r.validate()
        {
            p.add(format!("{at}.retry"), e.to_string());
        }
    }
}

/// An absolute http(s) URL with a host and no fragment.
fn check_url(raw: &str) -> Result<(), String> {
    // The URL is not echoed: Slack and Discord webhook URLs are secrets.
    let url = url::Url::parse(raw).map_err(|e| {
        // hookline is built without Unicode IDNA tables (idna_adapter 1.0: 47 KB of the
        // Worker's gzipped bundle), so a host must be ASCII.
        if !raw.is_ascii() && e == url::ParseError::IdnaError {
            "the host is not ASCII: write an internationalised domain name in its ASCII \
             (punycode, xn--) form"
                .to_owned()
        } else {
            format!("not a valid URL: {e}")
        }
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme \"{}\" is not supported; use https (or http for local development)",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("the URL has no host".to_owned());
    }
    if url.fragment().is_some() {
        return Err("the URL has a #fragment, which is never sent to the server".to_owned());
    }
    Ok(())
}

/// Where each scheme's providers put the event id and type: the JSON pointers of its row
/// ([`SchemeSpec::id_pointer`], [`SchemeSpec::type_pointer`]).
///
/// An id is only read from something the provider signs (the body, or a signed header). GitHub,
/// Shopify and Twilio put their delivery ids in headers they do not sign: a captured request
/// replayed under a fresh delivery id would get a fresh envelope id and pass consumers' dedup.
/// Their default is none, so the id is the digest of the source and the signed body (`b-...`),
/// the same for the provider's retries (which resend the body) and for any replay. Their delivery
/// ids are still forwarded as headers. Linear's `Linear-Delivery` is unsigned too, so Linear's
/// id is the body digest as well (the body carries the signed `webhookTimestamp`, so a retry
/// that Linear re-stamps is a new id: a duplicate that consumers see, never a forged id), and
/// its type is the body's signed `type` rather than the `Linear-Event` header that repeats it.
/// GitHub and Shopify sign no event type at all (`X-GitHub-Event` and `X-Shopify-Topic` are
/// unsigned headers, which a replay may change), so their envelopes have no type: a relayed
/// event is then `{source}.webhook`, and consumers that want the provider's label read the
/// forwarded header, knowing it is unsigned (see `docs/security.md`).
pub fn default_fields(kind: SchemeKind) -> (Option<FieldRef>, Option<FieldRef>) {
    let spec = kind.spec();
    let pointer = |p: Option<&str>| p.map(|p| FieldRef::Pointer(p.to_owned()));
    (pointer(spec.id_pointer), pointer(spec.type_pointer))
}

/// Headers copied into envelopes by default: content type and the provider's event headers
/// ([`SchemeSpec::default_forward_headers`]).
pub fn default_forward_headers(kind: SchemeKind) -> impl Iterator<Item = &'static str> {
    kind.spec().default_forward_headers()
}

/// The closest candidate within edit distance 2, for "did you mean" (the CLI's messages use it
/// too).
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    closest_within(word, candidates, 2)
}

/// The closest candidate within edit distance `max` (the first of equals), for "did you mean".
pub fn closest_within<'a>(word: &str, candidates: &[&'a str], max: usize) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Parser messages quote the offending value (`invalid type: string "whsec_...", expected a
/// sequence`); when a secret was pasted into the wrong field that would print it. Quoted values
/// are replaced by `"…"`; field names, which parsers quote with backticks, stay. `hookline
/// check` redacts its own parsers' messages with it too.
pub fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    let mut escaped = false;
    for c in message.chars() {
        if in_quotes {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    in_quotes = false;
                    out.push_str("…\"");
                }
                _ => escaped = false,
            }
        } else {
            out.push(c);
            in_quotes = c == '"';
        }
    }
    out
}

/// `line L, column C` (both from 1, columns in characters) of the byte `offset` in `text`, for
/// parser errors that give a span.
pub fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {col}")
}
