//! The API's errors, in Svix's two shapes: `{"code", "detail"}` for most, and for a request
//! whose fields are wrong, `422` with `{"detail": [{"loc", "msg", "type"}]}`.

use serde::Serialize;
use serde_json::json;

/// One wrong field of a request (`loc` is where: `["body", "url"]`, `["query", "limit"]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the field is: its part of the request, then the path inside it.
    pub loc: Vec<String>,
    /// What is wrong with it.
    pub msg: String,
    /// `value_error` or `type_error`, as Svix (and pydantic) name them.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl FieldError {
    /// A value of the right type that breaks a rule.
    pub fn value(loc: &[&str], msg: impl Into<String>) -> Self {
        Self {
            loc: loc.iter().map(|s| (*s).to_owned()).collect(),
            msg: msg.into(),
            kind: "value_error",
        }
    }

    /// A value of the wrong JSON type, or a required field left out.
    pub fn type_error(loc: &[&str], msg: impl Into<String>) -> Self {
        Self {
            kind: "type_error",
            ..Self::value(loc, msg)
        }
    }
}

/// An answer other than success: its status and its Svix-shaped body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// `{"code", "detail"}` with a status.
    Http {
        /// The HTTP status.
        status: u16,
        /// A stable snake_case code.
        code: &'static str,
        /// What happened, for people.
        detail: String,
    },
    /// `422` with the wrong fields.
    Validation(Vec<FieldError>),
}

impl ApiError {
    fn http(status: u16, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Http {
            status,
            code,
            detail: detail.into(),
        }
    }

    /// `400`: a request that cannot be read at all (bad JSON, a body where none belongs).
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::http(400, code, detail)
    }

    /// `401`: no token, or not one of the configured tokens.
    pub fn unauthorized() -> Self {
        Self::http(
            401,
            "authentication_failed",
            "Incorrect authentication credentials.",
        )
    }

    /// `401`: a portal link whose time is over (the portal tells its user to ask for a new one).
    pub fn token_expired() -> Self {
        Self::http(
            401,
            "token_expired",
            "This portal link has expired: ask for a new one.",
        )
    }

    /// `403`: a token scoped to one application, used for another or for a global route.
    pub fn forbidden() -> Self {
        Self::http(
            403,
            "insufficient_access",
            "Insufficient access for the given operation.",
        )
    }

    /// `404`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::http(404, "not_found", detail)
    }

    /// `405`.
    pub fn method_not_allowed() -> Self {
        Self::http(405, "method_not_allowed", "Method not allowed.")
    }

    /// `409`: a `uid`, `eventId` or event type name already taken.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::http(409, "conflict", detail)
    }

    /// `413`.
    pub fn too_large(limit: usize) -> Self {
        Self::http(
            413,
            "payload_too_large",
            format!("Request payload is too large (the limit is {limit} bytes)."),
        )
    }

    /// `422` for one field.
    pub fn field(loc: &[&str], msg: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::value(loc, msg)])
    }

    /// `503`: the store or the queue did not answer; nothing was changed or acknowledged, and
    /// the same request may be retried (with the same `idempotency-key`).
    pub fn unavailable(what: &str) -> Self {
        Self::http(
            503,
            "service_unavailable",
            format!("The {what} is unavailable; retry the request."),
        )
    }

    /// The same error, for a body read from the object at `field` of the request body: each
    /// `["body", ...]` location becomes `["body", field, ...]`.
    pub fn nested(self, field: &str) -> Self {
        match self {
            Self::Validation(mut fields) => {
                for f in &mut fields {
                    if f.loc.first().is_some_and(|p| p == "body") {
                        f.loc.insert(1, field.to_owned());
                    }
                }
                Self::Validation(fields)
            }
            other => other,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Http { status, .. } => *status,
            Self::Validation(_) => 422,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        match self {
            Self::Http { code, detail, .. } => json!({ "code": code, "detail": detail }),
            Self::Validation(fields) => json!({ "detail": fields }),
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn svix_shapes() {
        let e = ApiError::not_found("Application not found");
        assert_eq!(e.status(), 404);
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(
            v,
            json!({"code": "not_found", "detail": "Application not found"})
        );

        let e = ApiError::field(&["body", "url"], "must be https");
        assert_eq!(e.status(), 422);
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(
            v,
            json!({"detail": [{"loc": ["body", "url"], "msg": "must be https", "type": "value_error"}]})
        );
    }

    #[test]
    fn nested_errors_say_where_the_object_was() {
        let e = ApiError::Validation(vec![
            FieldError::value(&["body", "uid"], "bad"),
            FieldError::value(&["query", "limit"], "bad"),
        ])
        .nested("application");
        let ApiError::Validation(f) = e else { panic!() };
        assert_eq!(f[0].loc, ["body", "application", "uid"]);
        assert_eq!(f[1].loc, ["query", "limit"]);
        assert_eq!(ApiError::forbidden().nested("x"), ApiError::forbidden());
    }
}
