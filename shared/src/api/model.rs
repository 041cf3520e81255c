//! What the API stores and answers: applications, event types, endpoints, messages and
//! attempts, with Svix's JSON names, and how a request body creates or changes each.
//!
//! Records are stored as their JSON; the `*_out` functions give what the API shows (an
//! endpoint's secret and headers have their own routes and are never in its listing).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::body::{Body, Field};
use super::error::ApiError;
use super::history::ErrorClass;
use super::id::{IdKind, check_name, check_secret, check_uid};
use crate::envelope::Trigger;
use crate::ssrf::SsrfPolicy;
use crate::time::Timestamp;

/// Svix's `metadata`: string keys and values.
pub type Metadata = BTreeMap<String, String>;

/// The most channels an endpoint may listen on (Svix's limit).
pub const MAX_ENDPOINT_CHANNELS: usize = 10;
/// The most channels a message may carry (Svix's limit).
pub const MAX_MESSAGE_CHANNELS: usize = 5;
/// The longest endpoint URL.
pub const MAX_URL: usize = 65_536;
/// The longest grace period of a rotated secret (Svix's: 7 days).
pub const MAX_GRACE_SECS: u64 = 604_800;
/// The grace period when the request gives none (Svix's: 24 hours).
pub const DEFAULT_GRACE_SECS: u64 = 86_400;

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// An application: one of your customers, who owns endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `app_...`
    pub id: String,
    /// Your own unique id for it.
    pub uid: Option<String>,
    /// Its name.
    pub name: String,
    /// Stored, not yet enforced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle_rate: Option<u16>,
    /// Your key/value pairs.
    pub metadata: Metadata,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// How a body changes a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `POST`: required fields must be there, the rest default.
    Create,
    /// `PUT`: as create, replacing the record.
    Replace,
    /// `PATCH`: only the fields given change.
    Patch,
}

fn throttle(b: &mut Body) -> Field<u16> {
    match b.integer(&["throttleRate", "rateLimit"], 0, u64::from(u16::MAX)) {
        Field::Set(n) => Field::Set(u16::try_from(n).unwrap_or(u16::MAX)),
        Field::Null => Field::Null,
        Field::Absent => Field::Absent,
    }
}

fn non_empty(s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err("must not be empty".to_owned())
    } else {
        Ok(())
    }
}

impl Application {
    /// Reads an `ApplicationIn` (create or `PUT`) or `ApplicationPatch` body onto `current`
    /// (`None` when creating).
    pub fn from_body(
        mut b: Body,
        mode: Mode,
        current: Option<&Application>,
        id: String,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let name = b.string(&["name"], non_empty);
        let uid = b.string(&["uid"], |s| check_uid(IdKind::Application, s));
        let throttle_rate = throttle(&mut b);
        let metadata = b.string_map(&["metadata"]);
        let name = match (mode, current) {
            (Mode::Patch, Some(c)) => name.patch(c.name.clone()),
            _ => b.require("name", name).unwrap_or_default(),
        };
        b.finish()?;
        let created_at = current.map_or_else(|| rfc3339(now), |c| c.created_at.clone());
        Ok(match (mode, current) {
            (Mode::Patch, Some(c)) => Self {
                id: c.id.clone(),
                uid: uid.patch_opt(c.uid.clone()),
                name,
                throttle_rate: throttle_rate.patch_opt(c.throttle_rate),
                metadata: metadata.patch(c.metadata.clone()),
                created_at,
                updated_at: rfc3339(now),
            },
            _ => Self {
                id: current.map_or(id, |c| c.id.clone()),
                uid: uid.set(),
                name,
                throttle_rate: throttle_rate.set(),
                metadata: metadata.set().unwrap_or_default(),
                created_at,
                updated_at: rfc3339(now),
            },
        })
    }
}

