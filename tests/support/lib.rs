//! Shared support for hookline's integration suites: loading the signature test vectors in
//! `tests/vectors/*.json` (see `tests/vectors/README.md` for their format and origin).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod bench;
pub mod cost;
pub mod dynamo;
pub mod faults;
pub mod harness;
pub mod lambda_url;
pub mod leaks;
pub mod raw_http;
pub mod sender_world;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use hookline_core::headers::Headers;
use hookline_core::secret::Secret;
use hookline_core::time::Timestamp;
use hookline_core::verify::{GenericHmac, Request, Scheme, SchemeKind, Signer, Verifier};
use serde::Deserialize;

/// The Stripe signing secret the receiver suite and benches give the Worker (`STRIPE_SECRET`).
pub const STRIPE_SECRET: &str = "whsec_RoQ2pRaagXKZNCc1vLu85MDshOzTYkFx";

/// The current time.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Timestamp::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Stores application `id` named Acme with `uid`, as the API would, for the sender to find.
pub async fn seed_application(store: &dyn hookline_api::Store, id: &str, uid: &str) {
    let app = hookline_core::api::model::Application {
        id: id.into(),
        uid: Some(uid.into()),
        name: "Acme".into(),
        throttle_rate: None,
        metadata: Default::default(),
        created_at: String::new(),
        updated_at: String::new(),
    };
    let alias = hookline_api::registry::uid_alias(uid);
    store
        .create(
            hookline_api::Kind::Application,
            "",
            id,
            &[alias.as_str()],
            &hookline_api::registry::encode(&app),
            None,
        )
        .await
        .unwrap();
}

/// Endpoint `id` of application `app_id`, posting to `url` and signing with `secret`, as the API
/// stores it: no uid, every event type and channel, enabled, no custom header.
pub fn endpoint(
    app_id: &str,
    id: &str,
    url: String,
    secret: &str,
) -> hookline_core::api::model::Endpoint {
    hookline_core::api::model::Endpoint {
        id: id.into(),
        app_id: app_id.into(),
        uid: None,
        url,
        description: String::new(),
        throttle_rate: None,
        disabled: false,
        event_types: None,
        channels: None,
        metadata: Default::default(),
        headers: Default::default(),
        secret: secret.into(),
        old_secrets: Vec::new(),
        created_at: String::new(),
        updated_at: String::new(),
    }
}

/// Stores `endpoint` under its application, as the API would, for the sender to find.
pub async fn seed_endpoint(
    store: &dyn hookline_api::Store,
    endpoint: &hookline_core::api::model::Endpoint,
) {
    store
        .create(
            hookline_api::Kind::Endpoint,
            &endpoint.app_id,
            &endpoint.id,
            &[],
            &serde_json::to_string(endpoint).unwrap(),
            None,
        )
        .await
        .unwrap();
}

/// The headers a provider using `scheme` sends for `body` signed with `secret` now (`id` is the
/// message id where the scheme signs one).
pub fn sign_now(
    scheme: impl Into<Scheme>,
    secret: &str,
    id: &str,
    body: &[u8],
) -> Vec<(String, String)> {
    sign_with(&signer(scheme, secret), id, body)
}

/// A signer for `scheme` with the one key `secret`.
pub fn signer(scheme: impl Into<Scheme>, secret: &str) -> Signer {
    Signer::new(scheme, vec![Secret::new(secret).unwrap()]).unwrap()
}

/// The headers `signer` makes for a POST of `body` now (`id`: the message id, where the scheme
/// signs one); for loops that keep one signer.
pub fn sign_with(signer: &Signer, id: &str, body: &[u8]) -> Vec<(String, String)> {
    sign_post(signer, "http://127.0.0.1/", id, body, now())
}

/// The headers `signer` makes for a POST of `body` to `url` at `at` (`id`: the message id,
/// where the scheme signs one).
pub fn sign_post(
    signer: &Signer,
    url: &str,
    id: &str,
    body: &[u8],
    at: Timestamp,
) -> Vec<(String, String)> {
    sign_request(signer, url, &Headers::new(), id, body, at)
}

