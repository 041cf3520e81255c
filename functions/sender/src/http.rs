//! One delivery attempt over HTTP, behind the SSRF guard.
//!
//! The guard sits in the DNS resolver: every address a host name resolves to is checked, and the
//! connection goes to the checked addresses only, so a DNS answer cannot change between the check
//! and the connect (DNS rebinding). Literal IP addresses, which reqwest does not resolve, are
//! checked before the request. Redirects are never followed: a 3xx is an answer like any other.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::retry::{Outcome, parse_retry_after};
use hookline_core::ssrf::{Blocked, SsrfPolicy};
use hookline_core::time::Timestamp;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The most of a response body read (and discarded) so the connection can be reused.
const MAX_DRAIN: usize = 64 * 1024;

/// What one attempt came to, for the retry policy and the logs.
#[derive(Debug)]
pub struct Attempt {
    /// The outcome the retry policy decides on.
    pub outcome: Outcome,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// A short description of a failure without a response (never a body or a secret).
    pub error: Option<String>,
    /// Time from sending to the response head (or the failure).
    pub latency: Duration,
}

/// The HTTP client, built once per cold start.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    policy: Arc<SsrfPolicy>,
}

/// Resolves with the system resolver, then refuses the name if any address is not allowed.
struct GuardedResolver {
    policy: Arc<SsrfPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for addr in &addrs {
                policy.check(addr.ip())?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Http {
    /// A client that never follows redirects and connects only where `policy` allows.
    pub fn new(policy: SsrfPolicy) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from HTTP(S)_PROXY/ALL_PROXY would resolve endpoint names itself, out of
            // the guard's sight: deliveries always connect directly.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: Arc::clone(&policy),
            }))
            .user_agent(concat!("hookline/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` to `url` with `headers`, within `timeout`.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Duration,
        now: Timestamp,
    ) -> Attempt {
        let started = Instant::now();
        let failed = |outcome, error: String| Attempt {
            outcome,
            status: None,
            error: Some(error),
            latency: started.elapsed(),
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return failed(Outcome::Blocked, format!("invalid URL: {e}")),
        };
        if let Some(ip) = literal_ip(&parsed)
            && let Err(blocked) = self.policy.check(ip)
        {
            return failed(Outcome::Blocked, blocked.to_string());
        }
        let mut req = self.client.post(parsed).timeout(timeout).body(body);
        for (name, value) in headers {
            req = req.header(name.as_str(), value.as_str());
        }
        match req.send().await {
            Ok(mut resp) => {
                let latency = started.elapsed();
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now));
                // Drain a little so the connection goes back to the pool; never keep the body.
                let mut read = 0usize;
                while read < MAX_DRAIN {
                    match resp.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        _ => break,
                    }
                }
                Attempt {
                    outcome: Outcome::Status {
                        code: status,
                        retry_after,
                    },
                    status: Some(status),
                    error: None,
                    latency,
                }
            }
            Err(e) => {
                if let Some(blocked) = find_blocked(&e) {
                    failed(Outcome::Blocked, blocked.to_string())
                } else if e.is_timeout() {
                    failed(Outcome::Timeout, format!("timed out after {timeout:?}"))
                } else {
                    failed(Outcome::Connect, describe(&e))
                }
            }
        }
    }
}

fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// The SSRF refusal in an error's source chain, if that is what failed.
fn find_blocked(e: &(dyn std::error::Error + 'static)) -> Option<Blocked> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<Blocked>() {
            return Some(*b);
        }
        cur = err.source();
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
