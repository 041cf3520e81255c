//! I/O-free SQS `SendMessageBatch` over the AWS JSON 1.0 protocol, signed with SigV4.
//!
//! Nothing here performs I/O or reads the clock: the caller passes the current Unix time
//! (in a Worker, `Date.now() / 1000`), sends the returned [`HttpRequest`] with its own HTTP
//! client (the Workers `fetch` API) and hands the status and body back to
//! [`parse_send_message_batch`]. That keeps the module usable on `wasm32-unknown-unknown`, where
//! `SystemTime::now()` panics.
//!
//! Protocol facts used here (AWS SQS developer guide, "Making query API requests using AWS JSON
//! protocol" and "Interpreting Amazon SQS JSON API responses"):
//! - requests are `POST /` to the endpoint with `X-Amz-Target: AmazonSQS.<Operation>` and
//!   `Content-Type: application/x-amz-json-1.0`, the input as a JSON object;
//! - errors carry `"__type": "com.amazonaws.sqs#QueueDoesNotExist"` plus a `message` in the body,
//!   and the legacy query-protocol code in the `x-amzn-query-error` header
//!   (`AWS.SimpleQueueService.NonExistentQueue;Sender`).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use hookline_core::time::Timestamp;
use md5::{Digest, Md5};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Most entries one `SendMessageBatch` call may carry (the core's one definition).
pub const MAX_BATCH_ENTRIES: usize = hookline_core::envelope::MAX_SQS_BATCH_ENTRIES;
/// Byte limit this module enforces on a batch: message bodies plus, for each message attribute,
/// its name, data type and value (all as UTF-8). The core's [`MAX_SQS_MESSAGE_BYTES`], the
/// long-standing SQS limit every queue accepts; AWS has since documented 1 MiB, but a queue's
/// `MaximumMessageSize` may still be lower, so the forwarder stays at the conservative value.
///
/// [`MAX_SQS_MESSAGE_BYTES`]: hookline_core::envelope::MAX_SQS_MESSAGE_BYTES
pub const MAX_BATCH_BYTES: usize = hookline_core::envelope::MAX_SQS_MESSAGE_BYTES;
/// Longest accepted entry id.
pub const MAX_ENTRY_ID_LEN: usize = 80;

const SERVICE: &str = "sqs";
const SIGV4_ALGORITHM: &str = "AWS4-HMAC-SHA256";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_SEND_MESSAGE_BATCH: &str = "AmazonSQS.SendMessageBatch";
const STRING_DATA_TYPE: &str = "String";
/// 9999-12-31T23:59:59Z. Later times cannot be formatted as a SigV4 date (four-digit years), so
/// they are refused up front.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;
/// Longest server-provided error message kept in an [`SqsError::Api`].
const MAX_ERROR_MESSAGE_CHARS: usize = 1024;
/// Transport-type byte for string values in the SQS message-attribute MD5 digest.
const STRING_TRANSPORT_TYPE: u8 = 1;

/// Failure code given to a sent entry whose MD5 digests in the response do not match.
pub const CODE_MD5_MISMATCH: &str = "MD5Mismatch";
/// Failure code given to a sent entry that the response lists neither as successful nor failed.
pub const CODE_MISSING_FROM_RESPONSE: &str = "MissingFromResponse";

/// Codes (the part after `#` in `__type`, or a segment of the query-protocol code) that mean
/// "slow down and try again".
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "KmsThrottled",
    "PriorRequestNotComplete",
];
/// Codes that signal a transient failure even though the status is 4xx.
const TRANSIENT_CODES: &[&str] = &["RequestTimeout", "RequestTimeoutException"];

/// AWS credentials used to sign requests.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (`AKIA…`, or `ASIA…` for temporary credentials).
    pub access_key_id: String,
    /// Secret access key. Never printed.
    pub secret_access_key: String,
    /// Session token of temporary credentials. Never printed.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// A queue: its URL (sent as `QueueUrl`, and whose origin receives the request) and the region
/// requests to it are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// `https://sqs.<region>.amazonaws.com/<account>/<name>` (or a loopback URL for tests).
    pub url: String,
    /// Signing region, e.g. `us-east-1`.
    pub region: String,
}

/// One message of a batch. Attributes are sent with `DataType: String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Batch-unique id, `[A-Za-z0-9_-]{1,80}`.
    pub id: String,
    /// Message body.
    pub body: String,
    /// String message attributes, `(name, value)`; names must be unique within the entry.
    pub attributes: Vec<(String, String)>,
    /// `MessageGroupId` (FIFO queues; fair queues on standard ones).
    pub group_id: Option<String>,
    /// `MessageDeduplicationId` (FIFO queues without content-based deduplication).
    pub dedup_id: Option<String>,
}

impl Entry {
    /// An entry with no attributes, group id or deduplication id.
    pub fn new(id: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            body: body.into(),
            attributes: Vec::new(),
            group_id: None,
            dedup_id: None,
        }
    }

    /// Size SQS counts against the message size limit: the body plus, for each attribute, its
    /// name, data type and value, in UTF-8 bytes.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        self.attributes
            .iter()
            .fold(self.body.len(), |acc, (name, value)| {
                acc.saturating_add(name.len())
                    .saturating_add(STRING_DATA_TYPE.len())
                    .saturating_add(value.len())
            })
    }
}

/// An HTTP request for the caller to send (e.g. with the Workers `fetch` API).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Always `POST`.
    pub method: &'static str,
    /// The queue URL's origin followed by `/`, e.g. `https://sqs.us-east-1.amazonaws.com/`.
    pub url: String,
    /// Headers to send as-is (lower-case names). `Host` and `Content-Length` are left to the
    /// HTTP client; the signature covers `host` as derived from `url`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of the first header named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("x-amz-security-token")
                    || n.eq_ignore_ascii_case("authorization")
                {
                    (n.as_str(), "** redacted **")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The per-entry result of a `SendMessageBatch` call. Every id that was sent appears exactly once,
/// in `successful` or in `failed`, in the order the entries were sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Ids SQS accepted and whose MD5 digests matched what was sent.
    pub successful: Vec<String>,
    /// Everything else.
    pub failed: Vec<Failure>,
}

/// Why one entry of a batch was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The entry id.
    pub id: String,
    /// SQS's code (e.g. `InvalidParameterValue`), or [`CODE_MD5_MISMATCH`] /
    /// [`CODE_MISSING_FROM_RESPONSE`] for failures detected here.
    pub code: String,
    /// True when SQS says the entry itself is at fault (resending it unchanged will fail again).
    pub sender_fault: bool,
    /// Human-readable detail.
    pub message: String,
}

/// Errors of this module. `Display` never includes credentials or the queue URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqsError {
    /// The queue URL is not one this module accepts.
    #[error("invalid queue URL: {0}")]
    InvalidQueueUrl(&'static str),
    /// The URL's host does not name a region and no region was given.
    #[error("the queue URL does not name a region; a region override is required")]
    RegionRequired,
    /// The region is not of the form `[a-z0-9-]+`.
    #[error("invalid region")]
    InvalidRegion,
    /// The credentials cannot be used (empty, or characters not allowed in a header).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// A batch must hold 1 to 10 entries.
    #[error("a batch must hold 1 to {MAX_BATCH_ENTRIES} entries, not {0}")]
    BatchSize(usize),
    /// An entry id is empty, too long or has characters outside `[A-Za-z0-9_-]`.
    #[error("entry #{index} has an invalid id (1 to {MAX_ENTRY_ID_LEN} of [A-Za-z0-9_-])")]
    InvalidEntryId {
        /// Position of the entry in the batch.
        index: usize,
    },
    /// Two entries share an id.
    #[error("entry id {0:?} appears more than once in the batch")]
    DuplicateEntryId(String),
    /// An entry has two attributes with the same name.
    #[error("entry {id:?} has more than one attribute named {name:?}")]
    DuplicateAttribute {
        /// The entry id.
        id: String,
        /// The repeated attribute name.
        name: String,
    },
    /// The batch is over [`MAX_BATCH_BYTES`].
    #[error("the batch is {size} bytes, over the {max}-byte limit")]
    BatchTooLarge {
        /// Counted size (see [`Entry::size_bytes`]).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The timestamp is past year 9999.
    #[error("timestamp out of range")]
    InvalidTime,
    /// The request could not be built or signed.
    #[error("could not build the request: {0}")]
    Request(String),
    /// A 2xx response whose body is not a `SendMessageBatch` result. The entries' fate is
    /// unknown: treat them all as failed (and retryable).
    #[error("unreadable SendMessageBatch response (HTTP {status}): {reason}")]
    InvalidResponse {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
    },
    /// SQS refused the whole call.
    #[error("SQS error {code} (HTTP {status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Error code: the part of `__type` after `#`, else the query-protocol code.
        code: String,
        /// Server's message.
        message: String,
        /// True for 5xx, 429, throttling and transient codes.
        retryable: bool,
    },
}

