//! One delivery attempt over HTTP, behind the SSRF guard.
//!
//! The guard sits in the DNS resolver: every address a host name resolves to is checked, and the
//! connection goes to the checked addresses only, so a DNS answer cannot change between the check
//! and the connect (DNS rebinding). Literal IP addresses, which are never resolved, are checked
//! before the request. Redirects are never followed: a 3xx is an answer like any other.
//!
//! The client is hyper's (`hyper_util`'s pooled client over `hyper_rustls`), which the Lambda
//! runtime and the AWS SDK link already: HTTP/1.1, connections kept alive and reused, no proxy.
//!
//! Names are looked up by a [`Lookup`]: the system resolver ([`SystemLookup`]) unless the client
//! is built with [`Http::with_lookup`]. The guard does not depend on it: whatever a lookup
//! answers is checked before the client connects.
//!
//! Certificates are checked against [`TlsRoots`]: the system's store, or Mozilla's roots compiled
//! into the binary, which spares a cold start reading and parsing every file of the store.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::api::history::ErrorClass;
use hookline_core::retry::{Outcome, parse_retry_after};
use hookline_core::ssrf::{Blocked, SsrfPolicy};
use hookline_core::time::Timestamp;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::{HeaderName, HeaderValue};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// The most of a response body read (and discarded) so the connection can be reused.
const MAX_DRAIN: usize = 64 * 1024;
use hookline_core::api::model::MAX_ATTEMPT_RESPONSE;

/// What one attempt came to, for the retry policy and the logs.
#[derive(Debug)]
pub struct Attempt {
    /// The outcome the retry policy decides on.
    pub outcome: Outcome,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// A short description of a failure without a response (never a body or a secret).
    pub error: Option<String>,
    /// Why it failed, set where the failure is seen (not read back from `error`): `None` for a
    /// 2xx. A non-2xx answer is [`ErrorClass::Status`] (`Gone` for 410).
    pub class: Option<ErrorClass>,
    /// The start of the response body (at most `MAX_ATTEMPT_RESPONSE` bytes, lossy UTF-8),
    /// for the attempt history; never logged.
    pub response: String,
    /// Time from sending to the response head (or the failure).
    pub latency: Duration,
}

/// The certificate authorities an endpoint's certificate must chain to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// The system's store, read from disk when the client is built: the files `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` name, or else the distribution's bundle and directory. A private CA
    /// added there is trusted. Reading and parsing the store takes milliseconds of CPU.
    #[default]
    System,
    /// Mozilla's root program, compiled in as trust anchors (`webpki-roots`): nothing is read from
    /// disk or parsed. The list Amazon Linux's bundle is also made from, as recent as the build;
    /// no private CAs.
    Mozilla,
}

/// A [`TlsRoots`] name that is neither `system` nor `mozilla` (trimmed, lowercased).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown value \"{0}\": use \"system\" (the system's certificate store) or \"mozilla\" (compiled-in roots)"
)]
pub struct UnknownTlsRoots(pub String);

impl std::str::FromStr for TlsRoots {
    type Err = UnknownTlsRoots;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "system" => Ok(Self::System),
            "mozilla" => Ok(Self::Mozilla),
            other => Err(UnknownTlsRoots(other.to_owned())),
        }
    }
}

/// The HTTP client, built once per cold start.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    policy: Arc<SsrfPolicy>,
    /// Endpoint URLs parsed once (a parse is a few hundred nanoseconds, twice per delivery).
    targets: Arc<std::sync::RwLock<std::collections::HashMap<String, Arc<Target>>>>,
}

/// The most endpoint URLs kept parsed; past it the cache starts again (a sender delivers to
/// a handful of endpoints, or to an application's few dozen).
const MAX_TARGETS: usize = 1024;

/// An endpoint URL, parsed: where it connects and what its request line and host say.
#[derive(Debug)]
struct Target {
    /// The host, when it is an IP literal (never looked up, so checked before each request).
    literal: Option<IpAddr>,
    /// The URL without credentials, as the request's target.
    uri: hyper::Uri,
    /// The URL's user and password (`https://user:pass@host/`), as `Authorization: Basic`, as
    /// browsers and reqwest send them (not on the request line).
    basic: Option<HeaderValue>,
}

