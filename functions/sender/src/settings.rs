//! What the sender reads once per cold start: the endpoints (with their secrets resolved and
//! signers prepared), the SSRF policy, the TLS roots, and the queue URLs.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::api::history::HealthPolicy;
use hookline_core::config::{Config, ConfigError, ConfigErrors, EndpointConfig, Format};
use hookline_core::contract::sender::MIN_MESSAGE_BYTES;
use hookline_core::fanout::{Rules, Subscriber};
use hookline_core::filter::Filter;
use hookline_core::pattern::EventPattern;
use hookline_core::retry::RetryPolicy;
use hookline_core::secret::SecretRef;
use hookline_core::ssrf::SsrfPolicy;
use hookline_core::verify::{SchemeKind, Signer};
use hookline_sqs::limits::{
    MAX_MESSAGE_BYTES as MAX_SQS_MESSAGE_BYTES,
    MAX_MESSAGE_BYTES_CEILING as MAX_SQS_MESSAGE_BYTES_CEILING,
};

use crate::http::{TlsRoots, UnknownTlsRoots};

/// The environment variables the sender reads, named by the deploy contract.
pub use hookline_core::contract::sender::{
    CONFIG_VAR, DLQ_URL_VAR, MAX_MESSAGE_BYTES_VAR, QUEUE_URL_VAR, TLS_ROOTS_VAR,
};

/// Parses an optional field; a failure is recorded under `path` and refuses the endpoint.
fn parse_optional<T>(
    text: Option<&str>,
    path: impl FnOnce() -> String,
    problems: &mut Vec<ConfigError>,
) -> Result<Option<T>, ()>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match text.map(str::parse::<T>).transpose() {
        Ok(value) => Ok(value),
        Err(err) => {
            problems.push(problem(path(), err));
            Err(())
        }
    }
}

/// A problem found while preparing an endpoint, at `path`.
fn problem(path: String, message: impl std::fmt::Display) -> ConfigError {
    ConfigError {
        path,
        message: message.to_string(),
    }
}

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
    /// The body format (with its template, for `format = "template"`).
    pub format: Format,
    /// The event types it subscribes to, parsed once.
    pub events: Vec<EventPattern>,
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
    /// The outbound queue's largest message, in bytes: no delivery message over it is enqueued,
    /// and no fan-out batch carries more.
    pub max_message_bytes: usize,
    /// When a registered endpoint that keeps failing is disabled (`[delivery.auto_disable]`).
    pub health: HealthPolicy,
    /// Endpoints of this configuration that also get the operational webhooks
    /// (`[api] operational_endpoints`).
    pub operational_endpoints: Vec<String>,
}

pub use hookline_core::fanout::{EventData, Refusal};

