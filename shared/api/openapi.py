#!/usr/bin/env python3
"""Writes openapi.json: the OpenAPI 3.1 document of the routes `src/service.rs` serves.

The document is data, but most of it repeats (the error answers of every operation, the list
parameters, the list envelope), so it is written from this script: edit here, run
`python3 shared/api/openapi.py`, commit both. `cargo test -p hookline-api --test openapi`
holds the result to the server: every operation is called with its examples, every answer is
checked against the schema documented for its status, and every route the server answers must be
here.
"""

import json
from pathlib import Path

NAME = r"^[a-zA-Z0-9\-_.]+$"
SECRET = r"^(whsec_)?[a-zA-Z0-9+/=]{32,100}$"
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
MAX_BODY = 1024 * 1024


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema, description=None):
    """`schema` or null (OpenAPI 3.1: a type array)."""
    s = dict(schema)
    t = s.get("type")
    if isinstance(t, str):
        s["type"] = [t, "null"]
    elif "$ref" in s:
        s = {"anyOf": [s, {"type": "null"}]}
    if description:
        s["description"] = description
    return s


def name(description, example=None):
    s = {"type": "string", "minLength": 1, "maxLength": 256, "pattern": NAME,
         "description": description}
    if example is not None:
        s["example"] = example
    return s


def string_map(description):
    return {"type": "object", "additionalProperties": {"type": "string"},
            "description": description}


def name_set(description, max_items=None):
    s = {"type": "array", "uniqueItems": True,
         "items": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": NAME},
         "description": description}
    if max_items is not None:
        s["maxItems"] = max_items
    return s


def date_time(description):
    return {"type": "string", "format": "date-time", "description": description}


THROTTLE = {"type": "integer", "minimum": 0, "maximum": 65535}
THROTTLE_DOC = ("Deliveries per second. Stored and shown, not enforced by hookline. "
                "`rateLimit` (the older name) is read as well.")
UID_APP = name("Your own unique id for the application. It may stand for the id in every path. "
               "Must not start with `app_`.")
UID_EP = name("Your own unique id for the endpoint, unique within its application. It may stand "
              "for the id in every path. Must not start with `ep_`.")

# ---- schemas -------------------------------------------------------------------------------

SCHEMAS = {}

SCHEMAS["ApplicationIn"] = {
    "type": "object",
    "description": "An application to create (POST) or the whole of one (PUT).",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "Its name."},
        "uid": nullable(UID_APP),
        "throttleRate": nullable(THROTTLE, THROTTLE_DOC),
        "metadata": nullable(string_map("Your key/value pairs (strings).")),
    },
    "example": {"name": "Acme Corp", "uid": "acme", "metadata": {"plan": "pro"}},
}
SCHEMAS["ApplicationPatch"] = {
    "type": "object",
    "description": "The fields to change; those left out (or null where null has no meaning) "
                   "keep their value. `uid` and `throttleRate` set to null are cleared.",
    "properties": {
        "name": nullable({"type": "string", "minLength": 1}, "Its name."),
        "uid": nullable(UID_APP),
        "throttleRate": nullable(THROTTLE, THROTTLE_DOC),
        "metadata": nullable(string_map("Replaces the key/value pairs.")),
    },
    "example": {"metadata": {"plan": "enterprise"}},
}
SCHEMAS["ApplicationOut"] = {
    "type": "object",
    "required": ["id", "uid", "name", "metadata", "createdAt", "updatedAt"],
    "properties": {
        "id": {"type": "string", "pattern": "^app_[0-9A-Za-z]{27}$",
               "description": "`app_` and 27 characters, sorting by creation time."},
        "uid": nullable(UID_APP),
        "name": {"type": "string"},
        "throttleRate": dict(THROTTLE, description="Present when set. " + THROTTLE_DOC),
        "metadata": string_map("Your key/value pairs."),
        "createdAt": date_time("When it was created."),
        "updatedAt": date_time("When it last changed."),
    },
    "example": {"id": "app_2mK8pV1bX0eYyQ3rT5uW7zA9cD4", "uid": "acme", "name": "Acme Corp",
                "metadata": {"plan": "pro"}, "createdAt": "2026-12-07T12:00:00Z",
                "updatedAt": "2026-12-07T12:00:00Z"},
}

EVENT_TYPE_FIELDS = {
    "description": {"type": "string", "description": "What the event means."},
    "archived": nullable({"type": "boolean"},
                         "Archived types are left out of lists unless asked for; messages of "
                         "them are still accepted and delivered. Default false."),
    "deprecated": nullable({"type": "boolean"}, "Shown as deprecated. Default false."),
    "schemas": nullable({"type": "object"},
                        "JSON Schemas of the payload, by version (`{\"1\": {...}}`). Stored and "
                        "shown as given; hookline does not check payloads against them."),
    "featureFlag": nullable(name("Stored and shown.")),
    "groupName": nullable(name("Stored and shown.")),
}
SCHEMAS["EventTypeIn"] = {
    "type": "object",
    "required": ["name", "description"],
    "properties": {"name": name("Its name, such as `invoice.paid`."), **EVENT_TYPE_FIELDS},
    "example": {"name": "invoice.paid", "description": "An invoice was paid.",
                "schemas": {"1": {"type": "object", "required": ["invoiceId"]}}},
}
SCHEMAS["EventTypeUpdate"] = {
    "type": "object",
    "description": "The whole event type; its name is the path's (a `name` in the body is "
                   "ignored).",
    "required": ["description"],
    "properties": dict(EVENT_TYPE_FIELDS),
    "example": {"description": "An invoice was paid in full.", "deprecated": False},
}
SCHEMAS["EventTypePatch"] = {
    "type": "object",
    "description": "The fields to change; those left out keep their value.",
    "properties": {**EVENT_TYPE_FIELDS,
                   "description": nullable({"type": "string"}, "What the event means.")},
    "example": {"deprecated": True},
}
SCHEMAS["EventTypeOut"] = {
    "type": "object",
    "required": ["name", "description", "archived", "deprecated", "createdAt", "updatedAt"],
    "properties": {
        "name": name("Its name."),
        "description": {"type": "string"},
        "archived": {"type": "boolean"},
        "deprecated": {"type": "boolean"},
        "schemas": {"type": "object", "description": "Present when set (and, in lists, "
                                                     "unless `with_content=false`)."},
        "featureFlag": name("Present when set."),
        "groupName": name("Present when set."),
        "createdAt": date_time("When it was created."),
        "updatedAt": date_time("When it last changed."),
    },
    "example": {"name": "invoice.paid", "description": "An invoice was paid.",
                "archived": False, "deprecated": False,
                "createdAt": "2026-12-07T12:00:00Z", "updatedAt": "2026-12-07T12:00:00Z"},
}

URL_DOC = ("Where deliveries are POSTed: `https` (`http` only in `hookline dev` or with "
           "`api.allow_http`), no user name or password. A host that is an IP address or "
           "`localhost` must pass the SSRF guard here; every address a name resolves to is "
           "checked again at each delivery.")