impl Target {
    /// Parses `url` as the URL standard does (lower-case host, punycode), or says why not: the
    /// outcome, the class and the error of the attempt.
    fn parse(url: &str) -> Result<Self, (Outcome, ErrorClass, String)> {
        let mut parsed = url::Url::parse(url).map_err(|e| {
            (
                Outcome::Blocked,
                ErrorClass::Request,
                format!("invalid URL: {e}"),
            )
        })?;
        let invalid = |e: String| (Outcome::Connect, ErrorClass::Connection, e);
        let mut basic = None;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            use base64::Engine as _;
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let user = decode(parsed.username());
            let pass = parsed.password().map(decode).unwrap_or_default();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            let mut value = HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|e| invalid(format!("invalid URL credentials: {e}")))?;
            value.set_sensitive(true);
            basic = Some(value);
            // Only a URL that cannot have credentials refuses these, and this one had them.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
        }
        let uri = hyper::Uri::try_from(parsed.as_str())
            .map_err(|e| invalid(format!("invalid request: {e}")))?;
        Ok(Self {
            literal: literal_ip(&parsed),
            uri,
            basic,
        })
    }
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Why the HTTP client could not be built: the TLS roots could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The system's certificate store had no usable root (`TlsRoots::System`).
    #[error("no usable root certificate in the system's store: {0}")]
    NoSystemRoots(String),
    /// The TLS configuration was refused (a root, or the protocol versions).
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// The connect timeout: a TCP (and TLS) connection not made by then fails the attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle connection is kept for the next delivery to the same endpoint.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Sent with every delivery.
const USER_AGENT: &str = concat!("hookline/", env!("CARGO_PKG_VERSION"));

