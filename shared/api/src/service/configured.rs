//! The configuration's endpoints (`[endpoints]` of hookline.toml) as a read-only
//! pseudo-application, [`CONFIG_APP`]: their delivery history and health, which the sender
//! records under that id with the endpoint's name as its id, read through the application
//! routes (`/app/_config/...`), for all-applications tokens only.
//!
//! These endpoints are defined by the file, not by the API, so every write is refused with
//! [`read_only`] (`409`), except re-enabling an endpoint the sender disabled
//! (`PATCH /app/_config/endpoint/{name}` with `{"disabled": false}`), which forgets its run of
//! failures. Their messages come straight from the queue and are not stored: message routes
//! answer from the status records (`GET /app/_config/msg/{msg}` too), and the message list is `404`.

use hookline_core::api::history::{CONFIG_APP, Destination};
use hookline_core::config::Config;

use super::history::with_status;
use super::query;
use super::*;
use crate::history::destination_parent;

/// One endpoint of the configuration, as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfiguredEndpoint {
    /// Its name in `[endpoints]`: its id in the API and in the history.
    pub name: String,
    /// Its `url` as written in the file: an `env:NAME` reference stays a reference, so the
    /// secret URLs of chat webhooks never reach the API.
    pub url: String,
    /// Its `events` patterns; `None` when it takes every event.
    pub event_types: Option<Vec<String>>,
    /// `enabled` in the file: `false` shows as `disabled`, and only the file can change it.
    pub enabled: bool,
}

impl ConfiguredEndpoint {
    /// The endpoints of `config`, in name order.
    pub fn from_config(config: &Config) -> Vec<Self> {
        config
            .endpoints
            .iter()
            .map(|(name, e)| Self {
                name: name.clone(),
                url: e.url.clone(),
                event_types: (!e.events.is_empty()).then(|| e.events.clone()),
                enabled: e.enabled,
            })
            .collect()
    }
}

/// When the pseudo-application and its endpoints were "created" and "updated": the epoch. The
/// file's history is not known to the API, and a fixed time keeps answers stable across
/// restarts and Lambda instances.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// The answer to every write the API cannot make to the configuration's endpoints.
pub(super) fn read_only() -> ApiError {
    ApiError::Http {
        status: 409,
        code: "configured_endpoint",
        detail: "The endpoints of _config are defined in hookline.toml: change them there (and \
                 send messages again with `hookline replay`). Only PATCH \
                 /app/_config/endpoint/{name} with {\"disabled\": false} is accepted, to enable \
                 an endpoint the sender disabled."
            .to_owned(),
    }
}

/// A `GET` route of an application that has no data for the configuration's endpoints.
fn not_kept(what: &str) -> ApiError {
    ApiError::not_found(format!(
        "The configuration's endpoints have no {what} in the API (messages are not stored, \
         secrets and headers are in hookline.toml)."
    ))
}

/// Message filters need the message, which is not stored: refused rather than matching nothing.
fn no_message_filter(filter: &MessageFilter) -> Result<(), ApiError> {
    if filter.is_empty() {
        Ok(())
    } else {
        Err(ApiError::field(
            &["query", "event_types"],
            "cannot filter the configuration's endpoints by message: their messages are not \
             stored",
        ))
    }
}

/// A message of a configured endpoint, built from its status record: the message itself is not
/// stored. Its id is the one it came with (its `eventId` too, as the sender's operational
/// webhooks report it), its event type is unknown (`""`), its payload `{}`, and its
/// `timestamp` is when its status last changed.
fn message_from(d: &Destination) -> Result<Message, ApiError> {
    let payload = serde_json::value::RawValue::from_string("{}".to_owned())
        .map_err(|_| ApiError::unavailable("store"))?;
    Ok(Message {
        id: d.msg_id.clone(),
        app_id: CONFIG_APP.to_owned(),
        event_id: Some(d.msg_id.clone()),
        event_type: String::new(),
        payload,
        channels: None,
        timestamp: d.updated_at.clone(),
        enqueued: true,
    })
}

