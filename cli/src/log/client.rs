//! How `hookline log` reaches a management API: which URL and token (flags, environment, or the
//! file `hookline dev` writes in its data directory), and GET requests whose failures become
//! messages that say what to do next.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::exit;
use crate::sqs_target::{DEFAULT_DEV_URL, is_loopback_host};

/// The file in `hookline dev`'s data directory that names its API and development token (mode
/// 0600 on Unix: the token is as good as a password for everything in that `hookline dev`).
pub const DEV_API_FILE: &str = "api.json";
/// How long one request may take before `hookline log` gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most records one list may hold before `hookline log` asks for a narrower query: the API
/// lists oldest first only, so the newest records come after every older one in the window.
pub const MAX_RECORDS: usize = 10_000;
/// Records per page (the API's most).
const PAGE: usize = hookline_api::service::MAX_LIMIT;

/// What `hookline dev` writes to [`DEV_API_FILE`] and `hookline log` reads from it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct DevApi {
    /// The API's URL, `/api/v1` included.
    pub url: String,
    /// The development token.
    pub token: String,
}

impl DevApi {
    /// Where the file is in a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(DEV_API_FILE)
    }

    /// Writes the file readable by its owner only, replacing it whole (a reader never sees half
    /// of it: written aside, then renamed over).
    pub fn write(&self, data_dir: &Path) -> std::io::Result<()> {
        use std::io::Write as _;
        let path = Self::path(data_dir);
        let aside = data_dir.join(format!("{DEV_API_FILE}.tmp"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&aside)?;
        // An older file (of another umask) keeps its mode through `open`: set it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        let text = serde_json::json!({"url": self.url, "token": self.token}).to_string();
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&aside, &path)
    }

    /// Reads the file of `data_dir`; `Ok(None)` when there is none (no `hookline dev` ran there).
    pub fn read(data_dir: &Path) -> Result<Option<DevApi>, LogError> {
        let path = Self::path(data_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(LogError::DevFileUnreadable { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| LogError::DevFileInvalid { path, source })
    }
}

/// Where the API is and the token for it, once decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The API's URL, ending in `/api/v1`.
    pub url: String,
    /// The bearer token.
    pub token: String,
    /// Where the token came from, for the 401 message.
    pub token_from: TokenSource,
}

/// Where the token in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `--token` or `HOOKLINE_API_TOKEN`.
    Given,
    /// `hookline dev`'s [`DEV_API_FILE`].
    DevFile,
}

/// `--api` as the API's URL: the server URL the SDKs take (`https://host`), or the `/api/v1` URL
/// `hookline dev` prints; either way it ends in `/api/v1`, without a trailing slash.
pub fn api_url(given: &str) -> Result<String, LogError> {
    let bad = || LogError::BadApiUrl {
        url: given.to_owned(),
    };
    let parsed = url::Url::parse(given).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(bad());
    }
    let prefix = hookline_api::service::PREFIX;
    let text = parsed.as_str().trim_end_matches('/');
    Ok(if text.ends_with(prefix) {
        text.to_owned()
    } else {
        format!("{text}{prefix}")
    })
}

/// Decides the URL and token: `--api` and `--token` when given; otherwise `hookline dev`'s file
/// in `data_dir`, whose token is only ever sent to the URL beside it; otherwise, with a token,
/// `hookline dev`'s default address. A token is never sent in clear over the network: `http://`
/// only to loopback.
pub fn target(api: Option<&str>, token: Option<&str>, data_dir: &Path) -> Result<Target, LogError> {
    let token = token.filter(|t| !t.is_empty());
    let dev = match api {
        // The file is read only when it may be used: never an error for someone who named both.
        Some(_) if token.is_some() => None,
        _ => DevApi::read(data_dir)?,
    };
    let (url, token, token_from) = match (api.map(api_url).transpose()?, token, dev) {
        (Some(url), Some(t), _) => (url, t.to_owned(), TokenSource::Given),
        // The development token goes to the `hookline dev` that made it, nowhere else.
        (Some(url), None, Some(dev)) if api_url(&dev.url).is_ok_and(|d| d == url) => {
            (url, dev.token, TokenSource::DevFile)
        }
        (Some(url), None, _) => return Err(LogError::NoToken { url }),
        (None, Some(t), Some(dev)) => (api_url(&dev.url)?, t.to_owned(), TokenSource::Given),
        (None, Some(t), None) => (api_url(DEFAULT_DEV_URL)?, t.to_owned(), TokenSource::Given),
        (None, None, Some(dev)) => (api_url(&dev.url)?, dev.token, TokenSource::DevFile),
        (None, None, None) => {
            return Err(LogError::NoDev {
                path: DevApi::path(data_dir),
            });
        }
    };
    let parsed = url::Url::parse(&url).map_err(|_| LogError::BadApiUrl { url: url.clone() })?;
    if parsed.scheme() == "http" && !parsed.host_str().is_some_and(is_loopback_host) {
        return Err(LogError::InsecureUrl { url });
    }
    Ok(Target {
        url,
        token,
        token_from,
    })
}

