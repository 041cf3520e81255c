//! The portal: its pages under `/portal/`, Svix's app-portal-access links (`/auth/...`), the
//! sessions those links open, and `send-example`.
//!
//! The pages are three files compiled into the binary (no CDN, nothing fetched at run time),
//! served with a policy that lets them run only their own script, call only this API, build no
//! HTML from strings (Trusted Types), and be framed only by the configured origins. The page
//! reaches the API with the token of its link, as any client does: a portal token is a bearer
//! token scoped to one application and to the capabilities it was minted with, and every route
//! checks it the way it checks a scoped API token.

use hookline_core::api::auth;
use hookline_core::api::portal::{
    self, AccessIn, Capabilities, Capability, FrameAncestors, Grant, PING_EVENT_TYPE,
};

use super::*;

const INDEX: &str = include_str!("../../portal/index.html");
const SCRIPT: &str = include_str!("../../portal/portal.js");
const STYLE: &str = include_str!("../../portal/portal.css");

/// Where the portal's pages are served.
pub const PORTAL_PATH: &str = "/portal";

/// What the portal is configured with (`[api.portal]`).
#[derive(Clone, Debug, Default)]
pub struct PortalSettings {
    /// The origin app-portal links start with; `None`: the origin the request came to.
    pub url: Option<String>,
    /// Who may frame the pages.
    pub frame_ancestors: FrameAncestors,
}

impl PortalSettings {
    /// The settings of a configuration. Loading the configuration has checked the origins; one
    /// that is wrong anyway allows no framing at all (the strictest policy), not a looser one.
    pub fn from_config(c: &hookline_core::config::PortalConfig) -> Self {
        Self {
            url: c.url.clone(),
            frame_ancestors: FrameAncestors::new(&c.frame_ancestors).unwrap_or_default(),
        }
    }
}

/// Who is calling, once the bearer token is checked.
pub(super) struct Caller {
    pub(super) scope: Scope,
    pub(super) caps: Capabilities,
    /// For a portal token: its stored key and when it expires.
    pub(super) portal: Option<(String, Timestamp)>,
}

/// What a portal token needs to make the request `m` on `segs`; `None` when no portal token may
/// (application writes, messages, event types, operational webhooks, minting links).
fn needs(m: &Method, segs: &[&str]) -> Option<Capability> {
    use Capability::*;
    Some(match (m, segs) {
        (&Method::GET, ["app", _, "endpoint", _, "secret"]) => ViewEndpointSecret,
        (&Method::GET, _) => ViewBase,
        (&Method::POST, ["auth", "logout"]) => ViewBase,
        (&Method::POST, ["app", _, "endpoint", _, "secret", "rotate"]) => ManageEndpointSecret,
        (&Method::POST, ["app", _, "msg", _, "endpoint", _, "resend"])
        | (&Method::POST, ["app", _, "endpoint", _, "recover" | "send-example"]) => CreateAttempts,
        (_, ["app", _, "endpoint", ..]) => ManageEndpoint,
        _ => return None,
    })
}

impl Api {
    /// Checks the `Authorization` header: a portal token (by its form) against the store, any
    /// other against the configured tokens.
    pub(super) async fn caller(&self, authorization: Option<&[u8]>) -> Result<Caller, ApiError> {
        let presented = authorization.and_then(auth::bearer);
        let Some((token, written_expiry)) =
            presented.and_then(|t| Some((t, portal::expiry_of(t)?)))
        else {
            let scope = self.settings.tokens.authorize(authorization)?;
            return Ok(Caller {
                scope,
                caps: Capabilities::ALL,
                portal: None,
            });
        };
        let now = self.env.now();
        // The expiry in the token is only a hint for the message: a token whose expiry was
        // edited has another digest and is not found.
        if written_expiry <= now {
            return Err(ApiError::token_expired());
        }
        let key = portal::digest(token);
        let doc = self
            .store()
            .get(Kind::PortalToken, "", &key)
            .await
            .map_err(unavailable)?
            .ok_or_else(ApiError::unauthorized)?;
        let grant: Grant = decode(Kind::PortalToken, &key, &doc).map_err(unavailable)?;
        if grant.expires_at <= now {
            return Err(ApiError::token_expired());
        }
        Ok(Caller {
            scope: Scope::App(grant.app_id),
            caps: grant.capabilities,
            portal: Some((key, grant.expires_at)),
        })
    }

    /// `403` unless the caller's capabilities allow the request (API tokens have them all).
    pub(super) fn check_capabilities(
        caller: &Caller,
        m: &Method,
        segs: &[&str],
    ) -> Result<(), ApiError> {
        if caller.portal.is_none() {
            return Ok(());
        }
        match needs(m, segs) {
            Some(c) if caller.caps.allows(c) => Ok(()),
            _ => Err(ApiError::forbidden()),
        }
    }

