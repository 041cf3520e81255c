//! The CLI's one error type, and the exit codes it maps to.
//!
//! [`CliError`] is the boundary: every command returns it, and `main` prints it and exits with
//! [`CliError::exit_code`]. Each variant carries a typed payload named after the failure, so the
//! exit code is decided by what went wrong, never by which string a call site chose.

use std::path::PathBuf;
use std::process::ExitCode;

use hookline_core::config::ConfigErrors;
use hookline_core::envelope::MessageError;
use hookline_core::pattern::PatternError;
use hookline_core::time::Timestamp;
use hookline_core::verify::{KeyError, SchemeKind, SignError};

use crate::store::StoreError;

/// Exit codes, documented in `docs/cli.md`.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The command ran and found a problem (`check` found errors, `listen --exit-on-invalid`
    /// saw a bad signature, `replay` could not move every message).
    pub const PROBLEMS: u8 = 1;
    /// The command line is wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
    /// A service the command needs is unreachable (SQS, `hookline dev`) or a port is taken.
    pub const UNAVAILABLE: u8 = 69;
    /// An input or output file could not be read or written.
    pub const IO: u8 = 74;
    /// The configuration is invalid.
    pub const CONFIG: u8 = 78;
}

/// Why a command failed; each variant says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file the command needs could not be read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A configuration file is invalid (every problem listed).
    #[error("{origin} is not valid:\n{errors}")]
    InvalidConfig {
        /// Where the configuration came from (a path, or "the built-in demo").
        origin: String,
        /// Every problem, with its path in the file.
        errors: ConfigErrors,
    },
    /// The command ran and found problems, and has printed them with its verdict: nothing more
    /// to say.
    #[error("")]
    Reported,
    /// The command ran and found problems it has not printed yet.
    #[error(transparent)]
    Problems(#[from] Problems),
    /// Wrong arguments the parser could not catch.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// A messages file for `send --file` holds no valid message, or some invalid ones.
    #[error(transparent)]
    MessagesFile(#[from] MessagesFileError),
    /// SQS (or `hookline dev`, or an emulator) could not be reached or refused the request.
    #[error(transparent)]
    Sqs(#[from] SqsFailure),
    /// A socket the command serves on could not be opened.
    #[error(transparent)]
    Listen(#[from] ListenError),
    /// `hookline dev`'s queue database could not be opened or prepared.
    #[error(transparent)]
    Store(#[from] DevStoreError),
    /// `hookline log` could not read the history through the management API.
    #[error(transparent)]
    Log(#[from] crate::log::client::LogError),
    /// The sender's HTTP client could not be built (no TLS roots, for one); boxed because the
    /// CLI names no HTTP crate of its own (the sender's client is reqwest's).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) | CliError::MessagesFile(_) => exit::USAGE,
            CliError::InvalidConfig { .. } => exit::CONFIG,
            CliError::File(_) => exit::IO,
            CliError::Listen(_) | CliError::HttpClient(_) => exit::UNAVAILABLE,
            CliError::Reported | CliError::Problems(_) => exit::PROBLEMS,
            CliError::Sqs(f) => f.exit_code(),
            CliError::Log(e) => e.exit_code(),
            CliError::Store(DevStoreError::InUse { .. }) => exit::UNAVAILABLE,
            CliError::Store(_) => exit::IO,
        })
    }
}

/// Why an input file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read (`flag` is the option that named it, if any).
    #[error(
        "cannot read {}{}: {source}",
        path.display(),
        flag.map(|f| format!(" (named with {f})")).unwrap_or_default()
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The command-line option that named it.
        flag: Option<&'static str>,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{}: not UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The body file of `hookline sign --body` could not be read.
    #[error("cannot read the body file {}: {source}", path.display())]
    BodyUnreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Standard input (named with `-`) could not be read.
    #[error("cannot read {what}: {source}")]
    Stdin {
        /// What was being read, as the command calls it ("standard input", "the body from stdin").
        what: &'static str,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// A mistake in the command line that the parser cannot catch: each says how to put it right.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A `--secret` is empty (`index` counts from 1, in the order given).
    #[error("--secret #{index}: the secret is empty")]
    EmptySecret {
        /// Which `--secret`, from 1.
        index: usize,
    },
    /// A `--secret` is not a key of the scheme's kind; the message never quotes the secret.
    #[error("--secret: {source}{}", expected.map(|e| format!("; {e}")).unwrap_or_default())]
    BadSecret {
        /// Why the key was refused.
        source: KeyError,
        /// What the scheme's secrets look like, when known.
        expected: Option<&'static str>,
    },
    /// The scheme named with `--scheme` does not exist.
    #[error(
        "unknown scheme `{name}`{}; expected one of: {} (`standard` and `svix` name \
         standard-webhooks)",
        suggestion.map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default(),
        SchemeKind::names().join(", ")
    )]
    UnknownScheme {
        /// The name given.
        name: String,
        /// The closest known name, if one is close.
        suggestion: Option<&'static str>,
    },
    /// `--generic` was given for a scheme that takes no parameters.
    #[error("--generic takes the generic scheme's parameters; `{scheme}` has none")]
    GenericNotTaken {
        /// The scheme named.
        scheme: &'static str,
    },
    /// The generic scheme was named without `--generic`.
    #[error(
        "the generic scheme needs its parameters: --generic \
         '{{\"header\":\"X-Signature\",\"prefix\":\"sha256=\"}}' (the fields of hookline.toml's \
         `generic` table, as JSON)"
    )]
    GenericMissing,
    /// `--generic` is not the generic scheme's parameters as JSON.
    #[error("--generic: {0}")]
    GenericInvalid(#[source] serde_json::Error),
    /// Twilio signs the URL, and none was given.
    #[error(
        "twilio signs the URL it posts to: pass it with --url (or --curl), e.g. \
         --url https://example.com/hooks/twilio"
    )]
    TwilioNeedsUrl,
    /// The scheme needs a header that was not given.
    #[error("{0} (add it with --header 'Name: value')")]
    MissingHeader(#[source] SignError),
    /// A `--header` is not `Name: value`.
    #[error("--header `{text}`: expected `Name: value`, e.g. --header 'X-Request-Id: 42'")]
    BadHeader {
        /// The argument as given.
        text: String,
    },
    /// `send` without `--type` or `--file`.
    #[error("pass --type TYPE (or --file FILE)")]
    NoEventType,
    /// `send --data-file` is not UTF-8 text.
    #[error("--data-file {}: not UTF-8 text", path.display())]
    DataFileNotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The payload of `send` is not JSON.
    #[error(
        "{} is not valid JSON: {source}",
        data_file.as_ref().map_or_else(|| "--data".to_owned(), |p| format!("--data-file {}", p.display()))
    )]
    DataNotJson {
        /// The `--data-file` it came from, or `None` for `--data`.
        data_file: Option<PathBuf>,
        /// Where the JSON breaks.
        source: serde_json::Error,
    },
    /// The message `send` built from its options is not a valid outbound message.
    #[error("invalid message: {0}")]
    InvalidMessage(#[source] MessageError),
    /// SQS's batch entry could not be built from a message.
    #[error("cannot build the batch: {0}")]
    BatchEntry(#[source] aws_sdk_sqs::error::BuildError),
    /// A `--type` pattern of `replay` is not valid.
    #[error("--type {pattern}: {source}")]
    BadTypePattern {
        /// The pattern as given.
        pattern: String,
        /// Why it is refused.
        source: PatternError,
    },
    /// `--since` or `--until` is neither a time nor a duration.
    #[error(
        "{flag} {value}: expected an RFC 3339 time (2026-11-23T12:00:00Z) or a duration ago \
         (90s, 30m, 2h, 1d)"
    )]
    BadTime {
        /// `--since` or `--until`.
        flag: &'static str,
        /// The value as given.
        value: String,
    },
    /// `--since` is not before `--until`.
    #[error("--since ({}) must be before --until ({})", since.to_rfc3339(), until.to_rfc3339())]
    EmptyWindow {
        /// The start.
        since: Timestamp,
        /// The end.
        until: Timestamp,
    },
    /// `replay` without `--from` or `--dev`.
    #[error("pass --from DLQ_URL (the dead-letter queue) and --to QUEUE_URL, or --dev")]
    NoDeadLetterQueue,
    /// `replay`'s two queues are one.
    #[error("--from and --to are the same queue ({queue})")]
    SameQueue {
        /// The queue's URL.
        queue: String,
    },
    /// No queue's redrive policy names the dead-letter queue, so `--to` is needed.
    #[error(
        "pass --to QUEUE_URL: no queue's redrive policy names {dlq} (the sender writes dead \
         letters itself, so the outbound queue need not)"
    )]
    NoSourceQueue {
        /// The dead-letter queue's name.
        dlq: String,
    },
    /// Several queues' redrive policies name the dead-letter queue, so `--to` must choose.
    #[error(
        "pass --to QUEUE_URL: {} queues send their dead letters to {dlq}: {}",
        queues.len(),
        queues.join(", ")
    )]
    ManySourceQueues {
        /// The dead-letter queue's name.
        dlq: String,
        /// The queues that name it.
        queues: Vec<String>,
    },
    /// `send` has no queue to talk to.
    #[error(
        "no queue: pass --queue-url URL (or set {}), or --dev to use `hookline dev`",
        hookline_core::contract::sender::QUEUE_URL_VAR
    )]
    NoQueue,
    /// A URL option (or a queue URL) is not `http://` or `https://`.
    #[error("{}{url}: not an http:// or https:// URL", flag.map(|f| format!("{f} ")).unwrap_or_default())]
    NotHttpUrl {
        /// The option that gave it, or `None` for a queue URL.
        flag: Option<&'static str>,
        /// The value as given.
        url: String,
    },
    /// A queue URL has no host.
    #[error("{url}: not a valid queue URL")]
    BadQueueUrl {
        /// The value as given.
        url: String,
    },
}