/// A page of a list, in Svix's `ListResponse` shape.
#[derive(Debug, Deserialize)]
struct ListPage<T> {
    data: Vec<T>,
    iterator: Option<String>,
    done: bool,
}

/// An HTTP client for one API.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    target: Target,
}

impl Client {
    /// A client for `target`; redirects are not followed (they could carry the token elsewhere).
    pub fn new(target: Target) -> Result<Self, LogError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hookline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LogError::Client(e.to_string()))?;
        Ok(Self { http, target })
    }

    /// The API's URL.
    pub fn url(&self) -> &str {
        &self.target.url
    }

    /// `GET {api}/{segments...}?{query}`, each segment percent-encoded, the answer read as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, LogError> {
        let shown = route_of(segments);
        let mut url = url::Url::parse(&self.target.url).map_err(|_| LogError::BadApiUrl {
            url: self.target.url.clone(),
        })?;
        url.path_segments_mut()
            .map_err(|()| LogError::BadApiUrl {
                url: self.target.url.clone(),
            })?
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let sent = self
            .http
            .get(url)
            .bearer_auth(&self.target.token)
            .send()
            .await
            .map_err(|e| LogError::Unreachable {
                url: self.target.url.clone(),
                cause: innermost(&e),
                timed_out: e.is_timeout(),
            })?;
        let status = sent.status().as_u16();
        let body = sent.bytes().await.map_err(|e| LogError::Unreachable {
            url: self.target.url.clone(),
            cause: innermost(&e),
            timed_out: e.is_timeout(),
        })?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| LogError::NotApi {
                route: shown,
                status,
                why: e.to_string(),
            });
        }
        Err(self.refused(shown, status, &body))
    }

    /// Every record of a list (page after page), at most [`MAX_RECORDS`].
    pub async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Vec<T>, LogError> {
        let mut all = Vec::new();
        let mut iterator: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            q.push(("limit", PAGE.to_string()));
            if let Some(it) = &iterator {
                q.push(("iterator", it.clone()));
            }
            let page: ListPage<T> = self.get(segments, &q).await?;
            let got = page.data.len();
            all.extend(page.data);
            if all.len() > MAX_RECORDS {
                return Err(LogError::TooMany {
                    route: route_of(segments),
                });
            }
            // An empty page that is not the last would loop for ever: a broken server.
            if page.done || got == 0 {
                return Ok(all);
            }
            match page.iterator {
                Some(it) => iterator = Some(it),
                None => {
                    return Err(LogError::NotApi {
                        route: route_of(segments),
                        status: 200,
                        why: "a page that is not the last has no iterator".to_owned(),
                    });
                }
            }
        }
    }

    /// The error for a non-2xx answer, from Svix's `{"code", "detail"}` or 422 shape.
    fn refused(&self, route: String, status: u16, body: &[u8]) -> LogError {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return LogError::NotApi {
                route,
                status,
                why: "the answer is not JSON".to_owned(),
            };
        };
        // What follows only words the error shown: a field the server left out reads as missing
        // in the message, and nothing is decided on it.
        let detail = match v.get("detail") {
            Some(Value::String(s)) => s.clone(),
            // 422: every wrong field, as `query.status: must be ...`.
            Some(Value::Array(fields)) => fields
                .iter()
                .map(|f| {
                    let loc: Vec<String> = f
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|l| {
                            l.iter()
                                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let msg = f.get("msg").and_then(Value::as_str).unwrap_or("invalid");
                    format!("{}: {msg}", loc.join("."))
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => {
                return LogError::NotApi {
                    route,
                    status,
                    why: "the answer has no `detail`".to_owned(),
                };
            }
        };
        let code = v
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or(if status == 422 { "validation" } else { "error" })
            .to_owned();
        let answer = Answer {
            route,
            status,
            code,
            detail,
        };
        match status {
            401 => LogError::Unauthorized {
                url: self.target.url.clone(),
                answer,
                from_dev_file: self.target.token_from == TokenSource::DevFile,
            },
            403 => LogError::Forbidden { answer },
            404 => LogError::NotFound { answer },
            // Svix's 400 `invalid_range` (a stats period over 28 days) is about the query too.
            400 | 422 => LogError::Invalid { answer },
            _ => LogError::Failed { answer },
        }
    }
}

/// `/app/x/attempt/msg/y`: the route as the messages show it.
fn route_of(segments: &[&str]) -> String {
    segments.iter().fold(String::new(), |mut s, seg| {
        s.push('/');
        s.push_str(seg);
        s
    })
}

/// The innermost cause of a request error: "connection refused", not "error sending request".
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// What the API answered when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The route asked (`/app/acme/attempt/msg/msg_1`).
    pub route: String,
    /// The HTTP status.
    pub status: u16,
    /// Svix's `code` (`authentication_failed`, `not_found`...).
    pub code: String,
    /// Svix's `detail`, or every wrong field of a 422.
    pub detail: String,
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The hint that follows starts with `;`: a detail's own full stop would double it.
        write!(
            f,
            "GET {} answered {} {}: {}",
            self.route,
            self.status,
            self.code,
            self.detail.trim_end_matches('.')
        )
    }
}

