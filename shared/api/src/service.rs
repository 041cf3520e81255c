//! The HTTP service: one request in, one response out, under `/api/v1`.
//!
//! Each handler follows the same steps: authorize (a bearer token and its scope), read and check
//! the request with `hookline_core::api`, then read or write the store. Every failure is an
//! [`ApiError`] in Svix's shape; the store or queue failing is a `503` that changed nothing the
//! client was told about. A message is answered `202` only once it is on the outbound queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hookline_core::api::auth::{Scope, Tokens};
use hookline_core::api::body;
use hookline_core::api::error::ApiError;
use hookline_core::api::id::{self, IdKind};
use hookline_core::api::model::{
    self, Application, Attempt, Endpoint, EventType, Message, MessageIn, Mode, UrlPolicy,
};
use hookline_core::envelope::{OutboundMessage, RawJson, Trigger};
use hookline_core::time::Timestamp;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::registry::{Registry, decode, encode, event_id_alias, uid_alias};
use crate::store::{Kind, Store, StoreError};

/// The path every route starts with.
pub const PREFIX: &str = "/api/v1";
/// The largest request body (Svix's message limit is about 1 MiB of payload).
pub const MAX_BODY: usize = 1024 * 1024;
/// The most items a list returns (`limit`'s maximum; Svix's).
pub const MAX_LIMIT: usize = 250;
/// `limit` when none is given.
pub const DEFAULT_LIMIT: usize = 50;
/// How long an `idempotency-key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// The OpenAPI document of the routes served here, at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The outbound queue, as the API sees it.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Puts one outbound message (its JSON) on the queue; `Ok` only once it is durably there.
    async fn send(&self, body: String) -> Result<(), String>;
}

/// The time and randomness the service uses (the core takes both as arguments).
pub trait Env: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;
    /// Fills `buf` with random bytes from a cryptographic source.
    fn random(&self, buf: &mut [u8]);
}

/// What the service is configured with.
pub struct Settings {
    /// The tokens and their scopes.
    pub tokens: Tokens,
    /// What endpoint URLs must be.
    pub urls: UrlPolicy,
    /// How long messages and attempts are kept.
    pub retention: Duration,
}

/// The API.
pub struct Api {
    registry: Registry,
    outbox: Arc<dyn Outbox>,
    env: Arc<dyn Env>,
    settings: Settings,
}

type Answer = Result<(StatusCode, Value), ApiError>;

fn ok(v: Value) -> Answer {
    Ok((StatusCode::OK, v))
}

fn unavailable(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict => ApiError::conflict("The resource already exists."),
        StoreError::NotFound => ApiError::not_found("Entity not found"),
        StoreError::TooLarge(_) => ApiError::too_large(MAX_BODY),
        StoreError::Unavailable(_) => ApiError::unavailable("store"),
    }
}

/// The query string, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(ApiError::field(&["query", name], "must be true or false")),
        }
    }

    /// `limit` and `iterator`; the iterator must look like what this list hands out.
    fn page(
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
}

/// A page of a list, in Svix's `ListResponse` shape.
fn list_response(data: Vec<Value>, last_id: Option<String>, limit: usize) -> Value {
    let done = data.len() < limit;
    json!({
        "data": data,
        "iterator": if done { None } else { last_id },
        "prevIterator": null,
        "done": done,
    })
}

impl Api {
    /// The API over `store`, putting messages on `outbox`.
    pub fn new(
        store: Arc<dyn Store>,
        outbox: Arc<dyn Outbox>,
        env: Arc<dyn Env>,
        settings: Settings,
    ) -> Self {
        Self {
            registry: Registry::new(store),
            outbox,
            env,
            settings,
        }
    }

    fn store(&self) -> &dyn Store {
        self.registry.store()
    }

    fn new_id(&self, kind: IdKind) -> String {
        let mut r = [0u8; 16];
        self.env.random(&mut r);
        id::new_id(kind, self.env.now(), r)
    }

    fn new_secret(&self) -> String {
        let mut r = [0u8; 24];
        self.env.random(&mut r);
        id::new_secret(r)
    }

