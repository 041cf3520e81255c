//! Operational webhooks: the endpoints that receive hookline's own events
//! (`/operational-webhook/endpoint`, Svix's operational-webhook endpoint API, all-applications
//! tokens only) and the events the API sends about endpoint writes.
//!
//! Operational endpoints are ordinary endpoint records under the parent
//! [`OPERATIONAL_APP`] (no application record has that id), so the sender delivers, signs,
//! retries and records operational webhooks like any message of an application. Their shape
//! (`OperationalWebhookEndpointOut`) has no application and no channels.

use hookline_core::api::history::{OPERATIONAL_APP, operational_message};

use super::*;

/// `OperationalWebhookEndpointOut`: an endpoint's fields without those that only an
/// application's endpoint has (channels, and the older names Svix keeps there).
pub(super) fn endpoint_out(ep: &Endpoint) -> Value {
    let mut v = ep.out();
    if let Some(o) = v.as_object_mut() {
        for k in ["channels", "filterTypes", "version"] {
            o.remove(k);
        }
    }
    v
}

/// Reads an `OperationalWebhookEndpointIn` (or `UpsertIn`) body as an endpoint body. `channels`
/// is not a field of it: dropped, as any unknown field is, so an operational endpoint never
/// lists channels (it would then take no event: events carry none).
fn operational_body(b: &[u8]) -> Result<body::Body, ApiError> {
    let mut body = body::object(b)?;
    body.ignore(&["channels"]);
    Ok(body)
}

/// An operational endpoint may filter only by the events hookline sends.
fn check_event_types(ep: &Endpoint) -> Result<(), ApiError> {
    for (i, t) in ep.event_types.iter().flatten().enumerate() {
        if !OperationalEvent::ALL.iter().any(|e| e.event_type() == t) {
            let known: Vec<&str> = OperationalEvent::ALL
                .iter()
                .map(|e| e.event_type())
                .collect();
            return Err(ApiError::field(
                &["body", "eventTypes", &i.to_string()],
                format!(
                    "{t} is not an operational event (one of {})",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

impl Api {
    /// Sends operational event `event` with `data` to whoever takes it: the registered
    /// operational endpoints (one message for all of them, if any takes the event) and the
    /// configuration's `operational_endpoints` (one message naming them). Sent after the write
    /// it reports; one that does not reach the queue is counted in `unsent` (see
    /// [`Api::handle`]), and the write's answer stands.
    pub(super) async fn emit(&self, event: OperationalEvent, data: Value, unsent: &AtomicU32) {
        let msg = operational_message(event, data, self.env.now());
        // Reading the operational endpoints first saves a queue message per endpoint write when
        // none is registered (the usual case). An operational endpoint registered while this
        // write runs may miss its event, as it would had it been registered a moment later.
        let registered = match self.registry.endpoints(OPERATIONAL_APP).await {
            Ok(eps) => eps.iter().any(|ep| ep.takes(event.event_type(), None)),
            // Unknown: send it, and let the sender find who takes it.
            Err(_) => true,
        };
        let mut bodies = Vec::with_capacity(2);
        if registered {
            bodies.push(msg.to_string());
        }
        if !self.settings.operational_endpoints.is_empty() {
            // The configuration's endpoints belong to no application: the same event, named
            // to them instead.
            let mut copy = msg;
            if let Some(o) = copy.as_object_mut() {
                o.remove("application");
                o.insert(
                    "endpoints".into(),
                    json!(self.settings.operational_endpoints),
                );
            }
            bodies.push(copy.to_string());
        }
        for body in bodies {
            if self.outbox.send(body).await.is_err() {
                unsent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// The operational endpoint `e` (id or uid), for an all-applications token.
    pub(super) async fn operational_endpoint(
        &self,
        scope: &Scope,
        e: &str,
    ) -> Result<Endpoint, ApiError> {
        scope.require_all()?;
        let not_found = || ApiError::not_found("Endpoint not found");
        if id::check_name(e).is_err() {
            return Err(not_found());
        }
        self.registry
            .endpoint(OPERATIONAL_APP, e)
            .await
            .map_err(unavailable)?
            .ok_or_else(not_found)
    }

    pub(super) async fn list_operational_endpoints(&self, scope: &Scope, q: &Query) -> Answer {
        scope.require_all()?;
        let (limit, after) = q.page(|it| id::is_id(IdKind::Endpoint, it))?;
        let mut page = Page::new(limit, after);
        while let Some(batch) = page
            .next(self.store(), Kind::Endpoint, OPERATIONAL_APP)
            .await?
        {
            for (id, ep) in batch {
                let ep: Endpoint = ep;
                if page.push(id, endpoint_out(&ep)) {
                    break;
                }
            }
        }
        ok(page.finish())
    }

    pub(super) async fn create_operational_endpoint(&self, scope: &Scope, b: &[u8]) -> Answer {
        scope.require_all()?;
        self.insert_operational_endpoint(b, None).await
    }

    async fn insert_operational_endpoint(&self, b: &[u8], path_uid: Option<&str>) -> Answer {
        let ep = self.new_endpoint(OPERATIONAL_APP, operational_body(b)?, path_uid)?;
        check_event_types(&ep)?;
        self.store_new_endpoint(&ep).await?;
        Ok((StatusCode::CREATED, endpoint_out(&ep)))
    }

    /// `PUT /operational-webhook/endpoint/{id}`: replaces it, or creates it (the path, when it is
    /// a valid uid, becomes its uid), as the SDKs' `upsert`.
    pub(super) async fn upsert_operational_endpoint(
        &self,
        scope: &Scope,
        e: &str,
        b: &[u8],
    ) -> Answer {
        let current = match self.operational_endpoint(scope, e).await {
            Ok(found) => found,
            Err(err) if err.status() == 404 => {
                return self.insert_operational_endpoint(b, Some(e)).await;
            }
            Err(err) => return Err(err),
        };
        let mut ep = Endpoint::from_body(
            operational_body(b)?,
            Mode::Replace,
            Some(&current),
            OPERATIONAL_APP,
            String::new(),
            String::new(),
            &self.settings.urls,
            self.env.now(),
        )?;
        keep_path_uid(&current, &mut ep, e);
        check_event_types(&ep)?;
        if current.disabled && !ep.disabled {
            // As for an application's endpoint (`change_endpoint`): forget its failures first.
            self.registry
                .reset_health(OPERATIONAL_APP, &ep.id)
                .await
                .map_err(unavailable)?;
        }
        self.save_endpoint(&current, &ep).await?;
        ok(endpoint_out(&ep))
    }

    pub(super) async fn delete_operational_endpoint(&self, scope: &Scope, e: &str) -> Answer {
        let ep = self.operational_endpoint(scope, e).await?;
        self.registry
            .reset_health(OPERATIONAL_APP, &ep.id)
            .await
            .map_err(unavailable)?;
        self.remove_endpoint(&ep).await?;
        Ok((StatusCode::NO_CONTENT, Value::Null))
    }
}