ENDPOINT_FIELDS = {
    "url": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 65536,
            "description": URL_DOC},
    "description": nullable({"type": "string"}, "Free text. Default empty."),
    "uid": nullable(UID_EP),
    "throttleRate": nullable(THROTTLE, THROTTLE_DOC),
    "disabled": nullable({"type": "boolean"}, "A disabled endpoint gets nothing. Default false."),
    "eventTypes": nullable(name_set(
        "The event types it takes; null or empty: all. `filterTypes` (the older name) is read "
        "as well. The types need not exist.")),
    "channels": nullable(name_set(
        "The channels it listens on; null or empty: it takes every message. With channels it "
        "takes only messages that carry one of them.", 10)),
    "metadata": nullable(string_map("Your key/value pairs (strings).")),
}
SCHEMAS["EndpointIn"] = {
    "type": "object",
    "required": ["url"],
    "properties": {
        **ENDPOINT_FIELDS,
        "secret": nullable({"type": "string", "pattern": SECRET,
                            "description": "The signing secret (24 to 64 bytes in base64, "
                                           "optionally after `whsec_`); one is made when left "
                                           "out."}),
    },
    "example": {"url": "https://hooks.acme.example/hookline", "uid": "primary-hook",
                "description": "Acme's production receiver", "eventTypes": ["invoice.paid"],
                "channels": ["eu"]},
}
SCHEMAS["EndpointUpdate"] = {
    "type": "object",
    "description": "The whole endpoint (its secret and headers are kept; they have their own "
                   "routes).",
    "required": ["url"],
    "properties": dict(ENDPOINT_FIELDS),
    "example": {"url": "https://hooks.acme.example/hookline/v2", "uid": "primary-hook",
                "eventTypes": ["invoice.paid"], "channels": ["eu"]},
}
SCHEMAS["EndpointPatch"] = {
    "type": "object",
    "description": "The fields to change; those left out keep their value; `uid`, "
                   "`throttleRate`, `eventTypes` and `channels` set to null are cleared.",
    "properties": {**ENDPOINT_FIELDS,
                   "url": nullable({"type": "string", "format": "uri", "maxLength": 65536},
                                   URL_DOC)},
    "example": {"disabled": False, "description": "Acme's production receiver (v2)"},
}
SCHEMAS["EndpointOut"] = {
    "type": "object",
    "required": ["id", "uid", "url", "description", "throttleRate", "disabled", "eventTypes",
                 "filterTypes", "channels", "metadata", "version", "createdAt", "updatedAt"],
    "properties": {
        "id": {"type": "string", "pattern": "^ep_[0-9A-Za-z]{27}$"},
        "uid": nullable(UID_EP),
        "url": {"type": "string"},
        "description": {"type": "string"},
        "throttleRate": nullable(THROTTLE, THROTTLE_DOC),
        "disabled": {"type": "boolean"},
        "eventTypes": nullable(name_set("The event types it takes; null: all.")),
        "filterTypes": nullable(name_set("The same as `eventTypes` (the older name).")),
        "channels": nullable(name_set("Its channels; null: it takes every message.", 10)),
        "metadata": string_map("Your key/value pairs."),
        "version": {"type": "integer", "enum": [1]},
        "createdAt": date_time("When it was created."),
        "updatedAt": date_time("When it last changed."),
    },
    "example": {"id": "ep_2mK8pVbQx8mN3sT6uW9yA1cE5fH", "uid": "primary-hook",
                "url": "https://hooks.acme.example/hookline",
                "description": "Acme's production receiver", "throttleRate": None,
                "disabled": False, "eventTypes": ["invoice.paid"],
                "filterTypes": ["invoice.paid"], "channels": ["eu"], "metadata": {},
                "version": 1, "createdAt": "2026-12-07T12:00:00Z",
                "updatedAt": "2026-12-07T12:00:00Z"},
}
SCHEMAS["EndpointSecretOut"] = {
    "type": "object",
    "required": ["key"],
    "properties": {"key": {"type": "string", "pattern": r"^whsec_[a-zA-Z0-9+/=]{32,100}$",
                           "description": "The current signing secret."}},
    "example": {"key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
}
SCHEMAS["EndpointSecretRotateIn"] = {
    "type": "object",
    "properties": {
        "key": nullable({"type": "string", "pattern": SECRET},
                        "The new secret; one is made when left out."),
        "gracePeriodSeconds": nullable(
            {"type": "integer", "minimum": 0, "maximum": 604800},
            "How long the old secret keeps signing deliveries next to the new one "
            "(default 86400, 24 hours; 0 drops it at once)."),
    },
    "example": {"gracePeriodSeconds": 3600},
}
SCHEMAS["EndpointHeadersIn"] = {
    "type": "object",
    "required": ["headers"],
    "properties": {"headers": string_map(
        "Headers added to every delivery. Names hookline sets itself or that frame the request "
        "are refused: `webhook-*`, `svix-*`, `x-amz-*`, `proxy-*`, `host`, `content-length`, "
        "`content-type`, `transfer-encoding`, `connection`, `user-agent`, `te`, `upgrade`, "
        "`keep-alive`. Values must not hold CR, LF or NUL.")},
    "example": {"headers": {"X-Tenant": "acme"}},
}
SCHEMAS["EndpointHeadersPatchIn"] = {
    "type": "object",
    "required": ["headers"],
    "properties": {
        "headers": {"type": "object", "additionalProperties": {"type": ["string", "null"]},
                    "description": "Headers to add or replace (names compare without regard to "
                                   "case); a header given as null is removed. The others are "
                                   "kept."},
        "deleteHeaders": nullable({"type": "array", "items": {"type": "string"},
                                   "description": "Header names to remove."}),
    },
    "example": {"headers": {"X-Region": "eu-west-1"}, "deleteHeaders": ["X-Old"]},
}
SCHEMAS["EndpointHeadersOut"] = {
    "type": "object",
    "required": ["headers", "sensitive"],
    "properties": {"headers": string_map("The headers added to every delivery."),
                   "sensitive": {"type": "array", "items": {"type": "string"}, "maxItems": 0,
                                 "description": "Always empty: hookline hides no header."}},
    "example": {"headers": {"X-Tenant": "acme"}, "sensitive": []},
}
SCHEMAS["MessageIn"] = {
    "type": "object",
    "required": ["eventType", "payload"],
    "properties": {
        "eventType": name("Its event type (it need not be registered)."),
        "payload": {"type": "object",
                    "description": "The JSON object delivered, byte for byte as sent."},
        "eventId": nullable(name("Your unique id for the event within the application: a "
                                 "second message with it is refused (409). The message can be "
                                 "read by it in place of its id.")),
        "channels": nullable(name_set("Its channels (at most 5).", 5)),
        "application": nullable(
            ref("ApplicationIn"),
            "When the path names no application: create it from this (its `uid` must be the "
            "path's; an all-applications token only). Ignored when the application exists."),
    },
    "example": {"eventType": "invoice.paid", "eventId": "evt-1001", "channels": ["eu"],
                "payload": {"invoiceId": "in_123", "amount": 4200, "currency": "EUR"}},
}
SCHEMAS["MessageOut"] = {
    "type": "object",
    "required": ["id", "eventId", "eventType", "payload", "channels", "timestamp"],
    "properties": {
        "id": {"type": "string",
               "description": "`msg_...`: the `webhook-id` of every delivery of the message."},
        "eventId": nullable({"type": "string"}),
        "eventType": {"type": "string"},
        "payload": {"type": "object",
                    "description": "The payload, or `{}` when `with_content=false`."},
        "channels": nullable({"type": "array", "items": {"type": "string"}}),
        "timestamp": date_time("When it was accepted."),
    },
    "example": {"id": "msg_2mK8pV1bX0eYyQ3rT5uW7zA9cD4", "eventId": "evt-1001",
                "eventType": "invoice.paid", "channels": ["eu"],
                "payload": {"invoiceId": "in_123", "amount": 4200, "currency": "EUR"},
                "timestamp": "2026-12-07T12:00:00Z"},
}
SCHEMAS["MessageAttemptOut"] = {
    "type": "object",
    "required": ["id", "msgId", "endpointId", "url", "response", "responseStatusCode",
                 "responseDurationMs", "status", "statusText", "triggerType", "timestamp"],
    "properties": {
        "id": {"type": "string", "pattern": "^atmpt_[0-9A-Za-z]{27}$"},
        "msgId": {"type": "string"},
        "endpointId": {"type": "string"},
        "url": {"type": "string"},
        "response": {"type": "string", "description": "The start of the response body (at "
                                                      "most 1024 bytes), or why there was none."},
        "responseStatusCode": {"type": "integer", "minimum": 0,
                               "description": "0 when there was no response."},
        "responseDurationMs": {"type": "integer", "minimum": 0},
        "status": {"type": "integer", "enum": [0, 1, 2],
                   "description": "0 success, 1 pending, 2 fail."},
        "statusText": {"type": "string", "enum": ["success", "pending", "fail"]},
        "triggerType": {"type": "integer", "enum": [0, 1],
                        "description": "0 scheduled, 1 manual (a resend or a recover)."},
        "timestamp": date_time("When the attempt was made."),
        "trigger": {"type": "string", "enum": ["scheduled", "manual", "recovery"],
                    "description": "hookline's: why it was sent (the first time, a resend, an "
                                   "endpoint's recover)."},
        "attempt": {"type": "integer", "minimum": 0,
                    "description": "hookline's: which try of the message at the endpoint it "
                                   "was (1 for the first; a resend or recover starts again at "
                                   "1)."},
        "errorClass": nullable({"type": "string", "enum": [
            "timeout", "connection", "dns", "tls", "ssrf", "status", "gone", "request", None]},
            "hookline's: why it failed (null when it did not): no answer in time, connection "
            "refused or reset, name not resolved, TLS handshake, refused by the SSRF guard, a "
            "non-2xx status, 410 Gone, or the request could not be made."),
        "nextAttempt": nullable(date_time("hookline's: when the next try is due, when one is "
                                          "scheduled.")),
    },
    "example": {"id": "atmpt_2mK8pW3cY1fZzR4sU6vX8aB0dE5", "msgId": "msg_2mK8pV1bX0eYyQ3rT5uW7zA9cD4",
                "endpointId": "ep_2mK8pVbQx8mN3sT6uW9yA1cE5fH",
                "url": "https://hooks.acme.example/hookline", "response": "ok",
                "responseStatusCode": 200, "responseDurationMs": 87, "status": 0,
                "statusText": "success", "triggerType": 0,
                "timestamp": "2026-12-07T12:00:01Z", "trigger": "scheduled", "attempt": 1,
                "errorClass": None, "nextAttempt": None},
}
MESSAGE_STATUS = {
    "status": {"type": "integer", "enum": [0, 1, 2, 3, 4],
               "description": "Where the message stands at the endpoint: 0 success, 1 pending "
                              "(another try is scheduled), 2 fail (every try failed), 3 sending, "
                              "4 canceled (skipped: the endpoint was disabled; `recover` sends "
                              "it once the endpoint is enabled)."},
    "statusText": {"type": "string",
                   "enum": ["success", "pending", "fail", "sending", "canceled"]},
    "nextAttempt": nullable(date_time("When the next try is due, while pending.")),
}
STATUS_EXAMPLE = {"status": 2, "statusText": "fail", "nextAttempt": None}
SCHEMAS["MessageEndpointOut"] = {
    "type": "object",
    "description": "An endpoint, and where one message stands there.",
    "required": SCHEMAS["EndpointOut"]["required"] + ["status", "statusText", "nextAttempt"],
    "properties": {**SCHEMAS["EndpointOut"]["properties"], **MESSAGE_STATUS},
    "example": {**SCHEMAS["EndpointOut"]["example"], **STATUS_EXAMPLE},
}
SCHEMAS["EndpointMessageOut"] = {
    "type": "object",
    "description": "A message, and where it stands at one endpoint.",
    "required": SCHEMAS["MessageOut"]["required"] + ["status", "statusText", "nextAttempt"],
    "properties": {**SCHEMAS["MessageOut"]["properties"], **MESSAGE_STATUS},
    "example": {**SCHEMAS["MessageOut"]["example"], **STATUS_EXAMPLE},
}
SCHEMAS["EndpointStats"] = {
    "type": "object",
    "description": "How many of the endpoint's messages stand at each status, among those whose "
                   "status last changed in the period.",
    "required": ["success", "pending", "sending", "fail", "canceled"],
    "properties": {k: {"type": "integer", "minimum": 0}
                   for k in ["success", "pending", "sending", "fail", "canceled"]},
    "example": {"success": 1520, "pending": 3, "sending": 0, "fail": 12, "canceled": 40},
}
SCHEMAS["RecoverIn"] = {
    "type": "object",
    "required": ["since"],
    "properties": {
        "since": date_time("Recover the messages whose status changed from then on."),
        "until": nullable(date_time("...and before then (default: now). At most 14 days after "
                                    "`since`.")),
    },
    "example": {"since": "2026-12-07T00:00:00Z", "until": "2026-12-08T00:00:00Z"},
}
SCHEMAS["RecoverOut"] = {
    "type": "object",
    "required": ["id", "status", "task", "updatedAt"],
    "properties": {
        "id": {"type": "string", "pattern": "^qtask_[0-9A-Za-z]{27}$"},
        "status": {"type": "string", "enum": ["finished"],
                   "description": "Always `finished`: the messages are on the queue when the "
                                  "answer is sent."},
        "task": {"type": "string", "enum": ["endpoint.recover"]},
        "updatedAt": date_time("When it finished."),
    },
    "example": {"id": "qtask_2mK8pV1bX0eYyQ3rT5uW7zA9cD4", "status": "finished",
                "task": "endpoint.recover", "updatedAt": "2026-12-08T09:00:00Z"},
}
SCHEMAS["EventExampleIn"] = {
    "type": "object",
    "required": ["eventType"],
    "properties": {
        "eventType": name("`svix.ping` (always: its payload is `{\"success\":true}`), or an "
                          "event type of the catalogue whose `schemas[\"1\"].examples` holds "
                          "an example."),
        "exampleIndex": nullable({"type": "integer", "minimum": 0, "maximum": 1000,
                                  "default": 0},
                                 "Which of the event type's examples to send; the first when "
                                 "there are fewer. Ignored for `svix.ping`."),
    },
    "example": {"eventType": "svix.ping"},
}
OPERATIONAL_EVENTS = ["endpoint.created", "endpoint.updated", "endpoint.deleted",
                      "endpoint.disabled", "message.attempt.exhausted",
                      "message.attempt.failing", "message.attempt.recovered"]
OPERATIONAL_FIELDS = {
    **{k: v for k, v in ENDPOINT_FIELDS.items() if k != "channels"},
    "uid": nullable(name("Your own unique id for it, among operational endpoints. It may stand "
                         "for the id in every path. Must not start with `ep_`.")),
    "eventTypes": nullable({
        "type": "array", "uniqueItems": True,
        "items": {"type": "string", "enum": OPERATIONAL_EVENTS},
        "description": "The operational events it takes; null or empty: all. `filterTypes` "
                       "is read as well."}),
}
SCHEMAS["OperationalWebhookEndpointIn"] = {
    "type": "object",
    "description": "An endpoint that receives hookline's own events, signed like any delivery. "
                   "`channels` is not a field of it (ignored).",
    "required": ["url"],
    "properties": {**OPERATIONAL_FIELDS,
                   "secret": SCHEMAS["EndpointIn"]["properties"]["secret"],
                   "headers": nullable(string_map("Headers added to every delivery (the rules "
                                                  "of `EndpointHeadersIn`)."))},
    "example": {"url": "https://ops.acme.example/hookline", "uid": "primary-hook",
                "eventTypes": ["endpoint.disabled", "message.attempt.exhausted"]},
}
SCHEMAS["OperationalWebhookEndpointUpsertIn"] = {
    "type": "object",
    "description": "The whole operational endpoint (its secret and headers are kept). Given no "
                   "`uid`, one that the path names by uid keeps it.",
    "required": ["url"],
    "properties": dict(OPERATIONAL_FIELDS),
    "example": {"url": "https://ops.acme.example/hookline/v2",
                "eventTypes": ["endpoint.disabled"]},
}
SCHEMAS["OperationalWebhookEndpointOut"] = {
    "type": "object",
    "required": ["id", "uid", "url", "description", "throttleRate", "disabled", "eventTypes",
                 "metadata", "createdAt", "updatedAt"],
    "properties": {k: v for k, v in SCHEMAS["EndpointOut"]["properties"].items()
                   if k not in ("channels", "filterTypes", "version")},
    "example": {"id": "ep_2mK8pVbQx8mN3sT6uW9yA1cE5fH", "uid": "primary-hook",
                "url": "https://ops.acme.example/hookline", "description": "",
                "throttleRate": None, "disabled": False,
                "eventTypes": ["endpoint.disabled", "message.attempt.exhausted"],
                "metadata": {}, "createdAt": "2026-12-07T12:00:00Z",
                "updatedAt": "2026-12-07T12:00:00Z"},
}
SCHEMAS["OperationalWebhookEndpointOut"]["properties"]["eventTypes"] = nullable({
    "type": "array", "items": {"type": "string", "enum": OPERATIONAL_EVENTS},
    "description": "The operational events it takes; null: all."})

CAPABILITIES = ["ViewBase", "ViewEndpointSecret", "ManageEndpointSecret", "ManageTransformations",
                "CreateAttempts", "ManageEndpoint"]
MAX_EXPIRY = 7 * 24 * 3600
SESSION_ID = {"type": "string", "minLength": 1, "maxLength": 256}
LINK_CAPABILITIES = ["ViewBase", "ViewEndpointSecret", "CreateAttempts"]
LINK_TOKEN = "hlp_1796648400_q3Xv0bPmK7s9TzR2wY5uN8cE1fH4jL6a"
SCHEMAS["AppPortalCapability"] = {
    "type": "string",
    "enum": CAPABILITIES,
    "description": "What a portal token may do. `ViewBase`: read everything of its application "
                   "but endpoint secrets (and the event type catalogue). `ViewEndpointSecret`: "
                   "read endpoint secrets. `ManageEndpointSecret`: read and rotate them. "
                   "`ManageTransformations`: accepted, grants nothing (hookline has no "
                   "transformations). `CreateAttempts`: resend, recover and send examples. "
                   "`ManageEndpoint`: create, change, disable and delete endpoints, and "
                   "everything above.",
    "example": "CreateAttempts",
}
SCHEMAS["AppPortalAccessIn"] = {
    "type": "object",
    "description": "What a new portal token may do, and for how long. An empty body is `{}`: "
                   "every capability, for an hour.",
    "properties": {
        "application": nullable(ref("ApplicationIn"),
                                "When the path names no application: create it from this (its "
                                "`uid` must be the path's). Ignored when the application "
                                "exists."),
        "expiry": nullable({"type": "integer", "minimum": 1, "maximum": MAX_EXPIRY,
                            "default": 3600},
                           f"How long the token lives, in seconds: 1 to {MAX_EXPIRY} (7 days), "
                           "default 3600 (an hour)."),
        "readOnly": nullable({"type": "boolean", "default": False},
                             "`true`: `ViewBase` only, whatever `capabilities` says."),
        "capabilities": nullable({"type": "array", "items": ref("AppPortalCapability"),
                                  "uniqueItems": True, "maxItems": len(CAPABILITIES)},
                                 "What the token may do; `ViewBase` is always granted, named or "
                                 "not. Null or left out: every capability (as Svix)."),
        "sessionId": nullable(SESSION_ID,
                              "Your id for the session the link is made for (1 to 256 bytes), "
                              "so that `expire-all` can end its tokens alone."),
        "featureFlags": {"description": "Accepted and ignored, whatever its value: hookline's "
                                        "portal has no feature flags."},
    },
    "example": {"capabilities": LINK_CAPABILITIES, "expiry": 3600, "sessionId": "user_1FB8"},
}
SCHEMAS["AppPortalAccessOut"] = {
    "type": "object",
    "required": ["url", "token"],
    "properties": {
        "url": {"type": "string", "format": "uri",
                "description": "The portal, opened on the token's application: "
                               "`{origin}/portal/#token={token}`, the origin being "
                               "`[api.portal] url`, or else the request's `Host` (`http` for a "
                               "loopback host, `https` for any other). The token rides in the "
                               "fragment, which a browser never sends to a server. Open it in "
                               "a new tab or an iframe (see `[api.portal] frame_ancestors`)."},
        "token": {"type": "string", "pattern": "^hlp_[1-9][0-9]{0,11}_[A-Za-z0-9_-]{32}$",
                  "description": "A bearer token for this API (`hlp_`, the Unix second it "
                                 "expires at, `_`, 24 random bytes in base64url). Only its "
                                 "SHA-256 is stored: it cannot be shown again."},
    },
    "example": {"url": f"https://hooks.example.com/portal/#token={LINK_TOKEN}",
                "token": LINK_TOKEN},
}
SCHEMAS["PortalSessionOut"] = {
    "type": "object",
    "description": "What the presented token may see and do.",
    "required": ["scope", "app", "capabilities", "readOnly", "expiresAt"],
    "properties": {
        "scope": {"type": "string", "enum": ["all", "app"],
                  "description": "`all`: every application (an all-applications token); "
                                 "`app`: `app` only (a portal token, or an application-scoped "
                                 "token)."},
        "app": nullable(ref("ApplicationOut"),
                        "The one application the token reaches; null for `all`."),
        "capabilities": {"type": "array", "items": ref("AppPortalCapability"),
                         "uniqueItems": True,
                         "description": "What it may do, in the order of "
                                        "`AppPortalCapability`: a portal token's (always with "
                                        "`ViewBase`), every one for an API token."},
        "readOnly": {"type": "boolean",
                     "description": "`true` when the capabilities are `ViewBase` alone."},
        "expiresAt": nullable(date_time("When a portal token stops working (moved earlier by "
                                        "`expire-all`); null for an API token.")),
    },
    "example": {"scope": "app", "app": SCHEMAS["ApplicationOut"]["example"],
                "capabilities": LINK_CAPABILITIES, "readOnly": False,
                "expiresAt": "2026-12-07T13:00:00Z"},
}
SCHEMAS["ApplicationTokenExpireIn"] = {
    "type": "object",
    "description": "Which of the application's portal tokens to end, and when. An empty body "
                   "is `{}`: all of them, now.",
    "properties": {
        "expiry": nullable({"type": "integer", "minimum": 0, "maximum": MAX_EXPIRY,
                            "default": 0},
                           "Seconds until they stop working: 0 (the default) ends them now; "
                           "otherwise each token that would live longer expires then (one "
                           "that expires sooner keeps its time)."),
        "sessionIds": nullable({"type": "array", "items": SESSION_ID, "uniqueItems": True,
                                "maxItems": 1000},
                               "Only the tokens minted with one of these `sessionId`s (1 to "
                               "256 bytes each). Null, left out or empty: every token of the "
                               "application."),
    },
    "example": {"expiry": 60, "sessionIds": ["user_1FB8"]},
}

for item in ["ApplicationOut", "EventTypeOut", "EndpointOut", "MessageOut", "MessageAttemptOut",
             "MessageEndpointOut", "EndpointMessageOut", "OperationalWebhookEndpointOut"]:
    SCHEMAS[f"ListResponse_{item}_"] = {
        "type": "object",
        "required": ["data", "iterator", "prevIterator", "done"],
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "iterator": nullable({"type": "string"},
                                 "The last item's id (name, for event types): pass it as "
                                 "`iterator` for the next page, or, after the last page, later "
                                 "for what was added since. Null when the page is empty."),
            "prevIterator": {"type": "null", "description": "Always null: lists go forward only."},
            "done": {"type": "boolean",
                     "description": "True when nothing follows this page (checked, as Svix "
                                    "does: a full page can be the last)."},
        },
    }