/// An event type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    /// Its name, such as `invoice.paid`.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Archived types are hidden from lists unless asked for; messages of them still go out.
    pub archived: bool,
    /// Shown as deprecated.
    pub deprecated: bool,
    /// JSON schemas, stored and shown as given (not enforced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schemas: Option<Value>,
    /// Stored and shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_flag: Option<String>,
    /// Stored and shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl EventType {
    /// Reads an `EventTypeIn`, `EventTypeUpdate` or `EventTypePatch` body. `name` is the path's
    /// for `PUT` and `PATCH`.
    pub fn from_body(
        mut b: Body,
        mode: Mode,
        current: Option<&EventType>,
        path_name: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let name = match path_name {
            Some(n) => {
                b.ignore(&["name"]);
                Some(n.to_owned())
            }
            None => {
                let n = b.string(&["name"], check_name);
                b.require("name", n)
            }
        };
        let description = b.string(&["description"], |_| Ok(()));
        let archived = b.boolean(&["archived"]);
        let deprecated = b.boolean(&["deprecated"]);
        let schemas = b.json_object(&["schemas"]).set().map(Value::Object);
        let feature_flag = b.string(&["featureFlag"], check_name);
        let group_name = b.string(&["groupName"], check_name);
        b.ignore(&["featureFlags"]);
        let description = match (mode, current) {
            (Mode::Patch, Some(c)) => description.patch(c.description.clone()),
            _ => b.require("description", description).unwrap_or_default(),
        };
        b.finish()?;
        let name = name.unwrap_or_default();
        Ok(match (mode, current) {
            (Mode::Patch, Some(c)) => Self {
                name,
                description,
                archived: archived.patch(c.archived),
                deprecated: deprecated.patch(c.deprecated),
                schemas: if schemas.is_some() {
                    schemas
                } else {
                    c.schemas.clone()
                },
                feature_flag: feature_flag.patch_opt(c.feature_flag.clone()),
                group_name: group_name.patch_opt(c.group_name.clone()),
                created_at: c.created_at.clone(),
                updated_at: rfc3339(now),
            },
            _ => Self {
                name,
                description,
                archived: archived.set().unwrap_or(false),
                deprecated: deprecated.set().unwrap_or(false),
                schemas,
                feature_flag: feature_flag.set(),
                group_name: group_name.set(),
                created_at: current.map_or_else(|| rfc3339(now), |c| c.created_at.clone()),
                updated_at: rfc3339(now),
            },
        })
    }
}

/// A secret that was rotated out and still signs until `expires_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OldSecret {
    /// `whsec_...`
    pub key: String,
    /// When it stops signing (milliseconds since the epoch).
    pub expires_ms: i64,
}

/// An endpoint: where an application's messages are delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// `ep_...`
    pub id: String,
    /// The application's id.
    pub app_id: String,
    /// Your own unique id for it (within the application).
    pub uid: Option<String>,
    /// Where deliveries go.
    pub url: String,
    /// Free text.
    pub description: String,
    /// Stored, not yet enforced.
    pub throttle_rate: Option<u16>,
    /// Disabled endpoints get nothing.
    pub disabled: bool,
    /// The event types it takes; `None` means all.
    pub event_types: Option<Vec<String>>,
    /// The channels it takes; `None` means messages of any channel (or none).
    pub channels: Option<Vec<String>>,
    /// Your key/value pairs.
    pub metadata: Metadata,
    /// Headers added to each delivery.
    pub headers: BTreeMap<String, String>,
    /// The signing secret, `whsec_...`.
    pub secret: String,
    /// Rotated-out secrets still signing during their grace period.
    #[serde(default)]
    pub old_secrets: Vec<OldSecret>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// What an endpoint URL must be.
#[derive(Clone, Debug)]
pub struct UrlPolicy {
    /// The SSRF guard's allow-list (the configuration's `ssrf_allow`).
    pub ssrf: SsrfPolicy,
    /// Whether `http://` is accepted (in `hookline dev`, or when the operator allows it).
    pub allow_http: bool,
}

impl UrlPolicy {
    /// Checks an endpoint URL: `https` (or `http` when allowed), a host, no credentials, and,
    /// where the host is an IP address or `localhost`, an address the SSRF guard lets through.
    /// Names are resolved, and every address checked again, at delivery.
    pub fn check(&self, raw: &str) -> Result<(), String> {
        if raw.len() > MAX_URL {
            return Err(format!("must be at most {MAX_URL} characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("is not a valid URL ({e})"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(
                    "must use https (http is accepted only in hookline dev, or with api.allow_http)"
                        .to_owned(),
                );
            }
            other => return Err(format!("must use https, not {other}")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold a user name or password".to_owned());
        }
        let ip: Option<IpAddr> = match url.host() {
            None => return Err("must have a host".to_owned()),
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.');
                if d.eq_ignore_ascii_case("localhost")
                    || d.to_ascii_lowercase().ends_with(".localhost")
                {
                    Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                } else {
                    None
                }
            }
        };
        if let Some(ip) = ip {
            self.ssrf.check(ip).map_err(|b| {
                format!(
                    "points at {} ({}), which the SSRF guard refuses; an operator may open it with ssrf_allow",
                    b.addr,
                    b.class.as_str()
                )
            })?;
        }
        Ok(())
    }
}

