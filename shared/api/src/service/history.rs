//! The delivery history's routes, in Svix's shapes: where a message stands at each endpoint
//! (`GET /app/{app}/msg/{msg}/endpoint`), an endpoint's messages and their status
//! (`GET /app/{app}/endpoint/{ep}/msg`), its statistics (`.../stats`) and `recover`.
//!
//! They read the `Destination` records the sender writes (one per message and endpoint, listed
//! by message id). Scan cost, for sizing: a list reads records until its page is full (one store
//! call per 250 records, plus one message read per record shown); `stats` and `recover` read
//! every status record the endpoint has within the retention period (one store call per 250),
//! since records are ordered by message id, not by when their status last changed. `recover`
//! adds one message read, one queue write and one status write per message it sends.

use std::time::Duration;

use hookline_core::api::history::{Destination, MessageStatus};
use hookline_core::api::model::{Endpoint, Message};
use hookline_core::envelope::Trigger;

use super::query::{self, Period};
use super::*;
use crate::history::destination_parent;

/// The longest period `stats` counts, and its default (Svix's: 28 days).
pub const STATS_PERIOD: Duration = Duration::from_secs(28 * 24 * 3600);
/// The longest period `recover` sends again (Svix's: 14 days).
pub const RECOVER_PERIOD: Duration = Duration::from_secs(14 * 24 * 3600);
/// Slack on both limits, so that `now - 28 days` computed on a client whose clock runs a little
/// ahead is still accepted (Svix's: five minutes).
const PERIOD_SLACK: Duration = Duration::from_secs(5 * 60);

/// The `status`, `statusText` and `nextAttempt` of a message at an endpoint, added to `out`.
/// Without `expanded`, canceled (skipped) reads as success, as Svix answers older clients.
pub(super) fn with_status(mut out: Value, d: &Destination, expanded: bool) -> Value {
    let status = match d.status {
        MessageStatus::Skipped if !expanded => MessageStatus::Success,
        s => s,
    };
    if let Some(o) = out.as_object_mut() {
        o.insert("status".into(), json!(u8::from(status)));
        o.insert("statusText".into(), json!(status.text()));
        o.insert("nextAttempt".into(), json!(d.next_attempt));
    }
    out
}

/// When a status record last changed (the time of its last attempt, or of the skip). hookline
/// writes it in RFC 3339 and never anything else, so one that does not parse is a damaged record:
/// reported as the store failing, never counted in or out quietly.
fn changed_at(d: &Destination) -> Result<Timestamp, ApiError> {
    Timestamp::parse_rfc3339(&d.updated_at).ok_or_else(|| ApiError::unavailable("store"))
}