impl SqsError {
    /// Whether sending the same batch again later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            SqsError::Api { retryable, .. } => *retryable,
            SqsError::InvalidResponse { .. } => true,
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queue URL parsing
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    /// `sqs.<region>.amazonaws.com`, `sqs.<region>.amazonaws.com.cn`,
    /// `sqs-fips.<region>.amazonaws.com`: the region is in the name.
    AwsRegional,
    /// `127.0.0.1` or `localhost`: tests only, http allowed, region must be given.
    Loopback,
    /// Any other https host (VPC endpoint, legacy `queue.amazonaws.com`): region must be given.
    Other,
}

#[derive(Debug)]
struct UrlParts<'a> {
    /// `https://host[:port]` exactly as given.
    origin: &'a str,
    /// Region named by the host, for [`HostKind::AwsRegional`].
    host_region: Option<&'a str>,
}

fn parse_url(url: &str) -> Result<UrlParts<'_>, SqsError> {
    let bad = SqsError::InvalidQueueUrl;
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("only printable ASCII without spaces is allowed"));
    }
    if url.contains('#') {
        return Err(bad("fragments are not allowed"));
    }
    if url.contains('?') {
        return Err(bad("query strings are not allowed"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(bad("expected scheme://host/account/name"))?;
    let https = match scheme {
        "https" => true,
        "http" => false,
        _ => return Err(bad("the scheme must be https (or http for loopback)")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i), rest.get(i..)),
        None => (None, None),
    };
    let authority = authority.ok_or(bad("expected a path /account/name"))?;
    let path = path.ok_or(bad("expected a path /account/name"))?;
    if authority.contains('@') {
        return Err(bad("user info is not allowed"));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !ok {
            return Err(bad("invalid port"));
        }
    }
    if !is_valid_host(host) {
        return Err(bad("the host must be a lower-case DNS name or 127.0.0.1"));
    }

    let mut segments = path.split('/');
    let (empty, account, name, extra) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    );
    if empty != Some("") || extra.is_some() {
        return Err(bad("the path must be exactly /account/name"));
    }
    if !account.is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad("the account id must be 12 digits"));
    }
    if !name.is_some_and(is_valid_queue_name) {
        return Err(bad("invalid queue name"));
    }

    let (kind, host_region) = if host == "127.0.0.1" || host == "localhost" {
        (HostKind::Loopback, None)
    } else if let Some(region) = aws_host_region(host) {
        (HostKind::AwsRegional, Some(region))
    } else {
        (HostKind::Other, None)
    };
    if !https && kind != HostKind::Loopback {
        return Err(bad("the scheme must be https (or http for loopback)"));
    }
    let origin_len = scheme
        .len()
        .saturating_add(3)
        .saturating_add(authority.len());
    let origin = url.get(..origin_len).ok_or(bad("malformed URL"))?;
    Ok(UrlParts {
        origin,
        host_region,
    })
}

fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn aws_host_region(host: &str) -> Option<&str> {
    let rest = host
        .strip_prefix("sqs.")
        .or_else(|| host.strip_prefix("sqs-fips."))?;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    is_valid_region(region).then_some(region)
}

fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-')
}

fn is_valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    name.len() <= 80 && is_valid_id_chars(base)
}

fn is_valid_id_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_valid_entry_id(id: &str) -> bool {
    id.len() <= MAX_ENTRY_ID_LEN && is_valid_id_chars(id)
}

impl Queue {
    /// Checks a queue URL and works out the signing region.
    ///
    /// Accepted:
    /// - `https://sqs.<region>.amazonaws.com/<12-digit account>/<name>` (also `.amazonaws.com.cn`
    ///   and `sqs-fips.`): the region is taken from the host unless `region_override` is given;
    /// - `http(s)://127.0.0.1[:port]/…` and `http(s)://localhost[:port]/…` for local testing,
    ///   with `region_override` required;
    /// - any other lower-case https host (e.g. a VPC endpoint) with `region_override` required.
    ///
    /// Rejected: other schemes, plain http to anything but loopback, user info, query strings,
    /// fragments, upper-case hosts (the Workers `fetch` lower-cases the `Host` it sends, which
    /// would no longer match the signature), paths other than `/<account>/<name>`.
    pub fn parse(url: &str, region_override: Option<&str>) -> Result<Queue, SqsError> {
        let parts = parse_url(url)?;
        let region = region_override
            .or(parts.host_region)
            .ok_or(SqsError::RegionRequired)?;
        if !is_valid_region(region) {
            return Err(SqsError::InvalidRegion);
        }
        Ok(Queue {
            url: url.to_owned(),
            region: region.to_owned(),
        })
    }

    /// `scheme://host[:port]/`, where requests for this queue are posted.
    pub fn endpoint(&self) -> Result<String, SqsError> {
        let parts = parse_url(&self.url)?;
        Ok(format!("{}/", parts.origin))
    }
}

// ---------------------------------------------------------------------------------------------
// Building and signing requests
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct SendMessageBatchInput<'a> {
    #[serde(rename = "QueueUrl")]
    queue_url: &'a str,
    #[serde(rename = "Entries")]
    entries: Vec<EntryInput<'a>>,
}

#[derive(Serialize)]
struct EntryInput<'a> {
    #[serde(rename = "Id")]
    id: &'a str,
    #[serde(rename = "MessageBody")]
    body: &'a str,
    #[serde(
        rename = "MessageAttributes",
        skip_serializing_if = "Attributes::is_empty"
    )]
    attributes: Attributes<'a>,
    #[serde(rename = "MessageGroupId", skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a str>,
    #[serde(
        rename = "MessageDeduplicationId",
        skip_serializing_if = "Option::is_none"
    )]
    dedup_id: Option<&'a str>,
}

/// Serializes `[(name, value)]` as `{name: {"DataType": "String", "StringValue": value}}`.
struct Attributes<'a>(&'a [(String, String)]);

impl Attributes<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Serialize)]
struct AttributeValue<'a> {
    #[serde(rename = "DataType")]
    data_type: &'static str,
    #[serde(rename = "StringValue")]
    string_value: &'a str,
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(
                name,
                &AttributeValue {
                    data_type: STRING_DATA_TYPE,
                    string_value: value,
                },
            )?;
        }
        map.end()
    }
}

fn validate_batch(entries: &[Entry]) -> Result<(), SqsError> {
    if entries.is_empty() || entries.len() > MAX_BATCH_ENTRIES {
        return Err(SqsError::BatchSize(entries.len()));
    }
    // Duplicates are found by scanning what came before: at most 10 entries with a few
    // attributes each, where a scan beats a hash set (and keeps hashbrown's code for these types
    // out of the Worker's bundle).
    let mut size = 0usize;
    for (index, entry) in entries.iter().enumerate() {
        if !is_valid_entry_id(&entry.id) {
            return Err(SqsError::InvalidEntryId { index });
        }
        if entries.iter().take(index).any(|e| e.id == entry.id) {
            return Err(SqsError::DuplicateEntryId(entry.id.clone()));
        }
        for (i, (name, _)) in entry.attributes.iter().enumerate() {
            if entry.attributes.iter().take(i).any(|(n, _)| n == name) {
                return Err(SqsError::DuplicateAttribute {
                    id: entry.id.clone(),
                    name: name.clone(),
                });
            }
        }
        size = size.saturating_add(entry.size_bytes());
    }
    if size > MAX_BATCH_BYTES {
        return Err(SqsError::BatchTooLarge {
            size,
            max: MAX_BATCH_BYTES,
        });
    }
    Ok(())
}

