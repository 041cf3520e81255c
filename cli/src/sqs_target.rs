//! Where `send` and `replay` talk to: real SQS, an SQS-compatible emulator (moto, LocalStack) or
//! `hookline dev`, all through the one `aws-sdk-sqs` client.
//!
//! `hookline dev` speaks the SQS JSON protocol, so the commands have a single implementation;
//! this module only decides how the client is configured and turns SDK errors into messages that
//! say what to do next.
//!
//! - `--dev`: the client talks to `--dev-url` with dummy credentials (dev accepts any), region
//!   `us-east-1`, and queues are looked up by name.
//! - A queue URL (or `--endpoint-url`) whose host is not AWS's (loopback, LocalStack...): the
//!   client talks to that origin with dummy credentials (or `AWS_ACCESS_KEY_ID` and
//!   `AWS_SECRET_ACCESS_KEY` when both are set, for emulators that check signatures).
//! - Otherwise: the usual AWS chain (`AWS_PROFILE`, SSO, environment, instance role...), the region
//!   taken from `--region`, else from the queue URL, else from the environment.

use std::fmt::Debug;
use std::net::IpAddr;

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

// The sender's own variable for the outbound queue; read by hand (not by clap's `env`) so that
// `--dev` ignores it.
use hookline_core::contract::sender::QUEUE_URL_VAR;

use crate::CliError;
use crate::error::{SqsFailure, UsageError};

/// The address `hookline dev` listens on by default.
pub const DEFAULT_DEV_URL: &str = "http://127.0.0.1:8787";
/// The region used when talking to `hookline dev` or an emulator and none is given.
pub const LOCAL_REGION: &str = "us-east-1";

/// The queues `hookline dev` serves.
pub mod dev_queue {
    /// Apps' outbound messages.
    pub const OUTBOUND: &str = "hookline-outbound";
    /// Dead-lettered deliveries.
    pub const OUTBOUND_DLQ: &str = "hookline-outbound-dlq";
    /// Verified inbound webhooks (sources with `destination = "queue"`).
    pub const INBOUND: &str = "hookline-inbound";
    /// Inbound envelopes no consumer could take.
    pub const INBOUND_DLQ: &str = "hookline-inbound-dlq";
}

/// How to reach SQS: real AWS, an emulator, or `hookline dev`.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// Use the queues of a running `hookline dev` (see --dev-url).
    #[arg(long)]
    pub dev: bool,
    /// Where `hookline dev` listens.
    #[arg(long, value_name = "URL", env = "HOOKLINE_DEV_URL", default_value = DEFAULT_DEV_URL)]
    pub dev_url: String,
    /// A custom SQS endpoint (moto, LocalStack, a VPC endpoint).
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_SQS")]
    pub endpoint_url: Option<String>,
    /// The AWS region (default: from the queue URL, else AWS_REGION / the profile).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// A connection plus one queue: what `hookline send` needs.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The queue's URL, or its name to look up [env: HOOKLINE_QUEUE_URL, not read with --dev].
    /// With --dev the default is hookline-outbound.
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
    /// How to reach SQS.
    #[command(flatten)]
    pub conn: Connection,
}

impl Target {
    /// Connects and resolves the queue: `--queue-url`, else (with `--dev`) `dev_default`, else
    /// `HOOKLINE_QUEUE_URL`. Returns the client and the queue URL.
    pub async fn open(&self, dev_default: &str) -> Result<(Sqs, String), CliError> {
        let env = std::env::var(QUEUE_URL_VAR).ok();
        let spec = pick_queue(
            self.queue_url.as_deref(),
            self.conn.dev,
            dev_default,
            env.as_deref(),
        )?;
        let sqs = Sqs::connect(&self.conn, Some(&spec)).await?;
        let url = sqs.queue_url(&spec).await?;
        Ok((sqs, url))
    }
}

/// Which queue a command means: the flag, else dev's default, else the environment.
fn pick_queue(
    flag: Option<&str>,
    dev: bool,
    dev_default: &str,
    env: Option<&str>,
) -> Result<String, CliError> {
    match (flag.filter(|s| !s.is_empty()), dev) {
        (Some(q), _) => Ok(q.to_owned()),
        (None, true) => Ok(dev_default.to_owned()),
        (None, false) => env
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| UsageError::NoQueue.into()),
    }
}

/// Where the client sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `hookline dev` at this URL.
    Dev(String),
    /// An SQS-compatible emulator at this URL.
    Local(String),
    /// AWS itself (optionally through a custom endpoint).
    Aws {
        /// The region requests are signed for.
        region: Option<String>,
        /// `--endpoint-url`, if given.
        endpoint: Option<String>,
    },
}

/// An SQS client and where it points, for error messages.
#[derive(Debug, Clone)]
pub struct Sqs {
    /// The client.
    pub client: aws_sdk_sqs::Client,
    /// Where it points.
    pub mode: Mode,
}

