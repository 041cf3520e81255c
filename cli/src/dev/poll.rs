//! The delivery loops' queue: `hookline-outbound` read and deleted from inside the process.
//!
//! The event-source loop ([`hookline_sender::local::LocalEventSource`]) is the one the tests run
//! against SQS; here it calls the embedded queue directly instead of through `aws-sdk-sqs` and
//! dev's own SQS API, so a batch costs no HTTP round trip, no SigV4 signature and no JSON on
//! either side. The records are the ones `ReceiveMessage` would answer (same ids, receipts,
//! bodies and system attributes, [`crate::sqs_api::system_attributes`]), and every other SQS
//! client, the sender's own retries and dead letters included, still uses the SQS API.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsMessage;
use hookline_sender::local::{PollError, PollQueue};
use hookline_sqs::limits::MAX_BATCH_ENTRIES;

use crate::sqs_api::{SqsApi, system_attributes};
use crate::store::Received;

/// One queue of the embedded store, polled in the process.
pub(super) struct InProcess {
    sqs: SqsApi,
    queue: &'static str,
}

impl InProcess {
    /// `queue` of `sqs`'s store (woken by the same [`SqsApi::notify`] as long polls).
    pub(super) fn new(sqs: SqsApi, queue: &'static str) -> Self {
        Self { sqs, queue }
    }
}

#[async_trait::async_trait]
impl PollQueue for InProcess {
    async fn receive(&self, max: i32, wait_seconds: i32) -> Result<Vec<SqsMessage>, PollError> {
        let max = usize::try_from(max)
            .unwrap_or(1)
            .clamp(1, MAX_BATCH_ENTRIES);
        let wait = Duration::from_secs(u64::try_from(wait_seconds).unwrap_or(0));
        let got = self
            .sqs
            .receive_local(self.queue.to_owned(), max, wait, None)
            .await?;
        Ok(got.into_iter().map(record).collect())
    }

    async fn delete(&self, receipts: &[&str]) -> Result<usize, PollError> {
        // The lines printed about these messages (their fan-out, their deliveries) are out
        // before the delete can commit: a kill -9 never leaves a delivered message without
        // its lines, gone from the queue (see `crate::ui::write_lines_in_background`).
        crate::ui::flush_lines();
        let receipts = receipts.iter().map(|r| (*r).to_owned()).collect();
        Ok(self.sqs.delete_local(self.queue, receipts).await?)
    }
}

/// The record of a received message, as [`hookline_sender::local::SqsQueue`] makes it from
/// `ReceiveMessage`'s answer.
fn record(m: Received) -> SqsMessage {
    let mut rec = SqsMessage::default();
    rec.attributes = system_attributes(&m)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    rec.message_id = Some(m.message_id);
    rec.receipt_handle = Some(m.receipt_handle);
    rec.body = Some(m.body);
    rec.md5_of_body = Some(m.md5_of_body);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{QueueSpec, Store, StoreThread};

    #[tokio::test(flavor = "multi_thread")]
    async fn records_are_what_receive_message_answers_and_deletes_remove_them() {
        let store = Store::in_memory().unwrap();
        store
            .ensure_queue(&QueueSpec {
                name: "q".into(),
                visibility_timeout: Duration::from_secs(60),
                redrive: None,
            })
            .unwrap();
        let sqs = SqsApi::new(
            StoreThread::spawn(store).unwrap(),
            "http://127.0.0.1:1".into(),
            || 1_000,
        );
        let sent = sqs
            .send_local("q", "{\"a\":1}".into(), vec![])
            .await
            .unwrap();
        // Through the SQS API's own answer, for comparison.
        let queue = InProcess::new(sqs.clone(), "q");
        let got = queue.receive(10, 0).await.unwrap();
        assert_eq!(got.len(), 1);
        let rec = &got[0];
        assert_eq!(rec.message_id.as_deref(), Some(sent.as_str()));
        assert_eq!(rec.body.as_deref(), Some("{\"a\":1}"));
        assert_eq!(
            rec.md5_of_body.as_deref(),
            Some(hookline_sqs::attributes::md5_hex(b"{\"a\":1}").as_str())
        );
        for (k, v) in [
            ("SenderId", "000000000000"),
            ("SentTimestamp", "1000"),
            ("ApproximateReceiveCount", "1"),
            ("ApproximateFirstReceiveTimestamp", "1000"),
        ] {
            assert_eq!(rec.attributes.get(k).map(String::as_str), Some(v), "{k}");
        }
        // Hidden now: a second receive (no wait) gets nothing.
        assert!(queue.receive(10, 0).await.unwrap().is_empty());
        let receipt = rec.receipt_handle.clone().unwrap();
        assert_eq!(queue.delete(&[receipt.as_str()]).await.unwrap(), 1);
        let counts = sqs.store().run(|s| s.counts("q", 1_000_000)).await.unwrap();
        assert_eq!(counts, crate::store::Counts::default());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_long_poll_wakes_when_a_message_arrives() {
        let store = Store::in_memory().unwrap();
        store
            .ensure_queue(&QueueSpec {
                name: "q".into(),
                visibility_timeout: Duration::from_secs(60),
                redrive: None,
            })
            .unwrap();
        let sqs = SqsApi::new(
            StoreThread::spawn(store).unwrap(),
            "http://127.0.0.1:1".into(),
            crate::dev::now_ms,
        );
        let queue = InProcess::new(sqs.clone(), "q");
        let started = std::time::Instant::now();
        let poll = tokio::spawn(async move { queue.receive(10, 20).await.unwrap() });
        sqs.send_local("q", "x".into(), vec![]).await.unwrap();
        sqs.notify();
        let got = poll.await.unwrap();
        assert_eq!(got.len(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "woken, not timed out"
        );
    }
}
