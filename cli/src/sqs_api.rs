//! The SQS JSON protocol (`X-Amz-Target: AmazonSQS.*`, `application/x-amz-json-1.0`) over the
//! embedded [`Store`], so that `hookline dev` is an SQS endpoint: the sender's own event-source
//! loop, `hookline send`/`replay`, and your consumers use the real `aws-sdk-sqs` client (or any
//! SQS SDK) against it, exactly as against AWS.
//!
//! Supported actions: `SendMessage`, `SendMessageBatch`, `ReceiveMessage`, `DeleteMessage`,
//! `DeleteMessageBatch`, `ChangeMessageVisibility`, `ChangeMessageVisibilityBatch`,
//! `GetQueueUrl`, `GetQueueAttributes`, `ListQueues`, `ListDeadLetterSourceQueues`,
//! `CreateQueue`, `PurgeQueue`. Credentials
//! and signatures are not checked: it listens on loopback only.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hookline_sqs::attributes::md5_of_attributes;
use hookline_sqs::json::{
    ERROR_TYPE_PREFIX, INTERNAL_ERROR, QUEUE_DOES_NOT_EXIST, ResultEntry, SendMessageBatchOutput,
    TARGET_PREFIX, query_error_code,
};
use hookline_sqs::limits::{
    MAX_BATCH_ENTRIES, MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES_CEILING,
    MAX_VISIBILITY_TIMEOUT_SECONDS, MAX_WAIT_SECONDS, is_valid_queue_name,
};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::store::{Attribute, QueueSpec, Received, Store, StoreError, StoreThread};

/// The account id in queue URLs (as moto and ElasticMQ use).
pub const ACCOUNT: &str = "000000000000";
/// The largest message, and the largest batch: `hookline dev`'s queues accept what an SQS queue
/// set to the ceiling does (1 MiB, SQS's limit since August 2025). A message's size is its body
/// plus each attribute's name, type and value, as SQS counts it.
pub const MAX_MESSAGE_BYTES: usize = MAX_MESSAGE_BYTES_CEILING;

/// An SQS error: HTTP status 400 and a JSON body the SDKs turn into a typed error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsError {
    /// The error code (`QueueDoesNotExist`, `InvalidParameterValue`...).
    pub code: &'static str,
    /// A human-readable message.
    pub message: String,
}

impl SqsError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidParameterValue",
            message: message.into(),
        }
    }

    /// The HTTP status, headers and body of this error.
    pub fn to_response(&self) -> (u16, String, String) {
        // The SDKs match the code in `x-amzn-query-error`; SQS prefixes most of them.
        let code = query_error_code(self.code);
        let (status, fault) = if self.code == INTERNAL_ERROR {
            (500, "Receiver")
        } else {
            (400, "Sender")
        };
        (status, format!("{code};{fault}"), self.body())
    }

    fn body(&self) -> String {
        json!({"__type": format!("{ERROR_TYPE_PREFIX}{}", self.code), "message": self.message})
            .to_string()
    }
}

impl From<StoreError> for SqsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchQueue(q) => SqsError {
                code: QUEUE_DOES_NOT_EXIST,
                message: format!("The specified queue {q} does not exist."),
            },
            StoreError::InvalidReceipt => SqsError {
                code: "ReceiptHandleIsInvalid",
                message: e.to_string(),
            },
            StoreError::InvalidAttribute { .. } => SqsError::invalid(e.to_string()),
            other => SqsError {
                code: INTERNAL_ERROR,
                message: other.to_string(),
            },
        }
    }
}

/// The SQS endpoint: the store, the base URL queue URLs are made from, and a wake-up for long
/// polls.
#[derive(Debug, Clone)]
pub struct SqsApi {
    store: StoreThread,
    base_url: String,
    /// Wakes every long poll of the SQS API.
    arrivals: Arc<Notify>,
    /// Wakes one in-process poller ([`SqsApi::receive_local`]) per arrival: waking them all
    /// for one message would cost a store call each for nothing.
    local_arrivals: Arc<Notify>,
    clock: fn() -> i64,
}