/// A header name an endpoint may not set: those hookline writes itself, and those that would
/// change how the request is framed.
pub fn check_header_name(name: &str) -> Result<(), String> {
    let lower = name.to_ascii_lowercase();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    {
        return Err("is not a valid header name".to_owned());
    }
    const RESERVED: [&str; 9] = [
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "user-agent",
        "te",
        "upgrade",
        "keep-alive",
    ];
    if RESERVED.contains(&lower.as_str())
        || lower.starts_with("webhook-")
        || lower.starts_with("svix-")
        || lower.starts_with("x-amz-")
        || lower.starts_with("proxy-")
    {
        return Err(format!(
            "{name} is set by hookline and cannot be overridden"
        ));
    }
    Ok(())
}

fn check_header_value(v: &str) -> Result<(), String> {
    if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        Err("must not contain CR, LF or NUL".to_owned())
    } else {
        Ok(())
    }
}

/// Checks header names and values (a `None` value is a header being removed: only its name is
/// checked), reporting each wrong one at `["body", "headers", name]`.
fn check_headers<'a>(b: &mut Body, headers: impl Iterator<Item = (&'a str, Option<&'a str>)>) {
    for (k, v) in headers {
        if let Err(msg) = check_header_name(k) {
            b.invalid(&["body", "headers", k], msg);
        } else if let Some(Err(msg)) = v.map(check_header_value) {
            b.invalid(&["body", "headers", k], msg);
        }
    }
}

/// Reads an `EndpointHeadersIn` body (`PUT .../headers`): the headers, checked.
pub fn headers_from_body(mut b: Body) -> Result<BTreeMap<String, String>, ApiError> {
    let headers = b.string_map(&["headers"]);
    let headers = b.require("headers", headers).unwrap_or_default();
    check_headers(
        &mut b,
        headers.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))),
    );
    b.finish()?;
    Ok(headers)
}

/// An `EndpointHeadersPatchIn` body (`PATCH .../headers`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadersPatch {
    /// Headers to add or replace.
    pub set: BTreeMap<String, String>,
    /// Header names to remove: those given as `null` in `headers` (Svix's older form) and
    /// those in `deleteHeaders`.
    pub delete: Vec<String>,
}

impl HeadersPatch {
    /// Reads an `EndpointHeadersPatchIn` body.
    pub fn from_body(mut b: Body) -> Result<Self, ApiError> {
        let headers = b.nullable_string_map(&["headers"]);
        let headers = b.require("headers", headers).unwrap_or_default();
        let delete = b.string_set(&["deleteHeaders"], usize::MAX, check_header_name);
        check_headers(
            &mut b,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_deref())),
        );
        b.finish()?;
        let mut out = Self::default();
        for (k, v) in headers {
            match v {
                Some(v) => {
                    out.set.insert(k, v);
                }
                None => out.delete.push(k),
            }
        }
        out.delete.extend(delete.set().unwrap_or_default());
        Ok(out)
    }

    /// Applies the patch: names compare without regard to case, as HTTP's do.
    pub fn apply(self, headers: &mut BTreeMap<String, String>) {
        headers.retain(|k, _| {
            !self
                .delete
                .iter()
                .chain(self.set.keys())
                .any(|d| d.eq_ignore_ascii_case(k))
        });
        headers.extend(self.set);
    }
}