/// True for AWS's own SQS host names (commercial, China, GovCloud, ISO, dual-stack, VPC).
pub fn is_aws_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    [
        ".amazonaws.com",
        ".amazonaws.com.cn",
        ".amazonaws.eu",
        ".api.aws",
        ".c2s.ic.gov",
        ".sc2s.sgov.gov",
    ]
    .iter()
    .any(|suffix| host.ends_with(suffix))
}

/// True for `localhost`, `*.localhost` and loopback addresses.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.ends_with(".localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The region an AWS queue URL names: `sqs.<region>.amazonaws.com`,
/// `<region>.queue.amazonaws.com`, a VPC endpoint's `...sqs.<region>.vpce...`; the legacy
/// `queue.amazonaws.com` is `us-east-1`.
pub fn region_from_host(host: &str) -> Option<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "queue.amazonaws.com" {
        return Some("us-east-1".to_owned());
    }
    let labels: Vec<&str> = host.split('.').collect();
    labels
        .iter()
        .find(|l| looks_like_region(l))
        .map(|l| (*l).to_owned())
}

/// `us-east-1`, `cn-north-1`, `us-gov-west-1`, `eu-isoe-west-1`: letters-dashes-digit.
fn looks_like_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    parts.len() >= 3
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && parts
            .iter()
            .rev()
            .skip(1)
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// `scheme://host[:port]` of a URL, if it is one.
pub fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
}

/// True when `spec` is a URL rather than a queue name.
pub fn is_url(spec: &str) -> bool {
    spec.contains("://")
}

/// The queue name at the end of a queue URL (or the name itself).
pub fn queue_name(spec: &str) -> &str {
    spec.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(spec)
}

/// Decides the mode from the options and a queue URL (or name) the command will use.
pub fn decide_mode(conn: &Connection, queue: Option<&str>) -> Result<Mode, CliError> {
    if conn.dev {
        let url = origin(&conn.dev_url).ok_or_else(|| UsageError::NotHttpUrl {
            flag: Some("--dev-url"),
            url: conn.dev_url.clone(),
        })?;
        return Ok(Mode::Dev(url));
    }
    if let Some(endpoint) = conn.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
        let url = origin(endpoint).ok_or_else(|| UsageError::NotHttpUrl {
            flag: Some("--endpoint-url"),
            url: endpoint.to_owned(),
        })?;
        let host = host_of(&url).unwrap_or_default();
        if is_aws_host(&host) {
            return Ok(Mode::Aws {
                region: conn.region.clone().or_else(|| region_from_host(&host)),
                endpoint: Some(endpoint.to_owned()),
            });
        }
        return Ok(Mode::Local(endpoint.trim_end_matches('/').to_owned()));
    }
    let queue_host = queue
        .filter(|q| is_url(q))
        .map(|q| host_of(q).ok_or_else(|| UsageError::BadQueueUrl { url: q.to_owned() }));
    match queue_host.transpose()? {
        Some(host) if !is_aws_host(&host) => {
            let url = queue
                .and_then(origin)
                .ok_or_else(|| UsageError::NotHttpUrl {
                    flag: None,
                    url: queue.unwrap_or_default().to_owned(),
                })?;
            Ok(Mode::Local(url))
        }
        Some(host) => Ok(Mode::Aws {
            region: conn.region.clone().or_else(|| region_from_host(&host)),
            endpoint: None,
        }),
        None => Ok(Mode::Aws {
            region: conn.region.clone(),
            endpoint: None,
        }),
    }
}