/// Problems a command found while doing its work, after it has printed each one.
#[derive(Debug, thiserror::Error)]
pub enum Problems {
    /// `listen --exit-on-invalid` saw a request that failed verification.
    #[error("stopped after a request failed verification ({code}), as --exit-on-invalid asks")]
    InvalidRequest {
        /// The verification error's code.
        code: &'static str,
    },
    /// Some messages of `send` were not queued.
    #[error("{failed} of {total} messages were not queued")]
    NotQueued {
        /// How many failed.
        failed: usize,
        /// How many there were.
        total: usize,
    },
    /// Some messages of `replay` could not be moved.
    #[error("{failed} message(s) could not be moved; they are still on {queue}")]
    NotMoved {
        /// How many failed.
        failed: u64,
        /// The dead-letter queue's name.
        queue: String,
    },
    /// `replay` stopped before scanning the whole queue.
    #[error("stopped before the whole queue was scanned ({why}); run it again")]
    Incomplete {
        /// Why it stopped.
        why: Interruption,
    },
}

/// Why a scan stopped early.
#[derive(Debug, thiserror::Error)]
pub enum Interruption {
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// A request failed after some messages were scanned.
    #[error(transparent)]
    Failed(Box<CliError>),
}

/// Why a `send --file` messages file cannot be sent; nothing is sent.
#[derive(Debug, thiserror::Error)]
pub enum MessagesFileError {
    /// The file starts as a JSON array but is not one.
    #[error("{name}: {source}")]
    BadArray {
        /// The file's name.
        name: String,
        /// Where the JSON breaks.
        source: serde_json::Error,
    },
    /// The file is neither one JSON document nor JSON lines.
    #[error("{name}: neither a JSON message nor JSON lines: {source}")]
    NotJson {
        /// The file's name.
        name: String,
        /// Where the document breaks.
        source: serde_json::Error,
    },
    /// The file holds no message.
    #[error("{name}: no messages in it")]
    Empty {
        /// The file's name.
        name: String,
    },
    /// Some messages are invalid; the first [`MAX_LISTED_PROBLEMS`] are listed.
    #[error("{name}: {} invalid message(s), nothing was sent:{}", problems.len(), list_problems(problems))]
    Invalid {
        /// The file's name.
        name: String,
        /// Each invalid message: where it is (`line 3`, `item 2`) and what is wrong.
        problems: Vec<(String, MessageError)>,
    },
}

