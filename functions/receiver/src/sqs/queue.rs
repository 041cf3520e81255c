//! Queue URLs: which ones the client accepts, and the region and origin requests go to.

use super::SqsError;
use hookline_sqs::limits::is_valid_queue_name;

/// A queue: its URL (sent as `QueueUrl`, and whose origin receives the request) and the region
/// requests to it are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// `https://sqs.<region>.amazonaws.com/<account>/<name>` (or a loopback URL for tests).
    pub url: String,
    /// Signing region, e.g. `us-east-1`.
    pub region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostKind {
    /// `sqs.<region>.amazonaws.com`, `sqs.<region>.amazonaws.com.cn`,
    /// `sqs-fips.<region>.amazonaws.com`: the region is in the name.
    AwsRegional,
    /// `127.0.0.1` or `localhost`: tests only, http allowed, region must be given.
    Loopback,
    /// Any other https host (VPC endpoint, legacy `queue.amazonaws.com`): region must be given.
    Other,
}

#[derive(Debug)]
pub(super) struct UrlParts<'a> {
    /// `https://host[:port]` exactly as given.
    pub(super) origin: &'a str,
    /// Region named by the host, for [`HostKind::AwsRegional`].
    host_region: Option<&'a str>,
}

pub(super) fn parse_url(url: &str) -> Result<UrlParts<'_>, SqsError> {
    let bad = SqsError::InvalidQueueUrl;
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("only printable ASCII without spaces is allowed"));
    }
    if url.contains('#') {
        return Err(bad("fragments are not allowed"));
    }
    if url.contains('?') {
        return Err(bad("query strings are not allowed"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(bad("expected scheme://host/account/name"))?;
    let https = match scheme {
        "https" => true,
        "http" => false,
        _ => return Err(bad("the scheme must be https (or http for loopback)")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i), rest.get(i..)),
        None => (None, None),
    };
    let authority = authority.ok_or(bad("expected a path /account/name"))?;
    let path = path.ok_or(bad("expected a path /account/name"))?;
    if authority.contains('@') {
        return Err(bad("user info is not allowed"));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    if let Some(port) = port {
        let ok = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !ok {
            return Err(bad("invalid port"));
        }
    }
    if !is_valid_host(host) {
        return Err(bad("the host must be a lower-case DNS name or 127.0.0.1"));
    }

    let mut segments = path.split('/');
    let (empty, account, name, extra) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    );
    if empty != Some("") || extra.is_some() {
        return Err(bad("the path must be exactly /account/name"));
    }
    if !account.is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
        return Err(bad("the account id must be 12 digits"));
    }
    if !name.is_some_and(is_valid_queue_name) {
        return Err(bad("invalid queue name"));
    }

    let (kind, host_region) = if host == "127.0.0.1" || host == "localhost" {
        (HostKind::Loopback, None)
    } else if let Some(region) = aws_host_region(host) {
        (HostKind::AwsRegional, Some(region))
    } else {
        (HostKind::Other, None)
    };
    if !https && kind != HostKind::Loopback {
        return Err(bad("the scheme must be https (or http for loopback)"));
    }
    let origin_len = scheme
        .len()
        .saturating_add(3)
        .saturating_add(authority.len());
    let origin = url.get(..origin_len).ok_or(bad("malformed URL"))?;
    Ok(UrlParts {
        origin,
        host_region,
    })
}

fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn aws_host_region(host: &str) -> Option<&str> {
    let rest = host
        .strip_prefix("sqs.")
        .or_else(|| host.strip_prefix("sqs-fips."))?;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    is_valid_region(region).then_some(region)
}

pub(super) fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-')
}

impl Queue {
    /// Checks a queue URL and works out the signing region.
    ///
    /// Accepted:
    /// - `https://sqs.<region>.amazonaws.com/<12-digit account>/<name>` (also `.amazonaws.com.cn`
    ///   and `sqs-fips.`): the region is taken from the host unless `region_override` is given;
    /// - `http(s)://127.0.0.1[:port]/…` and `http(s)://localhost[:port]/…` for local testing,
    ///   with `region_override` required;
    /// - any other lower-case https host (e.g. a VPC endpoint) with `region_override` required.
    ///
    /// Rejected: other schemes, plain http to anything but loopback, user info, query strings,
    /// fragments, upper-case hosts (the Workers `fetch` lower-cases the `Host` it sends, which
    /// would no longer match the signature), paths other than `/<account>/<name>`.
    pub fn parse(url: &str, region_override: Option<&str>) -> Result<Queue, SqsError> {
        let parts = parse_url(url)?;
        let region = region_override
            .or(parts.host_region)
            .ok_or(SqsError::RegionRequired)?;
        if !is_valid_region(region) {
            return Err(SqsError::InvalidRegion);
        }
        Ok(Queue {
            url: url.to_owned(),
            region: region.to_owned(),
        })
    }