impl SqsApi {
    /// Serves `store`, naming queues `{base_url}/000000000000/{name}`; `clock` gives the time in
    /// milliseconds since the epoch.
    pub fn new(store: StoreThread, base_url: String, clock: fn() -> i64) -> Self {
        Self {
            store,
            base_url: base_url.trim_end_matches('/').to_owned(),
            arrivals: Arc::new(Notify::new()),
            local_arrivals: Arc::new(Notify::new()),
            clock,
        }
    }

    /// The store behind the endpoint.
    pub fn store(&self) -> &StoreThread {
        &self.store
    }

    /// The URL of queue `name`.
    pub fn queue_url(&self, name: &str) -> String {
        queue_url(&self.base_url, name)
    }

    /// Wakes long polls: call after putting messages on a queue outside this API.
    pub fn notify(&self) {
        self.arrivals.notify_waiters();
        // A permit is kept when no poller waits, so one that is about to wait still wakes.
        self.local_arrivals.notify_one();
    }

    /// Commits one message from inside the process (the receiver's enqueue). Call
    /// [`SqsApi::notify`] afterwards to wake long polls.
    pub async fn send_local(
        &self,
        queue: &'static str,
        body: String,
        attributes: Vec<Attribute>,
    ) -> Result<String, StoreError> {
        let now = (self.clock)();
        let sent = self
            .store
            .run(move |s| s.send(queue, body, attributes, Duration::ZERO, now))
            .await?;
        Ok(sent.message_id)
    }

    /// Receives up to `max` messages of `queue` from inside the process (`hookline dev`'s own
    /// delivery loop), as `ReceiveMessage` does: hidden for `hide` (the queue's visibility
    /// timeout when `None`), waiting up to `wait` for the first one (one waiting poller is
    /// woken by each [`SqsApi::notify`]).
    pub async fn receive_local(
        &self,
        queue: String,
        max: usize,
        wait: Duration,
        hide: Option<Duration>,
    ) -> Result<Vec<Received>, StoreError> {
        self.receive_waiting(queue, max, wait, hide, &self.local_arrivals)
            .await
    }

