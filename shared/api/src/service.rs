//! The HTTP service: one request in, one response out, under `/api/v1`.
//!
//! Each handler follows the same steps: authorize (a bearer token and its scope), read and check
//! the request with `hookline_core::api`, then read or write the store. Every failure is an
//! [`ApiError`] in Svix's shape; the store or queue failing is a `503` that changed nothing the
//! client was told about. A message is answered `202` only once it is on the outbound queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hookline_core::api::auth::{Scope, Tokens};
use hookline_core::api::body;
use hookline_core::api::error::ApiError;
use hookline_core::api::history::{OperationalEvent, Subject};
use hookline_core::api::id::{self, IdKind};
use hookline_core::api::model::{
    self, Application, Attempt, Endpoint, EventType, HeadersPatch, Message, MessageIn, Mode,
    UrlPolicy,
};
use hookline_core::envelope::{OutboundMessage, RawJson, Trigger, is_valid_outbound_id};
use hookline_core::time::Timestamp;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::registry::{Registry, decode, encode, event_id_alias, uid_alias};
use crate::store::{Kind, Store, StoreError};

mod configured;
mod history;
mod operational;
mod portal;
mod query;
#[cfg(test)]
mod tests;

pub use configured::ConfiguredEndpoint;
pub use portal::{PORTAL_PATH, PortalSettings};
use query::{AttemptFilter, MessageFilter, Page, Query, Window};
pub use query::{DEFAULT_LIMIT, MAX_LIMIT};

/// The path every route starts with.
pub const PREFIX: &str = "/api/v1";
/// The largest request body (Svix's message limit is about 1 MiB of payload).
pub const MAX_BODY: usize = 1024 * 1024;
/// How long an `idempotency-key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);
/// The OpenAPI document of the routes served here, at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");
/// The response header that counts the operational webhooks a write caused but could not put on
/// the queue (the write itself was made: see [`Api::handle`]).
pub const UNSENT_HEADER: &str = "hookline-unsent-operational-events";

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

/// The system clock and the operating system's random generator: what every deployment uses
/// (`hookline dev`, the API Lambda); tests give their own.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn now(&self) -> Timestamp {
        crate::system_now()
    }

    fn random(&self, buf: &mut [u8]) {
        // Ids and endpoint secrets come from here: never hand out predictable bytes. Callers
        // check the generator works at start; if it stops working later the process ends (the
        // request is not answered, and nothing was written for it).
        if getrandom::fill(buf).is_err() {
            std::process::abort();
        }
    }
}

/// What the service is configured with.
pub struct Settings {
    /// The tokens and their scopes.
    pub tokens: Tokens,
    /// What endpoint URLs must be.
    pub urls: UrlPolicy,
    /// How long messages and attempts are kept.
    pub retention: Duration,
    /// Endpoints of the configuration (`[api] operational_endpoints`) that get a copy of every
    /// operational webhook the API sends, besides the registered operational endpoints.
    pub operational_endpoints: Vec<String>,
    /// The configuration's endpoints (`[endpoints]`), whose history the API shows under the
    /// read-only pseudo-application `_config` (none: `_config` is an unknown application).
    pub configured: Vec<ConfiguredEndpoint>,
    /// The portal's settings (`[api.portal]`).
    pub portal: PortalSettings,
}

/// The API.
pub struct Api {
    registry: Registry,
    outbox: Arc<dyn Outbox>,
    env: Arc<dyn Env>,
    settings: Settings,
}

type Answer = Result<(StatusCode, Value), ApiError>;

/// A route's work, made by [`Api::dispatch`] and not started until awaited.
type Work<'r> = Pin<Box<dyn Future<Output = Answer> + Send + 'r>>;