    /// `scheme://host[:port]/`, where requests for this queue are posted.
    pub fn endpoint(&self) -> Result<String, SqsError> {
        let parts = parse_url(&self.url)?;
        Ok(format!("{}/", parts.origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- Queue::parse ------------------------------------------------------------------

    #[test]
    fn parse_accepts_aws_url_and_takes_region_from_host() {
        let q = Queue::parse(
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "eu-west-2");
        assert_eq!(
            q.url,
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders"
        );
        assert_eq!(
            q.endpoint().unwrap(),
            "https://sqs.eu-west-2.amazonaws.com/"
        );

        let q = Queue::parse(
            "https://sqs.eu-west-2.amazonaws.com/123456789012/orders.fifo",
            Some("us-west-1"),
        )
        .unwrap();
        assert_eq!(q.region, "us-west-1", "an override wins over the host");

        let q = Queue::parse(
            "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "cn-north-1");
        let q = Queue::parse(
            "https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q",
            None,
        )
        .unwrap();
        assert_eq!(q.region, "us-gov-west-1");
    }

    #[test]
    fn parse_accepts_loopback_only_with_region() {
        for url in [
            "http://127.0.0.1:4566/123456789012/q",
            "http://localhost:9324/000000000000/q.fifo",
            "https://127.0.0.1/123456789012/q",
            "http://localhost/123456789012/q",
        ] {
            assert_eq!(
                Queue::parse(url, None),
                Err(SqsError::RegionRequired),
                "{url}"
            );
            let q = Queue::parse(url, Some("us-east-1")).unwrap();
            assert_eq!(q.region, "us-east-1");
        }
        let q = Queue::parse("http://127.0.0.1:4566/123456789012/q", Some("us-east-1")).unwrap();
        assert_eq!(q.endpoint().unwrap(), "http://127.0.0.1:4566/");
    }

    #[test]
    fn parse_other_https_hosts_need_a_region() {
        let url = "https://vpce-1a2b3c4d.sqs.us-east-1.vpce.amazonaws.com/123456789012/q";
        assert_eq!(Queue::parse(url, None), Err(SqsError::RegionRequired));
        assert!(Queue::parse(url, Some("us-east-1")).is_ok());
    }

    #[test]
    fn parse_rejects() {
        let region = Some("us-east-1");
        for url in [
            "",
            "sqs.us-east-1.amazonaws.com/123456789012/q",
            "http://sqs.us-east-1.amazonaws.com/123456789012/q",
            "http://10.0.0.1:4566/123456789012/q",
            "http://example.com/123456789012/q",
            "ftp://sqs.us-east-1.amazonaws.com/123456789012/q",
            "HTTPS://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://user:pw@sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://user@sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q?Action=x",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q#frag",
            "https://SQS.us-east-1.amazonaws.com/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com",
            "https://sqs.us-east-1.amazonaws.com/",
            "https://sqs.us-east-1.amazonaws.com/123456789012",
            "https://sqs.us-east-1.amazonaws.com/123456789012/",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q/",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q/extra",
            "https://sqs.us-east-1.amazonaws.com//q",
            "https://sqs.us-east-1.amazonaws.com/12345/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bad%20name",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bad name",
            "https://sqs.us-east-1.amazonaws.com/123456789012/.fifo",
            "https://sqs.us-east-1.amazonaws.com:0/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:70000/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com:+443/123456789012/q",
            "https://[::1]:443/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com\\@evil/123456789012/q",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q\u{e9}",
            "https://-bad.example/123456789012/q",
        ] {
            assert!(
                matches!(Queue::parse(url, region), Err(SqsError::InvalidQueueUrl(_))),
                "should reject {url:?}: {:?}",
                Queue::parse(url, region)
            );
        }
        let long = format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            "a".repeat(81)
        );
        assert!(Queue::parse(&long, None).is_err());
        let ok80 = format!(
            "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
            "a".repeat(80)
        );
        assert!(Queue::parse(&ok80, None).is_ok());
    }

    #[test]
    fn parse_rejects_bad_regions() {
        let url = "http://127.0.0.1:4566/123456789012/q";
        for r in ["", "US-EAST-1", "us east", "us-east-1/x", "-x", "x-"] {
            assert_eq!(
                Queue::parse(url, Some(r)),
                Err(SqsError::InvalidRegion),
                "{r:?}"
            );
        }
    }

    #[test]
    fn invalid_url_error_does_not_echo_the_url() {
        let err = Queue::parse(
            "https://AKIA:secretpw@sqs.us-east-1.amazonaws.com/1/q",
            None,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("secretpw"));
    }
}
