//! What the Worker reads from its environment: the sources (secrets resolved, verifiers ready),
//! the claim-check bucket, and where the queue consumer forwards to.
//!
//! Read through a lookup function so that it is plain, natively tested code; the Worker passes
//! one that reads its vars and secrets.

use std::collections::BTreeMap;
use std::time::Duration;

use hookline_core::config::{ConfigErrors, ResolvedSource, SourcesConfig};
use hookline_core::time::parse_duration;

use crate::sqs::{Credentials, Queue};

use hookline_core::contract::receiver::{
    ACCESS_KEY_ID_SECRET, DEFAULT_RETRY_BASE, DEFAULT_RETRY_MAX, SECRET_ACCESS_KEY_SECRET,
    SESSION_TOKEN_SECRET,
};
pub use hookline_core::contract::receiver::{
    BUCKET_VAR, CONFIG_VAR, MAX_RETRY_DELAY, REGION_VAR, RETRY_BASE_VAR, RETRY_MAX_VAR,
    SQS_OUTBOUND_VAR, SQS_QUEUE_VAR,
};

/// The fetch handler's view: the sources and the claim-check bucket.
#[derive(Debug)]
pub struct Settings {
    /// Sources by name, ready to verify.
    pub sources: BTreeMap<String, ResolvedSource>,
    /// The claim-check bucket's name, if configured.
    pub bucket: Option<String>,
    /// The queue consumer's settings.
    pub forward: Forward,
}

/// Where the queue consumer sends events, and how it backs off.
#[derive(Debug)]
pub struct Forward {
    /// The SQS queue for `destination = "queue"` sources.
    pub queue: Option<Queue>,
    /// The SQS queue for `destination = "relay"` sources.
    pub outbound: Option<Queue>,
    /// Credentials for both, when either is set.
    pub credentials: Option<Credentials>,
    /// The first retry delay.
    pub retry_base: Duration,
    /// The largest retry delay.
    pub retry_max: Duration,
}

/// Why the Worker cannot serve. Every request then gets 500 `configuration_error` and the log
/// says what to fix; nothing is accepted that could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `HOOKLINE_CONFIG` is missing.
    #[error("the {CONFIG_VAR} var is not set (see docs/receiver.md)")]
    MissingConfig,
    /// The configuration does not load or validate, or a secret is missing.
    #[error("invalid configuration:\n{0}")]
    Config(#[from] ConfigErrors),
    /// A queue URL var does not hold a queue URL the SQS client accepts.
    #[error("{var}: {source}")]
    BadQueueUrl {
        /// The var's name.
        var: &'static str,
        /// What is wrong with the URL.
        source: crate::sqs::SqsError,
    },
    /// A queue URL is set but an AWS credential it needs is not.
    #[error("{secret}: is required when an SQS queue URL is set (wrangler secret put)")]
    MissingCredential {
        /// The Worker secret's name.
        secret: &'static str,
    },
    /// A retry delay var is not a duration within Cloudflare's limit.
    #[error("{var}: {text:?} is not a duration of at most 12h, like \"30s\"")]
    BadDuration {
        /// The var's name.
        var: &'static str,
        /// The var's text (a delay, never a secret).
        text: String,
    },
}

impl Settings {
    /// Reads everything through `lookup`, which returns a var's or secret's text. `config` is
    /// the configuration as JSON text, read separately because the var may be an object.
    pub fn load(
        config: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let text = config.ok_or(SettingsError::MissingConfig)?;
        // The sources only: the rest is the sender's and the API's (see `SourcesConfig`).
        let config = SourcesConfig::from_json(text)?;
        let sources = config.resolve_sources(&lookup)?;
        let region = lookup(REGION_VAR).filter(|r| !r.is_empty());
        let queue = |var: &'static str| -> Result<Option<Queue>, SettingsError> {
            match lookup(var).filter(|u| !u.is_empty()) {
                None => Ok(None),
                Some(url) => Queue::parse(&url, region.as_deref())
                    .map(Some)
                    .map_err(|source| SettingsError::BadQueueUrl { var, source }),
            }
        };
        let queue_url = queue(SQS_QUEUE_VAR)?;
        let outbound = queue(SQS_OUTBOUND_VAR)?;
        let credentials = if queue_url.is_some() || outbound.is_some() {
            Some(credentials(&lookup)?)
        } else {
            None
        };
        let duration = |var: &'static str, default: Duration| -> Result<Duration, SettingsError> {
            match lookup(var).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(text) => parse_duration(&text)
                    .filter(|d| *d <= MAX_RETRY_DELAY)
                    .ok_or(SettingsError::BadDuration { var, text }),
            }
        };
        Ok(Self {
            sources,
            bucket: lookup(BUCKET_VAR).filter(|b| !b.is_empty()),
            forward: Forward {
                queue: queue_url,
                outbound,
                credentials,
                retry_base: duration(RETRY_BASE_VAR, DEFAULT_RETRY_BASE)?,
                retry_max: duration(RETRY_MAX_VAR, DEFAULT_RETRY_MAX)?,
            },
        })
    }
}