impl Endpoint {
    /// Reads an `EndpointIn` (create), `EndpointUpdate` (`PUT`) or `EndpointPatch` body.
    /// `secret` is the new secret to use when creating and the body gives none.
    #[allow(clippy::too_many_arguments)]
    pub fn from_body(
        mut b: Body,
        mode: Mode,
        current: Option<&Endpoint>,
        app_id: &str,
        id: String,
        secret: String,
        urls: &UrlPolicy,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let url = b.string(&["url"], |u| urls.check(u));
        let description = b.string(&["description"], |_| Ok(()));
        let uid = b.string(&["uid"], |s| check_uid(IdKind::Endpoint, s));
        let throttle_rate = throttle(&mut b);
        let disabled = b.boolean(&["disabled"]);
        let event_types = b.string_set(&["eventTypes", "filterTypes"], usize::MAX, check_name);
        let channels = b.string_set(&["channels"], MAX_ENDPOINT_CHANNELS, check_name);
        let metadata = b.string_map(&["metadata"]);
        let (given_secret, given_headers) = if mode == Mode::Create {
            let secret = b.string(&["secret"], |s| check_secret(s).map(|_| ()));
            let headers = b.string_map(&["headers"]);
            if let Field::Set(h) = &headers {
                check_headers(
                    &mut b,
                    h.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))),
                );
            }
            (secret, headers)
        } else {
            (Field::Absent, Field::Absent)
        };
        b.ignore(&["version"]);
        let url = match (mode, current) {
            (Mode::Patch, Some(c)) => url.patch(c.url.clone()),
            _ => b.require("url", url).unwrap_or_default(),
        };
        b.finish()?;
        let empty_is_none = |v: Option<Vec<String>>| v.filter(|v| !v.is_empty());
        Ok(match (mode, current) {
            (Mode::Patch, Some(c)) => Self {
                url,
                description: description.patch(c.description.clone()),
                uid: uid.patch_opt(c.uid.clone()),
                throttle_rate: throttle_rate.patch_opt(c.throttle_rate),
                disabled: disabled.patch(c.disabled),
                event_types: empty_is_none(event_types.patch_opt(c.event_types.clone())),
                channels: empty_is_none(channels.patch_opt(c.channels.clone())),
                metadata: metadata.patch(c.metadata.clone()),
                updated_at: rfc3339(now),
                ..c.clone()
            },
            _ => Self {
                id: current.map_or(id, |c| c.id.clone()),
                app_id: app_id.to_owned(),
                uid: uid.set(),
                url,
                description: description.set().unwrap_or_default(),
                throttle_rate: throttle_rate.set(),
                disabled: disabled.set().unwrap_or(false),
                event_types: empty_is_none(event_types.set()),
                channels: empty_is_none(channels.set()),
                metadata: metadata.set().unwrap_or_default(),
                headers: match current {
                    Some(c) => c.headers.clone(),
                    None => given_headers.set().unwrap_or_default(),
                },
                secret: match current {
                    Some(c) => c.secret.clone(),
                    None => given_secret
                        .set()
                        .and_then(|s| check_secret(&s).ok())
                        .unwrap_or(secret),
                },
                old_secrets: current.map(|c| c.old_secrets.clone()).unwrap_or_default(),
                created_at: current.map_or_else(|| rfc3339(now), |c| c.created_at.clone()),
                updated_at: rfc3339(now),
            },
        })
    }

    /// `EndpointOut`.
    pub fn out(&self) -> Value {
        json!({
            "id": self.id,
            "uid": self.uid,
            "url": self.url,
            "description": self.description,
            "throttleRate": self.throttle_rate,
            "disabled": self.disabled,
            "eventTypes": self.event_types,
            "filterTypes": self.event_types,
            "channels": self.channels,
            "metadata": self.metadata,
            "version": 1,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }

    /// Rotates the secret: `new` signs from now on, the current one keeps signing for
    /// `grace_secs`; secrets whose grace has passed are dropped.
    pub fn rotate(&mut self, new: String, grace_secs: u64, now: Timestamp) {
        let grace_ms = i64::try_from(grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let old = std::mem::replace(&mut self.secret, new);
        self.old_secrets
            .retain(|s| s.expires_ms > now.unix_millis());
        if grace_secs > 0 {
            self.old_secrets.push(OldSecret {
                key: old,
                expires_ms: now.unix_millis().saturating_add(grace_ms),
            });
        }
        self.updated_at = rfc3339(now);
    }

    /// The secrets that sign a delivery made at `now`: the current one first.
    pub fn signing_secrets(&self, now: Timestamp) -> impl Iterator<Item = &str> {
        std::iter::once(self.secret.as_str()).chain(
            self.old_secrets
                .iter()
                .filter(move |s| s.expires_ms > now.unix_millis())
                .map(|s| s.key.as_str()),
        )
    }

    /// Whether this endpoint takes a message of `event_type` on `channels`: enabled, subscribed
    /// to the type (or to all), and, when it lists channels, sharing one with the message.
    /// Svix's rule: an endpoint with channels takes only messages on one of them; one without
    /// takes every message.
    pub fn takes(&self, event_type: &str, channels: Option<&[String]>) -> bool {
        !self.disabled && self.subscribed(event_type, channels)
    }

    /// [`Endpoint::takes`] whether or not it is disabled: a message it is subscribed to while
    /// disabled is recorded as skipped (and `recover` sends it once it is enabled again).
    pub fn subscribed(&self, event_type: &str, channels: Option<&[String]>) -> bool {
        if let Some(types) = &self.event_types
            && !types.iter().any(|t| t == event_type)
        {
            return false;
        }
        match &self.channels {
            None => true,
            Some(mine) => channels.is_some_and(|theirs| theirs.iter().any(|c| mine.contains(c))),
        }
    }
}

/// Reads an `EndpointSecretRotateIn` body: the new key (if given) and the grace period.
pub fn rotate_from_body(mut b: Body) -> Result<(Option<String>, u64), ApiError> {
    let key = b.string(&["key"], |s| check_secret(s).map(|_| ()));
    let grace = b.integer(&["gracePeriodSeconds"], 0, MAX_GRACE_SECS);
    b.finish()?;
    Ok((
        key.set().and_then(|k| check_secret(&k).ok()),
        grace.set().unwrap_or(DEFAULT_GRACE_SECS),
    ))
}

/// A message: one event for one application.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `msg_...`: also the `webhook-id` of every delivery.
    pub id: String,
    /// The application's id.
    pub app_id: String,
    /// Your unique id for it, if you gave one.
    pub event_id: Option<String>,
    /// Its event type.
    pub event_type: String,
    /// The payload, exactly as it was sent (the delivered body).
    pub payload: Box<RawValue>,
    /// Its channels.
    pub channels: Option<Vec<String>>,
    /// When it was created, RFC 3339: the `webhook-timestamp` of its deliveries.
    pub timestamp: String,
    /// Whether it is known to be on the outbound queue (set after the enqueue succeeded).
    #[serde(default)]
    pub enqueued: bool,
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.app_id == other.app_id
            && self.event_id == other.event_id
            && self.event_type == other.event_type
            && self.payload.get() == other.payload.get()
            && self.channels == other.channels
            && self.timestamp == other.timestamp
            && self.enqueued == other.enqueued
    }
}