/// Why `hookline log` could not read the history; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// No `--api`, no token and no `hookline dev` file.
    #[error(
        "no management API to read: start `hookline dev` in this directory (it writes {}), or \
         pass --data-dir (the directory `hookline dev --data-dir` was given), or --api URL with \
         --token TOKEN",
        path.display()
    )]
    NoDev {
        /// Where the file was looked for.
        path: PathBuf,
    },
    /// `--api` without a token for it.
    #[error(
        "no token for {url}: pass --token TOKEN (or set HOOKLINE_API_TOKEN); the token \
         `hookline dev` wrote is only sent to its own address"
    )]
    NoToken {
        /// The API's URL.
        url: String,
    },
    /// `--api` is not an http(s) URL.
    #[error(
        "--api {url}: expected the API's http(s) URL, e.g. https://hooks.example.com or \
         http://127.0.0.1:8787/api/v1"
    )]
    BadApiUrl {
        /// As given.
        url: String,
    },
    /// `http://` to a host that is not this machine: the token would cross the network in clear.
    #[error(
        "{url}: the token would cross the network unencrypted; use https:// (plain http:// is \
         for loopback addresses only)"
    )]
    InsecureUrl {
        /// The API's URL.
        url: String,
    },
    /// `hookline dev`'s file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    DevFileUnreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// `hookline dev`'s file is not what it writes.
    #[error(
        "{} is not the file `hookline dev` writes ({source}); restart `hookline dev` to write it again",
        path.display()
    )]
    DevFileInvalid {
        /// The file.
        path: PathBuf,
        /// Where the JSON is wrong.
        source: serde_json::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// No answer at all.
    #[error(
        "cannot reach the management API at {url}: {cause}; {}",
        if *timed_out { "it did not answer in time" } else { "is `hookline dev` (or the API) running there? check --api" }
    )]
    Unreachable {
        /// The API's URL.
        url: String,
        /// The innermost cause.
        cause: String,
        /// Whether the request timed out.
        timed_out: bool,
    },
    /// The token was refused.
    #[error(
        "{answer}; {}",
        if *from_dev_file {
            format!("the token in `hookline dev`'s {DEV_API_FILE} is not the one {url} takes: is \
                     another program on that port? restart `hookline dev`, or pass --token")
        } else {
            "use the token `hookline dev` printed at start (`api_token` in its --json ready \
             line), or one of the configuration's [api] tokens, with --token or \
             HOOKLINE_API_TOKEN".to_owned()
        }
    )]
    Unauthorized {
        /// The API's URL.
        url: String,
        /// What it answered.
        answer: Answer,
        /// Whether the token came from `hookline dev`'s file.
        from_dev_file: bool,
    },
    /// The token may not read this.
    #[error(
        "{answer}; this token's scope does not cover it (a token scoped to one application \
         cannot list applications: pass --app)"
    )]
    Forbidden {
        /// What it answered.
        answer: Answer,
    },
    /// No such application, endpoint or message (or no such route on an older server).
    #[error("{answer}; check --app, --endpoint and --msg (ids or uids)")]
    NotFound {
        /// What it answered.
        answer: Answer,
    },
    /// The API refused the query's values.
    #[error("{answer}; check --since and --status")]
    Invalid {
        /// What it answered.
        answer: Answer,
    },
    /// Any other refusal (a 5xx: the store is unavailable...).
    #[error("{answer}; try again, and check the server's log if it persists")]
    Failed {
        /// What it answered.
        answer: Answer,
    },
    /// No application (of those read) has the record.
    #[error(
        "{what}: not found in {}; check it (an id, or the uid or eventId you gave), or name \
         its application with --app",
        match apps { 0 => "any application (there are none)".to_owned(), 1 => "the application".to_owned(), n => format!("any of the {n} applications") }
    )]
    Missing {
        /// What was looked for (`message msg_1`).
        what: String,
        /// How many applications were looked in.
        apps: usize,
    },
    /// The answer is not the management API's.
    #[error(
        "GET {route} answered {status} with something that is not the management API's answer \
         ({why}); is --api the API's URL?"
    )]
    NotApi {
        /// The route asked.
        route: String,
        /// The HTTP status.
        status: u16,
        /// What is wrong with it.
        why: String,
    },
    /// A list holds more than [`MAX_RECORDS`] records.
    #[error(
        "GET {route} holds more than {MAX_RECORDS} records; narrow it with --since, --status or \
         --endpoint"
    )]
    TooMany {
        /// The route asked.
        route: String,
    },
    /// A record's time is not RFC 3339.
    #[error("{what} has a timestamp that is not RFC 3339: {value}")]
    BadTime {
        /// Which record.
        what: String,
        /// The value.
        value: String,
    },
}