fn credentials(lookup: &impl Fn(&str) -> Option<String>) -> Result<Credentials, SettingsError> {
    let required = |secret: &'static str| {
        lookup(secret)
            .filter(|v| !v.is_empty())
            .ok_or(SettingsError::MissingCredential { secret })
    };
    Ok(Credentials {
        access_key_id: required(ACCESS_KEY_ID_SECRET)?,
        secret_access_key: required(SECRET_ACCESS_KEY_SECRET)?,
        session_token: lookup(SESSION_TOKEN_SECRET).filter(|v| !v.is_empty()),
    })
}

impl Forward {
    /// The delay before retrying a message first enqueued `age` ago: at least the base, then
    /// the message's age, so each retry waits about as long as all the earlier ones together
    /// (doubling, like exponential backoff, without needing the attempt count), capped at the
    /// maximum. In whole seconds, as Cloudflare Queues takes it.
    pub fn retry_delay(&self, age: Duration) -> u32 {
        let delay = age.max(self.retry_base).min(self.retry_max);
        u32::try_from(delay.as_secs()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str =
        r#"{"sources":{"stripe":{"scheme":"stripe","secrets":["env:STRIPE_SECRET"]}}}"#;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn loads_json_with_secrets_and_refuses_toml() {
        let s = Settings::load(Some(CONFIG), env(&[("STRIPE_SECRET", "whsec_x")])).unwrap();
        assert!(s.sources.contains_key("stripe"));
        assert!(s.forward.queue.is_none() && s.forward.credentials.is_none());
        assert_eq!(s.forward.retry_base, Duration::from_secs(30));

        let toml = "[sources.gh]\nscheme = \"github\"\nsecrets = [\"env:GH\"]\n";
        assert!(Settings::load(Some(toml), env(&[("GH", "s")])).is_err());
    }

    #[test]
    fn every_problem_is_reported_not_panicked() {
        assert!(matches!(
            Settings::load(None, env(&[])),
            Err(SettingsError::MissingConfig)
        ));
        let e = Settings::load(Some(CONFIG), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("STRIPE_SECRET"), "{e}");
        let e = Settings::load(Some("{not json"), env(&[])).unwrap_err();
        assert!(matches!(e, SettingsError::Config(_)), "{e}");

        // A queue URL without credentials.
        let e = load_err(&[(
            SQS_QUEUE_VAR,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
        )]);
        assert!(
            matches!(e, SettingsError::MissingCredential { secret } if secret == "AWS_ACCESS_KEY_ID"),
            "{e}"
        );

        // A var that does not parse fails naming the var.
        let bad_duration = |e: &SettingsError| {
            matches!(
                e,
                SettingsError::BadDuration {
                    var: RETRY_BASE_VAR,
                    ..
                }
            )
        };
        let bad_queue_url = |e: &SettingsError| {
            matches!(
                e,
                SettingsError::BadQueueUrl {
                    var: SQS_QUEUE_VAR,
                    ..
                }
            )
        };
        for (var, value, expected) in [
            (
                RETRY_BASE_VAR,
                "13h",
                bad_duration as fn(&SettingsError) -> bool,
            ),
            (SQS_QUEUE_VAR, "ftp://x/1/q", bad_queue_url),
        ] {
            let e = load_err(&[(var, value)]);
            assert!(expected(&e), "{var}: {e}");
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    /// Why [`CONFIG`], with its secret set, does not load with `extra` vars.
    fn load_err(extra: &[(&str, &str)]) -> SettingsError {
        let mut vars = vec![("STRIPE_SECRET", "whsec_x")];
        vars.extend_from_slice(extra);
        Settings::load(Some(CONFIG), env(&vars)).unwrap_err()
    }

    #[test]
    fn sqs_forwarding_settings() {
        let s = Settings::load(
            Some(CONFIG),
            env(&[
                ("STRIPE_SECRET", "whsec_x"),
                (
                    SQS_QUEUE_VAR,
                    "https://sqs.eu-west-1.amazonaws.com/123456789012/inbound",
                ),
                (
                    SQS_OUTBOUND_VAR,
                    "http://127.0.0.1:5000/123456789012/outbound",
                ),
                (REGION_VAR, "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "shh"),
                (RETRY_BASE_VAR, "2s"),
                (RETRY_MAX_VAR, "10s"),
            ]),
        )
        .unwrap();
        assert!(s.forward.queue.is_some() && s.forward.outbound.is_some());
        assert_eq!(s.forward.retry_delay(Duration::ZERO), 2);
        assert_eq!(s.forward.retry_delay(Duration::from_secs(5)), 5);
        assert_eq!(s.forward.retry_delay(Duration::from_secs(500)), 10);
        assert!(!format!("{s:?}").contains("shh"), "secrets never in Debug");
    }
}