impl Api {
    /// Whether `a` names the configuration's endpoints: `_config`, while the configuration has
    /// endpoints (with none, `_config` is an ordinary name, and unknown).
    pub(super) fn is_configured(&self, a: &str) -> bool {
        a == CONFIG_APP && !self.settings.configured.is_empty()
    }

    /// The work for `m` on `/app/_config/{rest}`, as [`Api::dispatch`] answers for other
    /// applications: every route of an application exists here; those with nothing to read
    /// answer `404`, and writes [`read_only`].
    pub(super) fn dispatch_configured<'r>(
        &'r self,
        m: &Method,
        rest: &'r [&'r str],
        r: &'r Req<'r>,
    ) -> Option<Work<'r>> {
        let (s, q, b) = (&r.scope, &r.q, r.b);
        Some(match (m, rest) {
            (&Method::GET, []) => Box::pin(async move {
                s.require_all()?;
                ok(app_out(&config_app()))
            }),
            (&Method::GET, ["endpoint"]) => Box::pin(self.list_configured(s, q)),
            (&Method::GET, ["endpoint", e]) => Box::pin(async move {
                let ep = self.configured(s, e)?;
                ok(self.configured_endpoint(ep).await?.out())
            }),
            (&Method::PATCH, ["endpoint", e]) => Box::pin(self.enable_configured(s, e, b)),
            (&Method::GET, ["endpoint", e, "msg"]) => Box::pin(self.configured_messages(s, e, q)),
            (&Method::GET, ["endpoint", e, "stats"]) => Box::pin(async move {
                let (since, until) = self.stats_range(q)?;
                let ep = self.configured(s, e)?;
                self.count_statuses(CONFIG_APP, &ep.name, since, until)
                    .await
            }),
            (&Method::GET, ["msg", msg]) => Box::pin(self.configured_message(s, msg, q)),
            (&Method::GET, ["msg", msg, "endpoint"]) => {
                Box::pin(self.configured_destinations(s, msg, q))
            }
            (&Method::GET, ["attempt", "msg", msg]) => {
                Box::pin(self.configured_attempts_by_msg(s, msg, q))
            }
            (&Method::GET, ["attempt", "endpoint", e]) => {
                Box::pin(self.configured_attempts_by_endpoint(s, e, q))
            }
            _ => {
                // Any other route an application has: the same table answers whether it is one
                // (an ordinary application id in place of `_config`), so no route is missed.
                let mut probe = vec!["app", "app_probe"];
                probe.extend_from_slice(rest);
                // Only whether it is a route: its work is dropped unstarted.
                self.dispatch(m, &probe, r).map(drop)?;
                let err = if m == Method::GET {
                    match rest {
                        ["endpoint", _, "secret"] => not_kept("secrets"),
                        ["endpoint", _, "headers"] => not_kept("headers"),
                        _ => not_kept("messages"),
                    }
                } else {
                    read_only()
                };
                Box::pin(async move {
                    s.require_all()?;
                    Err(err)
                })
            }
        })
    }

    /// The configured endpoint named `e`, for an all-applications token.
    fn configured(&self, scope: &Scope, e: &str) -> Result<&ConfiguredEndpoint, ApiError> {
        scope.require_all()?;
        self.settings
            .configured
            .iter()
            .find(|c| c.name == e)
            .ok_or_else(|| ApiError::not_found("Endpoint not found"))
    }

    /// Whether the sender disabled configured endpoint `name`: the `disabled` key of its health
    /// record (absent: not disabled). Read from the record's JSON, as the sender writes it.
    async fn disabled_by_sender(&self, name: &str) -> Result<bool, ApiError> {
        let Some(doc) = self
            .store()
            .get(Kind::Health, CONFIG_APP, name)
            .await
            .map_err(unavailable)?
        else {
            return Ok(false);
        };
        // A record hookline wrote always parses, with a boolean `disabled` if any: anything
        // else is damage, reported as the store failing rather than read as enabled.
        let v: Value = serde_json::from_str(&doc).map_err(|_| ApiError::unavailable("store"))?;
        match v.get("disabled") {
            None => Ok(false),
            Some(Value::Bool(d)) => Ok(*d),
            Some(_) => Err(ApiError::unavailable("store")),
        }
    }

    /// `EndpointOut` of a configured endpoint (`disabled` by the file or by the sender).
    async fn configured_endpoint(&self, c: &ConfiguredEndpoint) -> Result<Endpoint, ApiError> {
        let disabled = !c.enabled || self.disabled_by_sender(&c.name).await?;
        Ok(Endpoint {
            id: c.name.clone(),
            app_id: CONFIG_APP.to_owned(),
            uid: None,
            url: c.url.clone(),
            description: format!("[endpoints.{}] in hookline.toml", c.name),
            throttle_rate: None,
            disabled,
            event_types: c.event_types.clone(),
            channels: None,
            metadata: Default::default(),
            headers: Default::default(),
            // Never shown: the secret route answers 404 here.
            secret: String::new(),
            old_secrets: Vec::new(),
            created_at: EPOCH.to_owned(),
            updated_at: EPOCH.to_owned(),
        })
    }

    /// Configured endpoints in name order, one page after the name `after`.
    fn configured_page(
        &self,
        q: &Query,
    ) -> Result<(Page, impl Iterator<Item = &ConfiguredEndpoint>), ApiError> {
        let (limit, after) = q.page(|it| self.settings.configured.iter().any(|c| c.name == it))?;
        let rest = self
            .settings
            .configured
            .iter()
            .filter(move |c| after.as_deref().is_none_or(|a| c.name.as_str() > a));
        Ok((Page::new(limit, None), rest))
    }

    async fn list_configured(&self, scope: &Scope, q: &Query) -> Answer {
        scope.require_all()?;
        let (mut page, eps) = self.configured_page(q)?;
        for c in eps {
            if page.push(c.name.clone(), self.configured_endpoint(c).await?.out()) {
                break;
            }
        }
        ok(page.finish())
    }

    /// `PATCH /app/_config/endpoint/{name}` with exactly `{"disabled": false}`: forgets the
    /// endpoint's health record (its run of failures and the sender's `disabled` mark), so the
    /// sender delivers to it again.
    async fn enable_configured(&self, scope: &Scope, e: &str, b: &[u8]) -> Answer {
        let c = self.configured(scope, e)?;
        let v: Value = serde_json::from_slice(b)
            .map_err(|_| ApiError::bad_request("invalid_json", "The body is not valid JSON."))?;
        if v != json!({ "disabled": false }) {
            return Err(read_only());
        }
        if !c.enabled {
            return Err(ApiError::Http {
                status: 409,
                code: "configured_endpoint",
                detail: format!(
                    "Endpoint {} has enabled = false in hookline.toml: enable it there.",
                    c.name
                ),
            });
        }
        self.registry
            .reset_health(CONFIG_APP, &c.name)
            .await
            .map_err(unavailable)?;
        ok(self.configured_endpoint(c).await?.out())
    }

    /// `GET /app/_config/msg/{msg}`: the message as its status records know it (see
    /// [`message_from`]: the message itself is not stored), from the first configured endpoint,
    /// in name order, that has one; `404` when none has.
    async fn configured_message(&self, scope: &Scope, msg: &str, q: &Query) -> Answer {
        scope.require_all()?;
        let with_content = q.flag("with_content", true)?;
        if !is_valid_outbound_id(msg) {
            return Err(ApiError::not_found("Message not found"));
        }
        for c in &self.settings.configured {
            if let Some(d) = self
                .registry
                .destination(CONFIG_APP, &c.name, msg)
                .await
                .map_err(unavailable)?
            {
                return ok(message_from(&d)?.out(with_content));
            }
        }
        Err(ApiError::not_found("Message not found"))
    }

    /// `GET /app/_config/msg/{msg}/endpoint`: the configured endpoints that have a status for
    /// the message, in name order.
    async fn configured_destinations(&self, scope: &Scope, msg: &str, q: &Query) -> Answer {
        scope.require_all()?;
        if !is_valid_outbound_id(msg) {
            return Err(ApiError::not_found("Message not found"));
        }
        let (mut page, eps) = self.configured_page(q)?;
        for c in eps {
            let Some(d) = self
                .registry
                .destination(CONFIG_APP, &c.name, msg)
                .await
                .map_err(unavailable)?
            else {
                continue;
            };
            let ep = self.configured_endpoint(c).await?;
            if page.push(c.name.clone(), with_status(ep.out(), &d, true)) {
                break;
            }
        }
        ok(page.finish())
    }

    /// `GET /app/_config/endpoint/{name}/msg`: the endpoint's messages, each built from its
    /// status record (see [`message_from`]), oldest message id first.
    async fn configured_messages(&self, scope: &Scope, e: &str, q: &Query) -> Answer {
        let (limit, after) = q.page(is_valid_outbound_id)?;
        let status = query::status(q)?;
        let period = query::Period::window(q)?;
        no_message_filter(&MessageFilter::parse(q)?)?;
        let with_content = q.flag("with_content", true)?;
        let expanded = q.flag("expanded_statuses", true)?;
        let c = self.configured(scope, e)?;
        let parent = destination_parent(CONFIG_APP, &c.name);
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Destination, &parent).await? {
            for (id, d) in batch {
                let d: Destination = d;
                if status.is_some_and(|s| s != d.status) {
                    continue;
                }
                let m = message_from(&d)?;
                let held = match period.holds_id(&d.msg_id) {
                    Some(h) => h,
                    None => {
                        period.is_all()
                            || period.holds(
                                Timestamp::parse_rfc3339(&m.timestamp)
                                    .ok_or_else(|| ApiError::unavailable("store"))?,
                            )
                    }
                };
                if held && page.push(id, with_status(m.out(with_content), &d, expanded)) {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    /// `GET /app/_config/attempt/msg/{msg}`: the message's attempts at the configured
    /// endpoints (empty for a message id never seen: messages are not stored to tell).
    async fn configured_attempts_by_msg(&self, scope: &Scope, msg: &str, q: &Query) -> Answer {
        scope.require_all()?;
        if !is_valid_outbound_id(msg) {
            return Err(ApiError::not_found("Message not found"));
        }
        let (limit, after) = q.page(|it| id::is_id(IdKind::Attempt, it))?;
        let filter = AttemptFilter::parse(q)?;
        no_message_filter(&filter.message)?;
        let endpoint = match q.get("endpoint_id") {
            None => None,
            Some(e) => Some(self.configured(scope, e)?.name.as_str()),
        };
        let parent = format!("{CONFIG_APP}/{msg}");
        let page = Page::new(limit, after);
        self.attempt_page(page, Kind::AttemptByMessage, &parent, &filter, |at| {
            endpoint.is_none_or(|e| e == at.endpoint_id)
        })
        .await
    }

    /// `GET /app/_config/attempt/endpoint/{name}`: the endpoint's attempts (`with_msg` adds
    /// nothing: messages are not stored).
    async fn configured_attempts_by_endpoint(&self, scope: &Scope, e: &str, q: &Query) -> Answer {
        let c = self.configured(scope, e)?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Attempt, it))?;
        let filter = AttemptFilter::parse(q)?;
        no_message_filter(&filter.message)?;
        q.flag("with_msg", false)?;
        let parent = format!("{CONFIG_APP}/{}", c.name);
        let page = Page::new(limit, after);
        self.attempt_page(page, Kind::AttemptByEndpoint, &parent, &filter, |_| true)
            .await
    }
}

/// The pseudo-application `ApplicationOut`.
fn config_app() -> Application {
    Application {
        id: CONFIG_APP.to_owned(),
        uid: None,
        name: "hookline.toml endpoints".to_owned(),
        throttle_rate: None,
        metadata: Default::default(),
        created_at: EPOCH.to_owned(),
        updated_at: EPOCH.to_owned(),
    }
}