/// What [`Lookup::lookup`] returns: every address of the name, or why there are none.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Looks up the addresses of an endpoint's host name.
///
/// The default is [`SystemLookup`]; tests (a resolver they control) and embedders (their own DNS)
/// pass another to [`Http::with_lookup`]. A lookup cannot open the SSRF guard: every address it
/// returns is checked, a name with any refused address is refused, and the client connects only to
/// the addresses returned. Literal IP hosts are never looked up.
pub trait Lookup: Send + Sync {
    /// The addresses of `host`: an ASCII name as the URL parser normalised it (lower-case,
    /// punycode, a trailing dot kept), never an IP literal.
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The system resolver (`getaddrinfo` through `tokio::net::lookup_host`), the default [`Lookup`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

/// Looks the name up, then refuses it if any address is not allowed.
#[derive(Clone)]
struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
    lookup: Arc<dyn Lookup>,
}

/// The checked addresses of one name, as the connector takes them.
type Resolving = Pin<
    Box<
        dyn Future<
                Output = Result<
                    std::vec::IntoIter<SocketAddr>,
                    Box<dyn std::error::Error + Send + Sync>,
                >,
            > + Send,
    >,
>;

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = Arc::clone(&self.policy);
        let lookup = self.lookup.lookup(name.as_str());
        Box::pin(async move {
            let ips = lookup.await.map_err(LookupFailed)?;
            if ips.is_empty() {
                return Err(Box::new(LookupFailed(io::ErrorKind::NotFound.into()))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            for ip in &ips {
                policy.check(*ip)?;
            }
            // The port is the connector's to fill in; the addresses are exactly the checked ones.
            Ok(ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect::<Vec<_>>()
                .into_iter())
        })
    }
}

/// The TLS configuration: `roots`, TLS 1.2 and 1.3 with aws-lc-rs (the SDK's provider),
/// HTTP/1.1 by ALPN.
fn tls_config(roots: TlsRoots) -> Result<rustls::ClientConfig, ClientError> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        // Compiled in as trust anchors: nothing is read or parsed.
        TlsRoots::Mozilla => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        TlsRoots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(ClientError::NoSystemRoots(if why.is_empty() {
                    "no certificates found".to_owned()
                } else {
                    why
                }));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl Http {
    /// A client that never follows redirects and connects only where `policy` allows, checking
    /// certificates against the system's store.
    pub fn new(policy: SsrfPolicy) -> Result<Self, ClientError> {
        Self::with_roots(policy, TlsRoots::System)
    }

    /// As [`Http::new`], checking certificates against `roots`.
    pub fn with_roots(policy: SsrfPolicy, roots: TlsRoots) -> Result<Self, ClientError> {
        Self::with_lookup(policy, roots, Arc::new(SystemLookup))
    }

    /// As [`Http::with_roots`], looking host names up with `lookup` instead of the system
    /// resolver; every address it returns is still checked against `policy`.
    pub fn with_lookup(
        policy: SsrfPolicy,
        roots: TlsRoots,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, ClientError> {
        let policy = Arc::new(policy);
        let mut tcp = HttpConnector::new_with_resolver(GuardedResolver {
            policy: Arc::clone(&policy),
            lookup,
        });
        // https:// URLs too: the TLS layer wraps this connector.
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
        tcp.set_keepalive(Some(Duration::from_secs(15)));
        // http:// and https:// URLs both (the connector's builder would refuse our ALPN).
        let https = HttpsConnector::from((tcp, tls_config(roots)?));
        // No proxy (one would resolve endpoint names out of the guard's sight) and no redirects:
        // this client does neither.
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(https);
        Ok(Self {
            client,
            policy,
            targets: Arc::default(),
        })
    }

    /// `url` parsed, from the cache or parsed now (and kept when it parses).
    fn target(&self, url: &str) -> Result<Arc<Target>, (Outcome, ErrorClass, String)> {
        // A poisoned lock only means another delivery panicked mid-insert: parse afresh.
        if let Ok(targets) = self.targets.read()
            && let Some(t) = targets.get(url)
        {
            return Ok(Arc::clone(t));
        }
        let target = Arc::new(Target::parse(url)?);
        if let Ok(mut targets) = self.targets.write() {
            if targets.len() >= MAX_TARGETS {
                targets.clear();
            }
            targets.insert(url.to_owned(), Arc::clone(&target));
        }
        Ok(target)
    }

    /// POSTs `body` to `url` with `headers`, within `timeout` (from sending to the end of the
    /// part of the answer that is read).
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
        now: Timestamp,
    ) -> Attempt {
        self.post_with(url, RequestHeaders::from(headers), body, timeout, now)
            .await
    }

    /// As [`Http::post`], with the headers already converted (the sender's own are built
    /// without copying their names and values again).
    pub async fn post_with(
        &self,
        url: &str,
        headers: RequestHeaders,
        body: Vec<u8>,
        timeout: Duration,
        now: Timestamp,
    ) -> Attempt {
        let started = Instant::now();
        let failed = |outcome, class, error: String| Attempt {
            outcome,
            status: None,
            error: Some(error),
            class: Some(class),
            response: String::new(),
            latency: started.elapsed(),
        };
        let target = match self.target(url) {
            Ok(t) => t,
            Err((outcome, class, error)) => return failed(outcome, class, error),
        };
        if let Some(ip) = target.literal
            && let Err(blocked) = self.policy.check(ip)
        {
            return failed(Outcome::Blocked, ErrorClass::Ssrf, blocked.to_string());
        }
        let req = match request(&target, headers, body) {
            Ok(req) => req,
            Err(e) => return failed(Outcome::Connect, ErrorClass::Connection, e),
        };
        let deadline = tokio::time::Instant::from_std(started + timeout);
        let mut resp = match tokio::time::timeout_at(deadline, self.client.request(req)).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                return if let Some(blocked) = find_cause::<Blocked>(&e) {
                    failed(Outcome::Blocked, ErrorClass::Ssrf, blocked.to_string())
                } else if timed_out(&e) {
                    failed(
                        Outcome::Timeout,
                        ErrorClass::Timeout,
                        format!("timed out after {timeout:?}"),
                    )
                } else {
                    failed(Outcome::Connect, connect_class(&e), describe(&e))
                };
            }
            Err(_) => {
                return failed(
                    Outcome::Timeout,
                    ErrorClass::Timeout,
                    format!("timed out after {timeout:?}"),
                );
            }
        };
        let latency = started.elapsed();
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        // Drain a little (within the same timeout) so the connection goes back to the pool; keep
        // only the start of the body, for the attempt history.
        let mut read = 0usize;
        let mut head: Vec<u8> = Vec::new();
        let body = resp.body_mut();
        while read < MAX_DRAIN {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Some(chunk) = frame.data_ref() {
                        let room = MAX_ATTEMPT_RESPONSE.saturating_sub(head.len());
                        head.extend(chunk.iter().take(room));
                        read += chunk.len();
                    }
                }
                _ => break,
            }
        }
        let response = String::from_utf8_lossy(&head).into_owned();
        Attempt {
            outcome: Outcome::Status {
                code: status,
                retry_after,
            },
            status: Some(status),
            error: None,
            class: status_class(status),
            response,
            latency,
        }
    }
}

