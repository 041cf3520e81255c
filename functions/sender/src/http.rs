//! One delivery attempt over HTTP, behind the SSRF guard.
//!
//! The guard sits in the DNS resolver: every address a host name resolves to is checked, and the
//! connection goes to the checked addresses only, so a DNS answer cannot change between the check
//! and the connect (DNS rebinding). Literal IP addresses, which reqwest does not resolve, are
//! checked before the request. Redirects are never followed: a 3xx is an answer like any other.
//!
//! Certificates are checked against [`TlsRoots`]: the system's store, or Mozilla's roots compiled
//! into the binary, which spares a cold start reading and parsing every file of the store.

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

/// The certificate authorities an endpoint's certificate must chain to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlsRoots {
    /// The system's store, read from disk when the client is built: the files `SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` name, or else the distribution's bundle and directory. A private CA
    /// added there is trusted. Reading and parsing the store takes milliseconds of CPU.
    #[default]
    System,
    /// Mozilla's root program, compiled in (`webpki-root-certs`): nothing is read from disk. The
    /// list Amazon Linux's bundle is also made from, as recent as the build; no private CAs.
    Mozilla,
}

impl std::str::FromStr for TlsRoots {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "system" => Ok(Self::System),
            "mozilla" => Ok(Self::Mozilla),
            other => Err(format!(
                "unknown value \"{other}\": use \"system\" (the system's certificate store) or \"mozilla\" (compiled-in roots)"
            )),
        }
    }
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
    /// A client that never follows redirects and connects only where `policy` allows, checking
    /// certificates against the system's store.
    pub fn new(policy: SsrfPolicy) -> Result<Self, reqwest::Error> {
        Self::with_roots(policy, TlsRoots::System)
    }

    /// As [`Http::new`], checking certificates against `roots`.
    pub fn with_roots(policy: SsrfPolicy, roots: TlsRoots) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(policy);
        let mut builder = reqwest::Client::builder();
        if roots == TlsRoots::Mozilla {
            // Only the roots change: reqwest still builds the TLS configuration (crypto provider,
            // protocol versions, ALPN) as it does for the system's store.
            let certs = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<Vec<_>, _>>()?;
            builder = builder.tls_certs_only(certs);
        }
        let client = builder
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

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn tls_roots_parse_their_two_names_only() {
        assert_eq!("system".parse(), Ok(TlsRoots::System));
        assert_eq!(" MOZILLA ".parse(), Ok(TlsRoots::Mozilla));
        assert!("native".parse::<TlsRoots>().is_err());
        assert!("".parse::<TlsRoots>().is_err());
    }

    #[test]
    fn every_compiled_in_root_is_accepted() {
        // reqwest parses each root when the client is built: one it rejected would fail every
        // cold start, so this is checked here rather than in the Lambda.
        assert!(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() > 100);
        Http::with_roots(SsrfPolicy::new(Vec::new()), TlsRoots::Mozilla).unwrap();
    }
}
