//! SQS helpers over moto: a client that can only reach it, fresh uniquely named queues, their
//! counts and attributes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::QueueAttributeName;

/// An SQS client for `endpoint` (moto): region us-east-1, static credentials `test`/`test`.
/// Built from the SDK's own config alone, so no `AWS_*` variable or `~/.aws` file can point it
/// anywhere else.
pub async fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "hookline-harness",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A queue name unique to this call: the prefix (reduced to SQS's alphabet) plus the process id,
/// a counter and the clock; `.fifo` is appended when `FifoQueue` is `true`.
fn unique_queue_name(prefix: &str, fifo: bool) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let clean: String = prefix
        .trim_end_matches(".fifo")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let suffix = if fifo { ".fifo" } else { "" };
    format!("{clean}-{}-{n}-{nanos:09}{suffix}", std::process::id())
}

/// A queue's approximate message counts, as SQS reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// `ApproximateNumberOfMessages`: ready to be received.
    pub visible: i64,
    /// `ApproximateNumberOfMessagesNotVisible`: received and not yet deleted (in flight).
    pub in_flight: i64,
    /// `ApproximateNumberOfMessagesDelayed`.
    pub delayed: i64,
}

impl QueueCounts {
    /// Every message on the queue, whatever its state.
    pub fn total(self) -> i64 {
        self.visible + self.in_flight + self.delayed
    }
}

/// `GetQueueAttributes` for `name`; panics with the SDK's whole error.
async fn queue_attributes(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    name: QueueAttributeName,
) -> aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput {
    client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(name)
        .send()
        .await
        .unwrap_or_else(|e| failed("GetQueueAttributes", queue_url, &e))
}

/// Panics with an SQS call's whole error: the SDK's `Display` names only its kind.
fn failed(call: &str, queue: &str, e: &(dyn std::error::Error + 'static)) -> ! {
    panic!(
        "{call} {queue}: {:?}",
        aws_sdk_sqs::error::DisplayErrorContext(e)
    )
}

/// Receives up to 10 messages from `queue_url` with all their message attributes (no wait);
/// they stay on the queue, invisible for its visibility timeout, until deleted.
pub async fn receive_batch(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    receive_batch_waiting(client, queue_url, None).await
}

/// [`receive_batch`], long-polling for up to `wait_seconds` (`None`: the queue's default).
pub async fn receive_batch_waiting(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_seconds: Option<i32>,
) -> Vec<aws_sdk_sqs::types::Message> {
    client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .set_wait_time_seconds(wait_seconds)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap_or_else(|e| failed("ReceiveMessage", queue_url, &e))
        .messages
        .unwrap_or_default()
}

/// Deletes a message received from `queue_url`.
pub async fn delete(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    message: &aws_sdk_sqs::types::Message,
) {
    client
        .delete_message()
        .queue_url(queue_url)
        // A message without a handle fails the call, which panics with SQS's own error.
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await
        .unwrap_or_else(|e| failed("DeleteMessage", queue_url, &e));
}

/// The counts of the queue at `queue_url`.
pub async fn queue_counts(client: &aws_sdk_sqs::Client, queue_url: &str) -> QueueCounts {
    let out = queue_attributes(client, queue_url, QueueAttributeName::All).await;
    let get = |k: QueueAttributeName| -> i64 {
        out.attributes()
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    QueueCounts {
        visible: get(QueueAttributeName::ApproximateNumberOfMessages),
        in_flight: get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        delayed: get(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
    }
}

/// Creates a queue with a unique name starting with `name_prefix` and returns its URL.
/// `attrs` are queue attributes, e.g. `&[(QueueAttributeName::VisibilityTimeout, "5")]`.
pub async fn fresh_queue(
    client: &aws_sdk_sqs::Client,
    name_prefix: &str,
    attrs: &[(QueueAttributeName, &str)],
) -> String {
    let fifo = attrs
        .iter()
        .any(|(k, v)| *k == QueueAttributeName::FifoQueue && v.eq_ignore_ascii_case("true"));
    let name = unique_queue_name(name_prefix, fifo);
    let mut req = client.create_queue().queue_name(&name);
    for (k, v) in attrs {
        req = req.attributes(k.clone(), *v);
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| failed("CreateQueue", &name, &e));
    out.queue_url()
        .expect("CreateQueue returns a QueueUrl")
        .to_owned()
}

/// The ARN of a queue.
pub async fn queue_arn(client: &aws_sdk_sqs::Client, queue_url: &str) -> String {
    let out = queue_attributes(client, queue_url, QueueAttributeName::QueueArn).await;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("QueueArn attribute")
        .clone()
}

/// A fresh dead-letter queue and a fresh queue that redrives to it after `max_receive` receives
/// (`RedrivePolicy` as a JSON string attribute): `(queue_url, dlq_url)`.
pub async fn queue_with_dlq(
    client: &aws_sdk_sqs::Client,
    prefix: &str,
    max_receive: u32,
) -> (String, String) {
    let dlq = fresh_queue(client, &format!("{prefix}-dlq"), &[]).await;
    let arn = queue_arn(client, &dlq).await;
    let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receive })
        .to_string();
    let queue = fresh_queue(
        client,
        prefix,
        &[(QueueAttributeName::RedrivePolicy, &policy)],
    )
    .await;
    (queue, dlq)
}
