//! The AWS JSON 1.0 protocol of SQS: the `SendMessageBatch` request and response types, the
//! headers that carry an operation, and the error codes a client reads and a server writes.
//!
//! Protocol facts (AWS SQS developer guide, "Making query API requests using AWS JSON protocol"
//! and "Interpreting Amazon SQS JSON API responses"):
//! - requests are `POST /` to the endpoint with `X-Amz-Target: AmazonSQS.<Operation>` and
//!   `Content-Type: application/x-amz-json-1.0`, the input as a JSON object;
//! - errors carry `"__type": "com.amazonaws.sqs#QueueDoesNotExist"` plus a `message` in the body,
//!   and the legacy query-protocol code in the `x-amzn-query-error` header
//!   (`AWS.SimpleQueueService.NonExistentQueue;Sender`).

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::attributes::{STRING_DATA_TYPE, attribute_size};

/// `Content-Type` of every JSON-protocol request.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// What `X-Amz-Target` starts with; the operation's name follows.
pub const TARGET_PREFIX: &str = "AmazonSQS.";
/// `X-Amz-Target` of `SendMessageBatch`.
pub const TARGET_SEND_MESSAGE_BATCH: &str = "AmazonSQS.SendMessageBatch";
/// The response header that carries the query-protocol error code and fault
/// (`AWS.SimpleQueueService.NonExistentQueue;Sender`).
pub const QUERY_ERROR_HEADER: &str = "x-amzn-query-error";
/// What a JSON error's `__type` starts with; the code follows.
pub const ERROR_TYPE_PREFIX: &str = "com.amazonaws.sqs#";

// ---------------------------------------------------------------------------------------------
// SendMessageBatch
// ---------------------------------------------------------------------------------------------

/// One message of a `SendMessageBatch`. Attributes are sent with `DataType: String`.
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
                acc.saturating_add(attribute_size(name, STRING_DATA_TYPE, value))
            })
    }
}

/// The `SendMessageBatch` input for `entries` on `queue_url`, ready for `serde_json`.
pub fn send_message_batch_input<'a>(
    queue_url: &'a str,
    entries: &'a [Entry],
) -> impl Serialize + 'a {
    SendMessageBatchInput {
        queue_url,
        entries: entries
            .iter()
            .map(|e| EntryInput {
                id: &e.id,
                body: &e.body,
                attributes: StringAttributes(&e.attributes),
                group_id: e.group_id.as_deref(),
                dedup_id: e.dedup_id.as_deref(),
            })
            .collect(),
    }
}

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
        skip_serializing_if = "StringAttributes::is_empty"
    )]
    attributes: StringAttributes<'a>,
    #[serde(rename = "MessageGroupId", skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a str>,
    #[serde(
        rename = "MessageDeduplicationId",
        skip_serializing_if = "Option::is_none"
    )]
    dedup_id: Option<&'a str>,
}

/// Serializes `[(name, value)]` as `{name: {"DataType": "String", "StringValue": value}}`.
struct StringAttributes<'a>(&'a [(String, String)]);

impl StringAttributes<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Serialize)]
struct StringAttributeValue<'a> {
    #[serde(rename = "DataType")]
    data_type: &'static str,
    #[serde(rename = "StringValue")]
    string_value: &'a str,
}

impl Serialize for StringAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(
                name,
                &StringAttributeValue {
                    data_type: STRING_DATA_TYPE,
                    string_value: value,
                },
            )?;
        }
        map.end()
    }
}

/// The `SendMessageBatch` result: what a server writes and a client reads. Both lists may be
/// missing or `null` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendMessageBatchOutput {
    /// Entries SQS accepted.
    pub successful: Option<Vec<ResultEntry>>,
    /// Entries SQS refused.
    pub failed: Option<Vec<ErrorEntry>>,
}

/// One accepted entry of a `SendMessageBatch` result. (A missing `Option` reads as `None`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultEntry {
    /// The entry id the request gave.
    pub id: String,
    /// The id SQS gave the message.
    pub message_id: Option<String>,
    /// MD5 of the body as SQS received it.
    #[serde(rename = "MD5OfMessageBody")]
    pub md5_of_body: Option<String>,
    /// MD5 of the attributes as SQS received them (absent or `null` without attributes).
    #[serde(rename = "MD5OfMessageAttributes")]
    pub md5_of_attributes: Option<String>,
}

/// One refused entry of a batch result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorEntry {
    /// The entry id the request gave.
    pub id: String,
    /// True when the entry itself is at fault.
    pub sender_fault: Option<bool>,
    /// The error code (`InvalidParameterValue`...).
    pub code: Option<String>,
    /// A human-readable message.
    pub message: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Error codes
// ---------------------------------------------------------------------------------------------

/// The JSON-protocol code of a missing queue.
pub const QUEUE_DOES_NOT_EXIST: &str = "QueueDoesNotExist";
/// The query-protocol code of a missing queue (`x-amzn-query-error`, older SDKs).
pub const NON_EXISTENT_QUEUE: &str = "AWS.SimpleQueueService.NonExistentQueue";
/// The code of a failure on SQS's side (HTTP 500, fault `Receiver`).
pub const INTERNAL_ERROR: &str = "InternalError";