/// A `MessageIn` body, before it is given an id.
#[derive(Clone, Debug)]
pub struct MessageIn {
    /// Its event type.
    pub event_type: String,
    /// Its payload, as sent.
    pub payload: Box<RawValue>,
    /// Your unique id.
    pub event_id: Option<String>,
    /// Its channels.
    pub channels: Option<Vec<String>>,
    /// An `ApplicationIn` to create when the path names no application (Svix's implicit
    /// creation); not checked here.
    pub application: Option<serde_json::Map<String, Value>>,
}

/// The fields of `MessageIn` read into a raw payload: serde keeps `payload`'s bytes as sent.
#[derive(Deserialize)]
struct RawMessageIn<'a> {
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

impl MessageIn {
    /// Reads a `MessageIn` body. The payload is kept byte for byte (it must be a JSON object).
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut b = super::body::object(bytes)?;
        // The body is valid JSON (object() parsed it), so this second, borrowing parse only
        // fails where the first would have.
        let raw: RawMessageIn<'_> = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("The body is not valid JSON: {e}"))
        })?;
        let event_type = b.string(&["eventType"], check_name);
        let event_type = b.require("eventType", event_type);
        let payload = b.json_object(&["payload"]);
        let payload_ok = b.require("payload", payload).is_some();
        let event_id = b.string(&["eventId"], check_name);
        let channels = b.string_set(&["channels"], MAX_MESSAGE_CHANNELS, check_name);
        let application = b.json_object(&["application"]);
        b.ignore(&[
            "payloadRetentionPeriod",
            "payloadRetentionHours",
            "tags",
            "transformationsParams",
            "deliverAt",
        ]);
        b.finish()?;
        let payload = match (payload_ok, raw.payload) {
            (true, Some(p)) => p.to_owned(),
            _ => return Err(ApiError::field(&["body", "payload"], "field required")),
        };
        Ok(Self {
            event_type: event_type.unwrap_or_default(),
            payload,
            event_id: event_id.set(),
            channels: channels.set().filter(|c| !c.is_empty()),
            application: application.set(),
        })
    }
}

impl Message {
    /// `MessageOut`; without the payload when `with_content` is false.
    pub fn out(&self, with_content: bool) -> Value {
        let payload = if with_content {
            serde_json::from_str::<Value>(self.payload.get()).unwrap_or(Value::Null)
        } else {
            json!({})
        };
        json!({
            "id": self.id,
            "eventId": self.event_id,
            "eventType": self.event_type,
            "payload": payload,
            "channels": self.channels,
            "timestamp": self.timestamp,
        })
    }
}