impl Api {
    /// `GET /app/{app}/msg/{msg}/endpoint`: the application's endpoints that have a status for
    /// the message, in creation order (one status read per endpoint).
    pub(super) async fn list_message_endpoints(
        &self,
        scope: &Scope,
        a: &str,
        msg: &str,
        q: &Query,
    ) -> Answer {
        let (limit, after) = q.page(|it| id::is_id(IdKind::Endpoint, it))?;
        let app = self.app_for(scope, a).await?;
        let m = self.message_of(&app, msg).await?;
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Endpoint, &app.id).await? {
            for (id, ep) in batch {
                let ep: Endpoint = ep;
                let Some(d) = self
                    .registry
                    .destination(&app.id, &ep.id, &m.id)
                    .await
                    .map_err(unavailable)?
                else {
                    continue;
                };
                if page.push(id, with_status(ep.out(), &d, true)) {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    /// `GET /app/{app}/endpoint/{ep}/msg`: the endpoint's messages with their status there,
    /// oldest first, filtered by status, creation time and the message filters.
    pub(super) async fn list_endpoint_messages(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        q: &Query,
    ) -> Answer {
        // Messages put straight on the queue are listed under their own ids.
        let (limit, after) =
            q.page(|it| id::is_id(IdKind::Message, it) || is_valid_outbound_id(it))?;
        let status = query::status(q)?;
        let period = Period::window(q)?;
        let filter = MessageFilter::parse(q)?;
        let with_content = q.flag("with_content", true)?;
        let expanded = q.flag("expanded_statuses", true)?;
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let parent = destination_parent(&app.id, &ep.id);
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Destination, &parent).await? {
            for (id, d) in batch {
                let d: Destination = d;
                if status.is_some_and(|s| s != d.status)
                    || period.holds_id(&d.msg_id) == Some(false)
                {
                    continue;
                }
                // A status can outlive its message by a moment (both expire with the retention
                // period, the status was written later): with the message gone there is nothing
                // to show.
                let Some(m) = self
                    .registry
                    .message(&app.id, &d.msg_id)
                    .await
                    .map_err(unavailable)?
                else {
                    continue;
                };
                if !period.is_all()
                    && period.holds_id(&m.id).is_none()
                    && !period.holds(message_time(&m)?)
                {
                    continue;
                }
                if filter.keeps(&m) && page.push(id, with_status(m.out(with_content), &d, expanded))
                {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    /// `GET /app/{app}/endpoint/{ep}/stats?since&until`: how many of the endpoint's messages
    /// stand at each status, among those whose status last changed in `[since, until)`
    /// (default: the 28 days before now, Svix's period; at most 28 days).
    pub(super) async fn endpoint_stats(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        q: &Query,
    ) -> Answer {
        let (since, until) = self.stats_range(q)?;
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        self.count_statuses(&app.id, &ep.id, since, until).await
    }

    /// The `[since, until)` of a `stats` request: by default the 28 days before now.
    pub(super) fn stats_range(&self, q: &Query) -> Result<(Timestamp, Timestamp), ApiError> {
        let now = self.env.now();
        let until = q.time("until")?.unwrap_or(now);
        let since = q
            .time("since")?
            .unwrap_or_else(|| until.saturating_sub(STATS_PERIOD));
        // Svix answers a range it will not count with 400 `invalid_range`.
        let invalid = |why: &str| Err(ApiError::bad_request("invalid_range", why));
        if until > now {
            return invalid("'until' cannot be in the future");
        }
        if since > until {
            return invalid("'since' must not be after 'until'");
        }
        if until.saturating_sub(STATS_PERIOD + PERIOD_SLACK) > since {
            return invalid("'since' cannot be more than 28 days before 'until'");
        }
        Ok((since, until))
    }

    /// `EndpointStats`: how many of an endpoint's messages stand at each status, among those
    /// whose status last changed in `[since, until)`.
    pub(super) async fn count_statuses(
        &self,
        app_id: &str,
        endpoint_id: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Answer {
        let mut counts = [0u64; MessageStatus::ALL.len()];
        let mut scan = Scan::new(app_id, endpoint_id);
        while let Some(d) = scan.next(&self.registry).await? {
            let t = changed_at(&d)?;
            if t >= since && t < until {
                // Svix's numbers are the positions in `ALL`: always in range.
                if let Some(n) = counts.get_mut(usize::from(u8::from(d.status))) {
                    *n = n.saturating_add(1);
                }
            }
        }
        let mut out = serde_json::Map::new();
        for s in MessageStatus::ALL {
            let n = counts.get(usize::from(u8::from(s))).copied().unwrap_or(0);
            out.insert(s.text().to_owned(), json!(n));
        }
        ok(Value::Object(out))
    }

    /// `POST /app/{app}/endpoint/{ep}/recover`: sends again, to this endpoint only, every
    /// message that failed there or was skipped while it was disabled, among those whose status
    /// last changed in `[since, until)` (Svix: failed attempts in the period; at most 14 days).
    ///
    /// The work is done before the answer, so the task is `finished`. That is safe to cut short:
    /// each message is put on the queue (durably) before its status is set to pending, so a
    /// request that times out part way can be made again; it sends what is still failed or
    /// skipped, and a message sent twice by that goes out under the same id (`webhook-id`),
    /// which receivers deduplicate.
    ///
    /// An endpoint that is disabled is refused (409): the messages would only be skipped again.
    /// Svix accepts the request and its worker drops the messages for a disabled endpoint; here
    /// the client learns to enable it first (nothing is lost: they stay recoverable).
    pub(super) async fn recover(&self, scope: &Scope, a: &str, e: &str, b: &[u8]) -> Answer {
        let now = self.env.now();
        let (since, until) = recover_from_body(b, now)?;
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        if ep.disabled {
            return Err(ApiError::conflict(
                "The endpoint is disabled: enable it, then recover (its failed and skipped \
                 messages are kept until then).",
            ));
        }
        let expires = Some(self.expiry());
        let mut scan = Scan::new(&app.id, &ep.id);
        while let Some(d) = scan.next(&self.registry).await? {
            let t = changed_at(&d)?;
            if !d.status.recoverable() || t < since || t >= until {
                continue;
            }
            // A message that has expired has no payload left to send.
            let Some(m) = self
                .registry
                .message(&app.id, &d.msg_id)
                .await
                .map_err(unavailable)?
            else {
                continue;
            };
            self.enqueue(&m, Some((&ep.id, Trigger::Recovery))).await?;
            let pending = Destination {
                status: MessageStatus::Pending,
                next_attempt: None,
                updated_at: now.to_rfc3339(),
                ..d
            };
            self.registry
                .put_destination(&pending, expires)
                .await
                .map_err(unavailable)?;
        }
        let task = self.new_id(IdKind::Message);
        let task = task.strip_prefix(IdKind::Message.prefix()).unwrap_or(&task);
        Ok((
            StatusCode::ACCEPTED,
            json!({
                "id": format!("qtask_{task}"),
                "status": "finished",
                "task": "endpoint.recover",
                "updatedAt": now.to_rfc3339(),
            }),
        ))
    }
}

/// Every status record of one endpoint, oldest message first, read a store page at a time.
struct Scan<'a> {
    app_id: &'a str,
    endpoint_id: &'a str,
    after: Option<String>,
    batch: std::vec::IntoIter<Destination>,
    more: bool,
}

impl<'a> Scan<'a> {
    fn new(app_id: &'a str, endpoint_id: &'a str) -> Self {
        Self {
            app_id,
            endpoint_id,
            after: None,
            batch: Vec::new().into_iter(),
            more: true,
        }
    }

    async fn next(&mut self, registry: &Registry) -> Result<Option<Destination>, ApiError> {
        loop {
            if let Some(d) = self.batch.next() {
                return Ok(Some(d));
            }
            if !self.more {
                return Ok(None);
            }
            let page = registry
                .destinations(
                    self.app_id,
                    self.endpoint_id,
                    self.after.as_deref(),
                    crate::registry::PAGE,
                )
                .await
                .map_err(unavailable)?;
            self.more = page.len() == crate::registry::PAGE;
            self.after = page.last().map(|d| d.msg_id.clone()).or(self.after.take());
            self.batch = page.into_iter();
        }
    }
}

/// When a message was created. hookline writes its `timestamp` in RFC 3339 and nothing else, so
/// one that does not parse is a damaged record, reported as the store failing.
fn message_time(m: &Message) -> Result<Timestamp, ApiError> {
    Timestamp::parse_rfc3339(&m.timestamp).ok_or_else(|| ApiError::unavailable("store"))
}

/// Reads a `RecoverIn` body: `since`, and `until` (default `now`), at most 14 days apart.
fn recover_from_body(b: &[u8], now: Timestamp) -> Result<(Timestamp, Timestamp), ApiError> {
    let mut body = body::object(b)?;
    let time = |s: &str| {
        Timestamp::parse_rfc3339(s)
            .map(|_| ())
            .ok_or_else(|| "must be an RFC 3339 date-time".to_owned())
    };
    let since = body.string(&["since"], time);
    let since = body.require("since", since);
    let until = body.string(&["until"], time).set();
    body.finish()?;
    let parse = |s: Option<String>| s.as_deref().and_then(Timestamp::parse_rfc3339);
    let (Some(since), until) = (parse(since), parse(until)) else {
        // `require` reported a missing `since`, and `finish` returned it.
        return Err(ApiError::field(&["body", "since"], "field required"));
    };
    let until = until.unwrap_or(now);
    if since >= until {
        return Err(ApiError::field(
            &["body", "since"],
            "must be before until (now, when left out)",
        ));
    }
    if until.saturating_sub(RECOVER_PERIOD + PERIOD_SLACK) > since {
        return Err(ApiError::field(
            &["body", "since"],
            "Cannot recover more than 14 days of messages",
        ));
    }
    Ok((since, until))
}