fn validate_credentials(creds: &Credentials) -> Result<(), SqsError> {
    if creds.access_key_id.is_empty()
        || !creds
            .access_key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    {
        return Err(SqsError::InvalidCredentials(
            "the access key id must be non-empty ASCII letters and digits",
        ));
    }
    if creds.secret_access_key.is_empty() {
        return Err(SqsError::InvalidCredentials(
            "the secret access key is empty",
        ));
    }
    if let Some(token) = &creds.session_token
        && (token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(SqsError::InvalidCredentials(
            "the session token must be non-empty printable ASCII",
        ));
    }
    Ok(())
}

/// Builds a signed AWS JSON 1.0 request for any SQS operation: `POST` to the queue URL's origin
/// with `X-Amz-Target: <target>` (e.g. `AmazonSQS.ReceiveMessage`) and `json_body` as the
/// payload, signed for service `sqs` in `queue.region` at `unix_seconds`.
///
/// [`send_message_batch`] is this plus validation and serialization of the batch.
pub fn signed_json_request(
    queue: &Queue,
    creds: &Credentials,
    target: &str,
    json_body: Vec<u8>,
    unix_seconds: u64,
) -> Result<HttpRequest, SqsError> {
    let parts = parse_url(&queue.url)?;
    if !is_valid_region(&queue.region) {
        return Err(SqsError::InvalidRegion);
    }
    validate_credentials(creds)?;
    if target.is_empty()
        || !target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
    {
        return Err(SqsError::Request("invalid X-Amz-Target".to_owned()));
    }
    if unix_seconds > MAX_UNIX_SECONDS {
        return Err(SqsError::InvalidTime);
    }
    let url = format!("{}/", parts.origin);
    let headers = sign_v4(
        &parts,
        &queue.region,
        creds,
        target,
        &json_body,
        unix_seconds,
    );
    Ok(HttpRequest {
        method: "POST",
        url,
        headers,
        body: json_body,
    })
}

/// The headers of a `POST /` to `parts`' origin carrying `body` with `X-Amz-Target: target`,
/// signed with AWS Signature Version 4 for service `sqs` in `region` at `unix_seconds`:
/// `content-type`, `x-amz-target`, `x-amz-date`, `authorization`, and `x-amz-security-token` with
/// temporary credentials.
///
/// Written out for this one request shape instead of calling `aws-sigv4`: that crate's tree
/// (`http`, `time`, `tracing`, ...) was a seventh of the Worker's gzipped bundle. The result is
/// byte for byte what `aws-sigv4` 1.x produces with its default settings (signed headers sorted,
/// `host` without the scheme's default port, payload hash not sent, session token signed); the
/// tests compare the two on many inputs. Every input was validated by the caller, so nothing
/// needs escaping or whitespace trimming.
fn sign_v4(
    parts: &UrlParts<'_>,
    region: &str,
    creds: &Credentials,
    target: &str,
    body: &[u8],
    unix_seconds: u64,
) -> Vec<(String, String)> {
    // 2015-08-30T12:36:00Z becomes 20150830T123600Z (and the scope's date 20150830).
    let secs = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    let date_time: String = Timestamp::from_unix_secs(secs)
        .to_rfc3339()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let date = date_time.get(..8).unwrap_or_default();
    let scope = format!("{date}/{region}/{SERVICE}/aws4_request");

    let (scheme, authority) = parts.origin.split_once("://").unwrap_or(("", parts.origin));
    let host = match authority.split_once(':') {
        Some((host, "443")) if scheme == "https" => host,
        Some((host, "80")) if scheme == "http" => host,
        _ => authority,
    };
    let token = creds.session_token.as_deref();
    let signed_headers = if token.is_some() {
        "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
    } else {
        "content-type;host;x-amz-date;x-amz-target"
    };
    let token_line = token.map_or_else(String::new, |t| format!("x-amz-security-token:{t}\n"));
    let canonical_request = format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{date_time}\n\
         {token_line}x-amz-target:{target}\n\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(body))
    );
    let string_to_sign = format!(
        "{SIGV4_ALGORITHM}\n{date_time}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = format!("AWS4{}", creds.secret_access_key);
    let mut key = hmac_sha256(secret.as_bytes(), date.as_bytes());
    for part in [region, SERVICE, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()));

    let mut headers = vec![
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        ("x-amz-target".to_owned(), target.to_owned()),
        ("x-amz-date".to_owned(), date_time.clone()),
        (
            "authorization".to_owned(),
            format!(
                "{SIGV4_ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, \
                 Signature={signature}",
                creds.access_key_id
            ),
        ),
    ];
    if let Some(token) = token {
        headers.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    headers
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback keeps this
    // panic-free.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| Hmac::new(&Default::default()));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Builds the signed `SendMessageBatch` request for `entries`.
///
/// Checked here: 1 to 10 entries, ids `[A-Za-z0-9_-]{1,80}` and unique, attribute names unique
/// per entry, total size (see [`Entry::size_bytes`]) at most [`MAX_BATCH_BYTES`]. Message
/// contents (e.g. characters SQS does not allow) and attribute names are left to SQS, so that a
/// bad entry can come back as one failure in the response instead of this call refusing the
/// whole batch.
pub fn send_message_batch(
    queue: &Queue,
    creds: &Credentials,
    entries: &[Entry],
    unix_seconds: u64,
) -> Result<HttpRequest, SqsError> {
    validate_batch(entries)?;
    let input = SendMessageBatchInput {
        queue_url: &queue.url,
        entries: entries
            .iter()
            .map(|e| EntryInput {
                id: &e.id,
                body: &e.body,
                attributes: Attributes(&e.attributes),
                group_id: e.group_id.as_deref(),
                dedup_id: e.dedup_id.as_deref(),
            })
            .collect(),
    };
    let body = serde_json::to_vec(&input)
        .map_err(|_| SqsError::Request("serializing the batch failed".to_owned()))?;
    signed_json_request(queue, creds, TARGET_SEND_MESSAGE_BATCH, body, unix_seconds)
}

/// Splits `entries` into batches of at most `max_entries` entries and `max_bytes` bytes
/// (see [`Entry::size_bytes`]), greedily and keeping the order. A new batch is also started when
/// an id repeats within the current one, so no batch fails for duplicate ids.
///
/// An entry larger than `max_bytes` on its own goes into a batch by itself (and will then be
/// refused, by [`send_message_batch`] or by SQS, so the caller sees it fail rather than lose it).
/// A `max_entries` of 0 is treated as 1.
#[must_use]
pub fn chunk(entries: Vec<Entry>, max_entries: usize, max_bytes: usize) -> Vec<Vec<Entry>> {
    let max_entries = max_entries.max(1);
    let mut batches = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut current_bytes = 0usize;
    for entry in entries {
        let size = entry.size_bytes();
        let full = current.len() >= max_entries
            || current_bytes.saturating_add(size) > max_bytes
            || current.iter().any(|e| e.id == entry.id);
        if full && !current.is_empty() {
            batches.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes = current_bytes.saturating_add(size);
        current.push(entry);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct SendMessageBatchOutput {
    #[serde(rename = "Successful", default)]
    successful: Option<Vec<ResultEntry>>,
    #[serde(rename = "Failed", default)]
    failed: Option<Vec<ErrorEntry>>,
}

#[derive(Deserialize)]
struct ResultEntry {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "MD5OfMessageBody", default)]
    md5_of_body: Option<String>,
    #[serde(rename = "MD5OfMessageAttributes", default)]
    md5_of_attributes: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "SenderFault", default)]
    sender_fault: Option<bool>,
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(rename = "__type", default)]
    error_type: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(rename = "Code", default)]
    code_upper: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "Message", default)]
    message_upper: Option<String>,
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn md5_update_len_prefixed(hasher: &mut Md5, bytes: &[u8]) {
    // SQS encodes lengths as 4-byte big-endian; nothing this module sends can exceed u32.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    hasher.update(len.to_be_bytes());
    hasher.update(bytes);
}