/// Codes whose query-protocol form is `AWS.SimpleQueueService.<code>`.
const QUERY_PREFIXED_CODES: &[&str] = &[
    "EmptyBatchRequest",
    "TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId",
    "BatchRequestTooLong",
    "MessageNotInflight",
    "UnsupportedOperation",
    "PurgeQueueInProgress",
];

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

/// The query-protocol form of a JSON-protocol `code`, which SDKs match in `x-amzn-query-error`:
/// `QueueDoesNotExist` becomes [`NON_EXISTENT_QUEUE`], the batch and a few other codes gain the
/// `AWS.SimpleQueueService.` prefix, the rest stay as they are.
pub fn query_error_code(code: &str) -> String {
    if code == QUEUE_DOES_NOT_EXIST {
        NON_EXISTENT_QUEUE.to_owned()
    } else if QUERY_PREFIXED_CODES.contains(&code) {
        format!("AWS.SimpleQueueService.{code}")
    } else {
        code.to_owned()
    }
}

/// Whether `code`, in either protocol's form, says the queue does not exist.
pub fn is_queue_missing(code: &str) -> bool {
    code == QUEUE_DOES_NOT_EXIST || code == NON_EXISTENT_QUEUE
}

/// `com.amazonaws.sqs#QueueDoesNotExist` -> `QueueDoesNotExist`; also drops a `:…` suffix
/// (some AWS JSON services append a URL there).
pub fn code_of_error_type(error_type: &str) -> &str {
    let after_hash = error_type.rsplit('#').next().unwrap_or(error_type);
    after_hash.split(':').next().unwrap_or(after_hash).trim()
}

/// Whether `code` means "slow down and try again".
pub fn is_throttling(code: &str) -> bool {
    code_is(code, THROTTLING_CODES)
}

/// Whether `code` is a transient failure even though its status is 4xx.
pub fn is_transient(code: &str) -> bool {
    code_is(code, TRANSIENT_CODES)
}

fn code_is(code: &str, list: &[&str]) -> bool {
    // Query-protocol codes look like `AWS.SimpleQueueService.NonExistentQueue`; compare the
    // whole code and its last dotted segment.
    let last = code.rsplit('.').next().unwrap_or(code);
    list.iter().any(|c| *c == code || *c == last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_the_batch_input() {
        let mut e = Entry::new("m-1", "hello \"world\"\n\u{1F600}");
        e.attributes = vec![("source".into(), "stripe".into()), ("z".into(), "1".into())];
        e.group_id = Some("g".into());
        e.dedup_id = Some("d".into());
        let entries = [e, Entry::new("m_2", "x")];
        let v = serde_json::to_value(send_message_batch_input("https://q/1/q", &entries)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "QueueUrl": "https://q/1/q",
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
    fn entry_size_counts_the_string_data_type() {
        let mut e = Entry::new("a", "x");
        e.attributes = vec![("k".into(), "v".into())];
        assert_eq!(e.size_bytes(), 1 + 1 + 6 + 1);
        assert_eq!(Entry::new("a", "\u{e9}").size_bytes(), 2);
    }

    #[test]
    fn batch_output_reads_missing_and_null_lists_and_writes_what_it_reads() {
        for body in [r#"{}"#, r#"{"Successful":null,"Failed":null}"#] {
            let out: SendMessageBatchOutput = serde_json::from_str(body).unwrap();
            assert_eq!(out, SendMessageBatchOutput::default());
        }
        let out = SendMessageBatchOutput {
            successful: Some(vec![ResultEntry {
                id: "a".into(),
                message_id: Some("m".into()),
                md5_of_body: Some("0cc175b9c0f1b6a831c399e269772661".into()),
                md5_of_attributes: None,
            }]),
            failed: Some(vec![]),
        };
        let text = serde_json::to_string(&out).unwrap();
        assert_eq!(
            text,
            r#"{"Successful":[{"Id":"a","MessageId":"m","MD5OfMessageBody":"0cc175b9c0f1b6a831c399e269772661","MD5OfMessageAttributes":null}],"Failed":[]}"#
        );
        assert_eq!(
            serde_json::from_str::<SendMessageBatchOutput>(&text).unwrap(),
            out
        );
    }

    #[test]
    fn error_codes() {
        assert_eq!(query_error_code("QueueDoesNotExist"), NON_EXISTENT_QUEUE);
        assert_eq!(
            query_error_code("BatchRequestTooLong"),
            "AWS.SimpleQueueService.BatchRequestTooLong"
        );
        assert_eq!(
            query_error_code("InvalidParameterValue"),
            "InvalidParameterValue"
        );
        assert!(is_queue_missing(NON_EXISTENT_QUEUE) && is_queue_missing("QueueDoesNotExist"));
        assert!(!is_queue_missing("AccessDenied"));
        assert_eq!(
            code_of_error_type("com.amazonaws.sqs#QueueDoesNotExist"),
            "QueueDoesNotExist"
        );
        assert_eq!(
            code_of_error_type("InvalidParameterValue:http://internal.amazon.com/coral/"),
            "InvalidParameterValue"
        );
        assert!(is_throttling("AWS.SimpleQueueService.RequestThrottled"));
        assert!(is_throttling("KmsThrottled"));
        assert!(!is_throttling("InvalidAddress"));
        assert!(is_transient("RequestTimeout"));
        assert!(!is_transient("AccessDenied"));
    }
}
