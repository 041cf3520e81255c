//! What the sender reads once per cold start: the endpoints (with their secrets resolved and
//! signers prepared), the SSRF policy, the TLS roots, and the queue URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::config::{Config, ConfigErrors, EndpointConfig, Format};
use hookline_core::filter::Filter;
use hookline_core::render::BodyTemplate;
use hookline_core::retry::RetryPolicy;
use hookline_core::secret::SecretRef;
use hookline_core::ssrf::SsrfPolicy;
use hookline_core::verify::{Scheme, Signer};

use crate::http::TlsRoots;

/// The environment variable holding the configuration as JSON.
pub const CONFIG_VAR: &str = "HOOKLINE_CONFIG";
/// The environment variable holding the outbound queue's URL (fan-out re-enqueues onto it).
pub const QUEUE_URL_VAR: &str = "HOOKLINE_QUEUE_URL";
/// The environment variable holding the dead-letter queue's URL.
pub const DLQ_URL_VAR: &str = "HOOKLINE_DLQ_URL";
/// The environment variable choosing the endpoints' TLS roots: `system` or `mozilla`.
pub const TLS_ROOTS_VAR: &str = "HOOKLINE_TLS_ROOTS";
/// The variables through which the system's store takes a private CA (OpenSSL's names).
const SYSTEM_CERT_VARS: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

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
    /// What endpoints' TLS certificates are checked against.
    pub tls_roots: TlsRoots,
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
    /// An environment variable has a value that cannot be used.
    #[error("environment variable {var}: {message}")]
    Var {
        /// The variable's name.
        var: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Reads the configuration, queue URLs, secrets and TLS roots through `lookup` (the process
    /// environment in the Lambda).
    ///
    /// The TLS roots are `HOOKLINE_TLS_ROOTS` (`system` or `mozilla`). Unset, they are the
    /// system's store when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set (that is how a Lambda is
    /// given a private CA), and Mozilla's compiled-in roots otherwise: a Lambda's system store is
    /// Amazon Linux's copy of that same list, and reading it costs every cold start milliseconds.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let text = lookup(CONFIG_VAR).ok_or(SettingsError::Missing(CONFIG_VAR))?;
        let queue_url = lookup(QUEUE_URL_VAR).ok_or(SettingsError::Missing(QUEUE_URL_VAR))?;
        let dlq_url = lookup(DLQ_URL_VAR).ok_or(SettingsError::Missing(DLQ_URL_VAR))?;
        let tls_roots = match lookup(TLS_ROOTS_VAR).filter(|v| !v.trim().is_empty()) {
            Some(v) => v.parse().map_err(|message| SettingsError::Var {
                var: TLS_ROOTS_VAR,
                message,
            })?,
            None if SYSTEM_CERT_VARS
                .iter()
                .any(|var| lookup(var).is_some_and(|v| !v.is_empty())) =>
            {
                TlsRoots::System
            }
            None => TlsRoots::Mozilla,
        };
        let config = Config::from_json(&text)?;
        let mut settings = Self::from_config(&config, queue_url, dlq_url, lookup)?;
        settings.tls_roots = tls_roots;
        Ok(settings)
    }

    /// Prepares every endpoint of `config`, reporting every unresolvable secret at once.
    /// Endpoints' certificates are checked against the system's store (`tls_roots` changes it).
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
            tls_roots: TlsRoots::System,
            queue_url,
            dlq_url,
        })
    }
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

    const CONFIG: &str = r#"{"endpoints":{"billing":{"url":"https://billing.example.com/hooks","secrets":["env:BILLING_WHSEC"]}}}"#;

    /// The Lambda's environment plus `extra`.
    fn env(extra: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let mut vars = vec![
            (CONFIG_VAR, CONFIG),
            (
                QUEUE_URL_VAR,
                "https://sqs.us-east-1.amazonaws.com/1/outbound",
            ),
            (
                DLQ_URL_VAR,
                "https://sqs.us-east-1.amazonaws.com/1/outbound-dlq",
            ),
            ("BILLING_WHSEC", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ];
        vars.extend_from_slice(extra);
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_lambda_checks_certificates_against_mozillas_roots_by_default() {
        let s = Settings::from_lookup(env(&[])).unwrap();
        assert_eq!(s.tls_roots, TlsRoots::Mozilla);
        let s = Settings::from_lookup(env(&[(TLS_ROOTS_VAR, " ")])).unwrap();
        assert_eq!(s.tls_roots, TlsRoots::Mozilla, "blank means unset");
    }

    #[test]
    fn ssl_cert_file_or_dir_keeps_the_system_store_for_private_cas() {
        for var in SYSTEM_CERT_VARS {
            let s = Settings::from_lookup(env(&[(var, "/opt/certs/ca.pem")])).unwrap();
            assert_eq!(s.tls_roots, TlsRoots::System, "{var}");
        }
        let s = Settings::from_lookup(env(&[("SSL_CERT_FILE", "")])).unwrap();
        assert_eq!(
            s.tls_roots,
            TlsRoots::Mozilla,
            "an empty variable names nothing"
        );
    }

    #[test]
    fn hookline_tls_roots_decides_when_set() {
        let s = Settings::from_lookup(env(&[(TLS_ROOTS_VAR, "system")])).unwrap();
        assert_eq!(s.tls_roots, TlsRoots::System);
        let s = Settings::from_lookup(env(&[
            (TLS_ROOTS_VAR, "Mozilla"),
            ("SSL_CERT_FILE", "/opt/certs/ca.pem"),
        ]))
        .unwrap();
        assert_eq!(s.tls_roots, TlsRoots::Mozilla);
    }

    #[test]
    fn an_unknown_tls_roots_value_fails_the_cold_start_naming_the_variable() {
        let e = Settings::from_lookup(env(&[(TLS_ROOTS_VAR, "webpki")])).unwrap_err();
        assert!(
            matches!(
                e,
                SettingsError::Var {
                    var: TLS_ROOTS_VAR,
                    ..
                }
            ),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains(TLS_ROOTS_VAR) && text.contains("\"system\""),
            "{text}"
        );
    }

    #[test]
    fn from_config_keeps_the_system_store() {
        let config = Config::from_json(CONFIG).unwrap();
        let s = Settings::from_config(&config, "q".into(), "dlq".into(), env(&[])).unwrap();
        assert_eq!(s.tls_roots, TlsRoots::System);
    }
}
