//! A sender over fresh queues on moto, driven by the local event source mapping: the world of
//! the sender and SSRF suites, which differ only in the configuration and how the sender is made.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::Message;
use hookline_core::config::Config;
use hookline_sender::local::{LocalEventSource, PollStats};
use hookline_sender::observe::Logger;
use hookline_sender::{Sender, Settings, SystemClock};
use serde_json::Value;

use crate::harness::{
    Moto, Sink, poll_until, queue_counts, queue_with_dlq, receive_batch, sqs_client,
};

/// The environment variable the worlds' endpoints name for their secret (`env:SINK_WHSEC`).
pub const SINK_SECRET_VAR: &str = "SINK_WHSEC";

/// The secret [`SINK_SECRET_VAR`] resolves to: the sender signs with it, the sink checks it.
pub const SINK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One sender, its queue and dead-letter queue, and the log lines it wrote.
pub struct SenderWorld {
    /// The SQS client, on moto.
    pub sqs: aws_sdk_sqs::Client,
    /// The sender's queue URL.
    pub queue: String,
    /// The dead-letter queue URL.
    pub dlq: String,
    /// The sender under test.
    pub sender: Sender,
    logs: Arc<Mutex<Vec<String>>>,
    source: LocalEventSource,
}

impl SenderWorld {
    /// Fresh queues (named after `suite`) and a sender configured by `toml`, where
    /// [`SINK_SECRET_VAR`] resolves to [`SINK_SECRET`]. `build` makes the sender from its settings, the
    /// client and a capturing logger, so a suite can adjust the settings or give a resolver.
    pub async fn start(
        moto: &Moto,
        suite: &str,
        toml: &str,
        build: impl FnOnce(Settings, aws_sdk_sqs::Client, Logger) -> Sender,
    ) -> Self {
        let sqs = sqs_client(&moto.endpoint).await;
        let (queue, dlq) = queue_with_dlq(&sqs, suite, 20).await;
        let config = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let settings = Settings::from_config(&config, queue.clone(), dlq.clone(), |name| {
            (name == SINK_SECRET_VAR).then(|| SINK_SECRET.to_owned())
        })
        .unwrap();
        let (log, logs) = Logger::capture();
        let sender = build(settings, sqs.clone(), log);
        let source = LocalEventSource::new(sqs.clone(), queue.clone(), 10, 0);
        Self {
            sqs,
            queue,
            dlq,
            sender,
            logs,
            source,
        }
    }

    /// [`SenderWorld::start`] with the sender's registry and history in `store`, with the
    /// configuration's `[api]` cache and retention and its `[delivery]` (the health policy).
    pub async fn start_with_store(
        moto: &Moto,
        suite: &str,
        toml: &str,
        store: Arc<dyn hookline_api::Store>,
    ) -> Self {
        let config = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        Self::start(moto, suite, toml, move |settings, sqs, log| {
            Sender::new(settings, sqs, log).unwrap().with_registry(
                hookline_sender::registry::RegistryCache::new(
                    store,
                    config.api.registry_cache,
                    config.api.retention,
                    config.delivery,
                ),
            )
        })
        .await
    }

    /// Puts `body` (JSON) on the sender's queue.
    pub async fn send(&self, body: &Value) {
        self.send_raw(body.to_string()).await;
    }

    /// Puts `body`, as is, on the sender's queue.
    pub async fn send_raw(&self, body: impl Into<String>) {
        self.sqs
            .send_message()
            .queue_url(&self.queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    /// One receive from the queue, handed to the sender.
    pub async fn poll(&self) -> PollStats {
        let sender = &self.sender;
        self.source
            .poll_once(|event: SqsEvent| async move {
                Ok::<SqsBatchResponse, std::convert::Infallible>(
                    sender.handle(event, &SystemClock).await,
                )
            })
            .await
            .unwrap()
    }

    /// Polls until `done` says the world reached the state, or fails at the deadline.
    pub async fn pump_until(&self, deadline: Duration, mut done: impl FnMut() -> bool) {
        let until = Instant::now() + deadline;
        loop {
            self.poll().await;
            if done() {
                return;
            }
            assert!(
                Instant::now() < until,
                "state not reached within {deadline:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls the queue until the dead-letter queue holds at least `n` messages (or fails after
    /// `deadline`), and returns them.
    pub async fn pump_until_dead_lettered(&self, n: usize, deadline: Duration) -> Vec<Message> {
        poll_until(deadline, || async {
            self.poll().await;
            let m = self.dlq_messages().await;
            (m.len() >= n).then_some(m)
        })
        .await
    }

    /// One receive from the dead-letter queue.
    pub async fn dlq_messages(&self) -> Vec<Message> {
        receive_batch(&self.sqs, &self.dlq).await
    }

    /// Waits, without polling, until the dead-letter queue holds at least `n` messages, and
    /// returns them.
    pub async fn wait_dlq(&self, n: usize) -> Vec<Message> {
        poll_until(Duration::from_secs(5), || async {
            let m = self.dlq_messages().await;
            (m.len() >= n).then_some(m)
        })
        .await
    }

    /// The sender's queue's (visible, in flight) message counts.
    pub async fn queue_depth(&self) -> (i64, i64) {
        let c = queue_counts(&self.sqs, &self.queue).await;
        (c.visible, c.in_flight)
    }

    /// The log lines the sender wrote so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The log lines the sender wrote so far, one text.
    pub fn log_text(&self) -> String {
        self.log_lines().join("\n")
    }

    /// Polls until the queue is empty (nothing visible, nothing in flight) and `done` holds;
    /// at the deadline, fails with what `sink` received and the sender's logs.
    pub async fn settle(&self, sink: &Sink, deadline: Duration, mut done: impl FnMut() -> bool) {
        let until = Instant::now() + deadline;
        loop {
            self.poll().await;
            if done() && self.queue_depth().await == (0, 0) {
                return;
            }
            assert!(
                Instant::now() < until,
                "not settled within {deadline:?}; sink: {:#?}\nlogs:\n{}",
                sink.deliveries(),
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A dead letter's message attribute `name`, if it is a string.
pub fn attr<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.message_attributes()?.get(name)?.string_value()
}