    /// As [`SqsApi::receive_local`], woken by `arrivals`.
    async fn receive_waiting(
        &self,
        queue: String,
        max: usize,
        wait: Duration,
        hide: Option<Duration>,
        arrivals: &Notify,
    ) -> Result<Vec<Received>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register for wake-ups before looking, so a send in between is not missed.
            let arrived = arrivals.notified();
            let (q, now_ms) = (queue.clone(), (self.clock)());
            let got = self
                .store
                .run(move |s| s.receive(&q, max, hide, now_ms))
                .await?;
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            // Delayed or hidden messages come due without a send: look again at least every
            // 100 ms, sooner when the next one is due.
            let mut nap = (deadline - now).min(Duration::from_millis(100));
            let q = queue.clone();
            if let Some(next) = self.store.run(move |s| s.next_visible_ms(&q)).await? {
                let due = u64::try_from(next.saturating_sub((self.clock)())).unwrap_or(0);
                nap = nap.min(Duration::from_millis(due.max(1)));
            }
            let _ = tokio::time::timeout(nap, arrived).await;
        }
    }

    /// Deletes the received messages of `queue` that `receipts` name, from inside the process,
    /// in one commit, as `DeleteMessageBatch` does (a receipt whose message is gone deletes
    /// nothing and is no error). Returns how many receipts it took.
    pub async fn delete_local(
        &self,
        queue: &'static str,
        receipts: Vec<String>,
    ) -> Result<usize, StoreError> {
        self.store
            .run(move |store| {
                store.atomically(|store| {
                    for r in &receipts {
                        store.delete(queue, r)?;
                    }
                    Ok::<_, StoreError>(receipts.len())
                })
            })
            .await
    }

    /// Handles one request: `target` is the `X-Amz-Target` header, `body` the JSON request.
    pub async fn handle(&self, target: &str, body: &[u8]) -> Result<Value, SqsError> {
        let action = target
            .strip_prefix(TARGET_PREFIX)
            .ok_or_else(|| SqsError::invalid(format!("unknown target {target}")))?;
        let req: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).map_err(|e| SqsError {
                code: "MalformedQueryString",
                message: format!("the request body is not JSON: {e}"),
            })?
        };
        if action == "ReceiveMessage" {
            return self.receive(&req).await;
        }
        let now = (self.clock)();
        let base = self.base_url.clone();
        let action = action.to_owned();
        let wakes = matches!(
            action.as_str(),
            "SendMessage"
                | "SendMessageBatch"
                | "ChangeMessageVisibility"
                | "ChangeMessageVisibilityBatch"
        );
        // The whole action is one savepoint on the store's thread: a batch is all or nothing
        // and costs one commit.
        let out = self
            .store
            .run(move |store| store.atomically(|store| act(store, &base, &action, &req, now)))
            .await?;
        if wakes {
            self.notify();
        }
        Ok(out)
    }

    async fn receive(&self, req: &Value) -> Result<Value, SqsError> {
        let queue = queue_name(req)?;
        let max = req
            .get("MaxNumberOfMessages")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        if !(1..=MAX_BATCH_ENTRIES as u64).contains(&max) {
            return Err(SqsError::invalid(format!(
                "MaxNumberOfMessages must be between 1 and {MAX_BATCH_ENTRIES}"
            )));
        }
        let wait = req
            .get("WaitTimeSeconds")
            .and_then(Value::as_u64)
            .map_or(Duration::ZERO, Duration::from_secs);
        if wait > Duration::from_secs(MAX_WAIT_SECONDS) {
            return Err(SqsError::invalid(format!(
                "WaitTimeSeconds must be 0 to {MAX_WAIT_SECONDS}"
            )));
        }
        let hide = match req.get("VisibilityTimeout") {
            None | Some(Value::Null) => None,
            Some(_) => Some(visibility(req)?),
        };
        let n = usize::try_from(max).unwrap_or(1);
        let messages = self
            .receive_waiting(queue, n, wait, hide, &self.arrivals)
            .await?;
        let out: Vec<Value> = messages
            .into_iter()
            .map(|m| -> Result<Value, SqsError> {
                let mut attrs = serde_json::Map::new();
                for a in &m.attributes {
                    let key = if a.is_binary() {
                        "BinaryValue"
                    } else {
                        "StringValue"
                    };
                    attrs.insert(
                        a.name.clone(),
                        json!({"DataType": a.data_type, key: a.value}),
                    );
                }
                let mut o = serde_json::Map::new();
                o.insert("MessageId".into(), json!(m.message_id));
                o.insert("ReceiptHandle".into(), json!(m.receipt_handle));
                o.insert("MD5OfBody".into(), json!(m.md5_of_body));
                o.insert("Body".into(), json!(m.body));
                let system: serde_json::Map<String, Value> = system_attributes(&m)
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v)))
                    .collect();
                o.insert("Attributes".into(), Value::Object(system));
                if !attrs.is_empty() {
                    o.insert("MessageAttributes".into(), Value::Object(attrs));
                    o.insert(
                        "MD5OfMessageAttributes".into(),
                        json!(md5_of_attributes(&m.attributes).map_err(StoreError::from)?),
                    );
                }
                Ok(Value::Object(o))
            })
            .collect::<Result<_, _>>()?;
        Ok(json!({"Messages": out}))
    }
}