/// How many invalid messages a messages file error lists before "... and N more".
pub const MAX_LISTED_PROBLEMS: usize = 20;

fn list_problems(problems: &[(String, MessageError)]) -> String {
    let mut text = String::new();
    for (origin, e) in problems.iter().take(MAX_LISTED_PROBLEMS) {
        text.push_str(&format!("\n  {origin}: {e}"));
    }
    if problems.len() > MAX_LISTED_PROBLEMS {
        text.push_str(&format!(
            "\n  ... and {} more",
            problems.len() - MAX_LISTED_PROBLEMS
        ));
    }
    text
}

/// Why a request to SQS (or `hookline dev`, or an emulator) failed, with what to do next.
///
/// `target` is where the client points, as [`crate::sqs_target::Sqs::describe`] says it;
/// `cause` is the innermost error the SDK reported, which is what a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum SqsFailure {
    /// No region was given or configured for AWS.
    #[error("no AWS region: pass --region, set AWS_REGION, or give a full queue URL")]
    NoRegion,
    /// The endpoint could not be reached at all.
    #[error("cannot reach {target}: {cause}; {hint}")]
    Unreachable {
        /// Where the client points.
        target: String,
        /// The innermost cause.
        cause: String,
        /// What to check, for this kind of endpoint.
        hint: &'static str,
    },
    /// The request timed out.
    #[error("{op} on {queue} timed out talking to {target}; {hint}")]
    TimedOut {
        /// The SQS operation.
        op: &'static str,
        /// The queue's name.
        queue: String,
        /// Where the client points.
        target: String,
        /// What to check, for this kind of endpoint.
        hint: &'static str,
    },
    /// The AWS credential chain found nothing usable.
    #[error(
        "no usable AWS credentials (the last source tried said: {cause}); configure them \
         (`aws configure`, `aws sso login`, AWS_PROFILE or AWS_ACCESS_KEY_ID) or use --dev"
    )]
    NoCredentials {
        /// What the last credential source said.
        cause: String,
    },
    /// The endpoint answered, but not as SQS does.
    #[error(
        "{op} on {queue}: {target} sent an answer that is not SQS's ({cause}); is it an SQS endpoint?"
    )]
    NotSqs {
        /// The SQS operation.
        op: &'static str,
        /// The queue's name.
        queue: String,
        /// Where the client points.
        target: String,
        /// The innermost cause.
        cause: String,
    },
    /// The queue does not exist where the client points.
    #[error(
        "queue {queue} does not exist on {target}; {}",
        if *dev { "is that address really `hookline dev`?" } else { "check the queue URL and region" }
    )]
    QueueMissing {
        /// The queue's name.
        queue: String,
        /// Where the client points.
        target: String,
        /// True when the client points at `hookline dev`, which serves every queue it knows: a
        /// missing one means the address is something else.
        dev: bool,
    },
    /// `GetQueueUrl` answered without a URL.
    #[error("{target} returned no URL for queue {queue}")]
    NoQueueUrl {
        /// The queue's name.
        queue: String,
        /// Where the client points.
        target: String,
    },
    /// The credentials may not call the operation.
    #[error("access denied: the credentials in use may not call sqs:{op} on {queue} ({message})")]
    AccessDenied {
        /// The SQS operation.
        op: &'static str,
        /// The queue's name.
        queue: String,
        /// SQS's message.
        message: String,
    },
    /// AWS refused the credentials themselves.
    #[error(
        "AWS refused the credentials ({code}: {message}); refresh them (`aws sso login`, \
         AWS_PROFILE) and check the region"
    )]
    CredentialsRefused {
        /// SQS's error code.
        code: String,
        /// SQS's message.
        message: String,
    },
    /// SQS refused the request for another reason.
    #[error("{op} on {queue} failed: {code}: {message}")]
    Refused {
        /// The SQS operation.
        op: &'static str,
        /// The queue's name.
        queue: String,
        /// SQS's error code.
        code: String,
        /// SQS's message.
        message: String,
    },
    /// The request failed in a way the SDK does not classify further.
    #[error("{op} on {queue} failed: {cause}")]
    Failed {
        /// The SQS operation.
        op: &'static str,
        /// The queue's name.
        queue: String,
        /// The innermost cause.
        cause: String,
    },
}