impl Subscriber for Endpoint {
    fn rules(&self) -> Rules<'_> {
        Rules {
            enabled: self.config.enabled,
            events: &self.events,
            filter: self.filter.as_ref(),
        }
    }
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
    /// `HOOKLINE_TLS_ROOTS` names neither root store.
    #[error("environment variable {TLS_ROOTS_VAR}: {0}")]
    BadTlsRoots(#[from] UnknownTlsRoots),
    /// `HOOKLINE_MAX_MESSAGE_BYTES` is not a `MaximumMessageSize` SQS allows.
    #[error(
        "environment variable {MAX_MESSAGE_BYTES_VAR}: must be the queue's MaximumMessageSize in bytes, {MIN_MESSAGE_BYTES} to {MAX_SQS_MESSAGE_BYTES_CEILING}"
    )]
    BadMaxMessageBytes,
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
            Some(v) => v.parse()?,
            None if SYSTEM_CERT_VARS
                .iter()
                .any(|var| lookup(var).is_some_and(|v| !v.is_empty())) =>
            {
                TlsRoots::System
            }
            None => TlsRoots::Mozilla,
        };
        let max_message_bytes = match lookup(MAX_MESSAGE_BYTES_VAR).filter(|v| !v.trim().is_empty())
        {
            None => MAX_SQS_MESSAGE_BYTES,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (MIN_MESSAGE_BYTES..=MAX_SQS_MESSAGE_BYTES_CEILING).contains(&n) => n,
                _ => return Err(SettingsError::BadMaxMessageBytes),
            },
        };
        let config = Config::from_json(&text)?;
        let mut settings = Self::from_config(&config, queue_url, dlq_url, lookup)?;
        settings.tls_roots = tls_roots;
        settings.max_message_bytes = max_message_bytes;
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
        Self::prepare(config, queue_url, dlq_url, lookup)
    }

    /// [`Settings::from_config`] after validation. Whatever validation has already checked is
    /// still an error here, never dropped.
    fn prepare(
        config: &Config,
        queue_url: String,
        dlq_url: String,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        let mut problems = Vec::new();
        let mut endpoints = BTreeMap::new();
        for (name, e) in &config.endpoints {
            let at = format!("endpoints.{name}");
            let url = if e.url.starts_with("env:") {
                match e.url.parse::<SecretRef>().and_then(|r| r.resolve(&lookup)) {
                    Ok(s) => match s.expose_str() {
                        Some(url) => url.to_owned(),
                        None => {
                            problems.push(problem(
                                format!("{at}.url"),
                                "the variable's value is not UTF-8 text",
                            ));
                            continue;
                        }
                    },
                    Err(err) => {
                        problems.push(problem(format!("{at}.url"), err));
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
                match Signer::new(SchemeKind::StandardWebhooks, secrets) {
                    Ok(s) => Some(s),
                    Err(err) => {
                        problems.push(problem(format!("{at}.secrets"), err));
                        continue;
                    }
                }
            } else {
                None
            };
            // Validation already parsed it; should a parse still fail, the endpoint is refused
            // (a dropped filter would deliver everything).
            let Ok(filter) = parse_optional::<Filter>(
                e.filter.as_deref(),
                || format!("{at}.filter"),
                &mut problems,
            ) else {
                continue;
            };
            let mut events = Vec::with_capacity(e.events.len());
            let mut bad_pattern = false;
            for (i, text) in e.events.iter().enumerate() {
                match text.parse::<EventPattern>() {
                    Ok(p) => events.push(p),
                    Err(err) => {
                        problems.push(problem(format!("{at}.events[{i}]"), err));
                        bad_pattern = true;
                    }
                }
            }
            if bad_pattern {
                continue;
            }
            endpoints.insert(
                name.clone(),
                Endpoint {
                    name: name.clone(),
                    url,
                    signer,
                    format: e.format.clone(),
                    events,
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
            max_message_bytes: MAX_SQS_MESSAGE_BYTES,
            health: config.delivery.auto_disable.policy(),
            operational_endpoints: config.api.operational_endpoints.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookline_core::envelope::RawJson;

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
            matches!(&e, SettingsError::BadTlsRoots(UnknownTlsRoots(v)) if v == "webpki"),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "environment variable HOOKLINE_TLS_ROOTS: unknown value \"webpki\": use \"system\" \
             (the system's certificate store) or \"mozilla\" (compiled-in roots)"
        );
    }

    #[test]
    fn from_config_keeps_the_system_store() {
        let config = Config::from_json(CONFIG).unwrap();
        let s = Settings::from_config(&config, "q".into(), "dlq".into(), env(&[])).unwrap();
        assert_eq!(s.tls_roots, TlsRoots::System);
    }

    #[test]
    fn a_filter_or_pattern_that_does_not_parse_refuses_the_endpoint() {
        // Validation catches these first; `prepare` must not drop them if it ever does not
        // (a dropped filter would deliver every event to the endpoint).
        for (field, path) in [
            ("filter", "endpoints.billing.filter"),
            ("events", "endpoints.billing.events[1]"),
        ] {
            let mut config = Config::from_json(CONFIG).unwrap();
            let e = config.endpoints.get_mut("billing").unwrap();
            match field {
                "filter" => e.filter = Some("data.amount >".into()),
                _ => e.events = vec!["invoice.*".into(), String::new()],
            }
            let errs = Settings::prepare(&config, "q".into(), "dlq".into(), env(&[])).unwrap_err();
            assert!(errs.0.iter().any(|p| p.path == path), "{field}: {errs}");
        }
    }

    #[test]
    fn endpoint_rules_name_why_an_event_is_refused() {
        let mut config = Config::from_json(CONFIG).unwrap();
        let e = config.endpoints.get_mut("billing").unwrap();
        e.events = vec!["invoice.*".into()];
        e.filter = Some("data.amount >= 100".into());
        let s = Settings::from_config(&config, "q".into(), "dlq".into(), env(&[])).unwrap();
        let ep = &s.endpoints["billing"];
        let raw = RawJson::from_string(r#"{"amount": 150}"#.into()).unwrap();
        let data = EventData::new(&raw);
        assert_eq!(ep.admits("invoice.paid", "m1", &data), Ok(()));
        assert_eq!(
            ep.admits("user.created", "m1", &data),
            Err(Refusal::NotSubscribed)
        );
        let raw_small = RawJson::from_string(r#"{"amount": 1}"#.into()).unwrap();
        let small = EventData::new(&raw_small);
        assert_eq!(
            ep.admits("invoice.paid", "m1", &small),
            Err(Refusal::Filtered)
        );
        config.endpoints.get_mut("billing").unwrap().enabled = false;
        let s = Settings::from_config(&config, "q".into(), "dlq".into(), env(&[])).unwrap();
        assert_eq!(
            s.endpoints["billing"].admits("invoice.paid", "m1", &data),
            Err(Refusal::Disabled)
        );
    }

    #[test]
    fn the_queue_message_limit_is_read_and_checked() {
        let s = Settings::from_lookup(env(&[])).unwrap();
        assert_eq!(s.max_message_bytes, 262_144);
        let s = Settings::from_lookup(env(&[(MAX_MESSAGE_BYTES_VAR, "1048576")])).unwrap();
        assert_eq!(s.max_message_bytes, 1_048_576);
        for bad in ["0", "1023", "1048577", "1 MiB", "-1"] {
            let e = Settings::from_lookup(env(&[(MAX_MESSAGE_BYTES_VAR, bad)])).unwrap_err();
            assert!(matches!(e, SettingsError::BadMaxMessageBytes), "{bad}: {e}");
        }
        assert_eq!(
            SettingsError::BadMaxMessageBytes.to_string(),
            "environment variable HOOKLINE_MAX_MESSAGE_BYTES: must be the queue's \
             MaximumMessageSize in bytes, 1024 to 1048576"
        );
    }
}