/// A request's headers, converted as they are added. A name or value that is not valid HTTP is
/// kept as the error the attempt fails with (the first such one), when the request is built.
#[derive(Debug, Default)]
pub struct RequestHeaders {
    map: hyper::HeaderMap,
    invalid: Option<String>,
}

impl RequestHeaders {
    /// Room for `n` headers, besides the client's own (user agent, accept, credentials).
    pub fn with_capacity(n: usize) -> Self {
        Self {
            map: hyper::HeaderMap::with_capacity(n + 3),
            invalid: None,
        }
    }

    /// Adds `name: value` (copied), after any header of the same name.
    pub fn push(&mut self, name: &str, value: &str) {
        self.push_bytes(name, Bytes::copy_from_slice(value.as_bytes()));
    }

    /// Adds `name: value`, taking `value` without copying it; a name the sender itself signs
    /// with (`webhook-id`, ...) is not copied either.
    pub fn push_owned(&mut self, name: &str, value: String) {
        self.push_bytes(name, Bytes::from(value));
    }

    /// Adds `name: value`, with a value that lives as long as the program (not copied).
    pub fn push_static(&mut self, name: &str, value: &'static str) {
        self.push_bytes(name, Bytes::from_static(value.as_bytes()));
    }

    fn push_bytes(&mut self, name: &str, value: Bytes) {
        if self.invalid.is_some() {
            return;
        }
        let name = match known_name(name) {
            Some(known) => known,
            None => match HeaderName::from_bytes(name.as_bytes()) {
                Ok(name) => name,
                Err(e) => {
                    self.invalid = Some(format!("invalid header name {name:?}: {e}"));
                    return;
                }
            },
        };
        match HeaderValue::from_maybe_shared(value) {
            Ok(value) => {
                self.map.append(name, value);
            }
            Err(e) => {
                self.invalid = Some(format!("invalid value of header {}: {e}", name.as_str()));
            }
        }
    }
}

impl From<&[(String, String)]> for RequestHeaders {
    fn from(pairs: &[(String, String)]) -> Self {
        let mut headers = Self::with_capacity(pairs.len());
        for (name, value) in pairs {
            headers.push(name, value);
        }
        headers
    }
}

/// The names the Standard Webhooks signer writes, as static names (a custom name parsed from
/// bytes is copied into an allocation of its own; a standard one, such as `content-type`, is
/// not). Exact matches only: any other spelling is parsed as before.
fn known_name(name: &str) -> Option<HeaderName> {
    Some(HeaderName::from_static(match name {
        "webhook-id" => "webhook-id",
        "webhook-timestamp" => "webhook-timestamp",
        "webhook-signature" => "webhook-signature",
        _ => return None,
    }))
}