impl SqsFailure {
    /// The exit code: a configuration to fix, a queue name to fix, or a service to start.
    fn exit_code(&self) -> u8 {
        match self {
            SqsFailure::NoRegion | SqsFailure::NoCredentials { .. } => exit::CONFIG,
            // `hookline dev` serves every queue it knows: a missing one there means the address
            // is not dev; elsewhere it means a wrong name.
            SqsFailure::QueueMissing { dev: false, .. } => exit::USAGE,
            _ => exit::UNAVAILABLE,
        }
    }
}

/// Why a command could not serve on its address.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// `hookline dev` could not bind its address.
    #[error(
        "cannot listen on {addr}: {source} (is another `hookline dev` running? pick another --port)"
    )]
    DevBind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The port is taken.
    #[error(
        "port {port} on {host} is already in use: stop whatever listens there, or pick another \
         port with --port"
    )]
    PortInUse {
        /// The host.
        host: String,
        /// The port.
        port: u16,
    },
    /// The address could not be bound, or read back once bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address (`host:port`).
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(#[source] std::io::Error),
}

/// Why `hookline dev`'s queue database could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub enum DevStoreError {
    /// The `--data-dir` could not be created.
    #[error("cannot create {}: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Another `hookline dev` holds the database.
    #[error(
        "{} is in use by another `hookline dev`: stop it, or give this one another --data-dir",
        path.display()
    )]
    InUse {
        /// The database file.
        path: PathBuf,
    },
    /// The database could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// The store's reason.
        source: StoreError,
    },
    /// The queues could not be created or purged.
    #[error("{}: {source}", path.display())]
    Prepare {
        /// The database file.
        path: PathBuf,
        /// The store's reason.
        source: StoreError,
    },
    /// The management API's tables could not be created in the database.
    #[error("cannot create the management API's tables in {}: {reason}", path.display())]
    ApiTables {
        /// The database file.
        path: PathBuf,
        /// The store's reason.
        reason: String,
    },
    /// The open database failed (releasing leases, starting its thread).
    #[error(transparent)]
    Failed(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_read_as_before_and_exit_74() {
        let e = CliError::from(FileError::Unreadable {
            path: PathBuf::from("deploy/prod.toml"),
            flag: Some("--wrangler"),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(
            e.to_string(),
            "cannot read deploy/prod.toml (named with --wrangler): permission denied"
        );
        assert_eq!(e.exit_code(), ExitCode::from(exit::IO));
        let e = FileError::Unreadable {
            path: PathBuf::from("hookline.toml"),
            flag: None,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(e.to_string(), "cannot read hookline.toml: entity not found");
        let e = CliError::from(FileError::NotUtf8 {
            path: PathBuf::from("template.yaml"),
        });
        assert_eq!(e.to_string(), "template.yaml: not UTF-8 text");
    }

    #[test]
    fn each_failure_keeps_its_text_and_exit_code() {
        let io = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let cases: Vec<(CliError, &str, u8)> = vec![
            (
                UsageError::EmptySecret { index: 2 }.into(),
                "--secret #2: the secret is empty",
                exit::USAGE,
            ),
            (
                UsageError::NotHttpUrl {
                    flag: Some("--dev-url"),
                    url: "x".into(),
                }
                .into(),
                "--dev-url x: not an http:// or https:// URL",
                exit::USAGE,
            ),
            (
                UsageError::NotHttpUrl {
                    flag: None,
                    url: "x".into(),
                }
                .into(),
                "x: not an http:// or https:// URL",
                exit::USAGE,
            ),
            (
                UsageError::NoQueue.into(),
                "no queue: pass --queue-url URL (or set HOOKLINE_QUEUE_URL), or --dev to use \
                 `hookline dev`",
                exit::USAGE,
            ),
            (
                UsageError::ManySourceQueues {
                    dlq: "d".into(),
                    queues: vec!["a".into(), "b".into()],
                }
                .into(),
                "pass --to QUEUE_URL: 2 queues send their dead letters to d: a, b",
                exit::USAGE,
            ),
            (
                SqsFailure::NoRegion.into(),
                "no AWS region: pass --region, set AWS_REGION, or give a full queue URL",
                exit::CONFIG,
            ),
            (
                SqsFailure::QueueMissing {
                    queue: "q".into(),
                    target: "SQS".into(),
                    dev: false,
                }
                .into(),
                "queue q does not exist on SQS; check the queue URL and region",
                exit::USAGE,
            ),
            (
                SqsFailure::QueueMissing {
                    queue: "q".into(),
                    target: "`hookline dev` at http://h".into(),
                    dev: true,
                }
                .into(),
                "queue q does not exist on `hookline dev` at http://h; is that address really \
                 `hookline dev`?",
                exit::UNAVAILABLE,
            ),
            (
                SqsFailure::Refused {
                    op: "SendMessage",
                    queue: "q".into(),
                    code: "Throttled".into(),
                    message: "slow down".into(),
                }
                .into(),
                "SendMessage on q failed: Throttled: slow down",
                exit::UNAVAILABLE,
            ),
            (
                ListenError::PortInUse {
                    host: "127.0.0.1".into(),
                    port: 9,
                }
                .into(),
                "port 9 on 127.0.0.1 is already in use: stop whatever listens there, or pick \
                 another port with --port",
                exit::UNAVAILABLE,
            ),
            (
                DevStoreError::InUse {
                    path: PathBuf::from("d/dev.sqlite3"),
                }
                .into(),
                "d/dev.sqlite3 is in use by another `hookline dev`: stop it, or give this one \
                 another --data-dir",
                exit::UNAVAILABLE,
            ),
            (
                DevStoreError::CreateDir {
                    dir: PathBuf::from("d"),
                    source: io(),
                }
                .into(),
                "cannot create d: address in use",
                exit::IO,
            ),
            (
                FileError::Stdin {
                    what: "standard input",
                    source: io(),
                }
                .into(),
                "cannot read standard input: address in use",
                exit::IO,
            ),
            (
                Problems::NotQueued {
                    failed: 1,
                    total: 3,
                }
                .into(),
                "1 of 3 messages were not queued",
                exit::PROBLEMS,
            ),
            (
                Problems::Incomplete {
                    why: Interruption::Failed(Box::new(SqsFailure::NoRegion.into())),
                }
                .into(),
                "stopped before the whole queue was scanned (no AWS region: pass --region, set \
                 AWS_REGION, or give a full queue URL); run it again",
                exit::PROBLEMS,
            ),
        ];
        for (e, text, code) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(e.exit_code(), ExitCode::from(code), "{text}");
        }
    }

    #[test]
    fn a_messages_file_lists_the_first_problems_and_counts_the_rest() {
        let bad = hookline_core::envelope::OutboundMessage::from_json(b"{\"data\":1}").unwrap_err();
        let problems = (1..=MAX_LISTED_PROBLEMS + 2)
            .map(|i| (format!("line {i}"), bad.clone()))
            .collect();
        let e = CliError::from(MessagesFileError::Invalid {
            name: "f.jsonl".into(),
            problems,
        });
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some("f.jsonl: 22 invalid message(s), nothing was sent:")
        );
        assert_eq!(lines.len(), 1 + MAX_LISTED_PROBLEMS + 1, "{text}");
        assert_eq!(lines.last().copied(), Some("  ... and 2 more"));
        assert!(lines.contains(&"  line 20: type: missing"), "{text}");
        assert!(!text.contains("line 21:"), "{text}");
        assert_eq!(e.exit_code(), ExitCode::from(exit::USAGE));
    }

    #[test]
    fn reported_problems_say_nothing_more_and_exit_1() {
        assert_eq!(CliError::Reported.to_string(), "");
        assert_eq!(
            CliError::Reported.exit_code(),
            ExitCode::from(exit::PROBLEMS)
        );
    }

    #[test]
    fn invalid_config_lists_every_problem_and_exits_78() {
        let errors = hookline_core::config::Config::from_toml("[sources.x]\nscheme = \"nope\"\n")
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(!errors.is_empty());
        let e = CliError::InvalidConfig {
            origin: "hookline.toml".to_owned(),
            errors: ConfigErrors(errors),
        };
        assert!(
            e.to_string().starts_with("hookline.toml is not valid:\n"),
            "{e}"
        );
        assert_eq!(e.exit_code(), ExitCode::from(exit::CONFIG));
    }
}