impl LogError {
    /// The exit code: a service to start, a token or file to fix, a name to check.
    pub fn exit_code(&self) -> u8 {
        match self {
            LogError::NoDev { .. }
            | LogError::NoToken { .. }
            | LogError::BadApiUrl { .. }
            | LogError::InsecureUrl { .. }
            | LogError::Invalid { .. } => exit::USAGE,
            LogError::DevFileUnreadable { .. } | LogError::DevFileInvalid { .. } => exit::IO,
            LogError::Unauthorized { .. } | LogError::Forbidden { .. } => exit::CONFIG,
            LogError::NotFound { .. } | LogError::Missing { .. } | LogError::TooMany { .. } => {
                exit::PROBLEMS
            }
            LogError::Client(_)
            | LogError::Unreachable { .. }
            | LogError::Failed { .. }
            | LogError::NotApi { .. }
            | LogError::BadTime { .. } => exit::UNAVAILABLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_file(dir: &Path, url: &str, token: &str) {
        DevApi {
            url: url.to_owned(),
            token: token.to_owned(),
        }
        .write(dir)
        .unwrap();
    }

    #[test]
    fn api_urls_end_in_api_v1_whichever_form_is_given() {
        for (given, url) in [
            (
                "https://hooks.example.com",
                "https://hooks.example.com/api/v1",
            ),
            (
                "https://hooks.example.com/",
                "https://hooks.example.com/api/v1",
            ),
            (
                "http://127.0.0.1:8787/api/v1",
                "http://127.0.0.1:8787/api/v1",
            ),
            (
                "http://127.0.0.1:8787/api/v1/",
                "http://127.0.0.1:8787/api/v1",
            ),
            (
                "https://h.example/hookline",
                "https://h.example/hookline/api/v1",
            ),
        ] {
            assert_eq!(api_url(given).unwrap(), url, "{given}");
        }
        for bad in [
            "hooks.example.com",
            "ftp://h.example",
            "https://h.example/?token=x",
            "https://user:pw@h.example",
            "",
        ] {
            assert!(
                matches!(api_url(bad), Err(LogError::BadApiUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_dev_file_is_the_default_and_its_token_goes_to_its_own_url_only() {
        let dir = tempfile::tempdir().unwrap();
        let none = target(None, None, dir.path()).unwrap_err();
        assert!(matches!(none, LogError::NoDev { .. }), "{none}");
        assert_eq!(none.exit_code(), exit::USAGE);
        assert!(none.to_string().contains("start `hookline dev`"), "{none}");
        // A token alone: dev's default address.
        let t = target(None, Some("tok"), dir.path()).unwrap();
        assert_eq!(t.url, "http://127.0.0.1:8787/api/v1");
        assert_eq!(t.token_from, TokenSource::Given);

        dev_file(dir.path(), "http://127.0.0.1:9999/api/v1", "hl_dev_x");
        let t = target(None, None, dir.path()).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str(), t.token_from),
            (
                "http://127.0.0.1:9999/api/v1",
                "hl_dev_x",
                TokenSource::DevFile
            )
        );
        // The same address named with --api (in either form) still gets dev's token...
        let t = target(Some("http://127.0.0.1:9999"), None, dir.path()).unwrap();
        assert_eq!(t.token, "hl_dev_x");
        // ...another address never does.
        let e = target(Some("https://hooks.example.com"), None, dir.path()).unwrap_err();
        assert!(matches!(e, LogError::NoToken { .. }), "{e}");
        // A given token wins, at dev's address or at --api.
        let t = target(None, Some("mine"), dir.path()).unwrap();
        assert_eq!(
            (t.url.as_str(), t.token.as_str()),
            ("http://127.0.0.1:9999/api/v1", "mine")
        );
        let t = target(Some("https://hooks.example.com"), Some("mine"), dir.path()).unwrap();
        assert_eq!(t.url, "https://hooks.example.com/api/v1");
        // An empty token is as good as none.
        let t = target(None, Some(""), dir.path()).unwrap();
        assert_eq!(t.token_from, TokenSource::DevFile);
    }

    #[test]
    fn a_token_never_crosses_the_network_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let e = target(Some("http://hooks.example.com"), Some("t"), dir.path()).unwrap_err();
        assert!(matches!(e, LogError::InsecureUrl { .. }), "{e}");
        for ok in [
            "http://localhost:8787",
            "http://[::1]:8787",
            "http://127.0.0.2:1",
        ] {
            assert!(target(Some(ok), Some("t"), dir.path()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_broken_dev_file_is_named_and_not_taken_for_no_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(DevApi::path(dir.path()), "{\"url\":1}").unwrap();
        let e = target(None, None, dir.path()).unwrap_err();
        assert!(matches!(e, LogError::DevFileInvalid { .. }), "{e}");
        assert_eq!(e.exit_code(), exit::IO);
        // Not read at all when --api and --token say everything.
        assert!(target(Some("https://h.example"), Some("t"), dir.path()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_dev_file_is_readable_by_its_owner_only_even_over_an_older_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = DevApi::path(dir.path());
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        dev_file(dir.path(), "http://127.0.0.1:1/api/v1", "t");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            DevApi::read(dir.path()).unwrap().unwrap().token,
            "t",
            "replaced whole"
        );
        assert!(!dir.path().join("api.json.tmp").exists());
    }

    #[test]
    fn refusals_say_what_to_do_and_exit_with_their_own_codes() {
        let client = Client::new(Target {
            url: "http://127.0.0.1:1/api/v1".into(),
            token: "t".into(),
            token_from: TokenSource::Given,
        })
        .unwrap();
        let body = br#"{"code":"authentication_failed","detail":"Invalid token"}"#;
        let e = client.refused("/app".into(), 401, body);
        assert_eq!(
            e.to_string(),
            "GET /app answered 401 authentication_failed: Invalid token; use the token \
             `hookline dev` printed at start (`api_token` in its --json ready line), or one of \
             the configuration's [api] tokens, with --token or HOOKLINE_API_TOKEN"
        );
        assert_eq!(e.exit_code(), exit::CONFIG);
        let body =
            br#"{"detail":[{"loc":["query","status"],"msg":"must be 0..4","type":"value_error"}]}"#;
        let e = client.refused("/app/a/attempt/msg/m".into(), 422, body);
        assert_eq!(
            e.to_string(),
            "GET /app/a/attempt/msg/m answered 422 validation: query.status: must be 0..4; check \
             --since and --status"
        );
        assert_eq!(e.exit_code(), exit::USAGE);
        let e = client.refused(
            "/app/x".into(),
            404,
            br#"{"code":"not_found","detail":"Entity not found"}"#,
        );
        assert!(
            e.to_string()
                .ends_with("check --app, --endpoint and --msg (ids or uids)")
        );
        assert_eq!(e.exit_code(), exit::PROBLEMS);
        let e = client.refused("/app".into(), 502, b"<html>bad gateway</html>");
        assert!(matches!(e, LogError::NotApi { status: 502, .. }), "{e}");
        assert_eq!(e.exit_code(), exit::UNAVAILABLE);
    }
}