/// `MD5OfMessageAttributes` as SQS computes it for string attributes: for each attribute in
/// name order, length-prefixed name, length-prefixed data type, transport byte 1,
/// length-prefixed value. `None` when there are no attributes (SQS then sends no digest).
fn md5_of_attributes(attributes: &[(String, String)]) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    // By name, byte-wise (`String`'s order). Names are unique (see `validate_batch`), so sorting
    // the pairs gives the same order, and shares its code with the bundle's other sort of
    // `(String, String)` pairs.
    let mut sorted: Vec<(String, String)> = attributes.to_vec();
    sorted.sort();
    let mut hasher = Md5::new();
    for (name, value) in sorted {
        md5_update_len_prefixed(&mut hasher, name.as_bytes());
        md5_update_len_prefixed(&mut hasher, STRING_DATA_TYPE.as_bytes());
        hasher.update([STRING_TRANSPORT_TYPE]);
        md5_update_len_prefixed(&mut hasher, value.as_bytes());
    }
    Some(hex::encode(hasher.finalize()))
}

fn digest_matches(expected: Option<&str>, got: Option<&str>) -> bool {
    match (expected, got) {
        (None, None) => true,
        (Some(e), Some(g)) => e.eq_ignore_ascii_case(g.trim()),
        _ => false,
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s.get(..i).unwrap_or(s).to_owned(),
        None => s.to_owned(),
    }
}

/// `com.amazonaws.sqs#QueueDoesNotExist` -> `QueueDoesNotExist`; also drops a `:…` suffix
/// (some AWS JSON services append a URL there).
fn sanitize_error_type(t: &str) -> &str {
    let after_hash = t.rsplit('#').next().unwrap_or(t);
    after_hash.split(':').next().unwrap_or(after_hash).trim()
}

/// The text of the first `<name>…</name>` element, if it is non-empty and holds no markup.
fn xml_element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)?.checked_add(open.len())?;
    let rest = text.get(start..)?;
    let inner = rest.get(..rest.find(&close)?)?.trim();
    (!inner.is_empty() && !inner.contains('<')).then_some(inner)
}

fn code_is(code: &str, list: &[&str]) -> bool {
    // Query-protocol codes look like `AWS.SimpleQueueService.NonExistentQueue`; compare the
    // whole code and its last dotted segment.
    let last = code.rsplit('.').next().unwrap_or(code);
    list.iter().any(|c| *c == code || *c == last)
}

fn api_error(status: u16, query_error: Option<&str>, body: &[u8]) -> SqsError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let query_code = query_error
        .and_then(|h| h.split(';').next())
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let (code, message) = match parsed {
        Some(b) => {
            let code = b
                .error_type
                .as_deref()
                .map(sanitize_error_type)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .or_else(|| query_code.map(str::to_owned))
                .or(b.code)
                .or(b.code_upper)
                .unwrap_or_else(|| "Unknown".to_owned());
            let message = b.message.or(b.message_upper).unwrap_or_default();
            (code, message)
        }
        None => {
            let text: String = String::from_utf8_lossy(body)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            // Not JSON: maybe a query-protocol XML error (moto answers failed signature checks
            // that way even for JSON-protocol requests), maybe a proxy's HTML page.
            let code = xml_element(&text, "Code")
                .or(query_code)
                .unwrap_or("Unknown")
                .to_owned();
            let message = xml_element(&text, "Message")
                .unwrap_or(text.trim())
                .to_owned();
            (code, message)
        }
    };
    let retryable = status >= 500
        || status == 429
        || code_is(&code, THROTTLING_CODES)
        || code_is(&code, TRANSIENT_CODES)
        || query_code.is_some_and(|q| code_is(q, THROTTLING_CODES));
    SqsError::Api {
        status,
        code: truncate_chars(&code, 256),
        message: truncate_chars(&message, MAX_ERROR_MESSAGE_CHARS),
        retryable,
    }
}

/// Interprets the response to a request built by [`send_message_batch`] for `sent`.
///
/// On 2xx every sent id ends up exactly once in the outcome: ids SQS lists as failed keep SQS's
/// code; ids listed as successful are checked against the MD5 of the body (and of the
/// attributes) that was sent and become [`CODE_MD5_MISMATCH`] failures when they differ or the
/// digest is missing; ids the response does not mention become [`CODE_MISSING_FROM_RESPONSE`]
/// failures. Ids in the response that were not sent are ignored. A 2xx body that is not a
/// `SendMessageBatch` result is an [`SqsError::InvalidResponse`].
///
/// Any other status is an [`SqsError::Api`] for the whole batch.
pub fn parse_send_message_batch(
    status: u16,
    body: &[u8],
    sent: &[Entry],
) -> Result<BatchOutcome, SqsError> {
    parse_send_message_batch_response(status, None, body, sent)
}

/// [`parse_send_message_batch`], also given the `x-amzn-query-error` response header (e.g.
/// `AWS.SimpleQueueService.NonExistentQueue;Sender`), whose code is used when the body has no
/// `__type`, and which also counts for deciding whether an error is throttling.
pub fn parse_send_message_batch_response(
    status: u16,
    x_amzn_query_error: Option<&str>,
    body: &[u8],
    sent: &[Entry],
) -> Result<BatchOutcome, SqsError> {
    if !(200..300).contains(&status) {
        return Err(api_error(status, x_amzn_query_error, body));
    }
    let output: SendMessageBatchOutput =
        serde_json::from_slice(body).map_err(|e| SqsError::InvalidResponse {
            status,
            reason: format!("not a SendMessageBatch result: {e}"),
        })?;

    // Looked up by scanning (a batch has at most 10 entries); the first listing of an id counts.
    let mut failed = output.failed.unwrap_or_default();
    let mut successful = output.successful.unwrap_or_default();

    let mut outcome = BatchOutcome::default();
    for (index, entry) in sent.iter().enumerate() {
        if sent.iter().take(index).any(|e| e.id == entry.id) {
            continue;
        }
        // An id listed as failed is failed even if it is (also) listed as successful.
        if let Some(f) = take_first(&mut failed, |f| f.id == entry.id) {
            outcome.failed.push(Failure {
                id: entry.id.clone(),
                code: f.code.unwrap_or_else(|| "Unknown".to_owned()),
                sender_fault: f.sender_fault.unwrap_or(false),
                message: f.message.unwrap_or_default(),
            });
        } else if let Some(ok) = take_first(&mut successful, |s| s.id == entry.id) {
            let body_ok = digest_matches(
                Some(md5_hex(entry.body.as_bytes()).as_str()),
                ok.md5_of_body.as_deref(),
            );
            let attrs_ok = digest_matches(
                md5_of_attributes(&entry.attributes).as_deref(),
                ok.md5_of_attributes.as_deref(),
            );
            if body_ok && attrs_ok {
                outcome.successful.push(entry.id.clone());
            } else {
                let what = if body_ok {
                    "MD5OfMessageAttributes"
                } else {
                    "MD5OfMessageBody"
                };
                outcome.failed.push(Failure {
                    id: entry.id.clone(),
                    code: CODE_MD5_MISMATCH.to_owned(),
                    sender_fault: false,
                    message: format!("{what} in the response does not match what was sent"),
                });
            }
        } else {
            outcome.failed.push(Failure {
                id: entry.id.clone(),
                code: CODE_MISSING_FROM_RESPONSE.to_owned(),
                sender_fault: false,
                message: "the response lists this entry neither as successful nor as failed"
                    .to_owned(),
            });
        }
    }
    Ok(outcome)
}

