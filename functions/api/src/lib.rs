//! # hookline-api-lambda
//!
//! The management API ([`hookline_api::Api`], Svix's v1 REST API) as an AWS Lambda behind a
//! Function URL: a Function URL event (payload format 2.0) in, its HTTP response out. Records
//! live in DynamoDB ([`hookline_dynamodb::DynamoStore`]); accepted messages go on the outbound
//! SQS queue the sender reads ([`SqsOutbox`]).
//!
//! [`handle`] is the whole request path and a plain function: tests call it directly, and
//! `main` only builds the [`Api`] once per cold start ([`Setup::from_lookup`],
//! [`Setup::into_api`]) and hands it events. An event that is not a Function URL request is
//! answered `400` in Svix's error shape; nothing in it can make the function panic.
//!
//! The environment (the deploy contract, `template.yaml`'s `ApiFunction`):
//! `HOOKLINE_CONFIG` (the configuration as JSON; `[api]` tokens are `env:NAME` references read
//! from the environment too), `HOOKLINE_QUEUE_URL` (the outbound queue), `HOOKLINE_TABLE` (the
//! DynamoDB table), `RUST_LOG`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use hookline_api::service::ConfiguredEndpoint;
use hookline_api::{Api, Outbox, Settings, SystemEnv};
use hookline_core::api::error::ApiError;
use hookline_core::api::model::UrlPolicy;
use hookline_core::config::{Config, ConfigErrors};
use hookline_core::ssrf::SsrfPolicy;
use hookline_dynamodb::DynamoStore;
use serde::Deserialize;
use serde_json::{Value, json};

/// The configuration, as JSON.
pub const CONFIG_VAR: &str = hookline_core::contract::api::CONFIG_VAR;
/// The outbound queue's URL (messages the API accepts go there).
pub const QUEUE_URL_VAR: &str = hookline_core::contract::api::QUEUE_URL_VAR;
/// The DynamoDB table's name.
pub const TABLE_VAR: &str = hookline_core::contract::api::TABLE_VAR;

/// Why the function cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A required environment variable is not set.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// `HOOKLINE_CONFIG` is not a valid configuration.
    #[error("{CONFIG_VAR}: {0}")]
    Config(ConfigErrors),
    /// An `[api]` token's secret reference cannot be read.
    #[error("{CONFIG_VAR}: {0}")]
    Tokens(ConfigErrors),
    /// The operating system's random source does not work.
    #[error("the operating system's random source failed")]
    Randomness,
}

/// What one cold start reads from the environment.
pub struct Setup {
    /// The API's settings (tokens resolved).
    pub settings: Settings,
    /// The outbound queue's URL.
    pub queue_url: String,
    /// The table's name.
    pub table: String,
}

impl Setup {
    /// Reads the configuration, the queue URL, the table and every token through `lookup`
    /// (the process environment in `main`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Setup, SetupError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(SetupError::Missing(name))
        };
        let config = Config::from_json(&required(CONFIG_VAR)?).map_err(SetupError::Config)?;
        let queue_url = required(QUEUE_URL_VAR)?;
        let table = required(TABLE_VAR)?;
        let tokens = config
            .api
            .resolve_tokens(&lookup)
            .map_err(SetupError::Tokens)?;
        let mut probe = [0u8; 16];
        getrandom::fill(&mut probe).map_err(|_| SetupError::Randomness)?;
        Ok(Setup {
            settings: Settings {
                tokens,
                urls: UrlPolicy {
                    ssrf: SsrfPolicy::new(config.delivery.ssrf_allow.clone()),
                    allow_http: config.api.allow_http,
                },
                retention: config.api.retention,
                operational_endpoints: config.api.operational_endpoints.clone(),
                configured: ConfiguredEndpoint::from_config(&config),
                portal: hookline_api::service::PortalSettings::from_config(&config.api.portal),
            },
            queue_url,
            table,
        })
    }

    /// The API over DynamoDB and SQS.
    pub fn into_api(self, dynamodb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client) -> Api {
        Api::new(
            Arc::new(DynamoStore::new(dynamodb, self.table)),
            Arc::new(SqsOutbox {
                client: sqs,
                queue_url: self.queue_url,
            }),
            Arc::new(SystemEnv),
            self.settings,
        )
    }
}

