//! The query string: pagination (`limit`, `iterator`, `order`), flags, and the list filters the
//! SDKs send (`channel`, `event_types`, `before`/`after`, attempt `status`...), each checked into
//! Svix's `422` at `["query", name]`.

use hookline_core::api::error::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::registry::decode;
use crate::store::{Kind, Store};
use hookline_core::api::history::MessageStatus;
use hookline_core::api::id::{self, IdKind};
use hookline_core::api::model::{Attempt, Message};
use hookline_core::envelope::Trigger;
use hookline_core::time::Timestamp;

/// The most items a list returns (`limit`'s maximum; Svix's).
pub const MAX_LIMIT: usize = 250;
/// `limit` when none is given (Svix's).
pub const DEFAULT_LIMIT: usize = 50;

/// The query string, decoded.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(q: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(ApiError::field(&["query", name], "must be true or false")),
        }
    }

    /// `limit` and `iterator`; the iterator must look like what this list hands out.
    pub(super) fn page(
        &self,
        iterator_ok: impl Fn(&str) -> bool,
    ) -> Result<(usize, Option<String>), ApiError> {
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::field(
                        &["query", "limit"],
                        format!("must be an integer from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        };
        let iterator = match self.get("iterator") {
            None | Some("") => None,
            Some(it) if iterator_ok(it) => Some(it.to_owned()),
            Some(_) => {
                return Err(ApiError::field(
                    &["query", "iterator"],
                    "is not an iterator this list returned",
                ));
            }
        };
        if let Some(order) = self.get("order")
            && order != "ascending"
        {
            return Err(ApiError::field(
                &["query", "order"],
                "hookline lists in ascending (creation) order only",
            ));
        }
        Ok((limit, iterator))
    }

    /// An RFC 3339 date-time.
    pub(super) fn time(&self, name: &str) -> Result<Option<Timestamp>, ApiError> {
        self.get(name)
            .map(|s| {
                Timestamp::parse_rfc3339(s).ok_or_else(|| {
                    ApiError::field(&["query", name], "must be an RFC 3339 date-time")
                })
            })
            .transpose()
    }

    /// A name (`channel`, `tag`), checked as names are.
    fn name(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|s| {
                id::check_name(s)
                    .map(|()| s.to_owned())
                    .map_err(|msg| ApiError::field(&["query", name], msg))
            })
            .transpose()
    }

    /// `event_types`, as Svix reads it: `event_types=a,b`, repeated, or `event_types[]=a`.
    fn event_types(&self) -> Result<Option<Vec<String>>, ApiError> {
        let mut out: Vec<String> = Vec::new();
        for (k, v) in &self.0 {
            if k == "event_types" || (k.starts_with("event_types[") && k.ends_with(']')) {
                for t in v.split(',') {
                    id::check_name(t)
                        .map_err(|msg| ApiError::field(&["query", "event_types"], msg))?;
                    if !out.iter().any(|o| o == t) {
                        out.push(t.to_owned());
                    }
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// What a message list keeps (`GET /app/{app}/msg`), and what an attempt list keeps of the
/// message an attempt belongs to.
#[derive(Debug, Default)]
pub(super) struct MessageFilter {
    channel: Option<String>,
    event_types: Option<Vec<String>>,
    /// hookline keeps no message tags, so a tag filter matches nothing.
    tag: bool,
}

impl MessageFilter {
    pub(super) fn parse(q: &Query) -> Result<Self, ApiError> {
        Ok(Self {
            channel: q.name("channel")?,
            event_types: q.event_types()?,
            tag: q.name("tag")?.is_some(),
        })
    }

    /// Whether a filter needs the message at all.
    pub(super) fn is_empty(&self) -> bool {
        self.channel.is_none() && self.event_types.is_none() && !self.tag
    }

    pub(super) fn keeps(&self, m: &Message) -> bool {
        !self.tag
            && self
                .channel
                .as_ref()
                .is_none_or(|c| m.channels.as_ref().is_some_and(|cs| cs.contains(c)))
            && self
                .event_types
                .as_ref()
                .is_none_or(|ts| ts.contains(&m.event_type))
    }
}

/// `before` and `after`: a record's RFC 3339 timestamp strictly inside them.
#[derive(Debug, Default)]
pub(super) struct Window {
    before: Option<Timestamp>,
    after: Option<Timestamp>,
}

impl Window {
    pub(super) fn parse(q: &Query) -> Result<Self, ApiError> {
        Ok(Self {
            before: q.time("before")?,
            after: q.time("after")?,
        })
    }

    /// Whether `timestamp` (a record's, which hookline wrote) is in the window. A record whose
    /// timestamp does not parse is kept: the filter narrows, it does not hide damage.
    pub(super) fn keeps(&self, timestamp: &str) -> bool {
        let Some(t) = Timestamp::parse_rfc3339(timestamp) else {
            return true;
        };
        self.before.is_none_or(|b| t < b) && self.after.is_none_or(|a| t > a)
    }
}

/// Svix's `StatusCodeClass`: `0` (no response), `100`, `200`, `300`, `400`, `500`.
fn status_code_class(q: &Query) -> Result<Option<u16>, ApiError> {
    match q.get("status_code_class") {
        None => Ok(None),
        Some(s) => match s.parse::<u16>() {
            Ok(n) if n % 100 == 0 && n <= 500 => Ok(Some(n)),
            _ => Err(ApiError::field(
                &["query", "status_code_class"],
                "must be one of 0, 100, 200, 300, 400, 500",
            )),
        },
    }
}

/// `status`: Svix's `MessageStatus` number (0 success, 1 pending, 2 fail, 3 sending, 4
/// canceled).
pub(super) fn status(q: &Query) -> Result<Option<MessageStatus>, ApiError> {
    q.get("status")
        .map(|s| {
            s.parse::<u8>()
                .ok()
                .and_then(|n| MessageStatus::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::field(
                        &["query", "status"],
                        "must be 0 (success), 1 (pending), 2 (fail), 3 (sending) or 4 (canceled)",
                    )
                })
        })
        .transpose()
}

/// What an attempt list keeps (`GET /app/{app}/attempt/...`).
#[derive(Debug)]
pub(super) struct AttemptFilter {
    status: Option<MessageStatus>,
    class: Option<u16>,
    trigger: Option<Trigger>,
    pub(super) window: Window,
    pub(super) message: MessageFilter,
    /// `with_content`: the response body, or `{}`.
    pub(super) with_content: bool,
}

impl AttemptFilter {
    pub(super) fn parse(q: &Query) -> Result<Self, ApiError> {
        // 3 (sending) and 4 (canceled) are statuses of a message at an endpoint, never of an
        // attempt: valid filters that match nothing here.
        let status = status(q)?;
        // Accepted and checked; hookline has no canceled attempts to expand.
        q.flag("expanded_statuses", true)?;
        let trigger = q
            .get("trigger")
            .map(|t| {
                Trigger::parse(t).ok_or_else(|| {
                    ApiError::field(
                        &["query", "trigger"],
                        "must be scheduled, manual or recovery",
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            status,
            class: status_code_class(q)?,
            trigger,
            window: Window::parse(q)?,
            message: MessageFilter::parse(q)?,
            with_content: q.flag("with_content", true)?,
        })
    }

    /// Whether `at` passes the attempt's own filters (the message filter is applied apart).
    pub(super) fn keeps(&self, at: &Attempt) -> bool {
        self.status
            .is_none_or(|s| u8::from(s) == u8::from(at.status))
            && self.class.is_none_or(|c| {
                let code = at.response_status_code;
                if c == 0 {
                    code < 100
                } else {
                    code / 100 * 100 == c
                }
            })
            && self.trigger.is_none_or(|t| t == at.trigger)
            && self.window.keeps(&at.timestamp)
    }
}

/// A period `[since, until)` of message creation times. A message id hookline minted holds its
/// creation time (ids sort by time), so it tells without reading the message; any other id (a
/// message put straight on the queue, named by its sender) does not, and the message's own
/// `timestamp` decides.
#[derive(Debug, Default)]
pub(super) struct Period {
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    /// The smallest id minted at `since`, and at `until`.
    lo: Option<String>,
    hi: Option<String>,
}

impl Period {
    pub(super) fn new(since: Option<Timestamp>, until: Option<Timestamp>) -> Self {
        let bound = |t: Timestamp| id::new_id(IdKind::Message, t, [0; 16]);
        Self {
            since,
            until,
            lo: since.map(bound),
            hi: until.map(bound),
        }
    }

    /// `after` and `before`, both exclusive, as Svix's lists read them. Timestamps count whole
    /// milliseconds, so "after t" is "from t + 1 ms".
    pub(super) fn window(q: &Query) -> Result<Self, ApiError> {
        let after = q.time("after")?;
        let before = q.time("before")?;
        Ok(Self::new(
            after.map(|t| t.saturating_add(std::time::Duration::from_millis(1))),
            before,
        ))
    }

    /// Whether it is every time there is (no bound).
    pub(super) fn is_all(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether message `msg_id` was created in the period, when its id tells (hookline minted
    /// it); `None` when only the message's timestamp can.
    pub(super) fn holds_id(&self, msg_id: &str) -> Option<bool> {
        if !id::is_id(IdKind::Message, msg_id) {
            return None;
        }
        // Minted ids have one length and base62 digits in ASCII order: they compare as strings
        // as their times and random parts do.
        Some(
            self.lo.as_deref().is_none_or(|lo| msg_id >= lo)
                && self.hi.as_deref().is_none_or(|hi| msg_id < hi),
        )
    }

    /// Whether `t` is in the period.
    pub(super) fn holds(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

/// One page of a list being filled, in Svix's `ListResponse` shape.
///
/// As Svix does, one more record than asked for is looked for, so `done` is exact (no empty last
/// page), and `iterator` is the last returned id even on the last page (a client may come back
/// later for what was added since). Filters may leave records out: [`Page::next`] then reads on.
pub(super) struct Page {
    limit: usize,
    cursor: Option<String>,
    exhausted: bool,
    data: Vec<Value>,
    last_ids: Vec<String>,
}

impl Page {
    /// A page of up to `limit` records after `after`.
    pub(super) fn new(limit: usize, after: Option<String>) -> Self {
        Self {
            limit,
            cursor: after,
            exhausted: false,
            data: Vec::new(),
            last_ids: Vec::new(),
        }
    }

    fn want(&self) -> usize {
        self.limit.saturating_add(1)
    }

    /// The next records of `(kind, parent)` to look at, decoded, or `None` once the page is
    /// full or the list is at its end.
    pub(super) async fn next<T: DeserializeOwned>(
        &mut self,
        store: &dyn Store,
        kind: Kind,
        parent: &str,
    ) -> Result<Option<Vec<(String, T)>>, ApiError> {
        if self.exhausted || self.data.len() >= self.want() {
            return Ok(None);
        }
        let items = store
            .list(kind, parent, self.cursor.as_deref(), self.want())
            .await
            .map_err(super::unavailable)?;
        self.exhausted = items.len() < self.want();
        if let Some(last) = items.last() {
            self.cursor = Some(last.id.clone());
        }
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            let rec = decode(kind, &i.id, &i.doc).map_err(super::unavailable)?;
            out.push((i.id, rec));
        }
        Ok(Some(out))
    }

    /// Adds one record's output; `true` once the page is full (stop adding).
    pub(super) fn push(&mut self, id: String, v: Value) -> bool {
        self.data.push(v);
        self.last_ids.push(id);
        self.data.len() >= self.want()
    }

    /// The `ListResponse`.
    pub(super) fn finish(mut self) -> Value {
        let done = self.data.len() <= self.limit;
        self.data.truncate(self.limit);
        self.last_ids.truncate(self.limit);
        json!({
            "data": self.data,
            "iterator": self.last_ids.last(),
            "prevIterator": null,
            "done": done,
        })
    }
}
