//! A local stand-in for Lambda's SQS event source mapping, for the integration tests and for
//! `hookline dev`: poll a queue, hand the batch to the handler as a real `SqsEvent`, delete what
//! succeeded, leave what failed.
//!
//! It follows Lambda's rules for `ReportBatchItemFailures`: a handler that returns an error, or
//! names a message id that was not in the batch, fails the whole batch (nothing is deleted).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use hookline_sqs::limits::MAX_BATCH_ENTRIES;

/// What one poll did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollStats {
    /// Messages received and handed to the handler.
    pub received: usize,
    /// Messages deleted after the handler finished them.
    pub deleted: usize,
    /// Messages left on the queue (retry later).
    pub failed: usize,
}

/// Why a poll failed (the handler's own errors are not poll errors: they fail the batch): the
/// queue's error, as [`PollQueue`] reports it (an `aws_sdk_sqs::Error` for [`SqsQueue`]).
pub type PollError = Box<dyn std::error::Error + Send + Sync>;

/// What the event source needs of a queue: a batch received, the finished messages deleted.
/// [`SqsQueue`] is SQS through `aws-sdk-sqs`; `hookline dev` implements it over its embedded
/// queue in the same process, so its own delivery loop makes no HTTP, SigV4 or JSON round trip
/// to itself (its SQS API stays for every other client).
#[async_trait::async_trait]
pub trait PollQueue: Send + Sync {
    /// Receives up to `max` (1 to [`MAX_BATCH_ENTRIES`]) messages, long-polling up to
    /// `wait_seconds` for the first. Each record carries what SQS returns of it: message id,
    /// receipt handle, body, its MD5, and the system attributes (`ApproximateReceiveCount`,
    /// `SentTimestamp`, ...); the event source fills in the rest of the record.
    async fn receive(&self, max: i32, wait_seconds: i32) -> Result<Vec<SqsMessage>, PollError>;

    /// Deletes the received messages these receipt handles name (at most
    /// [`MAX_BATCH_ENTRIES`]); returns how many it deleted.
    async fn delete(&self, receipts: &[&str]) -> Result<usize, PollError>;
}

/// An SQS queue (or anything speaking its API) through `aws-sdk-sqs`.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    /// The queue at `queue_url`, through `sqs`.
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { sqs, queue_url }
    }
}

#[async_trait::async_trait]
impl PollQueue for SqsQueue {
    async fn receive(&self, max: i32, wait_seconds: i32) -> Result<Vec<SqsMessage>, PollError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(aws_sdk_sqs::Error::from)?;
        Ok(out
            .messages()
            .iter()
            .map(|m| {
                let mut rec = SqsMessage::default();
                rec.message_id = m.message_id().map(str::to_owned);
                rec.receipt_handle = m.receipt_handle().map(str::to_owned);
                rec.body = m.body().map(str::to_owned);
                rec.md5_of_body = m.md5_of_body().map(str::to_owned);
                rec.attributes = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect::<HashMap<_, _>>()
                    })
                    .unwrap_or_default();
                rec
            })
            .collect())
    }

    async fn delete(&self, receipts: &[&str]) -> Result<usize, PollError> {
        // Id and receipt handle are set, so a build cannot fail; if one did, nothing is deleted
        // and the messages come back (they are counted as failed).
        let Ok(entries) = receipts
            .iter()
            .enumerate()
            .map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*receipt)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
        else {
            return Ok(0);
        };
        let out = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(aws_sdk_sqs::Error::from)?;
        Ok(out.successful().len())
    }
}

/// Polls one queue the way Lambda's event source mapping does.
#[derive(Clone)]
pub struct LocalEventSource {
    queue: Arc<dyn PollQueue>,
    batch_size: i32,
    wait_seconds: i32,
    event_source_arn: String,
}

impl std::fmt::Debug for LocalEventSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEventSource")
            .field("event_source_arn", &self.event_source_arn)
            .field("batch_size", &self.batch_size)
            .field("wait_seconds", &self.wait_seconds)
            .finish_non_exhaustive()
    }
}

impl LocalEventSource {
    /// Polls the SQS queue at `queue_url` in batches of `batch_size` (1 to
    /// [`MAX_BATCH_ENTRIES`]), long-polling `wait_seconds`.
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
        batch_size: i32,
        wait_seconds: i32,
    ) -> Self {
        let name = queue_url.rsplit('/').next().unwrap_or("queue").to_owned();
        Self::with_queue(
            Arc::new(SqsQueue::new(sqs, queue_url)),
            &name,
            batch_size,
            wait_seconds,
        )
    }

    /// Polls `queue` (named `name` in the records' event source ARN) in batches of
    /// `batch_size` (1 to [`MAX_BATCH_ENTRIES`]), long-polling `wait_seconds`.
    pub fn with_queue(
        queue: Arc<dyn PollQueue>,
        name: &str,
        batch_size: i32,
        wait_seconds: i32,
    ) -> Self {
        Self {
            queue,
            batch_size: batch_size.clamp(1, MAX_BATCH_ENTRIES as i32),
            wait_seconds: wait_seconds.clamp(0, 20),
            event_source_arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
        }
    }

    /// Receives one batch, runs `handler` on it, deletes the successes.
    pub async fn poll_once<F, Fut, E>(&self, handler: F) -> Result<PollStats, PollError>
    where
        F: FnOnce(SqsEvent) -> Fut,
        Fut: Future<Output = Result<SqsBatchResponse, E>>,
    {
        let mut records = self
            .queue
            .receive(self.batch_size, self.wait_seconds)
            .await?;
        if records.is_empty() {
            return Ok(PollStats::default());
        }
        for rec in &mut records {
            rec.event_source = Some("aws:sqs".to_owned());
            rec.event_source_arn = Some(self.event_source_arn.clone());
            rec.aws_region = Some("us-east-1".to_owned());
        }
        let mut event = SqsEvent::default();
        event.records = records;
        let received = event.records.len();
        let receipts: Vec<(String, String)> = event
            .records
            .iter()
            .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
            .collect();
        let failed: HashSet<String> = match handler(event).await {
            Ok(resp) => resp
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            // Lambda: an invocation error fails every record of the batch.
            Err(_) => {
                return Ok(PollStats {
                    received,
                    deleted: 0,
                    failed: received,
                });
            }
        };
        if failed
            .iter()
            .any(|id| !receipts.iter().any(|(m, _)| m == id))
        {
            // Lambda: a failure naming an id that was not in the batch fails the whole batch.
            return Ok(PollStats {
                received,
                deleted: 0,
                failed: received,
            });
        }
        let to_delete: Vec<&(String, String)> = receipts
            .iter()
            .filter(|(id, _)| !failed.contains(id))
            .collect();
        let mut deleted = 0;
        for chunk in to_delete.chunks(MAX_BATCH_ENTRIES) {
            let receipts: Vec<&str> = chunk.iter().map(|(_, r)| r.as_str()).collect();
            deleted += self.queue.delete(&receipts).await?;
        }
        Ok(PollStats {
            received,
            deleted,
            failed: received - deleted,
        })
    }
}
