//! What the sender reads once per cold start: the endpoints (with their secrets resolved and
//! signers prepared), the SSRF policy, and the queue URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::config::{Config, ConfigErrors, EndpointConfig, Format};
use hookline_core::filter::Filter;
use hookline_core::render::BodyTemplate;
use hookline_core::retry::RetryPolicy;
use hookline_core::secret::SecretRef;
use hookline_core::ssrf::SsrfPolicy;
use hookline_core::verify::{Scheme, Signer};

/// The environment variable holding the configuration as JSON.
pub const CONFIG_VAR: &str = "HOOKLINE_CONFIG";
/// The environment variable holding the outbound queue's URL (fan-out re-enqueues onto it).
pub const QUEUE_URL_VAR: &str = "HOOKLINE_QUEUE_URL";
/// The environment variable holding the dead-letter queue's URL.
pub const DLQ_URL_VAR: &str = "HOOKLINE_DLQ_URL";

/// One endpoint, ready to deliver to.
#[derive(Debug)]
pub struct Endpoint {
    /// The endpoint's name.
    pub name: String,
    /// Where deliveries go (an `env:` URL already resolved).
    pub url: String,
    /// Signs deliveries (Standard Webhooks); `None` for unsigned formats (Slack, Discord).
    pub signer: Option<Signer>,
    /// The body format.
    pub format: Format,
    /// The body template, for `format = "template"`.
    pub template: Option<BodyTemplate>,
    /// The payload filter, if any.
    pub filter: Option<Filter>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// The retry policy.
    pub retry: RetryPolicy,
    /// The configuration it came from (event patterns, enabled flag).
    pub config: EndpointConfig,
}

/// Everything the handler needs besides its clients.
#[derive(Debug)]
pub struct Settings {
    /// Endpoints by name.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// The SSRF guard's policy.
    pub ssrf: SsrfPolicy,
    /// The outbound queue.
    pub queue_url: String,
    /// The dead-letter queue.
    pub dlq_url: String,
}

/// Why the sender cannot start. A cold start that fails this way fails loudly in the logs and
/// leaves every message on the queue.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A required environment variable is missing.
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// The configuration is invalid.
    #[error("invalid configuration:\n{0}")]
    Config(#[from] ConfigErrors),
}

impl Settings {
    /// Reads the configuration, queue URLs and secrets through `lookup` (the process
    /// environment in the Lambda).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let text = lookup(CONFIG_VAR).ok_or(SettingsError::Missing(CONFIG_VAR))?;
        let queue_url = lookup(QUEUE_URL_VAR).ok_or(SettingsError::Missing(QUEUE_URL_VAR))?;
        let dlq_url = lookup(DLQ_URL_VAR).ok_or(SettingsError::Missing(DLQ_URL_VAR))?;
        let config = Config::from_json(&text)?;
        Ok(Self::from_config(&config, queue_url, dlq_url, lookup)?)
    }

    /// Prepares every endpoint of `config`, reporting every unresolvable secret at once.
    pub fn from_config(
        config: &Config,
        queue_url: String,
        dlq_url: String,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        config.validate()?;
        let mut problems = Vec::new();
        let mut endpoints = BTreeMap::new();
        for (name, e) in &config.endpoints {
            let at = format!("endpoints.{name}");
            let url = if e.url.starts_with("env:") {
                match e.url.parse::<SecretRef>().and_then(|r| r.resolve(&lookup)) {
                    Ok(s) => s.expose_str().unwrap_or_default().to_owned(),
                    Err(err) => {
                        problems.push(hookline_core::config::ConfigError {
                            path: format!("{at}.url"),
                            message: err.to_string(),
                        });
                        continue;
                    }
                }
            } else {
                e.url.clone()
            };
            let signer = if e.format.is_signed() {
                let secrets = match config.resolve_endpoint_secrets(name, &lookup) {
                    Ok(s) => s,
                    Err(errs) => {
                        problems.extend(errs.0);
                        continue;
                    }
                };
                match Signer::new(Scheme::StandardWebhooks, secrets) {
                    Ok(s) => Some(s),
                    Err(err) => {
                        problems.push(hookline_core::config::ConfigError {
                            path: format!("{at}.secrets"),
                            message: err.to_string(),
                        });
                        continue;
                    }
                }
            } else {
                None
            };
            // Validation already parsed these; failures here cannot happen, but stay explicit.
            let template = e.template.as_deref().and_then(|t| t.parse().ok());
            let filter = e.filter.as_deref().and_then(|f| f.parse().ok());
            endpoints.insert(
                name.clone(),
                Endpoint {
                    name: name.clone(),
                    url,
                    signer,
                    format: e.format,
                    template,
                    filter,
                    headers: e
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    timeout: e.timeout.unwrap_or(config.delivery.timeout),
                    retry: e
                        .retry
                        .clone()
                        .unwrap_or_else(|| config.delivery.retry.clone()),
                    config: e.clone(),
                },
            );
        }
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Self {
            endpoints,
            ssrf: SsrfPolicy::new(config.delivery.ssrf_allow.clone()),
            queue_url,
            dlq_url,
        })
    }
}