/// The signature headers `signer` adds to a POST of `body` with `headers` to `url` at `at`.
pub fn sign_request(
    signer: &Signer,
    url: &str,
    headers: &Headers,
    id: &str,
    body: &[u8],
    at: Timestamp,
) -> Vec<(String, String)> {
    let req = Request {
        method: "POST",
        url,
        headers,
        body,
    };
    signer.sign(&req, id, at).unwrap()
}

/// One `tests/vectors/<scheme>.json` file.
#[derive(Debug, Deserialize)]
pub struct VectorFile {
    /// The scheme's configuration name.
    pub scheme: String,
    /// Where the vectors come from (SDK and version, or documentation).
    pub origin: String,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One request and what verifying it must give.
#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    /// Unique within its file.
    pub name: String,
    /// Every secret the verifier is configured with.
    pub secrets: Vec<String>,
    /// Ed25519 private key for re-signing, where the scheme uses Ed25519.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// Generic-scheme parameters.
    #[serde(default)]
    pub params: Option<serde_json::Value>,
    /// The verification clock, unix seconds.
    pub now: i64,
    /// HTTP method.
    pub method: String,
    /// Full request URL.
    pub url: String,
    /// Headers as sent.
    pub headers: Vec<(String, String)>,
    /// UTF-8 body.
    #[serde(default)]
    pub body: Option<String>,
    /// Non-UTF-8 body.
    #[serde(default)]
    pub body_base64: Option<String>,
    /// Message id the provider signed, if any.
    #[serde(default)]
    pub id: Option<String>,
    /// Signing time, if the scheme signs one.
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// "valid" or "invalid".
    pub expect: String,
}

impl Case {
    /// The raw body bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_base64) {
            (Some(b), None) => b.as_bytes().to_vec(),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .expect("body_base64 is valid base64"),
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => panic!("{}: both body and body_base64", self.name),
        }
    }

    /// The headers as a [`Headers`].
    pub fn header_list(&self) -> Headers {
        self.headers.iter().map(|(n, v)| (n, v.clone())).collect()
    }

    /// The configured secrets.
    pub fn secret_list(&self) -> Vec<Secret> {
        self.secrets
            .iter()
            .map(|s| Secret::new(s.as_bytes().to_vec()).expect("non-empty secret"))
            .collect()
    }

    /// The verification clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_secs(self.now)
    }

    /// A request over the given headers and body.
    pub fn request<'a>(&'a self, headers: &'a Headers, body: &'a [u8]) -> Request<'a> {
        Request {
            method: &self.method,
            url: &self.url,
            headers,
            body,
        }
    }
}

/// The directory holding the vector files.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Every vector file, sorted by scheme name.
pub fn load_vectors() -> Vec<VectorFile> {
    let mut files: Vec<VectorFile> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect();
    files.sort_by(|a, b| a.scheme.cmp(&b.scheme));
    files
}

/// The configured scheme of a vector.
pub fn scheme_for(file: &VectorFile, case: &Case) -> Scheme {
    let kind = SchemeKind::from_name(&file.scheme)
        .unwrap_or_else(|| panic!("unknown scheme {}", file.scheme));
    match kind {
        SchemeKind::Generic => {
            let params = case.params.clone().expect("generic cases carry params");
            let g: GenericHmac = serde_json::from_value(params)
                .unwrap_or_else(|e| panic!("{}: params: {e}", case.name));
            Scheme::generic(g)
        }
        other => Scheme::from_kind(other).unwrap(),
    }
}

/// A verifier configured as the vector says.
pub fn verifier_for(file: &VectorFile, case: &Case) -> Verifier {
    Verifier::new(scheme_for(file, case), case.secret_list())
        .unwrap_or_else(|e| panic!("{}/{}: {e}", file.scheme, case.name))
}