/// The outbound queue: one `SendMessage` per accepted message.
pub struct SqsOutbox {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsOutbox {
    /// Sends to `queue_url` with `client`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl Outbox for SqsOutbox {
    async fn send(&self, body: String) -> Result<(), String> {
        use aws_sdk_sqs::error::{ProvideErrorMetadata as _, SdkError};
        match self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The error's code or kind only: the service's message may quote the request.
            Err(SdkError::ServiceError(e)) => Err(format!(
                "SendMessage: {}",
                e.err().code().unwrap_or("unknown service error")
            )),
            Err(SdkError::TimeoutError(_)) => Err("SendMessage: timeout".to_owned()),
            Err(SdkError::DispatchFailure(_)) => Err("SendMessage: request not sent".to_owned()),
            Err(_) => Err("SendMessage: failed".to_owned()),
        }
    }
}

/// A Function URL request (payload format 2.0): the fields the API reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UrlRequest {
    raw_path: String,
    #[serde(default)]
    raw_query_string: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
    request_context: RequestContext,
}

#[derive(Debug, Deserialize)]
struct RequestContext {
    http: HttpContext,
}

#[derive(Debug, Deserialize)]
struct HttpContext {
    method: String,
}

/// The HTTP request a Function URL event describes; `Err` says what is wrong with it.
pub fn to_request(event: Value) -> Result<http::Request<Bytes>, String> {
    let e: UrlRequest =
        serde_json::from_value(event).map_err(|_| "not a Function URL request".to_owned())?;
    let method = http::Method::from_bytes(e.request_context.http.method.as_bytes())
        .map_err(|_| "invalid method".to_owned())?;
    let uri = if e.raw_query_string.is_empty() {
        e.raw_path
    } else {
        format!("{}?{}", e.raw_path, e.raw_query_string)
    };
    let body = match e.body {
        None => Bytes::new(),
        Some(b) if e.is_base64_encoded => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map(Bytes::from)
            .map_err(|_| "body is not valid base64".to_owned())?,
        Some(b) => Bytes::from(b),
    };
    let mut req = http::Request::builder().method(method).uri(uri);
    for (name, value) in &e.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    // The builder keeps the first invalid part (URI, header name or value) as its error.
    req.body(body)
        .map_err(|_| "invalid path or header".to_owned())
}

/// The Function URL response for `resp`.
pub fn to_url_response(resp: http::Response<String>) -> Value {
    let headers: BTreeMap<&str, &str> = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    json!({
        "statusCode": resp.status().as_u16(),
        "headers": headers,
        "body": resp.body(),
        "isBase64Encoded": false,
    })
}