    fn expiry(&self) -> Timestamp {
        self.env.now().saturating_add(self.settings.retention)
    }

    /// Answers one request. `req`'s path includes [`PREFIX`].
    pub async fn handle(&self, req: http::Request<Bytes>) -> http::Response<String> {
        let (status, body) = match self.route(&req).await {
            Ok((status, _)) if status == StatusCode::NO_CONTENT => (status, String::new()),
            Ok((status, v)) => (status, v.to_string()),
            Err(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                e.body(),
            ),
        };
        let mut resp = http::Response::new(body);
        *resp.status_mut() = status;
        if status != StatusCode::NO_CONTENT {
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
        }
        resp
    }

    async fn route(&self, req: &http::Request<Bytes>) -> Answer {
        let path = req.uri().path();
        let Some(rest) = path.strip_prefix(PREFIX) else {
            return Err(ApiError::not_found("No such route."));
        };
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let m = req.method();
        if segs.as_slice() == ["openapi.json"] && m == Method::GET {
            return serde_json::from_str(OPENAPI)
                .map(|v| (StatusCode::OK, v))
                .map_err(|_| ApiError::unavailable("OpenAPI document"));
        }
        // Every other route needs a token, in the Authorization header only.
        let scope = self.settings.tokens.authorize(
            req.headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
        )?;
        if req.body().len() > MAX_BODY {
            return Err(ApiError::too_large(MAX_BODY));
        }
        let q = Query::parse(req.uri().query());
        let b = req.body();
        // Only POST is retried with a stored answer (the SDKs send a key on every POST).
        let idem = match (m, req.headers().get("idempotency-key")) {
            (&Method::POST, Some(k)) => {
                let k = k.to_str().map_err(|_| {
                    ApiError::field(&["header", "idempotency-key"], "must be visible ASCII")
                })?;
                if k.is_empty() || k.len() > 256 {
                    return Err(ApiError::field(
                        &["header", "idempotency-key"],
                        "must be 1 to 256 characters",
                    ));
                }
                Some(idempotency_id(&scope, path, k))
            }
            _ => None,
        };
        if let Some(key) = &idem
            && let Some(doc) = self
                .store()
                .get(Kind::Idempotency, "", key)
                .await
                .map_err(unavailable)?
        {
            let stored: (u16, Value) = decode(Kind::Idempotency, key, &doc).map_err(unavailable)?;
            return Ok((
                StatusCode::from_u16(stored.0).unwrap_or(StatusCode::OK),
                stored.1,
            ));
        }
        let answer = match (m, segs.as_slice()) {
            (&Method::GET, ["app"]) => self.list_apps(&scope, &q).await,
            (&Method::POST, ["app"]) => self.create_app(&scope, &q, b).await,
            (&Method::GET, ["app", a]) => self
                .app_for(&scope, a)
                .await
                .map(|app| (StatusCode::OK, app_out(&app))),
            (&Method::PUT, ["app", a]) => self.put_app(&scope, a, b).await,
            (&Method::PATCH, ["app", a]) => self.patch_app(&scope, a, b).await,
            (&Method::DELETE, ["app", a]) => self.delete_app(&scope, a).await,

            (&Method::GET, ["event-type"]) => self.list_event_types(&q).await,
            (&Method::POST, ["event-type"]) => self.create_event_type(&scope, b).await,
            (&Method::GET, ["event-type", n]) => {
                match self.registry.event_type(n).await.map_err(unavailable)? {
                    Some(et) => ok(json!(et)),
                    None => Err(ApiError::not_found("Event type not found")),
                }
            }
            (&Method::PUT, ["event-type", n]) => {
                self.put_event_type(&scope, n, b, Mode::Replace).await
            }
            (&Method::PATCH, ["event-type", n]) => {
                self.put_event_type(&scope, n, b, Mode::Patch).await
            }
            (&Method::DELETE, ["event-type", n]) => self.archive_event_type(&scope, n, &q).await,

            (&Method::GET, ["app", a, "endpoint"]) => self.list_endpoints(&scope, a, &q).await,
            (&Method::POST, ["app", a, "endpoint"]) => self.create_endpoint(&scope, a, b).await,
            (&Method::GET, ["app", a, "endpoint", e]) => {
                let (_, ep) = self.endpoint_for(&scope, a, e).await?;
                ok(ep.out())
            }
            (&Method::PUT, ["app", a, "endpoint", e]) => {
                self.change_endpoint(&scope, a, e, b, Mode::Replace).await
            }
            (&Method::PATCH, ["app", a, "endpoint", e]) => {
                self.change_endpoint(&scope, a, e, b, Mode::Patch).await
            }
            (&Method::DELETE, ["app", a, "endpoint", e]) => {
                self.delete_endpoint(&scope, a, e).await
            }
            (&Method::GET, ["app", a, "endpoint", e, "secret"]) => {
                let (_, ep) = self.endpoint_for(&scope, a, e).await?;
                ok(json!({ "key": ep.secret }))
            }
            (&Method::POST, ["app", a, "endpoint", e, "secret", "rotate"]) => {
                self.rotate(&scope, a, e, b).await
            }
            (&Method::GET, ["app", a, "endpoint", e, "headers"]) => {
                let (_, ep) = self.endpoint_for(&scope, a, e).await?;
                ok(json!({ "headers": ep.headers, "sensitive": [] }))
            }
            (&Method::PUT, ["app", a, "endpoint", e, "headers"]) => {
                self.set_headers(&scope, a, e, b, false).await
            }
            (&Method::PATCH, ["app", a, "endpoint", e, "headers"]) => {
                self.set_headers(&scope, a, e, b, true).await
            }

            (&Method::GET, ["app", a, "msg"]) => self.list_messages(&scope, a, &q).await,
            (&Method::POST, ["app", a, "msg"]) => {
                self.create_message(&scope, a, &q, b, idem.as_deref()).await
            }
            (&Method::GET, ["app", a, "msg", msg]) => {
                let app = self.app_for(&scope, a).await?;
                let message = self.message_of(&app, msg).await?;
                ok(message.out(q.flag("with_content", true)?))
            }
            (&Method::GET, ["app", a, "attempt", "msg", msg]) => {
                self.list_attempts_by_msg(&scope, a, msg, &q).await
            }
            (&Method::GET, ["app", a, "attempt", "endpoint", e]) => {
                self.list_attempts_by_endpoint(&scope, a, e, &q).await
            }
            (&Method::POST, ["app", a, "msg", msg, "endpoint", e, "resend"]) => {
                self.resend(&scope, a, msg, e).await
            }

            (
                _,
                ["app"]
                | ["app", _]
                | ["event-type"]
                | ["event-type", _]
                | ["app", _, "endpoint"]
                | ["app", _, "endpoint", _]
                | ["app", _, "endpoint", _, "secret"]
                | ["app", _, "endpoint", _, "secret", "rotate"]
                | ["app", _, "endpoint", _, "headers"]
                | ["app", _, "msg"]
                | ["app", _, "msg", _]
                | ["app", _, "attempt", "msg", _]
                | ["app", _, "attempt", "endpoint", _]
                | ["app", _, "msg", _, "endpoint", _, "resend"],
            ) => Err(ApiError::method_not_allowed()),
            _ => Err(ApiError::not_found("No such route.")),
        };
        if let (Some(key), Ok((status, v))) = (&idem, &answer) {
            let doc = encode(&(status.as_u16(), v));
            let expires = self.env.now().saturating_add(IDEMPOTENCY_TTL);
            // A failed write only means a retry is not recognised; the answer stands.
            let _ = self
                .store()
                .create(Kind::Idempotency, "", key, &[], &doc, Some(expires))
                .await;
        }
        answer
    }

