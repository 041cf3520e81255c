//! The deploy contract: the names and limits that `wrangler.toml`, `template.yaml`, the receiver
//! Worker, the sender Lambda and `hookline check` must agree on, written once.
//!
//! The Worker and the Lambda read their settings by these names; `hookline check` checks the
//! deploy files against the same names, so a renamed var cannot pass `check` and then fail at
//! runtime. SQS's own limits (message size, batch size) are the SQS protocol's, not the
//! deployment's, and live with it ([`hookline_sqs::limits::MAX_MESSAGE_BYTES_CEILING`]).

/// The var (Worker) and environment variable (Lambda) holding the hookline configuration.
pub const CONFIG_VAR: &str = "HOOKLINE_CONFIG";

/// The receiver Worker: the vars, secrets and bindings `wrangler.toml` declares for it.
pub mod receiver {
    use std::time::Duration;

    /// The configuration: `[vars.HOOKLINE_CONFIG]` tables in `wrangler.toml` (the Worker sees an
    /// object), or a string of JSON. Not TOML: its parser would add about 15% to the bundle for a
    /// format wrangler already turns into an object.
    pub const CONFIG_VAR: &str = super::CONFIG_VAR;
    /// The name of the R2 bucket behind [`BUCKET_BINDING`] (a binding does not know its name, and
    /// consumers need it to fetch claim-checked bodies).
    pub const BUCKET_VAR: &str = "HOOKLINE_BODIES_BUCKET";
    /// The SQS queue that verified events are forwarded to (`destination = "queue"` sources).
    pub const SQS_QUEUE_VAR: &str = "HOOKLINE_SQS_QUEUE_URL";
    /// The sender's outbound SQS queue (`destination = "relay"` sources).
    pub const SQS_OUTBOUND_VAR: &str = "HOOKLINE_SQS_OUTBOUND_URL";
    /// The AWS region, when the queue URL does not name one (a local SQS server).
    pub const REGION_VAR: &str = "HOOKLINE_SQS_REGION";
    /// The first retry delay of a failed forward; later ones double.
    pub const RETRY_BASE_VAR: &str = "HOOKLINE_FORWARD_RETRY_BASE";
    /// The longest retry delay of a failed forward.
    pub const RETRY_MAX_VAR: &str = "HOOKLINE_FORWARD_RETRY_MAX";
    /// Every var the receiver reads.
    pub const VARS: [&str; 7] = [
        CONFIG_VAR,
        BUCKET_VAR,
        SQS_QUEUE_VAR,
        SQS_OUTBOUND_VAR,
        REGION_VAR,
        RETRY_BASE_VAR,
        RETRY_MAX_VAR,
    ];

    /// The AWS access key the queue consumer signs SQS requests with (a Worker secret).
    pub const ACCESS_KEY_ID_SECRET: &str = "AWS_ACCESS_KEY_ID";
    /// The AWS secret key that goes with [`ACCESS_KEY_ID_SECRET`] (a Worker secret).
    pub const SECRET_ACCESS_KEY_SECRET: &str = "AWS_SECRET_ACCESS_KEY";
    /// The session token of temporary credentials (a Worker secret, optional).
    pub const SESSION_TOKEN_SECRET: &str = "AWS_SESSION_TOKEN";
    /// The AWS credentials: Worker secrets, never vars. The first two are required when a queue
    /// URL is set.
    pub const AWS_SECRETS: [&str; 3] = [
        ACCESS_KEY_ID_SECRET,
        SECRET_ACCESS_KEY_SECRET,
        SESSION_TOKEN_SECRET,
    ];

    /// The queue producer binding the receiver enqueues verified events on.
    pub const QUEUE_BINDING: &str = "INBOUND_QUEUE";
    /// The R2 binding for claim-checked bodies.
    pub const BUCKET_BINDING: &str = "BODIES";

    /// The longest delay Cloudflare Queues accepts for a retry.
    pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(12 * 60 * 60);
    /// [`RETRY_BASE_VAR`] when unset.
    pub const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(30);
    /// [`RETRY_MAX_VAR`] when unset.
    pub const DEFAULT_RETRY_MAX: Duration = Duration::from_secs(60 * 60);
}

/// The sender Lambda: its environment and the `template.yaml` resources around it.
pub mod sender {
    /// The configuration as a string of JSON.
    pub const CONFIG_VAR: &str = super::CONFIG_VAR;
    /// The outbound queue's URL (fan-out re-enqueues onto it).
    pub const QUEUE_URL_VAR: &str = "HOOKLINE_QUEUE_URL";
    /// The dead-letter queue's URL.
    pub const DLQ_URL_VAR: &str = "HOOKLINE_DLQ_URL";
    /// The endpoints' TLS roots: `system` or `mozilla`.
    pub const TLS_ROOTS_VAR: &str = "HOOKLINE_TLS_ROOTS";
    /// The outbound queue's `MaximumMessageSize` in bytes, from [`MIN_MESSAGE_BYTES`] to
    /// [`hookline_sqs::limits::MAX_MESSAGE_BYTES_CEILING`].
    pub const MAX_MESSAGE_BYTES_VAR: &str = "HOOKLINE_MAX_MESSAGE_BYTES";
    /// The smallest `MaximumMessageSize` SQS allows.
    pub const MIN_MESSAGE_BYTES: usize = 1024;
    /// The management API's DynamoDB table: the sender reads registered endpoints from it and
    /// writes attempts to it. Unset, only configured endpoints are served.
    pub const TABLE_VAR: &str = "HOOKLINE_TABLE";

    /// The binary `cargo lambda` builds (`Metadata.BuildProperties.Binary`).
    pub const BINARY: &str = "hookline-sender";
    /// The Lambda runtime the binary is built for.
    pub const RUNTIME: &str = "provided.al2023";
    /// The architecture the binary is built and tested for.
    pub const ARCHITECTURE: &str = "arm64";
    /// The function types a template may declare the sender as (SAM's first).
    pub const FUNCTION_TYPES: [&str; 2] = ["AWS::Serverless::Function", "AWS::Lambda::Function"];
    /// The transform `AWS::Serverless::*` resources need.
    pub const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";
    /// The event source response type that lets the sender retry single records.
    pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";

    /// Lambda's limit for all of a function's environment variables together, in bytes.
    pub const MAX_ENVIRONMENT_BYTES: usize = 4096;
    /// Lambda's function timeout when the template sets none, in seconds.
    pub const DEFAULT_FUNCTION_TIMEOUT_SECS: u64 = 3;
    /// SQS's visibility timeout when the template sets none, in seconds.
    pub const DEFAULT_VISIBILITY_TIMEOUT_SECS: u64 = 30;
}

/// The API Lambda: its environment and the `template.yaml` resources around it.
pub mod api {
    /// The configuration as a string of JSON (the sender's, `[api]` included).
    pub const CONFIG_VAR: &str = super::CONFIG_VAR;
    /// The outbound queue messages the API accepts go to (the sender's).
    pub const QUEUE_URL_VAR: &str = super::sender::QUEUE_URL_VAR;
    /// The DynamoDB table (the sender's).
    pub const TABLE_VAR: &str = super::sender::TABLE_VAR;
    /// The binary `cargo lambda` builds (`Metadata.BuildProperties.Binary`).
    pub const BINARY: &str = "hookline-api-lambda";
    /// The table's partition and sort keys, with their key types.
    pub const TABLE_KEYS: [(&str, &str); 2] = [("pk", "HASH"), ("sk", "RANGE")];
    /// The table's TTL attribute (epoch seconds).
    pub const TTL_ATTRIBUTE: &str = "expires";
}