SCHEMAS["EmptyObject"] = {"type": "object", "maxProperties": 0, "example": {}}
SCHEMAS["HttpErrorOut"] = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string", "enum": [
            "invalid_json", "invalid_range", "authentication_failed", "insufficient_access",
            "not_found",
            "method_not_allowed", "conflict", "payload_too_large", "service_unavailable",
            "token_expired", "not_a_portal_token", "portal_url_unknown", "invalid_scheme",
            "configured_endpoint"]},
        "detail": {"type": "string", "description": "For people; never holds a secret."},
    },
    "example": {"code": "not_found", "detail": "Application not found"},
}
SCHEMAS["ValidationError"] = {
    "type": "object",
    "required": ["loc", "msg", "type"],
    "properties": {
        "loc": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                "description": "Where: `body`, `query`, `path` or `header`, then the field "
                               "and any index (`[\"body\", \"channels\", \"2\"]`)."},
        "msg": {"type": "string"},
        "type": {"type": "string", "enum": ["value_error", "type_error"]},
    },
}
SCHEMAS["HTTPValidationError"] = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": ref("ValidationError"), "minItems": 1,
                              "description": "Every wrong field, not only the first."}},
    "example": {"detail": [{"loc": ["body", "url"], "msg": "must use https, not ftp",
                            "type": "value_error"}]},
}