/// How a delivery attempt ended (Svix's `MessageStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum AttemptStatus {
    /// A 2xx.
    Success,
    /// Will be tried again.
    Pending,
    /// Failed, with no further try (or failed this time).
    Fail,
}

impl From<AttemptStatus> for u8 {
    fn from(s: AttemptStatus) -> u8 {
        match s {
            AttemptStatus::Success => 0,
            AttemptStatus::Pending => 1,
            AttemptStatus::Fail => 2,
        }
    }
}

impl TryFrom<u8> for AttemptStatus {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            0 => Ok(Self::Success),
            1 => Ok(Self::Pending),
            2 => Ok(Self::Fail),
            other => Err(format!("unknown attempt status {other}")),
        }
    }
}

impl AttemptStatus {
    /// Svix's `statusText`.
    pub const fn text(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Pending => "pending",
            Self::Fail => "fail",
        }
    }
}

/// The longest response body kept in an attempt.
pub const MAX_ATTEMPT_RESPONSE: usize = 1024;

/// One delivery attempt: what the history records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// `atmpt_...`
    pub id: String,
    /// The application's id.
    pub app_id: String,
    /// The message.
    pub msg_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Where it went.
    pub url: String,
    /// The start of the response body (at most [`MAX_ATTEMPT_RESPONSE`] bytes), or why there
    /// was none.
    pub response: String,
    /// The HTTP status; 0 when there was no response.
    pub response_status_code: u16,
    /// How long it took.
    pub response_duration_ms: u64,
    /// How it ended.
    pub status: AttemptStatus,
    /// Why it was sent: scheduled, a manual resend, or an endpoint's recover.
    #[serde(default)]
    pub trigger: Trigger,
    /// Which try of this message at this endpoint it was (1 for the first; counted per trigger:
    /// a resend starts again at 1).
    #[serde(default)]
    pub attempt: u32,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<ErrorClass>,
    /// When the next try is due (RFC 3339), when one is scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
    /// When it was made, RFC 3339.
    pub timestamp: String,
}