    // ---- applications ----

    /// The application named in the path (by id or `uid`), if the scope reaches it; another
    /// application's is `404`, as if it did not exist (a scoped token learns nothing of others).
    async fn app_for(&self, scope: &Scope, a: &str) -> Result<Application, ApiError> {
        let not_found = || ApiError::not_found("Application not found");
        if id::check_name(a).is_err() {
            return Err(not_found());
        }
        if let Scope::App(_) = scope {
            // Checked before the lookup too, so a scoped token cannot probe other ids.
            let app = self
                .registry
                .app(a)
                .await
                .map_err(unavailable)?
                .ok_or_else(ApiError::forbidden)?;
            return if scope.reaches_app(&app.id, app.uid.as_deref()) {
                Ok(app)
            } else {
                Err(ApiError::forbidden())
            };
        }
        self.registry
            .app(a)
            .await
            .map_err(unavailable)?
            .ok_or_else(not_found)
    }

    async fn list_apps(&self, scope: &Scope, q: &Query) -> Answer {
        scope.require_all()?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Application, it))?;
        let items = self
            .store()
            .list(Kind::Application, "", after.as_deref(), limit)
            .await
            .map_err(unavailable)?;
        let last = items.last().map(|i| i.id.clone());
        let mut data = Vec::with_capacity(items.len());
        for i in items {
            let app: Application = decode(Kind::Application, &i.id, &i.doc).map_err(unavailable)?;
            data.push(app_out(&app));
        }
        ok(list_response(data, last, limit))
    }

    async fn create_app(&self, scope: &Scope, q: &Query, b: &[u8]) -> Answer {
        scope.require_all()?;
        let get_if_exists = q.flag("get_if_exists", false)?;
        let app = Application::from_body(
            body::object(b)?,
            Mode::Create,
            None,
            self.new_id(IdKind::Application),
            self.env.now(),
        )?;
        let aliases: Vec<String> = app.uid.iter().map(|u| uid_alias(u)).collect();
        match self
            .create(
                Kind::Application,
                "",
                &app.id,
                &aliases,
                &encode(&app),
                None,
            )
            .await
        {
            Ok(()) => Ok((StatusCode::CREATED, app_out(&app))),
            Err(StoreError::Conflict) if get_if_exists => {
                let uid = app.uid.as_deref().unwrap_or_default();
                let existing = self
                    .registry
                    .app(uid)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| {
                        ApiError::conflict("An application with this uid already exists.")
                    })?;
                ok(app_out(&existing))
            }
            Err(StoreError::Conflict) => Err(ApiError::conflict(
                "An application with this uid already exists.",
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn create(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        aliases: &[String],
        doc: &str,
        expires: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        self.store()
            .create(kind, parent, id, &aliases, doc, expires)
            .await
    }

    async fn replace(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        old: Option<&str>,
        new: Option<&str>,
        doc: &str,
    ) -> Result<(), StoreError> {
        let (release, claim): (Vec<String>, Vec<String>) = if old == new {
            (Vec::new(), Vec::new())
        } else {
            (
                old.map(uid_alias).into_iter().collect(),
                new.map(uid_alias).into_iter().collect(),
            )
        };
        let release: Vec<&str> = release.iter().map(String::as_str).collect();
        let claim: Vec<&str> = claim.iter().map(String::as_str).collect();
        self.store()
            .replace(kind, parent, id, &release, &claim, doc)
            .await
    }

    async fn put_app(&self, scope: &Scope, a: &str, b: &[u8]) -> Answer {
        match self.app_for(scope, a).await {
            Ok(current) => self.save_app(current, b, Mode::Replace).await,
            Err(e) if e.status() == 404 => {
                // PUT to an application that does not exist creates it, with the path as its uid.
                scope.require_all()?;
                let mut app = Application::from_body(
                    body::object(b)?,
                    Mode::Create,
                    None,
                    self.new_id(IdKind::Application),
                    self.env.now(),
                )?;
                if id::check_uid(IdKind::Application, a).is_ok() {
                    app.uid = Some(a.to_owned());
                }
                let aliases: Vec<String> = app.uid.iter().map(|u| uid_alias(u)).collect();
                self.create(
                    Kind::Application,
                    "",
                    &app.id,
                    &aliases,
                    &encode(&app),
                    None,
                )
                .await
                .map_err(|e| match e {
                    StoreError::Conflict => {
                        ApiError::conflict("An application with this uid already exists.")
                    }
                    e => unavailable(e),
                })?;
                Ok((StatusCode::CREATED, app_out(&app)))
            }
            Err(e) => Err(e),
        }
    }

    async fn patch_app(&self, scope: &Scope, a: &str, b: &[u8]) -> Answer {
        let current = self.app_for(scope, a).await?;
        self.save_app(current, b, Mode::Patch).await
    }

    async fn save_app(&self, current: Application, b: &[u8], mode: Mode) -> Answer {
        let app = Application::from_body(
            body::object(b)?,
            mode,
            Some(&current),
            String::new(),
            self.env.now(),
        )?;
        self.replace(
            Kind::Application,
            "",
            &app.id,
            current.uid.as_deref(),
            app.uid.as_deref(),
            &encode(&app),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => {
                ApiError::conflict("An application with this uid already exists.")
            }
            e => unavailable(e),
        })?;
        ok(app_out(&app))
    }

    async fn delete_app(&self, scope: &Scope, a: &str) -> Answer {
        scope.require_all()?;
        let app = self.app_for(scope, a).await?;
        // Endpoints first: an application is gone only once nothing can deliver for it.
        for ep in self
            .registry
            .endpoints(&app.id)
            .await
            .map_err(unavailable)?
        {
            let aliases: Vec<String> = ep.uid.iter().map(|u| uid_alias(u)).collect();
            let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
            self.store()
                .delete(Kind::Endpoint, &app.id, &ep.id, &aliases)
                .await
                .map_err(unavailable)?;
        }
        let aliases: Vec<String> = app.uid.iter().map(|u| uid_alias(u)).collect();
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        self.store()
            .delete(Kind::Application, "", &app.id, &aliases)
            .await
            .map_err(unavailable)?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    // ---- event types ----

    async fn list_event_types(&self, q: &Query) -> Answer {
        let (limit, after) = q.page(|it| id::check_name(it).is_ok())?;
        let include_archived = q.flag("include_archived", false)?;
        let with_content = q.flag("with_content", true)?;
        let mut data = Vec::new();
        let mut cursor = after;
        let mut last = None;
        // Archived types are skipped, so a page may need more than one read.
        'pages: loop {
            let items = self
                .store()
                .list(Kind::EventType, "", cursor.as_deref(), limit)
                .await
                .map_err(unavailable)?;
            let full = items.len() == limit;
            for i in items {
                cursor = Some(i.id.clone());
                let et: EventType = decode(Kind::EventType, &i.id, &i.doc).map_err(unavailable)?;
                if et.archived && !include_archived {
                    continue;
                }
                let mut v = json!(et);
                if !with_content && let Some(o) = v.as_object_mut() {
                    o.remove("schemas");
                }
                data.push(v);
                last = Some(i.id);
                if data.len() == limit {
                    break 'pages;
                }
            }
            if !full {
                break;
            }
        }
        ok(list_response(data, last, limit))
    }

    async fn create_event_type(&self, scope: &Scope, b: &[u8]) -> Answer {
        scope.require_all()?;
        let et = EventType::from_body(body::object(b)?, Mode::Create, None, None, self.env.now())?;
        match self
            .create(Kind::EventType, "", &et.name, &[], &encode(&et), None)
            .await
        {
            Ok(()) => Ok((StatusCode::CREATED, json!(et))),
            Err(StoreError::Conflict) => Err(ApiError::conflict(
                "An event type with this name already exists.",
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn put_event_type(&self, scope: &Scope, n: &str, b: &[u8], mode: Mode) -> Answer {
        scope.require_all()?;
        if let Err(msg) = id::check_name(n) {
            return Err(ApiError::field(&["path", "event_type_name"], msg));
        }
        let current = self.registry.event_type(n).await.map_err(unavailable)?;
        match (current, mode) {
            (None, Mode::Patch) => Err(ApiError::not_found("Event type not found")),
            (None, _) => {
                let et = EventType::from_body(
                    body::object(b)?,
                    Mode::Create,
                    None,
                    Some(n),
                    self.env.now(),
                )?;
                self.create(Kind::EventType, "", n, &[], &encode(&et), None)
                    .await
                    .map_err(unavailable)?;
                Ok((StatusCode::CREATED, json!(et)))
            }
            (Some(c), mode) => {
                let et = EventType::from_body(
                    body::object(b)?,
                    mode,
                    Some(&c),
                    Some(n),
                    self.env.now(),
                )?;
                self.store()
                    .replace(Kind::EventType, "", n, &[], &[], &encode(&et))
                    .await
                    .map_err(unavailable)?;
                ok(json!(et))
            }
        }
    }

    async fn archive_event_type(&self, scope: &Scope, n: &str, q: &Query) -> Answer {
        scope.require_all()?;
        let expunge = q.flag("expunge", false)?;
        let Some(mut et) = self.registry.event_type(n).await.map_err(unavailable)? else {
            return Err(ApiError::not_found("Event type not found"));
        };
        if expunge {
            self.store()
                .delete(Kind::EventType, "", n, &[])
                .await
                .map_err(unavailable)?;
        } else {
            et.archived = true;
            et.updated_at = self.env.now().to_rfc3339();
            self.store()
                .replace(Kind::EventType, "", n, &[], &[], &encode(&et))
                .await
                .map_err(unavailable)?;
        }
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    // ---- endpoints ----

    async fn endpoint_for(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
    ) -> Result<(Application, Endpoint), ApiError> {
        let app = self.app_for(scope, a).await?;
        let not_found = || ApiError::not_found("Endpoint not found");
        if id::check_name(e).is_err() {
            return Err(not_found());
        }
        let ep = self
            .registry
            .endpoint(&app.id, e)
            .await
            .map_err(unavailable)?
            .ok_or_else(not_found)?;
        Ok((app, ep))
    }

    async fn list_endpoints(&self, scope: &Scope, a: &str, q: &Query) -> Answer {
        let app = self.app_for(scope, a).await?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Endpoint, it))?;
        let items = self
            .store()
            .list(Kind::Endpoint, &app.id, after.as_deref(), limit)
            .await
            .map_err(unavailable)?;
        let last = items.last().map(|i| i.id.clone());
        let mut data = Vec::with_capacity(items.len());
        for i in items {
            let ep: Endpoint = decode(Kind::Endpoint, &i.id, &i.doc).map_err(unavailable)?;
            data.push(ep.out());
        }
        ok(list_response(data, last, limit))
    }

    async fn create_endpoint(&self, scope: &Scope, a: &str, b: &[u8]) -> Answer {
        let app = self.app_for(scope, a).await?;
        let ep = Endpoint::from_body(
            body::object(b)?,
            Mode::Create,
            None,
            &app.id,
            self.new_id(IdKind::Endpoint),
            self.new_secret(),
            &self.settings.urls,
            self.env.now(),
        )?;
        let aliases: Vec<String> = ep.uid.iter().map(|u| uid_alias(u)).collect();
        self.create(
            Kind::Endpoint,
            &app.id,
            &ep.id,
            &aliases,
            &encode(&ep),
            None,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => ApiError::conflict("An endpoint with this uid already exists."),
            e => unavailable(e),
        })?;
        Ok((StatusCode::CREATED, ep.out()))
    }

    async fn change_endpoint(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        b: &[u8],
        mode: Mode,
    ) -> Answer {
        let (app, current) = self.endpoint_for(scope, a, e).await?;
        let ep = Endpoint::from_body(
            body::object(b)?,
            mode,
            Some(&current),
            &app.id,
            String::new(),
            String::new(),
            &self.settings.urls,
            self.env.now(),
        )?;
        self.save_endpoint(&current, &ep).await?;
        ok(ep.out())
    }

    async fn save_endpoint(&self, current: &Endpoint, ep: &Endpoint) -> Result<(), ApiError> {
        self.replace(
            Kind::Endpoint,
            &ep.app_id,
            &ep.id,
            current.uid.as_deref(),
            ep.uid.as_deref(),
            &encode(ep),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => ApiError::conflict("An endpoint with this uid already exists."),
            e => unavailable(e),
        })
    }

    async fn delete_endpoint(&self, scope: &Scope, a: &str, e: &str) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let aliases: Vec<String> = ep.uid.iter().map(|u| uid_alias(u)).collect();
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        self.store()
            .delete(Kind::Endpoint, &app.id, &ep.id, &aliases)
            .await
            .map_err(unavailable)?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    async fn rotate(&self, scope: &Scope, a: &str, e: &str, b: &[u8]) -> Answer {
        let (_, current) = self.endpoint_for(scope, a, e).await?;
        let (key, grace) = model::rotate_from_body(body::object(b)?)?;
        let mut ep = current.clone();
        ep.rotate(
            key.unwrap_or_else(|| self.new_secret()),
            grace,
            self.env.now(),
        );
        self.save_endpoint(&current, &ep).await?;
        ok(json!({ "key": ep.secret }))
    }

    async fn set_headers(&self, scope: &Scope, a: &str, e: &str, b: &[u8], patch: bool) -> Answer {
        let (_, current) = self.endpoint_for(scope, a, e).await?;
        let given = model::headers_from_body(body::object(b)?)?;
        let mut ep = current.clone();
        if patch {
            ep.headers.extend(given);
        } else {
            ep.headers = given;
        }
        ep.updated_at = self.env.now().to_rfc3339();
        self.save_endpoint(&current, &ep).await?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    // ---- messages ----

    async fn message_of(&self, app: &Application, msg: &str) -> Result<Message, ApiError> {
        let not_found = || ApiError::not_found("Message not found");
        if id::check_name(msg).is_err() {
            return Err(not_found());
        }
        self.registry
            .message(&app.id, msg)
            .await
            .map_err(unavailable)?
            .ok_or_else(not_found)
    }

    async fn list_messages(&self, scope: &Scope, a: &str, q: &Query) -> Answer {
        let app = self.app_for(scope, a).await?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Message, it))?;
        let with_content = q.flag("with_content", true)?;
        let items = self
            .store()
            .list(Kind::Message, &app.id, after.as_deref(), limit)
            .await
            .map_err(unavailable)?;
        let last = items.last().map(|i| i.id.clone());
        let mut data = Vec::with_capacity(items.len());
        for i in items {
            let m: Message = decode(Kind::Message, &i.id, &i.doc).map_err(unavailable)?;
            data.push(m.out(with_content));
        }
        ok(list_response(data, last, limit))
    }

    /// `POST /app/{app}/msg`: stored, put on the outbound queue, then `202`.
    ///
    /// The message is stored first (claiming its `eventId` and idempotency key), then enqueued,
    /// then marked enqueued. A retry that finds the message stored but not marked (the queue
    /// failed, or the process died in between) enqueues it again instead of answering 409, so
    /// no acknowledged message is lost and none is acknowledged twice; the same message id goes
    /// out either way, so receivers that dedupe by `webhook-id` see one delivery.
    async fn create_message(
        &self,
        scope: &Scope,
        a: &str,
        q: &Query,
        b: &[u8],
        idem: Option<&str>,
    ) -> Answer {
        let app = self.app_for(scope, a).await?;
        let with_content = q.flag("with_content", true)?;
        let input = MessageIn::parse(b)?;
        let msg = Message {
            id: self.new_id(IdKind::Message),
            app_id: app.id.clone(),
            event_id: input.event_id,
            event_type: input.event_type,
            payload: input.payload,
            channels: input.channels,
            timestamp: self.env.now().to_rfc3339(),
            enqueued: false,
        };
        let mut aliases: Vec<String> = msg.event_id.iter().map(|e| event_id_alias(e)).collect();
        if let Some(k) = idem {
            aliases.push(format!("k:{k}"));
        }
        let msg = match self
            .create(
                Kind::Message,
                &app.id,
                &msg.id,
                &aliases,
                &encode(&msg),
                Some(self.expiry()),
            )
            .await
        {
            Ok(()) => msg,
            Err(StoreError::Conflict) => {
                // The same request again (its idempotency key), or another with this eventId.
                let by_key = match idem {
                    Some(k) => self
                        .store()
                        .resolve(Kind::Message, &app.id, &format!("k:{k}"))
                        .await
                        .map_err(unavailable)?,
                    None => None,
                };
                let same_request = by_key.is_some();
                let owner = match by_key {
                    Some(id) => Some(id),
                    None => match &msg.event_id {
                        Some(e) => self
                            .store()
                            .resolve(Kind::Message, &app.id, &event_id_alias(e))
                            .await
                            .map_err(unavailable)?,
                        None => None,
                    },
                };
                let existing = match owner {
                    Some(id) => self
                        .registry
                        .message(&app.id, &id)
                        .await
                        .map_err(unavailable)?,
                    None => None,
                };
                match existing {
                    Some(m) if !m.enqueued => m,
                    Some(m) if same_request => {
                        return Ok((StatusCode::ACCEPTED, m.out(with_content)));
                    }
                    _ => {
                        return Err(ApiError::conflict(
                            "A message with this eventId already exists.",
                        ));
                    }
                }
            }
            Err(e) => return Err(unavailable(e)),
        };
        self.enqueue(&msg, None).await?;
        let mut marked = msg.clone();
        marked.enqueued = true;
        // The message is on the queue: failing to mark it only means a retry enqueues it again
        // (same id), so the answer is still 202.
        let _ = self
            .store()
            .replace(Kind::Message, &app.id, &msg.id, &[], &[], &encode(&marked))
            .await;
        Ok((StatusCode::ACCEPTED, marked.out(with_content)))
    }

    /// Puts `msg` on the outbound queue, for every endpoint that takes it or for one.
    async fn enqueue(&self, msg: &Message, only: Option<&str>) -> Result<(), ApiError> {
        // The sender's own wire format (one definition of it), with the payload's bytes as the
        // client sent them: the delivered body is the payload exactly.
        let data = RawJson::from_string(msg.payload.get().to_owned())
            .map_err(|_| ApiError::unavailable("queue"))?;
        let mut wire = OutboundMessage::new(msg.event_type.clone(), data);
        wire.id = Some(msg.id.clone());
        wire.timestamp = Timestamp::parse_rfc3339(&msg.timestamp);
        wire.application = Some(msg.app_id.clone());
        wire.channels = msg.channels.clone();
        if let Some(ep) = only {
            wire.endpoints = Some(vec![ep.to_owned()]);
            wire.trigger = Trigger::Manual;
        }
        self.outbox
            .send(wire.to_json_string())
            .await
            .map_err(|_| ApiError::unavailable("queue"))
    }

    async fn resend(&self, scope: &Scope, a: &str, msg: &str, e: &str) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let message = self.message_of(&app, msg).await?;
        self.enqueue(&message, Some(&ep.id)).await?;
        Ok((StatusCode::ACCEPTED, json!({})))
    }

    // ---- attempts ----

    async fn list_attempts(&self, kind: Kind, parent: &str, q: &Query) -> Answer {
        let (limit, after) = q.page(|it| id::is_id(IdKind::Attempt, it))?;
        let items = self
            .store()
            .list(kind, parent, after.as_deref(), limit)
            .await
            .map_err(unavailable)?;
        let last = items.last().map(|i| i.id.clone());
        let mut data = Vec::with_capacity(items.len());
        for i in items {
            let at: Attempt = decode(kind, &i.id, &i.doc).map_err(unavailable)?;
            data.push(at.out());
        }
        ok(list_response(data, last, limit))
    }

    async fn list_attempts_by_msg(&self, scope: &Scope, a: &str, msg: &str, q: &Query) -> Answer {
        let app = self.app_for(scope, a).await?;
        let m = self.message_of(&app, msg).await?;
        self.list_attempts(Kind::AttemptByMessage, &format!("{}/{}", app.id, m.id), q)
            .await
    }

    async fn list_attempts_by_endpoint(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        q: &Query,
    ) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        self.list_attempts(Kind::AttemptByEndpoint, &format!("{}/{}", app.id, ep.id), q)
            .await
    }
}

fn app_out(app: &Application) -> Value {
    json!(app)
}

/// The store key of an idempotency record: the scope, the path and the key, hashed (the key is
/// the client's, of any content; the hash keeps the store key short and uniform).
fn idempotency_id(scope: &Scope, path: &str, key: &str) -> String {
    let mut h = Sha256::new();
    for part in [scope.key().as_str(), path, key] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}