# ---- parameters and answers ----------------------------------------------------------------

PARAMETERS = {
    "app_id": {"name": "app_id", "in": "path", "required": True,
               "description": "The application's id (`app_...`) or uid.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 256},
               "example": "acme"},
    "endpoint_id": {"name": "endpoint_id", "in": "path", "required": True,
                    "description": "The endpoint's id (`ep_...`) or uid.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 256},
                    "example": "primary-hook"},
    "msg_id": {"name": "msg_id", "in": "path", "required": True,
               "description": "The message's id (`msg_...`) or eventId.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 256},
               "example": "evt-1001"},
    "event_type_name": {"name": "event_type_name", "in": "path", "required": True,
                        "description": "The event type's name.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 256,
                                   "pattern": NAME},
                        "example": "invoice.paid"},
    "limit": {"name": "limit", "in": "query",
              "description": f"Items per page, 1 to {MAX_LIMIT}.",
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                         "default": DEFAULT_LIMIT}},
    "iterator": {"name": "iterator", "in": "query",
                 "description": "The `iterator` of the previous page; an empty value or none "
                                "starts at the beginning.",
                 "schema": {"type": "string"}},
    "order": {"name": "order", "in": "query",
              "description": "Only `ascending` (oldest first); `descending` is refused (422).",
              "schema": {"type": "string", "enum": ["ascending"]}},
    "with_content": {"name": "with_content", "in": "query",
                     "description": "`false` leaves payloads (event types: schemas) out.",
                     "schema": {"type": "boolean", "default": True}},
    "channel": {"name": "channel", "in": "query",
                "description": "Only messages (of attempts: whose message is) on this channel.",
                "schema": {"type": "string", "pattern": NAME}},
    "event_types": {"name": "event_types", "in": "query",
                    "description": "Only messages of these event types: comma-separated, "
                                   "repeated, or `event_types[]=`.",
                    "schema": {"type": "string"}},
    "before": {"name": "before", "in": "query",
               "description": "Only items created before this RFC 3339 date-time.",
               "schema": {"type": "string", "format": "date-time"}},
    "after": {"name": "after", "in": "query",
              "description": "Only items created after this RFC 3339 date-time.",
              "schema": {"type": "string", "format": "date-time"}},
    "tag": {"name": "tag", "in": "query",
            "description": "hookline keeps no message tags: a tag filter matches nothing.",
            "schema": {"type": "string", "pattern": NAME}},
    "status": {"name": "status", "in": "query",
               "description": "Only attempts with this status: 0 success, 1 pending, 2 fail "
                              "(3 sending and 4 canceled are accepted and match nothing).",
               "schema": {"type": "integer", "minimum": 0, "maximum": 4}},
    "msg_status": {"name": "status", "in": "query",
                   "description": "Only messages with this status at the endpoint: 0 success, "
                                  "1 pending, 2 fail, 3 sending, 4 canceled (skipped).",
                   "schema": {"type": "integer", "minimum": 0, "maximum": 4}},
    "msg_expanded_statuses": {"name": "expanded_statuses", "in": "query",
                              "description": "`false` shows canceled (4) as success (0), as "
                                             "Svix answers older clients.",
                              "schema": {"type": "boolean", "default": True}},
    "trigger": {"name": "trigger", "in": "query",
                "description": "hookline's: only attempts sent for this reason.",
                "schema": {"type": "string", "enum": ["scheduled", "manual", "recovery"]}},
    "since": {"name": "since", "in": "query",
              "description": "The period's start (default: 28 days before `until`; at most "
                             "28 days before it).",
              "schema": {"type": "string", "format": "date-time"}},
    "until": {"name": "until", "in": "query",
              "description": "The period's end, exclusive (default: now; not in the future).",
              "schema": {"type": "string", "format": "date-time"}},
    "status_code_class": {"name": "status_code_class", "in": "query",
                          "description": "Only attempts whose response status is in this "
                                         "class (0: no response).",
                          "schema": {"type": "integer", "enum": [0, 100, 200, 300, 400, 500]}},
    "endpoint_id_filter": {"name": "endpoint_id", "in": "query",
                           "description": "Only attempts at this endpoint (id or uid; 404 if "
                                          "there is none).",
                           "schema": {"type": "string"}},
    "attempt_with_content": {"name": "with_content", "in": "query",
                             "description": "`false` shows each attempt's response as `{}`.",
                             "schema": {"type": "boolean", "default": True}},
    "with_msg": {"name": "with_msg", "in": "query",
                 "description": "Include each attempt's message (without its payload) as "
                                "`msg`.",
                 "schema": {"type": "boolean", "default": False}},
    "expanded_statuses": {"name": "expanded_statuses", "in": "query",
                          "description": "Accepted; hookline has no canceled attempts.",
                          "schema": {"type": "boolean", "default": True}},
    "include_archived": {"name": "include_archived", "in": "query",
                         "description": "List archived event types too.",
                         "schema": {"type": "boolean", "default": False}},
    "get_if_exists": {"name": "get_if_exists", "in": "query",
                      "description": "When an application with the body's `uid` exists, answer "
                                     "it (200) instead of 409.",
                      "schema": {"type": "boolean", "default": False}},
    "expunge": {"name": "expunge", "in": "query",
                "description": "Delete the event type instead of archiving it.",
                "schema": {"type": "boolean", "default": False}},
    "idempotency-key": {"name": "idempotency-key", "in": "header",
                        "description": "Makes a POST safe to retry: a request with a key seen in "
                                       "the last 24 hours on the same path with a token of the "
                                       "same scope gets the first request's answer, and nothing "
                                       "is done again.",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 256}},
}