impl Sqs {
    /// Builds the client for `conn`; `queue` (a URL or name the command will use) picks between
    /// an emulator and AWS when neither `--dev` nor `--endpoint-url` says.
    pub async fn connect(conn: &Connection, queue: Option<&str>) -> Result<Sqs, CliError> {
        let mode = decide_mode(conn, queue)?;
        let client = match &mode {
            Mode::Dev(url) => local_client(url, conn.region.as_deref(), false),
            Mode::Local(url) => local_client(url, conn.region.as_deref(), true),
            Mode::Aws { region, endpoint } => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(region) = region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(endpoint) = endpoint {
                    loader = loader.endpoint_url(endpoint.clone());
                }
                let config = loader.load().await;
                if config.region().is_none() {
                    return Err(SqsFailure::NoRegion.into());
                }
                aws_sdk_sqs::Client::new(&config)
            }
        };
        Ok(Sqs { client, mode })
    }

    /// Where requests go, for messages.
    pub fn describe(&self) -> String {
        match &self.mode {
            Mode::Dev(url) => format!("`hookline dev` at {url}"),
            Mode::Local(url) => format!("the SQS endpoint {url}"),
            Mode::Aws {
                endpoint: Some(e), ..
            } => format!("SQS at {e}"),
            Mode::Aws {
                region: Some(r), ..
            } => format!("SQS in {r}"),
            Mode::Aws { .. } => "SQS".to_owned(),
        }
    }

    /// A queue URL for `spec`: a URL as is, a name looked up with `GetQueueUrl`.
    pub async fn queue_url(&self, spec: &str) -> Result<String, CliError> {
        if is_url(spec) {
            return Ok(spec.to_owned());
        }
        match self.client.get_queue_url().queue_name(spec).send().await {
            Ok(out) => out.queue_url().map(str::to_owned).ok_or_else(|| {
                SqsFailure::NoQueueUrl {
                    queue: spec.to_owned(),
                    target: self.describe(),
                }
                .into()
            }),
            Err(e) => Err(self.error("GetQueueUrl", spec, &e)),
        }
    }

    /// Turns an SDK error of operation `op` on `queue` into a message that says what to do.
    pub fn error<E, R>(&self, op: &'static str, queue: &str, err: &SdkError<E, R>) -> CliError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: Debug + 'static,
    {
        let detail = DisplayErrorContext(err).to_string();
        let queue = queue_name(queue).to_owned();
        let failure = match err {
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                SqsFailure::Unreachable {
                    target: self.describe(),
                    cause: root_cause(err),
                    hint: self.unreachable_hint(),
                }
            }
            SdkError::TimeoutError(_) => SqsFailure::TimedOut {
                op,
                queue,
                target: self.describe(),
                hint: self.unreachable_hint(),
            },
            SdkError::DispatchFailure(_) if detail.to_ascii_lowercase().contains("credential") => {
                SqsFailure::NoCredentials {
                    cause: root_cause(err),
                }
            }
            SdkError::ServiceError(_) => {
                let code = err.code().unwrap_or("unknown");
                let message = err.message().unwrap_or("");
                self.service_error(op, queue, code, message)
            }
            SdkError::ResponseError(_) => SqsFailure::NotSqs {
                op,
                queue,
                target: self.describe(),
                cause: root_cause(err),
            },
            _ => SqsFailure::Failed {
                op,
                queue,
                cause: root_cause(err),
            },
        };
        failure.into()
    }

    fn service_error(
        &self,
        op: &'static str,
        queue: String,
        code: &str,
        message: &str,
    ) -> SqsFailure {
        match code {
            c if hookline_sqs::json::is_queue_missing(c) => SqsFailure::QueueMissing {
                queue,
                target: self.describe(),
                dev: matches!(self.mode, Mode::Dev(_)),
            },
            "AccessDenied" | "AccessDeniedException" | "AuthorizationError" => {
                SqsFailure::AccessDenied {
                    op,
                    queue,
                    message: message.to_owned(),
                }
            }
            "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "ExpiredToken"
            | "InvalidSecurity"
            | "MissingAuthenticationToken" => SqsFailure::CredentialsRefused {
                code: code.to_owned(),
                message: message.to_owned(),
            },
            _ => SqsFailure::Refused {
                op,
                queue,
                code: code.to_owned(),
                message: message.to_owned(),
            },
        }
    }

    fn unreachable_hint(&self) -> &'static str {
        match self.mode {
            Mode::Dev(_) => "is `hookline dev` running? (start it, or point --dev-url at it)",
            Mode::Local(_) => "is the SQS emulator running at that address?",
            Mode::Aws { .. } => "check the network, the region and --endpoint-url",
        }
    }
}

/// The innermost cause of an error, which is what a person can act on ("Connection refused",
/// "no credentials in the environment"); the outer layers only say which SDK stage failed.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    let mut text = current.to_string();
    while let Some(next) = current.source() {
        current = next;
        let t = current.to_string();
        if !t.trim().is_empty() {
            text = t;
        }
    }
    text
}