/// Answers one Function URL event: the request to [`Api::handle`], its answer back; an event
/// that is not a valid request is answered `400` in Svix's error shape.
pub async fn handle(api: &Api, event: Value) -> Value {
    match to_request(event) {
        Ok(req) => to_url_response(api.handle(req).await),
        Err(why) => {
            let e = ApiError::bad_request("invalid_request", why);
            json!({
                "statusCode": e.status(),
                "headers": {"content-type": "application/json"},
                "body": e.body(),
                "isBase64Encoded": false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A Function URL event as AWS documents it ("Request payload", Lambda developer guide,
    /// "Invoking Lambda function URLs"), trimmed of fields the API does not read.
    fn event(method: &str, path: &str, query: &str, body: Option<&str>, b64: bool) -> Value {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"authorization": "Bearer t", "content-type": "application/json"},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdefghijklmnop",
                "domainName": "abcdefghijklmnop.lambda-url.us-east-1.on.aws",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.1", "userAgent": "svix-libs/1.0"},
                "requestId": "id", "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390_i64
            },
            "body": body,
            "isBase64Encoded": b64
        })
    }

    struct NoQueue;

    #[async_trait]
    impl Outbox for NoQueue {
        async fn send(&self, _: String) -> Result<(), String> {
            Err("no queue in unit tests".to_owned())
        }
    }

    fn lookup(name: &str) -> Option<String> {
        match name {
            CONFIG_VAR => Some(r#"{"api":{"tokens":[{"secret":"env:API_TOKEN"}]}}"#.to_owned()),
            QUEUE_URL_VAR => Some("https://sqs.us-east-1.amazonaws.com/1/q".to_owned()),
            TABLE_VAR => Some("t".to_owned()),
            "API_TOKEN" => Some("tok".to_owned()),
            _ => None,
        }
    }

    fn api() -> Api {
        let setup = Setup::from_lookup(lookup).unwrap();
        Api::new(
            Arc::new(hookline_api::memory::MemoryStore::new(|| {
                hookline_core::time::Timestamp::from_unix_secs(2_000_000_000)
            })),
            Arc::new(NoQueue),
            Arc::new(SystemEnv),
            setup.settings,
        )
    }

    #[tokio::test]
    async fn the_handler_answers_events_directly() {
        let api = api();
        let mut ok = event("GET", "/api/v1/app", "", None, false);
        ok["headers"]["authorization"] = json!("Bearer tok");
        let r = handle(&api, ok).await;
        assert_eq!(r["statusCode"], 200, "{r}");
        assert_eq!(r["headers"]["content-type"], "application/json");
        let data: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(data["data"], json!([]));
        // The fixture's token is not one of the configured ones.
        let r = handle(&api, event("GET", "/api/v1/app", "", None, false)).await;
        assert_eq!(r["statusCode"], 401, "{r}");
        // Not a Function URL event: 400 in Svix's shape.
        let r = handle(&api, json!({"Records": []})).await;
        assert_eq!(r["statusCode"], 400, "{r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "invalid_request", "{body}");
        assert!(body["detail"].is_string(), "{body}");
    }

    #[tokio::test]
    async fn the_portal_is_served_with_its_policy_and_links_name_the_function_url() {
        let api = api();
        let r = handle(&api, event("GET", "/portal/", "", None, false)).await;
        assert_eq!(r["statusCode"], 200, "{r}");
        assert_eq!(r["headers"]["content-type"], "text/html; charset=utf-8");
        let csp = r["headers"]["content-security-policy"].as_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
        // A link minted behind the Function URL starts with its address (the Host header
        // AWS passes on), over https.
        let mut create = event(
            "POST",
            "/api/v1/app",
            "",
            Some(r#"{"name":"A","uid":"acme"}"#),
            false,
        );
        create["headers"]["authorization"] = json!("Bearer tok");
        assert_eq!(handle(&api, create).await["statusCode"], 201);
        let mut mint = event(
            "POST",
            "/api/v1/auth/app-portal-access/acme",
            "",
            Some("{}"),
            false,
        );
        mint["headers"]["authorization"] = json!("Bearer tok");
        mint["headers"]["host"] = json!("abcdefghijklmnop.lambda-url.us-east-1.on.aws");
        let r = handle(&api, mint).await;
        assert_eq!(r["statusCode"], 200, "{r}");
        let out: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert!(
            out["url"].as_str().unwrap().starts_with(
                "https://abcdefghijklmnop.lambda-url.us-east-1.on.aws/portal/#token=hlp_"
            ),
            "{out}"
        );
    }

    #[test]
    fn setup_names_what_is_missing() {
        let without =
            |skip: &'static str| move |name: &str| if name == skip { None } else { lookup(name) };
        for var in [CONFIG_VAR, QUEUE_URL_VAR, TABLE_VAR] {
            let e = Setup::from_lookup(without(var)).err().unwrap();
            assert!(matches!(e, SetupError::Missing(v) if v == var), "{e}");
        }
        let e = Setup::from_lookup(without("API_TOKEN")).err().unwrap();
        assert!(matches!(e, SetupError::Tokens(_)), "{e}");
        assert!(e.to_string().contains("api.tokens[0]"), "{e}");
        let bad = |name: &str| {
            if name == CONFIG_VAR {
                Some("{\"nope\":1}".to_owned())
            } else {
                lookup(name)
            }
        };
        assert!(matches!(
            Setup::from_lookup(bad),
            Err(SetupError::Config(_))
        ));
    }

    #[test]
    fn a_function_url_event_becomes_the_request() {
        let req = to_request(event(
            "POST",
            "/api/v1/app",
            "limit=2",
            Some("{\"a\":1}"),
            false,
        ))
        .unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri().path(), "/api/v1/app");
        assert_eq!(req.uri().query(), Some("limit=2"));
        assert_eq!(req.headers()["authorization"], "Bearer t");
        assert_eq!(req.body().as_ref(), b"{\"a\":1}");
        let b64 = to_request(event("POST", "/x", "", Some("eyJhIjoxfQ=="), true)).unwrap();
        assert_eq!(b64.body().as_ref(), b"{\"a\":1}");
        assert_eq!(b64.uri().query(), None);
    }

    #[test]
    fn malformed_events_are_errors() {
        let mut bad_header = event("GET", "/x", "", None, false);
        bad_header["headers"]["bad name"] = json!("v");
        let mut bad_value = event("GET", "/x", "", None, false);
        bad_value["headers"]["x"] = json!("a\nb");
        for e in [
            json!({}),
            json!("text"),
            json!({"rawPath": "/x"}),
            event("GE T", "/x", "", None, false),
            event("GET", "/x y", "", None, false),
            event("POST", "/x", "", Some("%%%"), true),
            bad_header,
            bad_value,
        ] {
            assert!(to_request(e.clone()).is_err(), "{e}");
        }
    }
}