ERROR_TEXT = {
    "400": "The body is not JSON (`invalid_json`), or a period the route does not take "
           "(`invalid_range`).",
    "401": "No bearer token, or neither a configured token nor a live portal token: unknown, "
           "logged out, or ended by `expire-all` (`authentication_failed`); a portal token past "
           "the expiry it was minted with (`token_expired`).",
    "403": "The token is scoped to one application, and this is another one or a route for "
           "every application; or a portal token's capabilities do not allow this route "
           "(`insufficient_access`).",
    "404": "No such record (`not_found`).",
    "409": "A `uid`, `eventId` or event type name already taken, or (recover) the endpoint is "
           "disabled (`conflict`).",
    "413": f"The body is over {MAX_BODY} bytes (`payload_too_large`).",
    "422": "Wrong fields, query parameters or headers, every one listed.",
    "503": "The store or the queue did not answer; nothing was done or acknowledged, and the "
           "same request may be retried (`service_unavailable`).",
}
RESPONSES = {
    code: {"description": text, "content": {"application/json": {
        "schema": ref("HTTPValidationError" if code == "422" else "HttpErrorOut")}}}
    for code, text in ERROR_TEXT.items()
}


def json_body(schema_name, description):
    return {"description": description,
            "content": {"application/json": {"schema": ref(schema_name)}}}


UNSENT_HEADER = "hookline-unsent-operational-events"
UNSENT = {UNSENT_HEADER: {
    "description": "How many operational webhooks (`endpoint.created`, ...) this write caused "
                   "but could not put on the queue. The write was made; the header is absent "
                   "when every one was sent.",
    "schema": {"type": "integer", "minimum": 1}}}