/// The methods a route may take: a path that takes one of them answers 405 to the others.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// What a route reads of its request, once it is authorized.
struct Req<'r> {
    scope: Scope,
    /// What the token may do (every capability, but for a portal token).
    caps: hookline_core::api::portal::Capabilities,
    /// For a portal token: its stored key and when it expires.
    portal: Option<(String, Timestamp)>,
    /// The request's `Host`, for links to the portal when no URL is configured.
    host: Option<&'r str>,
    q: Query,
    b: &'r [u8],
    /// The idempotency record's key, for a `POST` that sent one.
    idem: Option<String>,
    /// Operational webhooks the request caused that did not reach the queue.
    unsent: &'r AtomicU32,
}

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

    /// Answers one request: the management API under [`PREFIX`], the portal's pages under
    /// [`PORTAL_PATH`]; every other path is a `404`.
    ///
    /// A write to an endpoint sends operational webhooks (`endpoint.created`, ...) after the
    /// write is made. If one cannot be put on the queue, the write's answer stands (it is made,
    /// and failing the request would have the client repeat a write that happened) and the
    /// [`UNSENT_HEADER`] header counts the webhooks lost: the crate logs nothing itself.
    pub async fn handle(&self, req: http::Request<Bytes>) -> http::Response<String> {
        if let Some(page) = self.portal_page(req.method(), req.uri().path()) {
            return page;
        }
        let unsent = AtomicU32::new(0);
        let (status, body) = match self.route(&req, &unsent).await {
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
        let unsent = unsent.into_inner();
        if unsent > 0 {
            resp.headers_mut()
                .insert(UNSENT_HEADER, header::HeaderValue::from(unsent));
        }
        resp
    }

    async fn route(&self, req: &http::Request<Bytes>, unsent: &AtomicU32) -> Answer {
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
        let caller = self
            .caller(
                req.headers()
                    .get(header::AUTHORIZATION)
                    .map(|v| v.as_bytes()),
            )
            .await?;
        Self::check_capabilities(&caller, m, &segs)?;
        if req.body().len() > MAX_BODY {
            return Err(ApiError::too_large(MAX_BODY));
        }
        let q = Query::parse(req.uri().query());
        // Only POST is retried with a stored answer (the SDKs send a key on every POST), and
        // not under /auth: an answer there holds a portal token, which is stored only as a
        // digest.
        let idem = match (m, req.headers().get("idempotency-key")) {
            (&Method::POST, Some(k)) if segs.first() != Some(&"auth") => {
                let k = k.to_str().map_err(|_| {
                    ApiError::field(&["header", "idempotency-key"], "must be visible ASCII")
                })?;
                if k.is_empty() || k.len() > 256 {
                    return Err(ApiError::field(
                        &["header", "idempotency-key"],
                        "must be 1 to 256 characters",
                    ));
                }
                Some(idempotency_id(&caller.scope, path, k))
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
        let r = Req {
            scope: caller.scope,
            caps: caller.caps,
            portal: caller.portal,
            host: req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok()),
            q,
            b: req.body(),
            idem,
            unsent,
        };
        let answer = match self.dispatch(m, &segs, &r) {
            Some(work) => work.await,
            // The path is a route, the method is not one of its own.
            None if METHODS
                .iter()
                .any(|other| self.dispatch(other, &segs, &r).is_some()) =>
            {
                Err(ApiError::method_not_allowed())
            }
            None => Err(ApiError::not_found("No such route.")),
        };
        if let (Some(key), Ok((status, v))) = (&r.idem, &answer) {
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

    /// The work for `m` on the path `segs`, not yet started; `None` when there is no such route.
    /// This one table is every route: a method the path does not take is told apart from a path
    /// that does not exist by asking it again with the other methods.
    fn dispatch<'r>(&'r self, m: &Method, segs: &'r [&'r str], r: &'r Req<'r>) -> Option<Work<'r>> {
        let (s, q, b, u) = (&r.scope, &r.q, r.b, r.unsent);
        if let ["app", a, rest @ ..] = segs
            && self.is_configured(a)
        {
            return self.dispatch_configured(m, rest, r);
        }
        Some(match (m, segs) {
            (&Method::GET, ["app"]) => Box::pin(self.list_apps(s, q)),
            (&Method::POST, ["app"]) => Box::pin(self.create_app(s, q, b)),
            (&Method::GET, ["app", a]) => Box::pin(async move {
                let app = self.app_for(s, a).await?;
                ok(app_out(&app))
            }),
            (&Method::PUT, ["app", a]) => Box::pin(self.put_app(s, a, b)),
            (&Method::PATCH, ["app", a]) => Box::pin(self.patch_app(s, a, b)),
            (&Method::DELETE, ["app", a]) => Box::pin(self.delete_app(s, a)),

            (&Method::GET, ["event-type"]) => Box::pin(self.list_event_types(q)),
            (&Method::POST, ["event-type"]) => Box::pin(self.create_event_type(s, b)),
            (&Method::GET, ["event-type", n]) => Box::pin(async move {
                match self.registry.event_type(n).await.map_err(unavailable)? {
                    Some(et) => ok(json!(et)),
                    None => Err(ApiError::not_found("Event type not found")),
                }
            }),
            (&Method::PUT, ["event-type", n]) => {
                Box::pin(self.put_event_type(s, n, b, Mode::Replace))
            }
            (&Method::PATCH, ["event-type", n]) => {
                Box::pin(self.put_event_type(s, n, b, Mode::Patch))
            }
            (&Method::DELETE, ["event-type", n]) => Box::pin(self.archive_event_type(s, n, q)),

            (&Method::GET, ["app", a, "endpoint"]) => Box::pin(self.list_endpoints(s, a, q)),
            (&Method::POST, ["app", a, "endpoint"]) => Box::pin(self.create_endpoint(s, a, b, u)),
            (&Method::GET, ["app", a, "endpoint", e]) => Box::pin(async move {
                let (_, ep) = self.endpoint_for(s, a, e).await?;
                ok(ep.out())
            }),
            (&Method::PUT, ["app", a, "endpoint", e]) => {
                Box::pin(self.change_endpoint(s, a, e, b, Mode::Replace, u))
            }
            (&Method::PATCH, ["app", a, "endpoint", e]) => {
                Box::pin(self.change_endpoint(s, a, e, b, Mode::Patch, u))
            }
            (&Method::DELETE, ["app", a, "endpoint", e]) => {
                Box::pin(self.delete_endpoint(s, a, e, u))
            }
            (&Method::GET, ["app", a, "endpoint", e, "secret"]) => Box::pin(async move {
                let (_, ep) = self.endpoint_for(s, a, e).await?;
                ok(json!({ "key": ep.secret }))
            }),
            (&Method::POST, ["app", a, "endpoint", e, "secret", "rotate"]) => {
                Box::pin(async move {
                    let (_, current) = self.endpoint_for(s, a, e).await?;
                    let ep = self.rotate(current, b).await?;
                    ok(json!({ "key": ep.secret }))
                })
            }
            (&Method::GET, ["app", a, "endpoint", e, "headers"]) => Box::pin(async move {
                let (_, ep) = self.endpoint_for(s, a, e).await?;
                ok(headers_out(&ep))
            }),
            (&Method::PUT, ["app", a, "endpoint", e, "headers"]) => Box::pin(async move {
                let (_, current) = self.endpoint_for(s, a, e).await?;
                self.set_headers(current, b, false).await
            }),
            (&Method::PATCH, ["app", a, "endpoint", e, "headers"]) => Box::pin(async move {
                let (_, current) = self.endpoint_for(s, a, e).await?;
                self.set_headers(current, b, true).await
            }),
            (&Method::GET, ["app", a, "endpoint", e, "msg"]) => {
                Box::pin(self.list_endpoint_messages(s, a, e, q))
            }
            (&Method::GET, ["app", a, "endpoint", e, "stats"]) => {
                Box::pin(self.endpoint_stats(s, a, e, q))
            }
            (&Method::POST, ["app", a, "endpoint", e, "recover"]) => {
                Box::pin(self.recover(s, a, e, b))
            }
            (&Method::POST, ["app", a, "endpoint", e, "send-example"]) => {
                Box::pin(self.send_example(s, a, e, b))
            }

            (&Method::GET, ["app", a, "msg"]) => Box::pin(self.list_messages(s, a, q)),
            (&Method::POST, ["app", a, "msg"]) => {
                Box::pin(self.create_message(s, a, q, b, r.idem.as_deref()))
            }
            (&Method::GET, ["app", a, "msg", msg]) => Box::pin(async move {
                let app = self.app_for(s, a).await?;
                let message = self.message_of(&app, msg).await?;
                ok(message.out(q.flag("with_content", true)?))
            }),
            (&Method::GET, ["app", a, "msg", msg, "endpoint"]) => {
                Box::pin(self.list_message_endpoints(s, a, msg, q))
            }
            (&Method::GET, ["app", a, "attempt", "msg", msg]) => {
                Box::pin(self.list_attempts_by_msg(s, a, msg, q))
            }
            (&Method::GET, ["app", a, "attempt", "endpoint", e]) => {
                Box::pin(self.list_attempts_by_endpoint(s, a, e, q))
            }
            (&Method::POST, ["app", a, "msg", msg, "endpoint", e, "resend"]) => {
                Box::pin(self.resend(s, a, msg, e))
            }

            (&Method::GET, ["operational-webhook", "endpoint"]) => {
                Box::pin(self.list_operational_endpoints(s, q))
            }
            (&Method::POST, ["operational-webhook", "endpoint"]) => {
                Box::pin(self.create_operational_endpoint(s, b))
            }
            (&Method::GET, ["operational-webhook", "endpoint", e]) => Box::pin(async move {
                let ep = self.operational_endpoint(s, e).await?;
                ok(operational::endpoint_out(&ep))
            }),
            (&Method::PUT, ["operational-webhook", "endpoint", e]) => {
                Box::pin(self.upsert_operational_endpoint(s, e, b))
            }
            (&Method::DELETE, ["operational-webhook", "endpoint", e]) => {
                Box::pin(self.delete_operational_endpoint(s, e))
            }
            (&Method::GET, ["operational-webhook", "endpoint", e, "secret"]) => {
                Box::pin(async move {
                    let ep = self.operational_endpoint(s, e).await?;
                    ok(json!({ "key": ep.secret }))
                })
            }
            (&Method::POST, ["operational-webhook", "endpoint", e, "secret", "rotate"]) => {
                Box::pin(async move {
                    let current = self.operational_endpoint(s, e).await?;
                    self.rotate(current, b).await?;
                    // Svix answers this one with no body (its SDKs read none).
                    Ok((StatusCode::NO_CONTENT, Value::Null))
                })
            }
            (&Method::GET, ["operational-webhook", "endpoint", e, "headers"]) => {
                Box::pin(async move {
                    let ep = self.operational_endpoint(s, e).await?;
                    ok(headers_out(&ep))
                })
            }
            (&Method::PUT, ["operational-webhook", "endpoint", e, "headers"]) => {
                Box::pin(async move {
                    let current = self.operational_endpoint(s, e).await?;
                    self.set_headers(current, b, false).await
                })
            }

            (&Method::POST, ["auth", "app-portal-access", a]) => Box::pin(self.portal_access(r, a)),
            (&Method::GET, ["auth", "session"]) => Box::pin(self.session(r)),
            (&Method::POST, ["auth", "logout"]) => Box::pin(self.logout(r)),
            (&Method::POST, ["auth", "app", a, "expire-all"]) => Box::pin(self.expire_all(r, a)),
            _ => return None,
        })
    }

    // ---- applications ----

    /// The application named in the path (by id or `uid`), if the scope reaches it. For a token
    /// scoped to one application, every other name is `403`, whether or not such an application
    /// exists (a scoped token learns nothing of others); for the all-applications token an
    /// unknown name is `404`.
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
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Application, "").await? {
            for (id, app) in batch {
                if page.push(id, app_out(&app)) {
                    break;
                }
            }
        }
        ok(page.finish())
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
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::EventType, "").await? {
            for (id, et) in batch {
                let et: EventType = et;
                if et.archived && !include_archived {
                    continue;
                }
                let mut v = json!(et);
                if !with_content && let Some(o) = v.as_object_mut() {
                    o.remove("schemas");
                }
                if page.push(id, v) {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    async fn create_event_type(&self, scope: &Scope, b: &[u8]) -> Answer {
        scope.require_all()?;
        let mut et =
            EventType::from_body(body::object(b)?, Mode::Create, None, None, self.env.now())?;
        let exists = || ApiError::conflict("An event type with this name already exists.");
        match self
            .create(Kind::EventType, "", &et.name, &[], &encode(&et), None)
            .await
        {
            Ok(()) => Ok((StatusCode::CREATED, json!(et))),
            Err(StoreError::Conflict) => {
                // Svix's rule: creating an archived type brings it back, with the new fields.
                let current = self
                    .registry
                    .event_type(&et.name)
                    .await
                    .map_err(unavailable)?;
                match current {
                    Some(c) if c.archived => {
                        et.created_at = c.created_at;
                        self.store()
                            .replace(Kind::EventType, "", &et.name, &[], &[], &encode(&et))
                            .await
                            .map_err(unavailable)?;
                        Ok((StatusCode::CREATED, json!(et)))
                    }
                    _ => Err(exists()),
                }
            }
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
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Endpoint, &app.id).await? {
            for (id, ep) in batch {
                let ep: Endpoint = ep;
                if page.push(id, ep.out()) {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    async fn create_endpoint(&self, scope: &Scope, a: &str, b: &[u8], u: &AtomicU32) -> Answer {
        let app = self.app_for(scope, a).await?;
        self.insert_endpoint(&app, b, None, u).await
    }

    /// Creates an endpoint of `app` from an `EndpointIn` body; `path_uid` is the name a `PUT` to
    /// an endpoint that does not exist used, which becomes its uid when it is a valid one (as
    /// `PUT /app/{uid}` does for applications).
    async fn insert_endpoint(
        &self,
        app: &Application,
        b: &[u8],
        path_uid: Option<&str>,
        u: &AtomicU32,
    ) -> Answer {
        let ep = self.new_endpoint(&app.id, body::object(b)?, path_uid)?;
        self.store_new_endpoint(&ep).await?;
        self.emit(
            OperationalEvent::EndpointCreated,
            subject(app, &ep).endpoint_data(),
            u,
        )
        .await;
        Ok((StatusCode::CREATED, ep.out()))
    }

    /// An endpoint under `parent` (an application's id, or `_operational`) read from an
    /// `EndpointIn` body, with a new id and (unless the body gives one) a new secret.
    fn new_endpoint(
        &self,
        parent: &str,
        b: body::Body,
        path_uid: Option<&str>,
    ) -> Result<Endpoint, ApiError> {
        let mut ep = Endpoint::from_body(
            b,
            Mode::Create,
            None,
            parent,
            self.new_id(IdKind::Endpoint),
            self.new_secret(),
            &self.settings.urls,
            self.env.now(),
        )?;
        if let Some(u) = path_uid.filter(|u| id::check_uid(IdKind::Endpoint, u).is_ok()) {
            ep.uid = Some(u.to_owned());
        }
        Ok(ep)
    }

    async fn store_new_endpoint(&self, ep: &Endpoint) -> Result<(), ApiError> {
        let aliases: Vec<String> = ep.uid.iter().map(|u| uid_alias(u)).collect();
        self.create(
            Kind::Endpoint,
            &ep.app_id,
            &ep.id,
            &aliases,
            &encode(ep),
            None,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => ApiError::conflict("An endpoint with this uid already exists."),
            e => unavailable(e),
        })
    }

    async fn change_endpoint(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        b: &[u8],
        mode: Mode,
        u: &AtomicU32,
    ) -> Answer {
        let (app, current) = match self.endpoint_for(scope, a, e).await {
            Ok(found) => found,
            // PUT to an endpoint that does not exist creates it (Svix's upsert); the path, when
            // it is a valid uid, becomes its uid.
            Err(err) if err.status() == 404 && mode == Mode::Replace => {
                let app = self.app_for(scope, a).await?;
                return self.insert_endpoint(&app, b, Some(e), u).await;
            }
            Err(err) => return Err(err),
        };
        let mut ep = Endpoint::from_body(
            body::object(b)?,
            mode,
            Some(&current),
            &app.id,
            String::new(),
            String::new(),
            &self.settings.urls,
            self.env.now(),
        )?;
        keep_path_uid(&current, &mut ep, e);
        if current.disabled && !ep.disabled {
            // Enabled again: its run of failures is forgotten, so the next failure does not
            // disable it at once. Before the write: if this fails the endpoint stays disabled
            // and the client retries; after it, a failure could not be retried (the retry would
            // find the endpoint enabled already).
            self.registry
                .reset_health(&app.id, &ep.id)
                .await
                .map_err(unavailable)?;
        }
        self.save_endpoint(&current, &ep).await?;
        let who = subject(&app, &ep);
        self.emit(OperationalEvent::EndpointUpdated, who.endpoint_data(), u)
            .await;
        if !current.disabled && ep.disabled {
            // Disabled by hand: deliveries stop now, whatever failed before.
            let data = who.disabled_data(self.env.now(), false);
            self.emit(OperationalEvent::EndpointDisabled, data, u).await;
        }
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

    async fn delete_endpoint(&self, scope: &Scope, a: &str, e: &str, u: &AtomicU32) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        // Its health goes with it; first, so that a failure leaves both for a retry.
        self.registry
            .reset_health(&app.id, &ep.id)
            .await
            .map_err(unavailable)?;
        self.remove_endpoint(&ep).await?;
        self.emit(
            OperationalEvent::EndpointDeleted,
            subject(&app, &ep).endpoint_data(),
            u,
        )
        .await;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    async fn remove_endpoint(&self, ep: &Endpoint) -> Result<(), ApiError> {
        let aliases: Vec<String> = ep.uid.iter().map(|u| uid_alias(u)).collect();
        let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
        self.store()
            .delete(Kind::Endpoint, &ep.app_id, &ep.id, &aliases)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Rotates `current`'s secret from an `EndpointSecretRotateIn` body.
    async fn rotate(&self, current: Endpoint, b: &[u8]) -> Result<Endpoint, ApiError> {
        let (key, grace) = model::rotate_from_body(body::object(b)?)?;
        let mut ep = current.clone();
        ep.rotate(
            key.unwrap_or_else(|| self.new_secret()),
            grace,
            self.env.now(),
        );
        self.save_endpoint(&current, &ep).await?;
        Ok(ep)
    }

    /// Replaces (`PUT`) or patches `current`'s custom headers.
    async fn set_headers(&self, current: Endpoint, b: &[u8], patch: bool) -> Answer {
        let mut ep = current.clone();
        if patch {
            HeadersPatch::from_body(body::object(b)?)?.apply(&mut ep.headers);
        } else {
            ep.headers = model::headers_from_body(body::object(b)?)?;
        }
        ep.updated_at = self.env.now().to_rfc3339();
        self.save_endpoint(&current, &ep).await?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    // ---- messages ----

    async fn message_of(&self, app: &Application, msg: &str) -> Result<Message, ApiError> {
        let not_found = || ApiError::not_found("Message not found");
        // An id the API minted, an `eventId`, or the id of a message an app put straight on the
        // queue (`A-Z a-z 0-9 _ : -`, the outbound format's rule).
        if id::check_name(msg).is_err() && !is_valid_outbound_id(msg) {
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
        // Messages put straight on the queue are listed under their own ids.
        let (limit, after) =
            q.page(|it| id::is_id(IdKind::Message, it) || is_valid_outbound_id(it))?;
        let with_content = q.flag("with_content", true)?;
        let filter = MessageFilter::parse(q)?;
        let window = Window::parse(q)?;
        let mut page = Page::new(limit, after);
        while let Some(batch) = page.next(self.store(), Kind::Message, &app.id).await? {
            for (id, m) in batch {
                let m: Message = m;
                if filter.keeps(&m)
                    && window.keeps(&m.timestamp)
                    && page.push(id, m.out(with_content))
                {
                    break;
                }
            }
        }
        ok(page.finish())
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
        let with_content = q.flag("with_content", true)?;
        let mut input = MessageIn::parse(b)?;
        let app = match self.app_for(scope, a).await {
            Ok(app) => app,
            Err(e) if e.status() == 404 => match input.application.take() {
                Some(new) => self.implicit_app(scope, a, new).await?,
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
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

    /// Creates the application a message names by `uid` when it does not exist yet, from the
    /// message's `application` (Svix's implicit creation: the body's uid must be the path's).
    async fn implicit_app(
        &self,
        scope: &Scope,
        a: &str,
        new: serde_json::Map<String, Value>,
    ) -> Result<Application, ApiError> {
        scope.require_all()?;
        let app = Application::from_body(
            body::from_object(new),
            Mode::Create,
            None,
            self.new_id(IdKind::Application),
            self.env.now(),
        )
        .map_err(|e| e.nested("application"))?;
        match app.uid.as_deref() {
            Some(u) if u == a => {}
            Some(_) => {
                return Err(ApiError::field(
                    &["body", "application", "uid"],
                    "must be the application uid in the path",
                ));
            }
            None => {
                return Err(ApiError::field(
                    &["body", "application", "uid"],
                    "is required to create the application (the uid in the path)",
                ));
            }
        }
        let aliases = [uid_alias(a)];
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
            Ok(()) => Ok(app),
            // Created by a concurrent request meanwhile: use that one.
            Err(StoreError::Conflict) => self
                .registry
                .app(a)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| ApiError::conflict("An application with this uid already exists.")),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Puts `msg` on the outbound queue, for every endpoint that takes it, or for one endpoint
    /// (its id) sent again for a reason (a resend, a recover).
    async fn enqueue(&self, msg: &Message, only: Option<(&str, Trigger)>) -> Result<(), ApiError> {
        // The sender's own wire format (one definition of it), with the payload's bytes as the
        // client sent them: the delivered body is the payload exactly.
        let data = RawJson::from_string(msg.payload.get().to_owned())
            .map_err(|_| ApiError::unavailable("queue"))?;
        let mut wire = OutboundMessage::new(msg.event_type.clone(), data);
        wire.id = Some(msg.id.clone());
        wire.timestamp = Timestamp::parse_rfc3339(&msg.timestamp);
        wire.application = Some(msg.app_id.clone());
        wire.channels = msg.channels.clone();
        if let Some((ep, trigger)) = only {
            wire.endpoints = Some(vec![ep.to_owned()]);
            wire.trigger = trigger;
        }
        self.outbox
            .send(wire.to_json_string())
            .await
            .map_err(|_| ApiError::unavailable("queue"))
    }

    async fn resend(&self, scope: &Scope, a: &str, msg: &str, e: &str) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let message = self.message_of(&app, msg).await?;
        self.enqueue(&message, Some((&ep.id, Trigger::Manual)))
            .await?;
        Ok((StatusCode::ACCEPTED, json!({})))
    }

    // ---- attempts ----

    async fn list_attempts_by_msg(&self, scope: &Scope, a: &str, msg: &str, q: &Query) -> Answer {
        let app = self.app_for(scope, a).await?;
        let m = self.message_of(&app, msg).await?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Attempt, it))?;
        let filter = AttemptFilter::parse(q)?;
        let endpoint = match q.get("endpoint_id") {
            None => None,
            Some(e) => Some(self.endpoint_for(scope, a, e).await?.1.id),
        };
        // Every attempt here is of the one message: its filter keeps all of them or none.
        let message_kept = filter.message.keeps(&m);
        let parent = format!("{}/{}", app.id, m.id);
        let page = Page::new(limit, after);
        self.attempt_page(page, Kind::AttemptByMessage, &parent, &filter, |at| {
            message_kept && endpoint.as_ref().is_none_or(|e| *e == at.endpoint_id)
        })
        .await
    }

    /// `page` of the attempts under `parent` (`kind`: by message or by endpoint) that `filter`
    /// and `keep` both keep, shown as `filter` says (no `msg`: the caller needs none).
    async fn attempt_page(
        &self,
        mut page: Page,
        kind: Kind,
        parent: &str,
        filter: &AttemptFilter,
        keep: impl Fn(&Attempt) -> bool,
    ) -> Answer {
        while let Some(batch) = page.next(self.store(), kind, parent).await? {
            for (id, at) in batch {
                let at: Attempt = at;
                if filter.keeps(&at)
                    && keep(&at)
                    && page.push(id, at.out(filter.with_content, None))
                {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    async fn list_attempts_by_endpoint(
        &self,
        scope: &Scope,
        a: &str,
        e: &str,
        q: &Query,
    ) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Attempt, it))?;
        let filter = AttemptFilter::parse(q)?;
        let with_msg = q.flag("with_msg", false)?;
        let need_msg = with_msg || !filter.message.is_empty();
        // Attempts of one message come together: the last message read serves the next ones.
        let mut last: Option<Message> = None;
        let parent = format!("{}/{}", app.id, ep.id);
        let mut page = Page::new(limit, after);
        while let Some(batch) = page
            .next(self.store(), Kind::AttemptByEndpoint, &parent)
            .await?
        {
            for (id, at) in batch {
                let at: Attempt = at;
                if !filter.keeps(&at) {
                    continue;
                }
                if need_msg && last.as_ref().is_none_or(|m| m.id != at.msg_id) {
                    last = self
                        .registry
                        .message(&app.id, &at.msg_id)
                        .await
                        .map_err(unavailable)?;
                }
                // An attempt whose message has expired (it outlived it by a moment) matches no
                // message filter and is shown without `msg`.
                let msg = last.as_ref().filter(|m| need_msg && m.id == at.msg_id);
                if !filter.message.is_empty() && !msg.is_some_and(|m| filter.message.keeps(m)) {
                    continue;
                }
                if page.push(id, at.out(filter.with_content, msg.filter(|_| with_msg))) {
                    break;
                }
            }
        }
        ok(page.finish())
    }
}

fn app_out(app: &Application) -> Value {
    json!(app)
}

/// A `PUT` that names an endpoint by its uid and gives none in the body keeps it: the upsert
/// that created the endpoint from the path then finds it again the next time, rather than
/// clearing the uid and creating a second endpoint on the third call.
fn keep_path_uid(current: &Endpoint, ep: &mut Endpoint, path: &str) {
    if ep.uid.is_none() && current.uid.as_deref() == Some(path) {
        ep.uid = current.uid.clone();
    }
}

/// `EndpointHeadersOut` (hookline hides no header: `sensitive` is always empty).
fn headers_out(ep: &Endpoint) -> Value {
    json!({ "headers": ep.headers, "sensitive": [] })
}

/// Who an operational webhook about `ep` of `app` is about.
fn subject<'a>(app: &'a Application, ep: &'a Endpoint) -> Subject<'a> {
    Subject {
        app_id: &app.id,
        app_uid: app.uid.as_deref(),
        endpoint_id: &ep.id,
        endpoint_uid: ep.uid.as_deref(),
    }
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