    /// `POST /auth/app-portal-access/{app}`: a link to the portal for one application, with a
    /// new token (Svix's `AppPortalAccessOut`). Only the token's digest is stored.
    pub(super) async fn portal_access(&self, r: &Req<'_>, a: &str) -> Answer {
        r.scope.require_all()?;
        let input = AccessIn::parse(r.b)?;
        let app = match self.app_for(&r.scope, a).await {
            Ok(app) => app,
            Err(e) if e.status() == 404 => match input.application {
                Some(new) => self.implicit_app(&r.scope, a, new).await?,
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let base = self.portal_origin(r.host)?;
        // Whole seconds: the expiry written in the token is the grant's own.
        let expires_at =
            Timestamp::from_unix_secs(self.env.now().saturating_add(input.expiry).unix_secs());
        let mut random = [0u8; portal::TOKEN_RANDOM_BYTES];
        self.env.random(&mut random);
        let token = portal::mint(&random, expires_at);
        let grant = Grant {
            app_id: app.id,
            capabilities: input.capabilities,
            expires_at,
            session_id: input.session_id,
        };
        self.store()
            .create(
                Kind::PortalToken,
                "",
                &portal::digest(token.as_bytes()),
                &[],
                &encode(&grant),
                Some(expires_at),
            )
            .await
            .map_err(unavailable)?;
        // The token rides in the fragment: a browser never sends it to a server (no access
        // log, no Referer holds it).
        ok(json!({
            "url": format!("{base}{PORTAL_PATH}/#token={token}"),
            "token": token,
        }))
    }

    /// The origin links start with: the configured one, else the request's `Host` (`http` for a
    /// loopback host, as `hookline dev` is reached; `https` for every other).
    fn portal_origin(&self, host: Option<&str>) -> Result<String, ApiError> {
        if let Some(url) = &self.settings.portal.url {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        let missing = || {
            ApiError::bad_request(
                "portal_url_unknown",
                "The request has no usable Host header: set [api.portal] url.",
            )
        };
        host.and_then(portal::origin_for_host).ok_or_else(missing)
    }

    /// `GET /auth/session` (hookline's): what the presented token may see and do, for the
    /// portal to choose its view.
    pub(super) async fn session(&self, r: &Req<'_>) -> Answer {
        let Scope::App(a) = &r.scope else {
            return ok(json!({
                "scope": "all",
                "app": null,
                "capabilities": Capabilities::ALL.names(),
                "readOnly": false,
                "expiresAt": null,
            }));
        };
        let app = self.app_for(&r.scope, a).await?;
        ok(json!({
            "scope": "app",
            "app": app_out(&app),
            "capabilities": r.caps.names(),
            "readOnly": r.caps.read_only(),
            "expiresAt": r.portal.as_ref().map(|(_, at)| at.to_rfc3339()),
        }))
    }

    /// `POST /auth/logout`: the presented portal token stops working.
    pub(super) async fn logout(&self, r: &Req<'_>) -> Answer {
        let Some((key, _)) = &r.portal else {
            return Err(ApiError::bad_request(
                "not_a_portal_token",
                "Only an app-portal token can be logged out.",
            ));
        };
        self.store()
            .delete(Kind::PortalToken, "", key, &[])
            .await
            .map_err(unavailable)?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    /// `POST /auth/app/{app}/expire-all`: every portal token of the application (or of the
    /// listed `sessionIds`) stops working, now or within `expiry` seconds.
    pub(super) async fn expire_all(&self, r: &Req<'_>, a: &str) -> Answer {
        r.scope.require_all()?;
        let app = self.app_for(&r.scope, a).await?;
        let mut b = if r.b.trim_ascii().is_empty() {
            body::from_object(serde_json::Map::new())
        } else {
            body::object(r.b)?
        };
        let within = b.integer(&["expiry"], 0, portal::MAX_EXPIRY.as_secs());
        let sessions = b.string_set(&["sessionIds"], 1000, |s| {
            if s.is_empty() || s.len() > portal::MAX_SESSION_ID {
                Err("must be 1 to 256 characters".to_owned())
            } else {
                Ok(())
            }
        });
        b.finish()?;
        // As Svix: only a list that names sessions narrows it; `[]` names none, so every token.
        let sessions = sessions.set().filter(|list| !list.is_empty());
        let deadline = self
            .env
            .now()
            .saturating_add(Duration::from_secs(within.set().unwrap_or(0)));
        let mut after: Option<String> = None;
        loop {
            let items = self
                .store()
                .list(Kind::PortalToken, "", after.as_deref(), 100)
                .await
                .map_err(unavailable)?;
            let Some(last) = items.last() else { break };
            after = Some(last.id.clone());
            for item in items {
                let mut grant: Grant =
                    decode(Kind::PortalToken, &item.id, &item.doc).map_err(unavailable)?;
                let in_session = match (&sessions, &grant.session_id) {
                    (None, _) => true,
                    (Some(list), Some(s)) => list.contains(s),
                    (Some(_), None) => false,
                };
                if grant.app_id != app.id || !in_session || grant.expires_at <= deadline {
                    continue;
                }
                if deadline <= self.env.now() {
                    self.store()
                        .delete(Kind::PortalToken, "", &item.id, &[])
                        .await
                        .map_err(unavailable)?;
                } else {
                    grant.expires_at = deadline;
                    self.store()
                        .put(
                            Kind::PortalToken,
                            "",
                            &item.id,
                            &encode(&grant),
                            Some(deadline),
                        )
                        .await
                        .map_err(unavailable)?;
                }
            }
        }
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }

    /// `POST /app/{app}/endpoint/{ep}/send-example {eventType}`: a message with the event
    /// type's example payload, stored and queued for this endpoint only (Svix's).
    pub(super) async fn send_example(&self, scope: &Scope, a: &str, e: &str, b: &[u8]) -> Answer {
        let (app, ep) = self.endpoint_for(scope, a, e).await?;
        let mut body = body::object(b)?;
        let event_type = body.string(&["eventType"], id::check_name);
        let event_type = body.require("eventType", event_type);
        let index = body.integer(&["exampleIndex"], 0, 1000);
        // Svix takes a custom payload only from customers it allow-lists: not here.
        body.ignore(&["payload"]);
        body.finish()?;
        let event_type = event_type.unwrap_or_default();
        let schemas = if event_type == PING_EVENT_TYPE {
            None
        } else {
            let et = self
                .registry
                .event_type(&event_type)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| ApiError::not_found("Event type not found"))?;
            et.schemas
        };
        let index = usize::try_from(index.set().unwrap_or(0)).unwrap_or(0);
        let payload = portal::example_payload(&event_type, schemas.as_ref(), index)?;
        let payload = serde_json::value::RawValue::from_string(payload)
            .map_err(|_| ApiError::unavailable("example"))?;
        let mut msg = Message {
            id: self.new_id(IdKind::Message),
            app_id: app.id.clone(),
            event_id: None,
            event_type,
            payload,
            channels: None,
            timestamp: self.env.now().to_rfc3339(),
            enqueued: false,
        };
        self.create(
            Kind::Message,
            &app.id,
            &msg.id,
            &[],
            &encode(&msg),
            Some(self.expiry()),
        )
        .await
        .map_err(unavailable)?;
        self.enqueue(&msg, Some((&ep.id, Trigger::Manual))).await?;
        msg.enqueued = true;
        // Queued: failing to mark it changes nothing the client is told.
        let _ = self
            .store()
            .replace(Kind::Message, &app.id, &msg.id, &[], &[], &encode(&msg))
            .await;
        ok(msg.out(true))
    }

    /// One of the portal's pages, or `None` when `path` is not under [`PORTAL_PATH`].
    pub(super) fn portal_page(&self, m: &Method, path: &str) -> Option<http::Response<String>> {
        let rest = path.strip_prefix(PORTAL_PATH)?;
        let (status, kind, body) = match rest {
            "" => (StatusCode::PERMANENT_REDIRECT, None, ""),
            "/" | "/index.html" => (StatusCode::OK, Some("text/html; charset=utf-8"), INDEX),
            "/portal.js" => (
                StatusCode::OK,
                Some("text/javascript; charset=utf-8"),
                SCRIPT,
            ),
            "/portal.css" => (StatusCode::OK, Some("text/css; charset=utf-8"), STYLE),
            r if r.starts_with('/') => (
                StatusCode::NOT_FOUND,
                Some("text/plain; charset=utf-8"),
                "Not found.\n",
            ),
            // `/portalx`: another path, not the portal's.
            _ => return None,
        };
        let (status, body) = match *m {
            Method::GET => (status, body),
            Method::HEAD => (status, ""),
            _ => (StatusCode::METHOD_NOT_ALLOWED, ""),
        };
        let mut resp = http::Response::new(body.to_owned());
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        let csp = portal::content_security_policy(&self.settings.portal.frame_ancestors);
        if let Ok(v) = header::HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        if self.settings.portal.frame_ancestors.is_empty() {
            // For browsers older than CSP's frame-ancestors.
            h.insert(
                header::X_FRAME_OPTIONS,
                header::HeaderValue::from_static("DENY"),
            );
        }
        for (name, value) in [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "same-origin",
            ),
        ] {
            h.insert(name, header::HeaderValue::from_static(value));
        }
        if let Some(kind) = kind {
            h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(kind));
        }
        if status == StatusCode::PERMANENT_REDIRECT {
            h.insert(
                header::LOCATION,
                header::HeaderValue::from_static("/portal/"),
            );
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            h.insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        }
        Some(resp)
    }
}