/// Removes and returns the first item that matches.
fn take_first<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Option<T> {
    let index = items.iter().position(matches)?;
    Some(items.remove(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn queue() -> Queue {
        Queue::parse(
            "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
            None,
        )
        .unwrap()
    }

    fn entry(id: &str, body: &str) -> Entry {
        Entry::new(id, body)
    }

    // ---- Queue::parse ------------------------------------------------------------------

    #[test]
    fn parse_accepts_aws_url_and_takes_region_from_host() {
        let q = Queue::parse(
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "eu-west-2");
        assert_eq!(
            q.url,
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders"
        );
        assert_eq!(
            q.endpoint().unwrap(),
            "https://sqs.eu-west-2.amazonaws.com/"
        );

        let q = Queue::parse(
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders.fifo",
            Some("us-west-1"),
        )
        .unwrap();
        assert_eq!(q.region, "us-west-1", "an override wins over the host");

        let q = Queue::parse(
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "cn-north-1");
        let q = Queue::parse(
            "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "us-gov-west-1");
    }

    #[test]
    fn parse_accepts_loopback_only_with_region() {
        for url in [
            "http://127.0.0.1:4566/123456789012/q",
            "http://localhost:9324/000000000000/q.fifo",
            "https://127.0.0.1/123456789012/q",
            "http://localhost/123456789012/q",
        ] {
            assert_eq!(
                Queue::parse(url, None),
                Err(SqsError::RegionRequired),
                "{url}"
            );
            let q = Queue::parse(url, Some("us-east-1")).unwrap();
            assert_eq!(q.region, "us-east-1");
        }
        let q = Queue::parse("http://127.0.0.1:4566/123456789012/q", Some("us-east-1")).unwrap();
        assert_eq!(q.endpoint().unwrap(), "http://127.0.0.1:4566/");
    }

    #[test]
    fn parse_other_https_hosts_need_a_region() {
        let url = "https://vpce-1a2b3c4d.sqs.us-east-1.vpce.amazonaws.com/123456789012/q";
        assert_eq!(Queue::parse(url, None), Err(SqsError::RegionRequired));
        assert!(Queue::parse(url, Some("us-east-1")).is_ok());
    }

    #[test]
    fn parse_rejects() {
        let region = Some("us-east-1");
        for url in [
            "",
            "sqs.us-east-1.amazonaws.com/123456789012/q",
            "http://sqs.us-east-1.amazonaws.com/123456789012/q",
            "http://10.0.0.1:4566/123456789012/q",
            "http://example.com/123456789012/q",
            "ftp://sqs.us-east-1.amazonaws.com/123456789012/q",
            "HTTPS://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://user:pw@sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://user@sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q?Action=x",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q#frag",
            "https://SQS.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com",
            "https://sqs.us-east-1.amazonaws.com/",
            "https://sqs.us-east-1.amazonaws.com/123456789012",
            "https://sqs.us-east-1.amazonaws.com/123456789012/",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q/",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q/extra",
            "https://sqs.us-east-1.amazonaws.com//q",
            "https://sqs.us-east-1.amazonaws.com/12345/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bad%20name",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bad name",
            "https://sqs.us-east-1.amazonaws.com/123456789012/.fifo",
            "https://sqs.us-east-1.amazonaws.com:0/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:70000/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:+443/123456789012/q",
            "https://[::1]:443/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com\\@evil/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q\u{e9}",
            "https://-bad.example/123456789012/q",
        ] {
            assert!(
                matches!(Queue::parse(url, region), Err(SqsError::InvalidQueueUrl(_))),
                "should reject {url:?}: {:?}",
                Queue::parse(url, region)
            );
        }
        let long = format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            "a".repeat(81)
        );
        assert!(Queue::parse(&long, None).is_err());
        let ok80 = format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            "a".repeat(80)
        );
        assert!(Queue::parse(&ok80, None).is_ok());
    }

    #[test]
    fn parse_rejects_bad_regions() {
        let url = "http://127.0.0.1:4566/123456789012/q";
        for r in ["", "US-EAST-1", "us east", "us-east-1/x", "-x", "x-"] {
            assert_eq!(
                Queue::parse(url, Some(r)),
                Err(SqsError::InvalidRegion),
                "{r:?}"
            );
        }
    }

    #[test]
    fn invalid_url_error_does_not_echo_the_url() {
        let err = Queue::parse(
            "https://AKIA:secretpw@sqs.us-east-1.amazonaws.com/1/q",
            None,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("secretpw"));
    }

    // ---- Debug redaction --------------------------------------------------------------

    #[test]
    fn credentials_debug_redacts_secret_and_token() {
        let mut c = creds();
        c.session_token = Some("FQoGZXIvYXdzEXAMPLETOKEN".into());
        let s = format!("{c:?}");
        assert!(s.contains("AKIDEXAMPLE"));
        assert!(!s.contains("wJalrXUtnFEMI"), "{s}");
        assert!(!s.contains("FQoGZXIvYXdzEXAMPLETOKEN"), "{s}");
        assert!(s.contains("redacted"));
        let s = format!("{c:#?}");
        assert!(!s.contains("wJalrXUtnFEMI") && !s.contains("EXAMPLETOKEN"));
    }

    #[test]
    fn request_debug_redacts_token_and_authorization() {
        let mut c = creds();
        c.session_token = Some("FQoGZXIvYXdzEXAMPLETOKEN".into());
        let req = send_message_batch(&queue(), &c, &[entry("a", "hi")], 1_440_938_160).unwrap();
        let auth = req.header("authorization").unwrap().to_owned();
        let s = format!("{req:?}");
        assert!(!s.contains("EXAMPLETOKEN"), "{s}");
        assert!(!s.contains(&auth), "{s}");
        assert!(!s.contains("wJalrXUtnFEMI"), "{s}");
    }

    // ---- send_message_batch -----------------------------------------------------------

    #[test]
    fn builds_the_request() {
        let mut e = entry("m-1", "hello \"world\"\n\u{1F600}");
        e.attributes = vec![("source".into(), "stripe".into()), ("z".into(), "1".into())];
        e.group_id = Some("g".into());
        e.dedup_id = Some("d".into());
        let req =
            send_message_batch(&queue(), &creds(), &[e, entry("m_2", "x")], 1_440_938_160).unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://sqs.us-east-1.amazonaws.com/");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-amz-json-1.0")
        );
        assert_eq!(
            req.header("x-amz-target"),
            Some("AmazonSQS.SendMessageBatch")
        );
        assert_eq!(req.header("x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(req.header("x-amz-security-token"), None);
        let auth = req.header("authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
            ),
            "{auth}"
        );
        let sig = auth.rsplit("Signature=").next().unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));

        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
                "Entries": [
                    {
                        "Id": "m-1",
                        "MessageBody": "hello \"world\"\n\u{1F600}",
                        "MessageAttributes": {
                            "source": {"DataType": "String", "StringValue": "stripe"},
                            "z": {"DataType": "String", "StringValue": "1"}
                        },
                        "MessageGroupId": "g",
                        "MessageDeduplicationId": "d"
                    },
                    {"Id": "m_2", "MessageBody": "x"}
                ]
            })
        );
    }

    #[test]
    fn signs_the_session_token() {
        let mut c = creds();
        c.session_token = Some("TOKEN/with+base64=".into());
        let req = send_message_batch(&queue(), &c, &[entry("a", "b")], 1_440_938_160).unwrap();
        assert_eq!(
            req.header("x-amz-security-token"),
            Some("TOKEN/with+base64=")
        );
        assert!(req.header("authorization").unwrap().contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
        ));
    }

    #[test]
    fn signature_changes_with_every_input() {
        let base =
            send_message_batch(&queue(), &creds(), &[entry("a", "b")], 1_440_938_160).unwrap();
        let sig = |r: &HttpRequest| r.header("authorization").unwrap().to_owned();
        let other_body =
            send_message_batch(&queue(), &creds(), &[entry("a", "c")], 1_440_938_160).unwrap();
        let other_time =
            send_message_batch(&queue(), &creds(), &[entry("a", "b")], 1_440_938_161).unwrap();
        let mut c = creds();
        c.secret_access_key.push('x');
        let other_secret =
            send_message_batch(&queue(), &c, &[entry("a", "b")], 1_440_938_160).unwrap();
        let mut q = queue();
        q.region = "us-east-2".into();
        let other_region =
            send_message_batch(&q, &creds(), &[entry("a", "b")], 1_440_938_160).unwrap();
        for other in [other_body, other_time, other_secret, other_region] {
            assert_ne!(sig(&base), sig(&other));
        }
    }

    /// What `aws-sigv4` (default settings) signs for the same request: the reference `sign_v4`
    /// must match byte for byte.
    fn aws_sigv4_headers(
        queue: &Queue,
        creds: &Credentials,
        target: &str,
        body: &[u8],
        unix_seconds: u64,
    ) -> Vec<(String, String)> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        use aws_sigv4::sign::v4;
        use std::time::{Duration, UNIX_EPOCH};

        let url = queue.endpoint().unwrap();
        let identity = aws_credential_types::Credentials::new(
            creds.access_key_id.as_str(),
            creds.secret_access_key.as_str(),
            creds.session_token.clone(),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&queue.region)
            .name("sqs")
            .time(UNIX_EPOCH + Duration::from_secs(unix_seconds))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let base = [("content-type", CONTENT_TYPE), ("x-amz-target", target)];
        let signable = SignableRequest::new(
            "POST",
            url.as_str(),
            base.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (headers, _) = instructions.into_parts();
        base.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .chain(
                headers
                    .iter()
                    .map(|h| (h.name().to_owned(), h.value().to_owned())),
            )
            .collect()
    }

    #[test]
    fn sigv4_matches_aws_sigv4() {
        let queues = [
            (
                "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
                None,
            ),
            (
                "https://sqs.eu-west-2.amazonaws.com:443/123456789012/q.fifo",
                None,
            ),
            (
                "https://sqs.eu-west-2.amazonaws.com:8443/123456789012/q",
                None,
            ),
            (
                "https://sqs.eu-west-2.amazonaws.com:0443/123456789012/q",
                None,
            ),
            (
                "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
                None,
            ),
            (
                "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q",
                None,
            ),
            (
                "https://sqs.us-east-1.amazonaws.com/123456789012/q",
                Some("eu-central-2"),
            ),
            (
                "https://vpce-1a2b3c4d.sqs.us-east-1.vpce.amazonaws.com/123456789012/q",
                Some("us-east-1"),
            ),
            ("http://127.0.0.1/123456789012/q", Some("us-east-1")),
            ("http://127.0.0.1:80/123456789012/q", Some("x")),
            ("http://localhost:4566/000000000000/q.fifo", Some("local-1")),
            ("https://127.0.0.1:443/123456789012/q", Some("us-east-1")),
            ("https://localhost:80/123456789012/q", Some("us-east-1")),
        ];
        let printable: String = (b'!'..=b'~').map(char::from).collect();
        let tokens = [None, Some("TOKEN/with+base64="), Some(printable.as_str())];
        let secrets = [
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            " s\u{e9}cret with spaces ",
        ];
        let times = [
            0,
            951_782_400,
            1_440_938_160,
            1_795_435_199,
            MAX_UNIX_SECONDS,
        ];
        let targets = ["AmazonSQS.SendMessageBatch", "AmazonSQS.ReceiveMessage"];
        let long = vec![0xa5u8; 70_000];
        let bodies: [&[u8]; 4] = [b"", b"{}", "{\"x\":\"\u{1F600}\"}".as_bytes(), &long];
        let mut checked = 0;
        for (i, (url, region)) in queues.iter().enumerate() {
            let queue = Queue::parse(url, *region).unwrap();
            for (j, token) in tokens.iter().enumerate() {
                let creds = Credentials {
                    access_key_id: if j == 1 {
                        "ASIAEXAMPLE0"
                    } else {
                        "AKIDEXAMPLE"
                    }
                    .into(),
                    secret_access_key: secrets[(i + j) % secrets.len()].into(),
                    session_token: token.map(str::to_owned),
                };
                for (k, &time) in times.iter().enumerate() {
                    let target = targets[(i + k) % targets.len()];
                    for body in bodies {
                        let ours = signed_json_request(&queue, &creds, target, body.to_vec(), time)
                            .unwrap();
                        let theirs = aws_sigv4_headers(&queue, &creds, target, body, time);
                        assert_eq!(ours.headers, theirs, "{url} {token:?} {time} {target}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 13 * 3 * 5 * 4);
    }

    #[test]
    fn sigv4_known_answer() {
        // The value aws-sigv4 1.6.4 gives, written down so the test outlives the reference crate.
        let mut c = creds();
        c.session_token = Some("TOKEN/with+base64=".into());
        let body = br#"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"}"#;
        let req = signed_json_request(
            &queue(),
            &c,
            TARGET_SEND_MESSAGE_BATCH,
            body.to_vec(),
            1_440_938_160,
        )
        .unwrap();
        assert_eq!(
            req.headers,
            aws_sigv4_headers(&queue(), &c, TARGET_SEND_MESSAGE_BATCH, body, 1_440_938_160)
        );
        assert_eq!(
            req.header("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
                 Signature=20a10147e7a66a607ac9580136439ae3fe5a17ceb1f60be554709ed58966e933"
            )
        );
    }

    #[test]
    fn validation_errors() {
        let q = queue();
        let c = creds();
        assert_eq!(
            send_message_batch(&q, &c, &[], 0),
            Err(SqsError::BatchSize(0))
        );
        let eleven: Vec<Entry> = (0..11).map(|i| entry(&format!("e{i}"), "x")).collect();
        assert_eq!(
            send_message_batch(&q, &c, &eleven, 0),
            Err(SqsError::BatchSize(11))
        );
        assert!(send_message_batch(&q, &c, &eleven[..10], 0).is_ok());

        for bad in ["", "has space", "dot.ted", "é", &"a".repeat(81)] {
            assert_eq!(
                send_message_batch(&q, &c, &[entry("ok", "x"), entry(bad, "x")], 0),
                Err(SqsError::InvalidEntryId { index: 1 }),
                "{bad:?}"
            );
        }
        assert!(send_message_batch(&q, &c, &[entry(&"a".repeat(80), "x")], 0).is_ok());
        assert_eq!(
            send_message_batch(
                &q,
                &c,
                &[entry("a", "x"), entry("b", "x"), entry("a", "y")],
                0
            ),
            Err(SqsError::DuplicateEntryId("a".into()))
        );

        let mut dup_attr = entry("a", "x");
        dup_attr.attributes = vec![("k".into(), "1".into()), ("k".into(), "2".into())];
        assert_eq!(
            send_message_batch(&q, &c, &[dup_attr], 0),
            Err(SqsError::DuplicateAttribute {
                id: "a".into(),
                name: "k".into()
            })
        );

        // Exactly at the limit is fine, one byte over is not; attributes count.
        let at_limit = entry("a", &"x".repeat(MAX_BATCH_BYTES));
        assert!(send_message_batch(&q, &c, &[at_limit], 0).is_ok());
        let mut over = entry("a", &"x".repeat(MAX_BATCH_BYTES - 10));
        over.attributes = vec![("ab".into(), "cde".into())]; // 2 + 6 + 3 = 11
        assert_eq!(
            send_message_batch(&q, &c, &[over], 0),
            Err(SqsError::BatchTooLarge {
                size: MAX_BATCH_BYTES + 1,
                max: MAX_BATCH_BYTES
            })
        );
        let split = [
            entry("a", &"x".repeat(MAX_BATCH_BYTES / 2)),
            entry("b", &"x".repeat(MAX_BATCH_BYTES / 2 + 1)),
        ];
        assert!(matches!(
            send_message_batch(&q, &c, &split, 0),
            Err(SqsError::BatchTooLarge { .. })
        ));
        // Size is in UTF-8 bytes, not chars.
        let multibyte = entry("a", &"\u{e9}".repeat(MAX_BATCH_BYTES / 2 + 1));
        assert!(matches!(
            send_message_batch(&q, &c, &[multibyte], 0),
            Err(SqsError::BatchTooLarge { .. })
        ));
    }

    #[test]
    fn credential_and_time_errors() {
        let q = queue();
        let e = [entry("a", "b")];
        let mut c = creds();
        c.access_key_id.clear();
        assert!(matches!(
            send_message_batch(&q, &c, &e, 0),
            Err(SqsError::InvalidCredentials(_))
        ));
        let mut c = creds();
        c.access_key_id = "AKID\r\nX-Injected: 1".into();
        assert!(matches!(
            send_message_batch(&q, &c, &e, 0),
            Err(SqsError::InvalidCredentials(_))
        ));
        let mut c = creds();
        c.secret_access_key.clear();
        assert!(matches!(
            send_message_batch(&q, &c, &e, 0),
            Err(SqsError::InvalidCredentials(_))
        ));
        let mut c = creds();
        c.session_token = Some("SECRETTOK\nEN".into());
        let err = send_message_batch(&q, &c, &e, 0).unwrap_err();
        assert!(matches!(err, SqsError::InvalidCredentials(_)));
        assert!(!err.to_string().contains("SECRETTOK"));

        assert!(send_message_batch(&q, &creds(), &e, MAX_UNIX_SECONDS).is_ok());
        assert_eq!(
            send_message_batch(&q, &creds(), &e, MAX_UNIX_SECONDS + 1),
            Err(SqsError::InvalidTime)
        );
        assert_eq!(
            send_message_batch(&q, &creds(), &e, u64::MAX),
            Err(SqsError::InvalidTime)
        );
    }

    #[test]
    fn hand_built_queue_is_revalidated() {
        let bad = Queue {
            url: "https://user:pw@sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            region: "us-east-1".into(),
        };
        assert!(matches!(
            send_message_batch(&bad, &creds(), &[entry("a", "b")], 0),
            Err(SqsError::InvalidQueueUrl(_))
        ));
        let bad_region = Queue {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/q".into(),
            region: "us-east-1/evil".into(),
        };
        assert_eq!(
            send_message_batch(&bad_region, &creds(), &[entry("a", "b")], 0),
            Err(SqsError::InvalidRegion)
        );
    }

    // ---- chunk ------------------------------------------------------------------------

    fn ids(batches: &[Vec<Entry>]) -> Vec<Vec<&str>> {
        batches
            .iter()
            .map(|b| b.iter().map(|e| e.id.as_str()).collect())
            .collect()
    }

    #[test]
    fn chunk_by_count() {
        let entries: Vec<Entry> = (0..23).map(|i| entry(&format!("e{i}"), "x")).collect();
        let batches = chunk(entries, 10, MAX_BATCH_BYTES);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 3]
        );
        let flat: Vec<String> = batches.into_iter().flatten().map(|e| e.id).collect();
        let expected: Vec<String> = (0..23).map(|i| format!("e{i}")).collect();
        assert_eq!(flat, expected);
        assert!(chunk(Vec::new(), 10, 100).is_empty());
    }

    #[test]
    fn chunk_by_bytes() {
        let e = |id: &str, n: usize| entry(id, &"x".repeat(n));
        let batches = chunk(
            vec![e("a", 40), e("b", 60), e("c", 1), e("d", 100)],
            10,
            100,
        );
        assert_eq!(ids(&batches), vec![vec!["a", "b"], vec!["c"], vec!["d"]]);

        // Attributes count towards the size: 1 + (1 + 6 + 1) = 9.
        let mut with_attr = entry("a", "x");
        with_attr.attributes = vec![("k".into(), "v".into())];
        assert_eq!(with_attr.size_bytes(), 9);
        let batches = chunk(vec![with_attr, e("b", 2)], 10, 10);
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["b"]]);
    }

    #[test]
    fn chunk_oversized_entry_goes_alone() {
        let e = |id: &str, n: usize| entry(id, &"x".repeat(n));
        let batches = chunk(
            vec![e("a", 10), e("big", 500), e("b", 10), e("c", 10)],
            10,
            100,
        );
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["big"], vec!["b", "c"]]);
        let batches = chunk(vec![e("big", 500)], 10, 100);
        assert_eq!(ids(&batches), vec![vec!["big"]]);
    }

    #[test]
    fn chunk_splits_on_repeated_ids_and_handles_zero() {
        let batches = chunk(
            vec![
                entry("a", "1"),
                entry("b", "2"),
                entry("a", "3"),
                entry("c", "4"),
            ],
            10,
            100,
        );
        assert_eq!(ids(&batches), vec![vec!["a", "b"], vec!["a", "c"]]);
        let batches = chunk(vec![entry("a", "1"), entry("b", "2")], 0, 100);
        assert_eq!(ids(&batches), vec![vec!["a"], vec!["b"]]);
    }

    // ---- responses ------------------------------------------------------------------------

    fn ok_entry(e: &Entry) -> serde_json::Value {
        let mut v = serde_json::json!({
            "Id": e.id,
            "MessageId": format!("mid-{}", e.id),
            "MD5OfMessageBody": md5_hex(e.body.as_bytes()),
        });
        if let Some(a) = md5_of_attributes(&e.attributes) {
            v["MD5OfMessageAttributes"] = a.into();
        }
        v
    }

    #[test]
    fn md5_known_values() {
        // md5("hello") and the digests moto 5.2.5 returned for body "ok" and for the single
        // attribute k=String:v (observed on the wire).
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(md5_hex(b"ok"), "444bcb3a3fcf8389296c49467f27e1d6");
        assert_eq!(
            md5_of_attributes(&[("k".into(), "v".into())]).as_deref(),
            Some("0a77b0642718c3d9dd47090567d11e0d")
        );
        // Order of the input does not matter.
        let a = md5_of_attributes(&[("b".into(), "2".into()), ("a".into(), "1".into())]);
        let b = md5_of_attributes(&[("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(a, b);
        assert_eq!(md5_of_attributes(&[]), None);
    }

    #[test]
    fn parses_full_success() {
        let mut a = entry("a", "body a");
        a.attributes = vec![("k".into(), "v".into())];
        let sent = vec![a, entry("b", "body b")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[1]), ok_entry(&sent[0])],
            "Failed": []
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "b"], "in sent order");
        assert!(out.failed.is_empty());
        // MD5 comparison is case-insensitive; missing Failed list is fine.
        let mut upper = ok_entry(&sent[1]);
        upper["MD5OfMessageBody"] = md5_hex(b"body b").to_uppercase().into();
        let body = serde_json::json!({"Successful": [ok_entry(&sent[0]), upper]});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "b"]);
    }

    #[test]
    fn parses_partial_failure() {
        let sent = vec![entry("a", "1"), entry("b", "2"), entry("c", "3")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[2])],
            "Failed": [{
                "Id": "b", "SenderFault": true, "Code": "InvalidMessageContents",
                "Message": "Invalid characters found."
            }]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a", "c"]);
        assert_eq!(
            out.failed,
            [Failure {
                id: "b".into(),
                code: "InvalidMessageContents".into(),
                sender_fault: true,
                message: "Invalid characters found.".into()
            }]
        );
        // Server-side failure without SenderFault/Message.
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[2])],
            "Failed": [{"Id": "b", "Code": "InternalError"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].code, "InternalError");
        assert!(!out.failed[0].sender_fault);
    }

    #[test]
    fn md5_mismatch_is_a_failure() {
        let mut with_attrs = entry("c", "3");
        with_attrs.attributes = vec![("k".into(), "v".into())];
        let sent = vec![
            entry("a", "1"),
            entry("b", "2"),
            with_attrs,
            entry("d", "4"),
        ];
        let mut wrong_body = ok_entry(&sent[1]);
        wrong_body["MD5OfMessageBody"] = md5_hex(b"something else").into();
        let mut wrong_attrs = ok_entry(&sent[2]);
        wrong_attrs["MD5OfMessageAttributes"] = md5_hex(b"x").into();
        let mut no_digest = ok_entry(&sent[3]);
        no_digest
            .as_object_mut()
            .unwrap()
            .remove("MD5OfMessageBody");
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), wrong_body, wrong_attrs, no_digest],
            "Failed": []
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a"]);
        let failed: Vec<(&str, &str)> = out
            .failed
            .iter()
            .map(|f| (f.id.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                ("b", "MD5Mismatch"),
                ("c", "MD5Mismatch"),
                ("d", "MD5Mismatch")
            ]
        );
        assert!(out.failed.iter().all(|f| !f.sender_fault));
        assert!(out.failed[1].message.contains("MD5OfMessageAttributes"));

        // Attributes digest where none were sent is also a mismatch.
        let sent = vec![entry("a", "1")];
        let mut extra = ok_entry(&sent[0]);
        extra["MD5OfMessageAttributes"] = md5_hex(b"x").into();
        let body = serde_json::json!({"Successful": [extra]});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert!(out.successful.is_empty());
        assert_eq!(out.failed[0].code, "MD5Mismatch");
    }

    #[test]
    fn missing_and_unknown_ids() {
        let sent = vec![entry("a", "1"), entry("b", "2"), entry("c", "3")];
        let stranger = ok_entry(&entry("zzz", "9"));
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), stranger],
            "Failed": [{"Id": "nope", "SenderFault": true, "Code": "X"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["a"]);
        let failed: Vec<(&str, &str)> = out
            .failed
            .iter()
            .map(|f| (f.id.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(
            failed,
            [("b", "MissingFromResponse"), ("c", "MissingFromResponse")]
        );

        // Empty object, nulls: everything missing, nothing acked.
        for body in [r#"{}"#, r#"{"Successful":null,"Failed":null}"#] {
            let out = parse_send_message_batch(200, body.as_bytes(), &sent).unwrap();
            assert!(out.successful.is_empty());
            assert_eq!(out.failed.len(), 3);
        }
    }

    #[test]
    fn listed_as_both_counts_as_failed_and_duplicates_collapse() {
        let sent = vec![entry("a", "1"), entry("a", "1")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[0]), ok_entry(&sent[0])],
            "Failed": [{"Id": "a", "SenderFault": false, "Code": "InternalError"}]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert!(out.successful.is_empty());
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].code, "InternalError");
    }

    #[test]
    fn the_first_listing_of_an_id_counts() {
        let sent = vec![entry("a", "1"), entry("b", "2")];
        let body = serde_json::json!({
            "Successful": [ok_entry(&sent[1]), {"Id": "b", "MD5OfMessageBody": "0"}],
            "Failed": [
                {"Id": "a", "SenderFault": true, "Code": "First"},
                {"Id": "a", "SenderFault": false, "Code": "Second"}
            ]
        });
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, vec!["b".to_owned()]);
        assert_eq!(out.failed.len(), 1);
        assert_eq!(
            (out.failed[0].code.as_str(), out.failed[0].sender_fault),
            ("First", true)
        );
    }

    #[test]
    fn unreadable_success_body() {
        let sent = vec![entry("a", "1")];
        for body in [
            &b""[..],
            b"<xml/>",
            b"[1,2]",
            br#"{"Successful":[{"NoId":1}]}"#,
        ] {
            let err = parse_send_message_batch(200, body, &sent).unwrap_err();
            assert!(
                matches!(err, SqsError::InvalidResponse { status: 200, .. }),
                "{err:?}"
            );
            assert!(err.is_retryable());
        }
    }

    #[test]
    fn error_shape_json_1_0() {
        let body = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#;
        let err = parse_send_message_batch(400, body, &[]).unwrap_err();
        assert_eq!(
            err,
            SqsError::Api {
                status: 400,
                code: "QueueDoesNotExist".into(),
                message: "The specified queue does not exist.".into(),
                retryable: false
            }
        );
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "SQS error QueueDoesNotExist (HTTP 400): The specified queue does not exist."
        );
    }

    #[test]
    fn error_shape_query_compatible_codes() {
        // A bare query-protocol code in __type is kept whole.
        let body = br#"{"__type":"AWS.SimpleQueueService.NonExistentQueue","Message":"gone"}"#;
        let err = parse_send_message_batch(400, body, &[]).unwrap_err();
        assert!(matches!(
            &err,
            SqsError::Api { code, message, retryable: false, .. }
                if code == "AWS.SimpleQueueService.NonExistentQueue" && message == "gone"
        ));
        // No __type: the x-amzn-query-error header supplies the code.
        let err = parse_send_message_batch_response(
            400,
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
            br#"{"message":"The specified queue does not exist."}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(
            &err,
            SqsError::Api { code, .. } if code == "AWS.SimpleQueueService.NonExistentQueue"
        ));
        // Both: __type wins.
        let err = parse_send_message_batch_response(
            400,
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
            br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"m"}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(&err, SqsError::Api { code, .. } if code == "QueueDoesNotExist"));
        // __type with a ":url" suffix.
        let err = parse_send_message_batch(
            400,
            br#"{"__type":"InvalidParameterValue:http://internal.amazon.com/coral/","message":"m"}"#,
            &[],
        )
        .unwrap_err();
        assert!(matches!(&err, SqsError::Api { code, .. } if code == "InvalidParameterValue"));
    }

    #[test]
    fn retryable_errors() {
        let retryable = |status: u16, q: Option<&str>, body: &[u8]| {
            parse_send_message_batch_response(status, q, body, &[])
                .unwrap_err()
                .is_retryable()
        };
        assert!(retryable(
            500,
            None,
            br#"{"__type":"com.amazonaws.sqs#InternalError"}"#
        ));
        assert!(retryable(503, None, b"<html>Service Unavailable</html>"));
        assert!(retryable(429, None, b""));
        assert!(retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#RequestThrottled"}"#
        ));
        assert!(retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#KmsThrottled"}"#
        ));
        assert!(retryable(400, None, br#"{"__type":"ThrottlingException"}"#));
        assert!(retryable(
            400,
            Some("AWS.SimpleQueueService.RequestThrottled;Sender"),
            br#"{"__type":"com.amazonaws.sqs#Something"}"#
        ));
        assert!(!retryable(
            400,
            None,
            br#"{"__type":"com.amazonaws.sqs#InvalidAddress"}"#
        ));
        assert!(!retryable(
            403,
            None,
            br#"{"__type":"com.amazonaws.sqs#AccessDenied"}"#
        ));
    }

    #[test]
    fn xml_error_body() {
        // What moto 5.2.5 sends for a bad signature, even to a JSON-protocol request.
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#;
        let err = parse_send_message_batch(403, body, &[]).unwrap_err();
        assert_eq!(
            err,
            SqsError::Api {
                status: 403,
                code: "SignatureDoesNotMatch".into(),
                message:
                    "The request signature we calculated does not match the signature you provided."
                        .into(),
                retryable: false
            }
        );
        // Query-protocol throttling in XML is retryable.
        let body = b"<ErrorResponse><Error><Code>AWS.SimpleQueueService.RequestThrottled</Code></Error></ErrorResponse>";
        assert!(
            parse_send_message_batch(400, body, &[])
                .unwrap_err()
                .is_retryable()
        );
        // Empty or nested elements are not taken.
        assert_eq!(xml_element("<Code></Code>", "Code"), None);
        assert_eq!(xml_element("<Code><b>x</b></Code>", "Code"), None);
        assert_eq!(xml_element("<Code>x", "Code"), None);
    }

    #[test]
    fn non_json_error_body() {
        let err =
            parse_send_message_batch(403, b"<html><body>Forbidden\x00</body>\xff</html>", &[])
                .unwrap_err();
        match err {
            SqsError::Api {
                status,
                code,
                message,
                retryable,
            } => {
                assert_eq!(status, 403);
                assert_eq!(code, "Unknown");
                assert!(message.starts_with("<html><body>Forbidden"), "{message}");
                assert!(!message.contains('\0'));
                assert!(!retryable);
            }
            other => panic!("{other:?}"),
        }
        let huge = vec![b'a'; 100_000];
        match parse_send_message_batch(500, &huge, &[]).unwrap_err() {
            SqsError::Api { message, .. } => assert_eq!(message.len(), MAX_ERROR_MESSAGE_CHARS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn round_trip_of_a_built_request() {
        // The body send_message_batch produced, echoed back as SQS would acknowledge it.
        let mut e = entry("x", "päyload\t\u{1F980}");
        e.attributes = vec![("b".into(), "2".into()), ("a".into(), "\u{e9}".into())];
        let sent = vec![e, entry("y", "plain")];
        let req = send_message_batch(&queue(), &creds(), &sent, 0).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let successful: Vec<serde_json::Value> = v["Entries"]
            .as_array()
            .unwrap()
            .iter()
            .zip(&sent)
            .map(|(_, e)| ok_entry(e))
            .collect();
        let body = serde_json::json!({"Successful": successful, "Failed": []});
        let out = parse_send_message_batch(200, body.to_string().as_bytes(), &sent).unwrap();
        assert_eq!(out.successful, ["x", "y"]);
    }
}