/// The system attributes a received message carries (`ReceiveMessage` answers them all when
/// asked, as the sender's event source does): one list for the SQS API and the in-process loop.
pub fn system_attributes(m: &Received) -> [(&'static str, String); 4] {
    [
        ("SenderId", ACCOUNT.to_owned()),
        ("SentTimestamp", m.sent_ms.to_string()),
        ("ApproximateReceiveCount", m.receive_count.to_string()),
        (
            "ApproximateFirstReceiveTimestamp",
            m.first_receive_ms.to_string(),
        ),
    ]
}

/// The queue a request names by `QueueUrl` (its last path segment).
fn queue_name(req: &Value) -> Result<String, SqsError> {
    let url = str_field(req, "QueueUrl")?;
    let name = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if name.is_empty() {
        return Err(SqsError::invalid(format!("invalid QueueUrl {url}")));
    }
    Ok(name.to_owned())
}

/// One action other than `ReceiveMessage`, on the store's thread.
fn act(store: &Store, base: &str, action: &str, req: &Value, now: i64) -> Result<Value, SqsError> {
    match action {
        "SendMessage" => {
            let queue = queue_name(req)?;
            let (body, attrs, delay) = message_parts(req)?;
            let sent = store.send(&queue, body, attrs, delay, now)?;
            Ok(json!({
                "MessageId": sent.message_id,
                "MD5OfMessageBody": sent.md5_of_body,
                "MD5OfMessageAttributes": sent.md5_of_attributes,
            }))
        }
        "SendMessageBatch" => {
            let queue = queue_name(req)?;
            let entries = batch_entries(req)?;
            let mut parts = Vec::with_capacity(entries.len());
            let mut ids = Vec::with_capacity(entries.len());
            let mut total = 0usize;
            for e in entries {
                ids.push(str_field(e, "Id")?.to_owned());
                let part = message_parts(e)?;
                total = total.saturating_add(message_size(&part));
                parts.push(part);
            }
            if total > MAX_MESSAGE_BYTES {
                return Err(SqsError {
                    code: "BatchRequestTooLong",
                    message: format!(
                        "Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes; this one is {total}."
                    ),
                });
            }
            let sent = store.send_batch(&queue, &parts, now)?;
            let successful = ids
                .into_iter()
                .zip(sent)
                .map(|(id, s)| ResultEntry {
                    id,
                    message_id: Some(s.message_id),
                    md5_of_body: Some(s.md5_of_body),
                    md5_of_attributes: s.md5_of_attributes,
                })
                .collect();
            let output = SendMessageBatchOutput {
                successful: Some(successful),
                failed: Some(Vec::new()),
            };
            serde_json::to_value(output).map_err(|e| SqsError {
                code: INTERNAL_ERROR,
                message: format!("writing the result: {e}"),
            })
        }
        "DeleteMessage" => {
            let queue = queue_name(req)?;
            store.delete(&queue, str_field(req, "ReceiptHandle")?)?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" => {
            let queue = queue_name(req)?;
            let mut ok = Vec::new();
            for e in batch_entries(req)? {
                let id = str_field(e, "Id")?;
                store.delete(&queue, str_field(e, "ReceiptHandle")?)?;
                ok.push(json!({"Id": id}));
            }
            Ok(json!({"Successful": ok, "Failed": []}))
        }
        "ChangeMessageVisibility" => {
            let queue = queue_name(req)?;
            let secs = visibility(req)?;
            store.change_visibility(&queue, str_field(req, "ReceiptHandle")?, secs, now)?;
            Ok(json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let queue = queue_name(req)?;
            let (mut ok, mut failed) = (Vec::new(), Vec::new());
            for e in batch_entries(req)? {
                let id = str_field(e, "Id")?;
                let result = visibility(e).and_then(|secs| {
                    store
                        .change_visibility(&queue, str_field(e, "ReceiptHandle")?, secs, now)
                        .map_err(SqsError::from)
                });
                match result {
                    Ok(()) => ok.push(json!({"Id": id})),
                    Err(err) => failed.push(json!({"Id": id, "Code": err.code, "Message": err.message, "SenderFault": true})),
                }
            }
            Ok(json!({"Successful": ok, "Failed": failed}))
        }
        "GetQueueUrl" => {
            let name = str_field(req, "QueueName")?;
            store.queue(name)?;
            Ok(json!({"QueueUrl": queue_url(base, name)}))
        }
        "CreateQueue" => {
            let name = str_field(req, "QueueName")?;
            if !is_valid_queue_name(name) {
                return Err(SqsError::invalid(format!("invalid queue name {name}")));
            }
            if store.queue(name).is_err() {
                let vt = req
                    .pointer("/Attributes/VisibilityTimeout")
                    .and_then(Value::as_str)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(30);
                store.ensure_queue(&QueueSpec {
                    name: name.to_owned(),
                    visibility_timeout: Duration::from_secs(vt.min(MAX_VISIBILITY_TIMEOUT_SECONDS)),
                    redrive: None,
                })?;
            }
            Ok(json!({"QueueUrl": queue_url(base, name)}))
        }
        "ListQueues" => {
            let prefix = req
                .get("QueueNamePrefix")
                .and_then(Value::as_str)
                .unwrap_or("");
            let urls: Vec<String> = store
                .queue_names()?
                .into_iter()
                .filter(|n| n.starts_with(prefix))
                .map(|n| queue_url(base, &n))
                .collect();
            Ok(json!({"QueueUrls": urls}))
        }
        "GetQueueAttributes" => {
            let queue = queue_name(req)?;
            let spec = store.queue(&queue)?;
            let counts = store.counts(&queue, now)?;
            let mut attrs = BTreeMap::new();
            attrs.insert("ApproximateNumberOfMessages", counts.visible.to_string());
            attrs.insert(
                "ApproximateNumberOfMessagesNotVisible",
                counts.in_flight.to_string(),
            );
            attrs.insert(
                "ApproximateNumberOfMessagesDelayed",
                counts.delayed.to_string(),
            );
            attrs.insert(
                "VisibilityTimeout",
                spec.visibility_timeout.as_secs().to_string(),
            );
            attrs.insert(
                "QueueArn",
                format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"),
            );
            if let Some((dlq, max)) = &spec.redrive {
                attrs.insert(
                    "RedrivePolicy",
                    json!({"deadLetterTargetArn": format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{dlq}"), "maxReceiveCount": max}).to_string(),
                );
            }
            Ok(json!({"Attributes": attrs}))
        }
        "ListDeadLetterSourceQueues" => {
            let dlq = queue_name(req)?;
            store.queue(&dlq)?;
            let mut urls = Vec::new();
            for name in store.queue_names()? {
                let spec = store.queue(&name)?;
                if spec.redrive.as_ref().is_some_and(|(d, _)| *d == dlq) {
                    urls.push(queue_url(base, &name));
                }
            }
            Ok(json!({"queueUrls": urls}))
        }
        "PurgeQueue" => {
            let queue = queue_name(req)?;
            store.purge(&queue)?;
            Ok(json!({}))
        }
        other => Err(SqsError {
            code: "UnsupportedOperation",
            message: format!("hookline dev does not implement {other}"),
        }),
    }
}

/// The URL of queue `name` under `base`.
fn queue_url(base: &str, name: &str) -> String {
    format!("{base}/{ACCOUNT}/{name}")
}

fn str_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, SqsError> {
    v.get(name).and_then(Value::as_str).ok_or_else(|| SqsError {
        code: "MissingParameter",
        message: format!("The request must contain the parameter {name}."),
    })
}

fn batch_entries(req: &Value) -> Result<&Vec<Value>, SqsError> {
    let entries = req
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| SqsError {
            code: "MissingParameter",
            message: "The request must contain the parameter Entries.".into(),
        })?;
    if entries.is_empty() {
        return Err(SqsError {
            code: "EmptyBatchRequest",
            message: "There should be at least one entry in the request.".into(),
        });
    }
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(SqsError {
            code: "TooManyEntriesInBatchRequest",
            message: format!("Maximum number of entries per request are {MAX_BATCH_ENTRIES}."),
        });
    }
    let mut ids = std::collections::HashSet::new();
    for e in entries {
        if !ids.insert(str_field(e, "Id")?) {
            return Err(SqsError {
                code: "BatchEntryIdsNotDistinct",
                message: "Two or more batch entries in the request have the same Id.".into(),
            });
        }
    }
    Ok(entries)
}

fn visibility_out_of_range() -> SqsError {
    SqsError::invalid(format!(
        "VisibilityTimeout must be 0 to {MAX_VISIBILITY_TIMEOUT_SECONDS}"
    ))
}

fn visibility(req: &Value) -> Result<Duration, SqsError> {
    let secs = req
        .get("VisibilityTimeout")
        .and_then(Value::as_u64)
        .ok_or_else(visibility_out_of_range)?;
    if secs > MAX_VISIBILITY_TIMEOUT_SECONDS {
        return Err(visibility_out_of_range());
    }
    Ok(Duration::from_secs(secs))
}

type MessageParts = (String, Vec<Attribute>, Duration);

/// A message's size as SQS counts it: the body and every attribute's name, type and value.
fn message_size((body, attrs, _): &MessageParts) -> usize {
    attrs
        .iter()
        .fold(body.len(), |n, a| n.saturating_add(a.size_bytes()))
}

fn message_parts(v: &Value) -> Result<MessageParts, SqsError> {
    let body = str_field(v, "MessageBody")?;
    if body.is_empty() {
        return Err(SqsError {
            code: "MissingParameter",
            message: "The request must contain the parameter MessageBody.".into(),
        });
    }
    let delay = v.get("DelaySeconds").and_then(Value::as_u64).unwrap_or(0);
    if delay > MAX_DELAY_SECONDS {
        return Err(SqsError::invalid(format!(
            "DelaySeconds must be 0 to {MAX_DELAY_SECONDS}"
        )));
    }
    let mut attrs = Vec::new();
    if let Some(map) = v.get("MessageAttributes").and_then(Value::as_object) {
        for (name, a) in map {
            let data_type = str_field(a, "DataType")?.to_owned();
            let value = a
                .get("StringValue")
                .or_else(|| a.get("BinaryValue"))
                .and_then(Value::as_str)
                .ok_or_else(|| SqsError::invalid(format!("attribute {name} has no value")))?
                .to_owned();
            if data_type.starts_with("Binary") {
                use base64::Engine as _;
                if let Err(e) = base64::engine::general_purpose::STANDARD.decode(&value) {
                    return Err(SqsError::invalid(format!(
                        "attribute {name}: a Binary value must be base64: {e}"
                    )));
                }
            }
            attrs.push(Attribute {
                name: name.clone(),
                data_type,
                value,
            });
        }
    }
    let parts = (body.to_owned(), attrs, Duration::from_secs(delay));
    let size = message_size(&parts);
    if size > MAX_MESSAGE_BYTES {
        return Err(SqsError::invalid(format!(
            "the message is {size} bytes; the limit is {MAX_MESSAGE_BYTES}"
        )));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> SqsApi {
        let store = Store::in_memory().unwrap();
        store
            .ensure_queue(&QueueSpec {
                name: "q".into(),
                visibility_timeout: Duration::from_secs(30),
                redrive: None,
            })
            .unwrap();
        SqsApi::new(
            StoreThread::spawn(store).unwrap(),
            "http://127.0.0.1:8787/".into(),
            || 1_000,
        )
    }

    /// Calls `action` (an SQS operation's name) with `req`, which the test expects refused.
    async fn refused(api: &SqsApi, action: &str, req: &Value) -> SqsError {
        api.handle(&format!("AmazonSQS.{action}"), req.to_string().as_bytes())
            .await
            .unwrap_err()
    }

    /// Calls `action` with `req`, which the test expects accepted.
    async fn call(api: &SqsApi, action: &str, req: &Value) -> Value {
        api.handle(&format!("AmazonSQS.{action}"), req.to_string().as_bytes())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn errors_carry_the_codes_sdks_map() {
        let api = api();
        let url = api.queue_url("missing");
        let err = refused(
            &api,
            "SendMessage",
            &json!({"QueueUrl": url, "MessageBody": "x"}),
        )
        .await;
        assert_eq!(err.code, "QueueDoesNotExist");
        let (status, query, body) = err.to_response();
        assert_eq!(status, 400);
        assert!(query.starts_with("AWS.SimpleQueueService.NonExistentQueue"));
        assert!(body.contains("com.amazonaws.sqs#QueueDoesNotExist"));
        let err = api.handle("AmazonSQS.Nope", b"{}").await.unwrap_err();
        assert_eq!(err.code, "UnsupportedOperation");
        assert_eq!(
            err.to_response().1,
            "AWS.SimpleQueueService.UnsupportedOperation;Sender"
        );
        let err = api.handle("AmazonSQS.SendMessage", b"{").await.unwrap_err();
        assert_eq!(err.code, "MalformedQueryString");
    }

    #[tokio::test]
    async fn receive_parameters_are_checked_as_sqs_does() {
        let api = api();
        let q = api.queue_url("q");
        for bad in [
            json!({"QueueUrl": q, "WaitTimeSeconds": 21}),
            json!({"QueueUrl": q, "VisibilityTimeout": 43_201}),
            json!({"QueueUrl": q, "MaxNumberOfMessages": 11}),
        ] {
            let err = refused(&api, "ReceiveMessage", &bad).await;
            assert_eq!(err.code, "InvalidParameterValue", "{bad}");
        }
    }

    #[tokio::test]
    async fn batch_entry_ids_must_be_distinct_and_a_failed_batch_stores_nothing() {
        let api = api();
        let req = json!({"QueueUrl": api.queue_url("q"), "Entries": [
            {"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]});
        let err = refused(&api, "SendMessageBatch", &req).await;
        assert_eq!(err.code, "BatchEntryIdsNotDistinct");
        assert!(
            err.to_response()
                .1
                .starts_with("AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
        );
        let req = json!({"QueueUrl": api.queue_url("q"), "Entries": [
            {"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": ""}]});
        refused(&api, "SendMessageBatch", &req).await;
        let counts = api.store().run(|s| s.counts("q", 1_000)).await.unwrap();
        assert_eq!(counts.visible, 0, "all or nothing");
    }

    #[tokio::test]
    async fn batches_are_limited_to_ten() {
        let api = api();
        let entries: Vec<Value> = (0..11)
            .map(|i| json!({"Id": i.to_string(), "MessageBody": "x"}))
            .collect();
        let req = json!({"QueueUrl": api.queue_url("q"), "Entries": entries});
        let err = refused(&api, "SendMessageBatch", &req).await;
        assert_eq!(err.code, "TooManyEntriesInBatchRequest");
    }

    #[tokio::test]
    async fn batches_over_the_byte_limit_are_refused_as_sqs_does() {
        let api = api();
        let url = api.queue_url("q");
        let body = |n: usize| "x".repeat(n);
        let half = MAX_MESSAGE_BYTES / 2;
        // Two halves fit; one byte more (in a body or an attribute) does not.
        let ok = json!({"QueueUrl": url, "Entries": [
            {"Id": "a", "MessageBody": body(half)},
            {"Id": "b", "MessageBody": body(half)},
        ]});
        call(&api, "SendMessageBatch", &ok).await;
        for over in [
            json!({"QueueUrl": url, "Entries": [
                {"Id": "a", "MessageBody": body(half)},
                {"Id": "b", "MessageBody": body(half + 1)},
            ]}),
            json!({"QueueUrl": url, "Entries": [
                {"Id": "a", "MessageBody": body(half)},
                {"Id": "b", "MessageBody": body(half - 10),
                 "MessageAttributes": {"k": {"DataType": "String", "StringValue": "0123456789"}}},
            ]}),
        ] {
            let err = refused(&api, "SendMessageBatch", &over).await;
            assert_eq!(err.code, "BatchRequestTooLong", "{}", err.message);
            assert!(
                err.to_response()
                    .1
                    .starts_with("AWS.SimpleQueueService.BatchRequestTooLong")
            );
        }
        // One message: its attributes count too.
        let one = json!({"QueueUrl": url, "MessageBody": body(MAX_MESSAGE_BYTES - 2),
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}});
        let err = refused(&api, "SendMessage", &one).await;
        assert_eq!(err.code, "InvalidParameterValue");
    }

    #[tokio::test]
    async fn a_binary_attribute_that_is_not_base64_is_refused() {
        let api = api();
        let url = api.queue_url("q");
        let req = json!({"QueueUrl": url, "MessageBody": "x",
            "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": "not base64!"}}});
        let err = refused(&api, "SendMessage", &req).await;
        assert_eq!(err.code, "InvalidParameterValue");
        assert!(err.message.contains("blob"), "{}", err.message);
        let ok = json!({"QueueUrl": url, "MessageBody": "x",
            "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": "AAE="}}});
        call(&api, "SendMessage", &ok).await;
    }
}