/// The POST itself: the target's URL and credentials, then `headers`, then the client's user
/// agent and `*/*` accepted unless `headers` set them.
fn request(
    target: &Target,
    headers: RequestHeaders,
    body: Vec<u8>,
) -> Result<hyper::Request<Full<Bytes>>, String> {
    if let Some(invalid) = headers.invalid {
        return Err(invalid);
    }
    let mut req = hyper::Request::post(target.uri.clone())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("invalid request: {e}"))?;
    let map = req.headers_mut();
    match &target.basic {
        // Credentials first, then the configured headers after them (an `Authorization` of the
        // endpoint's is sent too, after it), as before.
        Some(value) => {
            map.reserve(headers.map.len() + 3);
            map.insert(hyper::header::AUTHORIZATION, value.clone());
            let mut last: Option<HeaderName> = None;
            for (name, value) in headers.map {
                if let Some(name) = name {
                    last = Some(name);
                }
                if let Some(name) = &last {
                    map.append(name.clone(), value);
                }
            }
        }
        None => *map = headers.map,
    }
    // The client's own headers, unless the endpoint's configuration sets them.
    map.entry(hyper::header::USER_AGENT)
        .or_insert(HeaderValue::from_static(USER_AGENT));
    map.entry(hyper::header::ACCEPT)
        .or_insert(HeaderValue::from_static("*/*"));
    Ok(req)
}

/// Whether a failure was a timeout (connecting, or a timer of the client's own).
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    find_cause::<io::Error>(e).is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
}

fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// The class of an answer: `None` for a 2xx, `Gone` for 410, `Status` for anything else.
pub(crate) fn status_class(status: u16) -> Option<ErrorClass> {
    match status {
        200..=299 => None,
        410 => Some(ErrorClass::Gone),
        _ => Some(ErrorClass::Status),
    }
}