impl Attempt {
    /// `MessageAttemptOut`; the response body is `{}` when `with_content` is false (as Svix
    /// answers), and `msg` is the message (without its payload) when given.
    pub fn out(&self, with_content: bool, msg: Option<&Message>) -> Value {
        let mut v = json!({
            "id": self.id,
            "msgId": self.msg_id,
            "endpointId": self.endpoint_id,
            "url": self.url,
            "response": if with_content { self.response.as_str() } else { "{}" },
            "responseStatusCode": self.response_status_code,
            "responseDurationMs": self.response_duration_ms,
            "status": u8::from(self.status),
            "statusText": self.status.text(),
            "triggerType": u8::from(self.trigger != Trigger::Scheduled),
            "timestamp": self.timestamp,
            "trigger": self.trigger.as_str(),
            "attempt": self.attempt,
            "errorClass": self.error_class.map(ErrorClass::as_str),
            "nextAttempt": self.next_attempt,
        });
        if let (Some(m), Some(o)) = (msg, v.as_object_mut()) {
            o.insert("msg".into(), m.out(false));
        }
        v
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::super::body::object;
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_800_000_000)
    }

    fn urls(loopback: bool) -> UrlPolicy {
        UrlPolicy {
            ssrf: SsrfPolicy::new(if loopback {
                vec!["127.0.0.0/8".parse().unwrap()]
            } else {
                vec![]
            }),
            allow_http: loopback,
        }
    }

    fn endpoint(body: &str, urls: &UrlPolicy) -> Result<Endpoint, ApiError> {
        Endpoint::from_body(
            object(body.as_bytes()).unwrap(),
            Mode::Create,
            None,
            "app_1",
            "ep_1".into(),
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            urls,
            now(),
        )
    }

    #[test]
    fn url_guard_names_the_reason() {
        let strict = urls(false);
        assert!(strict.check("https://example.com/hook").is_ok());
        for (url, why) in [
            ("http://example.com/hook", "https"),
            ("https://127.0.0.1/x", "loopback"),
            ("https://localhost/x", "loopback"),
            ("https://LOCALHOST./x", "loopback"),
            ("https://a.localhost/x", "loopback"),
            ("https://169.254.169.254/latest", "cloud_metadata"),
            ("https://[::1]/x", "loopback"),
            ("https://[::ffff:10.0.0.1]/x", "private"),
            ("https://10.0.0.1/x", "private"),
            ("https://0.0.0.0/x", "unspecified"),
            ("https://user:pw@example.com/", "password"),
            ("ftp://example.com/", "https"),
            ("not a url", "valid URL"),
        ] {
            let e = strict.check(url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        let dev = urls(true);
        assert!(dev.check("http://127.0.0.1:9000/hook").is_ok());
        assert!(dev.check("http://169.254.169.254/").is_err());
    }

    #[test]
    fn endpoint_create_reads_new_and_old_names() {
        let e = endpoint(
            r#"{"url":"https://example.com/a","filterTypes":["a.b"],"rateLimit":5,"channels":["x"]}"#,
            &urls(false),
        )
        .unwrap();
        assert_eq!(e.event_types.as_deref(), Some(&["a.b".to_owned()][..]));
        assert_eq!(e.throttle_rate, Some(5));
        let e = endpoint(
            r#"{"url":"https://example.com/a","eventTypes":["c"],"throttleRate":7}"#,
            &urls(false),
        )
        .unwrap();
        assert_eq!(e.event_types.as_deref(), Some(&["c".to_owned()][..]));
        assert_eq!(e.throttle_rate, Some(7));
        assert!(e.secret.starts_with("whsec_"));
    }

    #[test]
    fn endpoint_errors_are_422_with_locations() {
        let Err(ApiError::Validation(errs)) = endpoint(
            r#"{"url":"https://10.1.2.3/","channels":["ok","bad channel"],"disabled":"no","secret":"short"}"#,
            &urls(false),
        ) else {
            panic!()
        };
        let locs: Vec<_> = errs.iter().map(|e| e.loc.join(".")).collect();
        assert_eq!(
            locs,
            [
                "body.url",
                "body.disabled",
                "body.channels.1",
                "body.secret"
            ],
            "{errs:?}"
        );
        let Err(ApiError::Validation(errs)) = endpoint("{}", &urls(false)) else {
            panic!()
        };
        assert_eq!(errs[0].loc, ["body", "url"]);
    }

    #[test]
    fn patch_changes_only_what_is_given() {
        let e = endpoint(
            r#"{"url":"https://example.com/a","description":"d","channels":["x"]}"#,
            &urls(false),
        )
        .unwrap();
        let p = Endpoint::from_body(
            object(br#"{"disabled":true,"channels":null}"#).unwrap(),
            Mode::Patch,
            Some(&e),
            "app_1",
            String::new(),
            String::new(),
            &urls(false),
            now(),
        )
        .unwrap();
        assert!(p.disabled);
        assert_eq!(p.channels, None);
        assert_eq!(p.description, "d");
        assert_eq!(p.secret, e.secret);
        assert_eq!(p.url, e.url);
    }

    #[test]
    fn rotation_keeps_the_old_secret_for_its_grace() {
        let mut e = endpoint(r#"{"url":"https://example.com/a"}"#, &urls(false)).unwrap();
        let first = e.secret.clone();
        e.rotate("whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB".into(), 60, now());
        let at = |secs: i64| Timestamp::from_unix_secs(1_800_000_000 + secs);
        assert_eq!(
            e.signing_secrets(at(59)).collect::<Vec<_>>(),
            [e.secret.as_str(), first.as_str()]
        );
        assert_eq!(
            e.signing_secrets(at(60)).collect::<Vec<_>>(),
            [e.secret.as_str()]
        );
    }

    #[test]
    fn channel_and_type_rules() {
        let mut e = endpoint(r#"{"url":"https://example.com/a"}"#, &urls(false)).unwrap();
        assert!(e.takes("a", None));
        e.event_types = Some(vec!["a".into()]);
        assert!(!e.takes("b", None));
        e.channels = Some(vec!["eu".into()]);
        assert!(!e.takes("a", None));
        assert!(!e.takes("a", Some(&["us".into()])));
        assert!(e.takes("a", Some(&["us".into(), "eu".into()])));
        e.disabled = true;
        assert!(!e.takes("a", Some(&["eu".into()])));
    }

    #[test]
    fn message_payload_is_kept_byte_for_byte() {
        let m = MessageIn::parse(
            br#"{"eventType":"a.b","payload":{"z":1, "a":[2,3]},"channels":["x"]}"#,
        )
        .unwrap();
        assert_eq!(m.payload.get(), r#"{"z":1, "a":[2,3]}"#);
        for bad in [
            r#"{"eventType":"a b","payload":{}}"#,
            r#"{"eventType":"a","payload":[1]}"#,
            r#"{"eventType":"a"}"#,
            r#"{"payload":{}}"#,
            r#"{"eventType":"a","payload":{},"channels":["1","2","3","4","5","6"]}"#,
            r#"{"eventType":"a","payload":{},"eventId":""}"#,
        ] {
            assert_eq!(
                MessageIn::parse(bad.as_bytes()).unwrap_err().status(),
                422,
                "{bad}"
            );
        }
        assert_eq!(MessageIn::parse(b"{").unwrap_err().status(), 400);
    }

    #[test]
    fn header_names() {
        assert!(check_header_name("X-Tenant").is_ok());
        for bad in [
            "Host",
            "content-length",
            "webhook-signature",
            "Svix-Id",
            "bad header",
            "",
            "x-amz-date",
        ] {
            assert!(check_header_name(bad).is_err(), "{bad}");
        }
        let e = headers_from_body(object(br#"{"headers":{"X-A":"1\r\nX-B: 2"}}"#).unwrap())
            .unwrap_err();
        assert_eq!(e.status(), 422);
    }

    #[test]
    fn headers_patch_sets_and_removes_without_regard_to_case() {
        let p = HeadersPatch::from_body(
            object(br#"{"headers":{"x-a":"1","X-B":null},"deleteHeaders":["x-c"]}"#).unwrap(),
        )
        .unwrap();
        let mut h: BTreeMap<String, String> =
            [("X-A", "0"), ("x-b", "2"), ("X-C", "3"), ("X-D", "4")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        p.apply(&mut h);
        let got: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("X-D", "4"), ("x-a", "1")]);
        for bad in [
            r#"{"headers":{"Host":null}}"#,
            r#"{"headers":{"X-A":1}}"#,
            r#"{"headers":{},"deleteHeaders":["webhook-id"]}"#,
            r#"{"deleteHeaders":[]}"#,
        ] {
            let e = HeadersPatch::from_body(object(bad.as_bytes()).unwrap()).unwrap_err();
            assert_eq!(e.status(), 422, "{bad}");
        }
    }

    #[test]
    fn endpoint_headers_at_create_are_checked() {
        let e = endpoint(
            r#"{"url":"https://example.com/a","headers":{"X-Key":"k"}}"#,
            &urls(false),
        )
        .unwrap();
        assert_eq!(e.headers.get("X-Key").map(String::as_str), Some("k"));
        let Err(ApiError::Validation(errs)) = endpoint(
            r#"{"url":"https://example.com/a","headers":{"Content-Length":"1"}}"#,
            &urls(false),
        ) else {
            panic!()
        };
        assert_eq!(errs[0].loc, ["body", "headers", "Content-Length"]);
    }

    #[test]
    fn message_in_keeps_its_application_for_the_service() {
        let m = MessageIn::parse(br#"{"eventType":"a","payload":{},"application":{"name":"x"}}"#)
            .unwrap();
        assert_eq!(m.application.unwrap()["name"], "x");
        let e =
            MessageIn::parse(br#"{"eventType":"a","payload":{},"application":"x"}"#).unwrap_err();
        assert_eq!(e.status(), 422);
    }

    #[test]
    fn attempt_out_without_content_and_with_its_message() {
        let m = MessageIn::parse(br#"{"eventType":"a","payload":{"k":1}}"#).unwrap();
        let msg = Message {
            id: "msg_1".into(),
            app_id: "app_1".into(),
            event_id: None,
            event_type: m.event_type,
            payload: m.payload,
            channels: None,
            timestamp: "2027-01-15T08:00:00Z".into(),
            enqueued: true,
        };
        let at = Attempt {
            id: "atmpt_1".into(),
            app_id: "app_1".into(),
            msg_id: "msg_1".into(),
            endpoint_id: "ep_1".into(),
            url: "https://example.com/".into(),
            response: "body".into(),
            response_status_code: 200,
            response_duration_ms: 3,
            status: AttemptStatus::Success,
            trigger: Trigger::Manual,
            attempt: 1,
            error_class: None,
            next_attempt: None,
            timestamp: "2027-01-15T08:00:01Z".into(),
        };
        assert_eq!(at.out(true, None)["response"], "body");
        assert!(at.out(true, None).get("msg").is_none());
        let v = at.out(false, Some(&msg));
        assert_eq!(v["response"], "{}");
        assert_eq!(v["triggerType"], 1);
        // Svix never includes the payload with an attempt.
        assert_eq!(v["msg"]["payload"], json!({}));
        assert_eq!(v["msg"]["id"], "msg_1");
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