/// A client for an SQS endpoint that is not AWS's (`hookline dev`, moto, LocalStack): dummy
/// credentials, or `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` when `env_credentials` and both
/// are set; `us-east-1` unless `region` says otherwise.
pub fn local_client(
    endpoint: &str,
    region: Option<&str>,
    env_credentials: bool,
) -> aws_sdk_sqs::Client {
    // Built from the SDK's own config alone: no profile file or credential chain is read, so a
    // laptop with no AWS set-up works, and nothing meant for AWS is sent to an emulator.
    let credentials = match (
        env_credentials,
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (true, Ok(key), Ok(secret)) if !key.is_empty() && !secret.is_empty() => Credentials::new(
            key,
            secret,
            std::env::var("AWS_SESSION_TOKEN").ok(),
            None,
            "environment",
        ),
        _ => Credentials::new("hookline", "hookline", None, None, "hookline-dev"),
    };
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.unwrap_or(LOCAL_REGION).to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection {
            dev: false,
            dev_url: DEFAULT_DEV_URL.into(),
            endpoint_url: None,
            region: None,
        }
    }

    #[test]
    fn aws_hosts_are_recognised() {
        assert!(is_aws_host("sqs.us-east-1.amazonaws.com"));
        assert!(is_aws_host("sqs.cn-north-1.amazonaws.com.cn"));
        assert!(is_aws_host("sqs.us-east-1.api.aws"));
        assert!(!is_aws_host("127.0.0.1"));
        assert!(!is_aws_host("sqs.us-east-1.localhost.localstack.cloud"));
        assert!(!is_aws_host("amazonaws.com.evil.example"));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("127.8.0.1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("sqs.localhost"));
        assert!(!is_loopback_host("10.0.0.1"));
    }

    #[test]
    fn region_comes_from_the_queue_host() {
        assert_eq!(
            region_from_host("sqs.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_host("us-gov-west-1.queue.amazonaws.com").as_deref(),
            Some("us-gov-west-1")
        );
        assert_eq!(
            region_from_host("queue.amazonaws.com").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            region_from_host("vpce-0abc-xyz.sqs.ap-southeast-2.vpce.amazonaws.com").as_deref(),
            Some("ap-southeast-2")
        );
        assert_eq!(region_from_host("127.0.0.1"), None);
    }

    #[test]
    fn dev_mode_uses_the_dev_url() {
        let c = Connection {
            dev: true,
            ..conn()
        };
        assert_eq!(
            decide_mode(&c, Some("hookline-outbound")).unwrap(),
            Mode::Dev("http://127.0.0.1:8787".into())
        );
    }

    #[test]
    fn urls_that_are_not_http_are_usage_errors_naming_their_flag() {
        let dev = Connection {
            dev: true,
            dev_url: "not a url".into(),
            ..conn()
        };
        let endpoint = Connection {
            endpoint_url: Some("ftp://x".into()),
            ..conn()
        };
        for (bad, queue, flag) in [
            (dev, None, Some("--dev-url")),
            (endpoint, None, Some("--endpoint-url")),
            (conn(), Some("ftp://h/1/q"), None),
        ] {
            let r = decide_mode(&bad, queue);
            assert!(
                matches!(&r, Err(CliError::Usage(UsageError::NotHttpUrl { flag: f, .. })) if *f == flag),
                "{r:?}"
            );
        }
    }

    #[test]
    fn loopback_queue_urls_talk_to_their_origin() {
        assert_eq!(
            decide_mode(&conn(), Some("http://127.0.0.1:4566/000000000000/q")).unwrap(),
            Mode::Local("http://127.0.0.1:4566".into())
        );
        assert_eq!(
            decide_mode(
                &conn(),
                Some("http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/q")
            )
            .unwrap(),
            Mode::Local("http://sqs.us-east-1.localhost.localstack.cloud:4566".into())
        );
    }

    #[test]
    fn aws_queue_urls_use_the_aws_chain_and_their_region() {
        assert_eq!(
            decide_mode(
                &conn(),
                Some("https://sqs.eu-west-1.amazonaws.com/123456789012/hookline-outbound")
            )
            .unwrap(),
            Mode::Aws {
                region: Some("eu-west-1".into()),
                endpoint: None
            }
        );
        let with_region = Connection {
            region: Some("us-west-2".into()),
            ..conn()
        };
        assert_eq!(
            decide_mode(&with_region, Some("hookline-outbound")).unwrap(),
            Mode::Aws {
                region: Some("us-west-2".into()),
                endpoint: None
            }
        );
    }

    #[test]
    fn endpoint_url_wins_over_the_queue_host() {
        let c = Connection {
            endpoint_url: Some("http://127.0.0.1:5000/".into()),
            ..conn()
        };
        assert_eq!(
            decide_mode(&c, Some("https://sqs.eu-west-1.amazonaws.com/1/q")).unwrap(),
            Mode::Local("http://127.0.0.1:5000".into())
        );
    }

    #[test]
    fn the_queue_comes_from_flag_then_dev_then_env() {
        assert_eq!(
            pick_queue(Some("q"), true, "d", Some("e")).unwrap(),
            "q".to_owned()
        );
        assert_eq!(pick_queue(None, true, "d", Some("e")).unwrap(), "d");
        assert_eq!(pick_queue(None, false, "d", Some("e")).unwrap(), "e");
        assert!(matches!(
            pick_queue(None, false, "d", None),
            Err(CliError::Usage(UsageError::NoQueue))
        ));
    }

    #[test]
    fn queue_names_come_from_urls() {
        assert_eq!(
            queue_name("http://127.0.0.1:8787/000000000000/hookline-outbound"),
            "hookline-outbound"
        );
        assert_eq!(queue_name("hookline-outbound"), "hookline-outbound");
        assert!(is_url("https://x/1/q"));
        assert!(!is_url("q"));
    }
}