/// Why a name had no usable address: the [`Lookup`] failed or returned none. The resolver wraps
/// its error in this so the failure is classed as DNS by type, not by its text.
#[derive(Debug, thiserror::Error)]
#[error("DNS lookup failed")]
struct LookupFailed(#[source] io::Error);

/// The class of a failure to connect or exchange, found by the types in its cause chain.
fn connect_class(e: &(dyn std::error::Error + 'static)) -> ErrorClass {
    if find_cause::<LookupFailed>(e).is_some() {
        ErrorClass::Dns
    } else if find_cause::<rustls::Error>(e).is_some() {
        ErrorClass::Tls
    } else {
        // Refused, reset, closed early, or a protocol error on the wire: the endpoint's
        // connection failed, whatever the exact io::ErrorKind.
        ErrorClass::Connection
    }
}

/// The first error of type `T` in an error's causes. `io::Error::source` skips the error it
/// wraps (it returns the wrapped error's own source), so the wrapped error is looked at too:
/// that is where rustls's error sits.
fn find_cause<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        cur = match err.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &'a (dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The innermost cause, which says what actually happened ("Connection refused").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    if text.is_empty() { e.to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_roots_parse_their_two_names_only() {
        assert_eq!("system".parse(), Ok(TlsRoots::System));
        assert_eq!(" MOZILLA ".parse(), Ok(TlsRoots::Mozilla));
        assert_eq!(
            "Native".parse::<TlsRoots>(),
            Err(UnknownTlsRoots("native".to_owned()))
        );
        assert!("".parse::<TlsRoots>().is_err());
    }

    /// A resolver the test controls, recording every name it is asked for.
    #[derive(Default)]
    struct FixedLookup {
        names: Vec<(&'static str, Vec<IpAddr>)>,
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl Lookup for FixedLookup {
        fn lookup(&self, host: &str) -> LookupFuture {
            self.asked.lock().unwrap().push(host.to_owned());
            let found = self
                .names
                .iter()
                .find(|(name, _)| *name == host)
                .map(|(_, ips)| ips.clone());
            Box::pin(async move { found.ok_or_else(|| io::ErrorKind::NotFound.into()) })
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    fn loopback_allowed() -> SsrfPolicy {
        SsrfPolicy::new(vec!["127.0.0.0/8".parse().unwrap()])
    }

    async fn post(http: &Http, url: &str) -> Attempt {
        let now = Timestamp::from_unix_secs(1_700_000_000);
        http.post(url, &[], Vec::new(), Duration::from_secs(5), now)
            .await
    }

    #[tokio::test]
    async fn every_address_a_custom_lookup_returns_is_checked() {
        let lookup = Arc::new(FixedLookup {
            names: vec![
                ("private.test", ips(&["10.0.0.1"])),
                // An allowed address first: a guard that checked only the first, or dropped
                // the refused ones, would connect to it.
                ("mixed.test", ips(&["127.0.0.1", "169.254.169.254"])),
                // The name as the URL parser leaves it: lower-case, trailing dot kept.
                ("mapped.test.", ips(&["::ffff:192.168.0.1"])),
            ],
            ..FixedLookup::default()
        });
        let http =
            Http::with_lookup(loopback_allowed(), TlsRoots::Mozilla, lookup.clone()).unwrap();
        for (url, error) in [
            ("http://private.test/", "refused 10.0.0.1: private address"),
            (
                "http://mixed.test:9/",
                "refused 169.254.169.254: cloud metadata endpoint",
            ),
            (
                "http://MAPPED.test./x",
                "refused ::ffff:192.168.0.1: private address",
            ),
        ] {
            let attempt = post(&http, url).await;
            assert_eq!(attempt.outcome, Outcome::Blocked, "{url}: {attempt:?}");
            assert_eq!(attempt.class, Some(ErrorClass::Ssrf), "{url}");
            assert_eq!(attempt.error.as_deref(), Some(error), "{url}");
        }
        // The host as the URL parser normalised it; literal IPs are never looked up.
        assert_eq!(
            post(&http, "http://10.1.2.3/").await.outcome,
            Outcome::Blocked
        );
        assert_eq!(
            *lookup.asked.lock().unwrap(),
            ["private.test", "mixed.test", "mapped.test."]
        );
    }

    #[tokio::test]
    async fn a_custom_lookup_decides_where_the_client_connects() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "request ended early");
                head.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8_lossy(&head).into_owned()
        });
        let lookup = Arc::new(FixedLookup {
            // Not a name the system resolver knows: only the custom lookup can answer it.
            names: vec![("hooks.invalid", ips(&["127.0.0.1"]))],
            ..FixedLookup::default()
        });
        let http = Http::with_lookup(loopback_allowed(), TlsRoots::Mozilla, lookup).unwrap();
        let attempt = post(&http, &format!("http://hooks.invalid:{port}/in")).await;
        assert_eq!(attempt.status, Some(204), "{attempt:?}");
        let head = server.await.unwrap();
        assert!(head.starts_with("POST /in HTTP/1.1\r\n"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("host: hooks.invalid:{port}")),
            "{head}"
        );
    }

    /// A loopback server that accepts connections and, once it has read the start of the
    /// request, answers each with `answer` (nothing at all when `None`, keeping it open).
    async fn server(answer: Option<&'static [u8]>) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((mut conn, _)) = listener.accept().await {
                if let Some(bytes) = answer {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf).await;
                    let _ = conn.write_all(bytes).await;
                }
                open.push(conn);
            }
        });
        port
    }

    #[tokio::test]
    async fn each_failure_is_classed_where_it_happens() {
        let lookup = Arc::new(FixedLookup {
            names: vec![("empty.test", Vec::new())],
            ..FixedLookup::default()
        });
        let http = Http::with_lookup(loopback_allowed(), TlsRoots::Mozilla, lookup).unwrap();
        let class = |a: &Attempt| a.class;

        // DNS: a name the lookup does not know, and one with no addresses.
        for url in ["http://unknown.test/", "http://empty.test/"] {
            let a = post(&http, url).await;
            assert_eq!(
                (a.outcome, class(&a)),
                (Outcome::Connect, Some(ErrorClass::Dns)),
                "{url}: {a:?}"
            );
        }
        // Refused: a port nothing listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let a = post(&http, &format!("http://127.0.0.1:{closed}/")).await;
        assert_eq!(
            (a.outcome, class(&a)),
            (Outcome::Connect, Some(ErrorClass::Connection)),
            "{a:?}"
        );
        // TLS: an https URL answered in plain HTTP.
        let plain = server(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")).await;
        let a = post(&http, &format!("https://127.0.0.1:{plain}/")).await;
        assert_eq!(
            (a.outcome, class(&a)),
            (Outcome::Connect, Some(ErrorClass::Tls)),
            "{a:?}"
        );
        // Timeout: a server that never answers.
        let silent = server(None).await;
        let now = Timestamp::from_unix_secs(1_700_000_000);
        let a = http
            .post(
                &format!("http://127.0.0.1:{silent}/"),
                &[],
                Vec::new(),
                Duration::from_millis(200),
                now,
            )
            .await;
        assert_eq!(
            (a.outcome, class(&a)),
            (Outcome::Timeout, Some(ErrorClass::Timeout)),
            "{a:?}"
        );
        // A URL that does not parse is the request's fault, not the endpoint's.
        let a = post(&http, "not a url").await;
        assert_eq!(class(&a), Some(ErrorClass::Request), "{a:?}");
        // Answers: classed by status.
        let gone = server(Some(b"HTTP/1.1 410 Gone\r\ncontent-length: 0\r\n\r\n")).await;
        let a = post(&http, &format!("http://127.0.0.1:{gone}/")).await;
        assert_eq!((a.status, class(&a)), (Some(410), Some(ErrorClass::Gone)));
        assert_eq!(status_class(200), None);
        assert_eq!(status_class(299), None);
        assert_eq!(status_class(500), Some(ErrorClass::Status));
        assert_eq!(status_class(302), Some(ErrorClass::Status));
    }

    #[test]
    fn requests_carry_the_clients_headers_unless_configured_and_url_credentials_as_basic_auth() {
        let url = Target::parse("https://ada:p%40ss@hooks.example.com/in?x=1").unwrap();
        let headers = [
            ("User-Agent".to_owned(), "acme/2".to_owned()),
            ("x-one".to_owned(), "a".to_owned()),
            ("x-one".to_owned(), "b".to_owned()),
        ];
        let req = request(&url, RequestHeaders::from(&headers[..]), b"{}".to_vec()).unwrap();
        assert_eq!(req.uri().to_string(), "https://hooks.example.com/in?x=1");
        let h = req.headers();
        // base64("ada:p@ss")
        assert_eq!(h["authorization"], "Basic YWRhOnBAc3M=");
        assert_eq!(
            h.get_all("user-agent").iter().collect::<Vec<_>>(),
            ["acme/2"]
        );
        assert_eq!(h.get_all("x-one").iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(h["accept"], "*/*");
        let plain = request(
            &Target::parse("http://127.0.0.1:9/").unwrap(),
            RequestHeaders::default(),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(plain.headers()["user-agent"], USER_AGENT);
        assert!(plain.headers().get("authorization").is_none());
        let bad = [("bad name".to_owned(), "v".to_owned())];
        assert!(request(&url, RequestHeaders::from(&bad[..]), Vec::new()).is_err());
    }

    #[test]
    fn headers_added_without_a_copy_are_checked_as_copied_ones_are() {
        let url = Target::parse("http://127.0.0.1:9/").unwrap();
        let mut headers = RequestHeaders::with_capacity(4);
        headers.push("x-one", "a");
        headers.push_static("content-type", "application/json");
        headers.push_owned("webhook-id", "msg_1".to_owned());
        headers.push_owned("Webhook-Signature", "v1,abc".to_owned());
        let req = request(&url, headers, Vec::new()).unwrap();
        let h = req.headers();
        assert_eq!(h["x-one"], "a");
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["webhook-id"], "msg_1");
        assert_eq!(h["webhook-signature"], "v1,abc");
        // A value with a control character fails the request, whichever way it was added.
        for bad in [
            RequestHeaders::from(&[("x-a".to_owned(), "a\nb".to_owned())][..]),
            {
                let mut h = RequestHeaders::default();
                h.push_owned("webhook-id", "a\rb".to_owned());
                h
            },
        ] {
            let e = request(&url, bad, Vec::new()).unwrap_err();
            assert!(e.starts_with("invalid value of header "), "{e}");
        }
    }

    #[test]
    fn the_compiled_in_roots_are_mozillas() {
        // The trust anchors webpki-roots compiles in: Mozilla's program, well over a hundred.
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        let mut store = rustls::RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        assert_eq!(store.len(), webpki_roots::TLS_SERVER_ROOTS.len());
        Http::with_roots(SsrfPolicy::new(Vec::new()), TlsRoots::Mozilla).unwrap();
    }
}