def op(op_id, summary, ok, *, params=(), body=None, errors=(), scoped=True,
       differences=None, description=None, events=False, body_optional=False,
       error_text=None):
    """One operation. `ok`: {status: (schema or None, description)}. `errors`: the error
    statuses beyond those every authenticated call may get (401, 413, 503). `body_optional`:
    an empty body is `{}`. `error_text`: {status: description} of this operation's own, in
    place of the shared answer's."""
    o = {"operationId": op_id, "summary": summary}
    if description:
        o["description"] = description
    o["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    if not o["parameters"]:
        del o["parameters"]
    if body:
        o["requestBody"] = {"required": not body_optional, "content": {"application/json": {
            "schema": ref(body), "example": SCHEMAS[body]["example"]}}}
    responses = {}
    for status, (schema, text) in ok.items():
        if schema is None:
            responses[status] = {"description": text}
        else:
            responses[status] = json_body(schema, text)
        if events:
            responses[status]["headers"] = UNSENT
    codes = set(errors) | {"401", "413", "503"}
    if body:
        codes |= {"400", "422"}
    if scoped:
        codes.add("403")
    own = error_text or {}
    for code in sorted(codes | set(own)):
        if code in own:
            responses[code] = json_body("HttpErrorOut", own[code])
        else:
            responses[code] = {"$ref": f"#/components/responses/{code}"}
    o["responses"] = responses
    if differences:
        o["x-hookline-differences"] = differences
    return o


PAGE = ["limit", "iterator", "order"]
IDEM = ["idempotency-key"]
ALL_APPLICATIONS_ONLY = ("The token is not an all-applications token: an application-scoped "
                         "token, or a portal token (`insufficient_access`).")

PATHS = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document (no token needed).",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}},
                          "503": {"$ref": "#/components/responses/503"}},
        },
    },
    "/api/v1/app": {
        "get": op("v1.application.list", "List applications",
                  {"200": ("ListResponse_ApplicationOut_", "A page of applications, oldest "
                                                           "first.")},
                  params=PAGE, errors=["422"]),
        "post": op("v1.application.create", "Create an application",
                   {"201": ("ApplicationOut", "Created."),
                    "200": ("ApplicationOut", "With `get_if_exists=true`: the application "
                                              "that has this uid already.")},
                   params=["get_if_exists"] + IDEM, body="ApplicationIn", errors=["409"]),
    },
    "/api/v1/app/{app_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"}],
        "get": op("v1.application.get", "Get an application",
                  {"200": ("ApplicationOut", "The application.")}, errors=["404"]),
        "put": op("v1.application.update", "Replace an application, or create it",
                  {"200": ("ApplicationOut", "Replaced."),
                   "201": ("ApplicationOut", "There was none: created, with the path as its "
                                             "uid (when the path is a valid uid).")},
                  body="ApplicationIn", errors=["404", "409"]),
        "patch": op("v1.application.patch", "Change some fields of an application",
                    {"200": ("ApplicationOut", "Changed.")},
                    body="ApplicationPatch", errors=["404", "409"]),
        "delete": op("v1.application.delete", "Delete an application and its endpoints",
                     {"204": (None, "Deleted. Its messages and attempts expire with the "
                                    "retention period.")}, errors=["404"]),
    },
    "/api/v1/event-type": {
        "get": op("v1.event-type.list", "List event types",
                  {"200": ("ListResponse_EventTypeOut_", "A page of event types, by name.")},
                  params=PAGE + ["include_archived", "with_content"], errors=["422"],
                  scoped=False,
                  description="Any token may list event types, an application-scoped one "
                              "too (a portal needs them)."),
        "post": op("v1.event-type.create", "Create an event type",
                   {"201": ("EventTypeOut", "Created.")},
                   params=IDEM, body="EventTypeIn", errors=["409"]),
    },
    "/api/v1/event-type/{event_type_name}": {
        "parameters": [{"$ref": "#/components/parameters/event_type_name"}],
        "get": op("v1.event-type.get", "Get an event type",
                  {"200": ("EventTypeOut", "The event type, archived or not.")},
                  errors=["404"], scoped=False),
        "put": op("v1.event-type.update", "Replace an event type, or create it",
                  {"200": ("EventTypeOut", "Replaced."),
                   "201": ("EventTypeOut", "There was none: created.")},
                  body="EventTypeUpdate", errors=["409"]),
        "patch": op("v1.event-type.patch", "Change some fields of an event type",
                    {"200": ("EventTypeOut", "Changed.")},
                    body="EventTypePatch", errors=["404"]),
        "delete": op("v1.event-type.delete", "Archive an event type (or delete it)",
                     {"204": (None, "Archived, or with `expunge=true` deleted.")},
                     params=["expunge"], errors=["404", "422"]),
    },
    "/api/v1/app/{app_id}/endpoint": {
        "parameters": [{"$ref": "#/components/parameters/app_id"}],
        "get": op("v1.endpoint.list", "List an application's endpoints",
                  {"200": ("ListResponse_EndpointOut_", "A page of endpoints, oldest first.")},
                  params=PAGE, errors=["404", "422"]),
        "post": op("v1.endpoint.create", "Create an endpoint",
                   {"201": ("EndpointOut", "Created.")},
                   params=IDEM, body="EndpointIn", errors=["404", "409"], events=True),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.endpoint.get", "Get an endpoint",
                  {"200": ("EndpointOut", "The endpoint (its secret and headers have their "
                                          "own routes).")}, errors=["404"]),
        "put": op("v1.endpoint.update", "Replace an endpoint, or create it",
                  {"200": ("EndpointOut", "Replaced."),
                   "201": ("EndpointOut", "There was none: created (Svix's upsert), with the "
                                          "path as its uid (when the path is a valid uid).")},
                  body="EndpointUpdate", errors=["404", "409"], events=True),
        "patch": op("v1.endpoint.patch", "Change some fields of an endpoint",
                    {"200": ("EndpointOut", "Changed.")},
                    body="EndpointPatch", errors=["404", "409"], events=True,
                    description="Enabling a disabled endpoint (`disabled: false`) forgets its "
                                "run of failures, so automatic disabling counts afresh."),
        "delete": op("v1.endpoint.delete", "Delete an endpoint",
                     {"204": (None, "Deleted.")}, errors=["404"], events=True),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.endpoint.get-secret", "Get an endpoint's signing secret",
                  {"200": ("EndpointSecretOut", "The current secret.")}, errors=["404"]),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret/rotate": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "post": op("v1.endpoint.rotate-secret", "Rotate an endpoint's signing secret",
                   {"200": ("EndpointSecretOut", "The new secret.")},
                   params=IDEM, body="EndpointSecretRotateIn", errors=["404", "409"],
                   differences=["Svix answers 204 with no body; hookline answers the new key "
                                "(the 2.x SDKs read a JSON body).",
                                "`gracePeriodSeconds` sets how long the old secret keeps "
                                "signing (Svix: 24 hours, fixed)."]),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.endpoint.get-headers", "Get an endpoint's custom headers",
                  {"200": ("EndpointHeadersOut", "The headers.")}, errors=["404"]),
        "put": op("v1.endpoint.update-headers", "Replace an endpoint's custom headers",
                  {"204": (None, "Replaced.")}, body="EndpointHeadersIn",
                  errors=["404", "409"]),
        "patch": op("v1.endpoint.patch-headers", "Add or replace some custom headers",
                    {"204": (None, "Changed.")}, body="EndpointHeadersPatchIn",
                    errors=["404", "409"]),
    },
    "/api/v1/app/{app_id}/msg": {
        "parameters": [{"$ref": "#/components/parameters/app_id"}],
        "get": op("v1.message.list", "List an application's messages",
                  {"200": ("ListResponse_MessageOut_", "A page of messages, oldest first.")},
                  params=PAGE + ["with_content", "channel", "event_types", "before", "after",
                                 "tag"], errors=["404", "422"]),
        "post": op("v1.message.create", "Send a message",
                   {"202": ("MessageOut", "Stored and on the outbound queue: it will be "
                                          "delivered to every endpoint that takes it.")},
                   params=["with_content"] + IDEM, body="MessageIn", errors=["404", "409"],
                   description="Answered 202 only once the message is durably on the "
                               "outbound queue. A retry of a request that failed (503, a "
                               "timeout) with the same `idempotency-key` or `eventId` puts a "
                               "message that did not reach the queue on it, under the same "
                               "id, and answers 202; one that did is not sent again.",
                   differences=["`payloadRetentionPeriod`, `payloadRetentionHours`, `tags`, "
                                "`transformationsParams` and `deliverAt` are accepted and "
                                "ignored."]),
    },
    "/api/v1/app/{app_id}/msg/{msg_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/msg_id"}],
        "get": op("v1.message.get", "Get a message",
                  {"200": ("MessageOut", "The message, until the retention period ends.")},
                  params=["with_content"], errors=["404", "422"]),
    },
    "/api/v1/app/{app_id}/attempt/msg/{msg_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/msg_id"}],
        "get": op("v1.message-attempt.list-by-msg", "List a message's delivery attempts",
                  {"200": ("ListResponse_MessageAttemptOut_", "A page of attempts, oldest "
                                                              "first.")},
                  params=PAGE + ["status", "status_code_class", "channel", "event_types",
                                 "tag", "endpoint_id_filter", "before", "after",
                                 "attempt_with_content", "expanded_statuses", "trigger"],
                  errors=["404", "422"]),
    },
    "/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.message-attempt.list-by-endpoint", "List an endpoint's delivery attempts",
                  {"200": ("ListResponse_MessageAttemptOut_", "A page of attempts, oldest "
                                                              "first.")},
                  params=PAGE + ["status", "status_code_class", "channel", "event_types",
                                 "tag", "before", "after", "attempt_with_content", "with_msg",
                                 "expanded_statuses", "trigger"],
                  errors=["404", "422"]),
    },
    "/api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/msg_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "post": op("v1.message-attempt.resend", "Deliver a message to one endpoint again",
                   {"202": ("EmptyObject", "On the outbound queue for that endpoint.")},
                   params=IDEM, errors=["404", "422"],
                   differences=["Svix answers 202 with no body; hookline answers `{}`."]),
    },
    "/api/v1/app/{app_id}/msg/{msg_id}/endpoint": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/msg_id"}],
        "get": op("v1.message-attempt.list-attempted-destinations",
                  "List the endpoints a message was sent to, with its status at each",
                  {"200": ("ListResponse_MessageEndpointOut_", "A page of the application's "
                                                              "endpoints that have a status "
                                                              "for the message, oldest "
                                                              "first.")},
                  params=PAGE, errors=["404", "422"]),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.message-attempt.list-attempted-messages",
                  "List an endpoint's messages, with their status there",
                  {"200": ("ListResponse_EndpointMessageOut_", "A page of messages, oldest "
                                                               "first.")},
                  params=PAGE + ["msg_status", "channel", "event_types", "tag", "before",
                                 "after", "with_content", "msg_expanded_statuses"],
                  errors=["404", "422"],
                  description="Reads the endpoint's status records in message order until "
                              "the page is full, and each shown message."),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/stats": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.endpoint.get-stats", "Count an endpoint's messages by status",
                  {"200": ("EndpointStats", "The counts.")},
                  params=["since", "until"], errors=["400", "404", "422"],
                  description="Counts the messages whose status at the endpoint last changed "
                              "in `[since, until)`. Reads every status record the endpoint "
                              "has in the retention period (one store call per 250).",
                  differences=["Svix counts attempts made in the period; hookline counts "
                               "messages by where they stand, as of their last change in "
                               "it."]),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "post": op("v1.endpoint.recover", "Send an endpoint's failed and skipped messages again",
                   {"202": ("RecoverOut", "Done: every message to recover is on the queue for "
                                          "this endpoint, under its own id (so its "
                                          "`webhook-id`), and pending.")},
                   params=IDEM, body="RecoverIn", errors=["404", "409"],
                   description="Sends again, to this endpoint only, each message that failed "
                               "there or was skipped while it was disabled, among those whose "
                               "status last changed in `[since, until)`. A disabled endpoint is "
                               "refused (409): enable it first. Safe to repeat after a failure "
                               "or timeout part way: what is still failed or skipped is sent, "
                               "under the same ids.",
                   differences=["Svix runs it in the background (`running`) and drops the "
                                "messages of a disabled endpoint; hookline does it before "
                                "answering (`finished`) and refuses a disabled endpoint (409).",
                                "Messages skipped while the endpoint was disabled (status 4) "
                                "are recovered too."]),
    },
    "/api/v1/app/{app_id}/endpoint/{endpoint_id}/send-example": {
        "parameters": [{"$ref": "#/components/parameters/app_id"},
                       {"$ref": "#/components/parameters/endpoint_id"}],
        "post": op("v1.endpoint.send-example", "Send an example of an event type to one endpoint",
                   {"200": ("MessageOut", "The message, on the queue for this endpoint.")},
                   params=IDEM, body="EventExampleIn",
                   error_text={
                       "400": "The body is not JSON (`invalid_json`), or the event type has no "
                              "example to send: none in `schemas[\"1\"].examples`, or one that "
                              "is not a JSON object (`invalid_scheme`).",
                       "404": "No such application or endpoint, or no such event type in the "
                              "catalogue (`not_found`).",
                       "409": "The endpoint is one of the configuration's (`_config`), which "
                              "is read-only (`configured_endpoint`)."},
                   description="Makes a message whose payload is the event type's example "
                               "(`svix.ping`: `{\"success\":true}`), stores it like any other, "
                               "and puts it on the queue for this endpoint only, as a manual "
                               "send. With a portal token it needs `CreateAttempts`.",
                   differences=["Svix's hosted API answers 202; hookline answers 200, as "
                                "Svix's open-source server does.",
                                "An example that is not a JSON object is refused (400 "
                                "`invalid_scheme`): every hookline payload is an object."]),
    },
    "/api/v1/operational-webhook/endpoint": {
        "get": op("v1.operational-webhook-endpoint.list", "List operational webhook endpoints",
                  {"200": ("ListResponse_OperationalWebhookEndpointOut_",
                           "A page of operational endpoints, oldest first.")},
                  params=PAGE, errors=["422"],
                  description="Operational endpoints receive hookline's own events "
                              "(`endpoint.created`, `endpoint.updated`, `endpoint.deleted`, "
                              "`endpoint.disabled`, `message.attempt.exhausted`, "
                              "`message.attempt.failing`, `message.attempt.recovered`), signed "
                              "and retried like any delivery. All-applications tokens only."),
        "post": op("v1.operational-webhook-endpoint.create", "Create an operational webhook "
                                                             "endpoint",
                   {"201": ("OperationalWebhookEndpointOut", "Created.")},
                   params=IDEM, body="OperationalWebhookEndpointIn", errors=["409"]),
    },
    "/api/v1/operational-webhook/endpoint/{endpoint_id}": {
        "parameters": [{"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.operational-webhook-endpoint.get", "Get an operational webhook endpoint",
                  {"200": ("OperationalWebhookEndpointOut", "The endpoint.")}, errors=["404"]),
        "put": op("v1.operational-webhook-endpoint.update",
                  "Replace an operational webhook endpoint, or create it",
                  {"200": ("OperationalWebhookEndpointOut", "Replaced."),
                   "201": ("OperationalWebhookEndpointOut", "There was none: created, with the "
                                                            "path as its uid (when the path is "
                                                            "a valid uid).")},
                  body="OperationalWebhookEndpointUpsertIn", errors=["404", "409"]),
        "delete": op("v1.operational-webhook-endpoint.delete",
                     "Delete an operational webhook endpoint",
                     {"204": (None, "Deleted.")}, errors=["404"]),
    },
    "/api/v1/operational-webhook/endpoint/{endpoint_id}/secret": {
        "parameters": [{"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.operational-webhook-endpoint.get-secret",
                  "Get an operational webhook endpoint's signing secret",
                  {"200": ("EndpointSecretOut", "The current secret.")}, errors=["404"]),
    },
    "/api/v1/operational-webhook/endpoint/{endpoint_id}/secret/rotate": {
        "parameters": [{"$ref": "#/components/parameters/endpoint_id"}],
        "post": op("v1.operational-webhook-endpoint.rotate-secret",
                   "Rotate an operational webhook endpoint's signing secret",
                   {"204": (None, "Rotated (read the new one from `.../secret`).")},
                   params=IDEM, body="EndpointSecretRotateIn", errors=["404", "409"]),
    },
    "/api/v1/operational-webhook/endpoint/{endpoint_id}/headers": {
        "parameters": [{"$ref": "#/components/parameters/endpoint_id"}],
        "get": op("v1.operational-webhook-endpoint.get-headers",
                  "Get an operational webhook endpoint's custom headers",
                  {"200": ("EndpointHeadersOut", "The headers.")}, errors=["404"]),
        "put": op("v1.operational-webhook-endpoint.update-headers",
                  "Replace an operational webhook endpoint's custom headers",
                  {"204": (None, "Replaced.")}, body="EndpointHeadersIn",
                  errors=["404", "409"]),
    },
    "/api/v1/auth/app-portal-access/{app_id}": {
        "parameters": [{"$ref": "#/components/parameters/app_id"}],
        "post": op("v1.authentication.app-portal-access",
                   "Make a link to the portal for one application",
                   {"200": ("AppPortalAccessOut", "The link and its token.")},
                   body="AppPortalAccessIn", body_optional=True,
                   error_text={
                       "400": "The body is not JSON (`invalid_json`), or there is no origin to "
                              "start the link with: no `[api.portal] url`, and no usable `Host` "
                              "header (`portal_url_unknown`).",
                       "403": ALL_APPLICATIONS_ONLY,
                       "404": "No such application, and no `application` in the body to "
                              "create it from (`not_found`)."},
                   description="Mints a portal token for the application, with the "
                               "capabilities and life asked for, and answers it with a link to "
                               "hookline's portal (`/portal/`) that opens with it. "
                               "All-applications tokens only. Each call mints a new token.",
                   differences=["`expiry` is 1 to 604800 seconds, default 3600 (an hour); "
                                "Svix's is 3600 to 604800, default 7 days.",
                                "`featureFlags` is accepted and ignored.",
                                "`idempotency-key` is not looked at (Svix takes one): each "
                                "request mints a new token, since an answer kept for a retry "
                                "would hold the token in the clear.",
                                "The token is hookline's (`hlp_...`), and the link opens "
                                "hookline's own portal, served by this API.",
                                "`sessionId` is any 1 to 256 bytes (Svix: 1 to 64 of "
                                "`a-zA-Z0-9@_-`)."]),
    },
    "/api/v1/auth/session": {
        "get": op("v1.authentication.session", "What the presented token may see and do",
                  {"200": ("PortalSessionOut", "The session.")},
                  error_text={"403": "The token's one application no longer exists "
                                     "(`insufficient_access`)."},
                  description="The portal calls it first, to choose its view: every "
                              "application, or one; what to show of it.",
                  differences=["hookline's own route: Svix has none (its portal is its own "
                               "service)."]),
    },
    "/api/v1/auth/logout": {
        "post": op("v1.authentication.logout", "End the presented portal token",
                   {"204": (None, "Ended: the token is now refused (401 "
                                  "`authentication_failed`).")},
                   scoped=False,
                   error_text={"400": "The token is an API token, not a portal token "
                                      "(`not_a_portal_token`)."},
                   description="The portal token in the `Authorization` header stops working "
                               "at once (its `Sign out`). The body is not read.",
                   differences=["`idempotency-key` is not looked at (Svix takes one); ending "
                                "a token again is harmless."]),
    },
    "/api/v1/auth/app/{app_id}/expire-all": {
        "parameters": [{"$ref": "#/components/parameters/app_id"}],
        "post": op("v1.authentication.expire-all", "End an application's portal tokens",
                   {"204": (None, "Done: the tokens are refused from then on.")},
                   body="ApplicationTokenExpireIn", body_optional=True, errors=["404"],
                   error_text={"403": ALL_APPLICATIONS_ONLY},
                   description="Every portal token of the application, or those of the "
                               "`sessionIds` given, stops working now, or within `expiry` "
                               "seconds. All-applications tokens only.",
                   differences=["`expiry` is 0 to 604800 seconds (Svix: up to 259200).",
                                "Session ids are any 1 to 256 bytes (Svix: 1 to 64 of "
                                "`a-zA-Z0-9@_-`).",
                                "`idempotency-key` is not looked at (Svix takes one); ending "
                                "tokens again is harmless."]),
    },
}

DIFFERENCES = [
    "A subset of Svix's v1 API: applications, event types, endpoints (secret, headers, "
    "statistics, recover, send-example), messages, attempts, attempted destinations and "
    "messages, resend, operational webhook endpoints, and the app portal's "
    "`app-portal-access`, `logout` and `expire-all`. Not served: replay-missing, attempt "
    "statistics, transformations, integrations, background tasks, message content expunge, and "
    "Svix's other authentication routes (dashboard access, whoami, poller, stream and MCP "
    "tokens).",
    "`GET /api/v1/auth/session` is hookline's own: what the presented token may see and do, "
    "for its portal.",
    "Endpoint writes (create, replace, patch, delete) send the operational webhooks "
    "`endpoint.created`, `endpoint.updated`, `endpoint.deleted` and (when a write disables "
    "it) `endpoint.disabled` with trigger `manual`, after the write; one that cannot be "
    "queued is counted in the `hookline-unsent-operational-events` response header.",
    "Lists run in ascending (creation) order only, forward only: `order=descending` is "
    "refused (422) and `prevIterator` is always null.",
    "`throttleRate` and event type `schemas` are stored and shown, not enforced.",
    "Methods other than those listed on a path answer 405 `method_not_allowed`.",
    "Error codes are hookline's own: see `HttpErrorOut.code`.",
]

DOC = {
    "openapi": "3.1.0",
    "info": {
        "title": "hookline API",
        "version": "1",
        "summary": "Svix's v1 REST API, as hookline serves it.",
        "description": "Applications, their endpoints, and messages delivered to them, signed "
                       "with Standard Webhooks headers. The official `svix` SDKs are its "
                       "clients: point their server URL at hookline. Guide: docs/api.md.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        "x-hookline-differences": DIFFERENCES,
    },
    "servers": [{"url": "http://127.0.0.1:8787", "description": "hookline dev"}],
    "security": [{"HTTPBearer": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"HTTPBearer": {
            "type": "http", "scheme": "bearer",
            "description": "A token of `[api] tokens`, or an app-portal token (`hlp_...`, "
                           "from `POST /api/v1/auth/app-portal-access/{app_id}`), in the "
                           "`Authorization` header only (never the query string). A token "
                           "with `app` reaches that application only; a portal token reaches "
                           "its one application, with the capabilities it was minted with, "
                           "until it expires."}},
        "parameters": PARAMETERS,
        "responses": RESPONSES,
        "schemas": SCHEMAS,
    },
}

if __name__ == "__main__":
    import sys

    text = json.dumps(DOC, indent=2, ensure_ascii=False) + "\n"
    out = Path(__file__).with_name("openapi.json")
    if sys.argv[1:] == ["--check"]:
        # tests/run: the committed document is what this script makes.
        if out.read_text() != text:
            sys.exit("shared/api/openapi.json is not what shared/api/openapi.py makes: run the script")
    else:
        out.write_text(text)
