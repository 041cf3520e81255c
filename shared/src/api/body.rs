//! Reading a JSON request body field by field, so that every wrong field is reported at once
//! with where it is (`["body", "channels", "2"]`), as Svix does, and nothing panics.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{ApiError, FieldError};

/// A field of a body: left out, `null`, or a value. `PATCH` tells the first two apart; `POST`
/// and `PUT` treat both as "the default".
#[derive(Clone, Debug, PartialEq)]
pub enum Field<T> {
    /// Not in the body.
    Absent,
    /// `null`.
    Null,
    /// A value.
    Set(T),
}

impl<T> Field<T> {
    /// The value, if set.
    pub fn set(self) -> Option<T> {
        match self {
            Self::Set(v) => Some(v),
            Self::Absent | Self::Null => None,
        }
    }

    /// For `PATCH`: the new value of an optional field, or `current` when left out.
    pub fn patch_opt(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Absent => current,
            Self::Null => None,
            Self::Set(v) => Some(v),
        }
    }

    /// For `PATCH`: the new value of a field that cannot be null, or `current`.
    pub fn patch(self, current: T) -> T {
        match self {
            Self::Set(v) => v,
            Self::Absent | Self::Null => current,
        }
    }
}

/// A JSON object being read; wrong fields are collected, then [`Body::finish`] reports them.
pub struct Body {
    obj: Map<String, Value>,
    errors: Vec<FieldError>,
}

/// A body already parsed into an object (one nested in another body, such as `MessageIn`'s
/// `application`).
pub fn from_object(obj: Map<String, Value>) -> Body {
    Body {
        obj,
        errors: Vec::new(),
    }
}

/// Parses a request body as a JSON object: `400` if it is not JSON, `422` if not an object.
pub fn object(bytes: &[u8]) -> Result<Body, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        bytes
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("The body is not valid JSON: {e}"))
    })?;
    match value {
        Value::Object(obj) => Ok(Body {
            obj,
            errors: Vec::new(),
        }),
        _ => Err(ApiError::Validation(vec![FieldError::type_error(
            &["body"],
            "must be a JSON object",
        )])),
    }
}

impl Body {
    /// Reads the first of `names` present (the first is the current name, the rest older
    /// aliases that are still accepted).
    fn take(&mut self, names: &[&str]) -> (String, Field<Value>) {
        let canonical = names.first().copied().unwrap_or_default().to_owned();
        for name in names {
            if let Some(v) = self.obj.remove(*name) {
                let field = if v.is_null() {
                    Field::Null
                } else {
                    Field::Set(v)
                };
                return (canonical, field);
            }
        }
        (canonical, Field::Absent)
    }

    fn wrong(&mut self, loc: &[&str], msg: impl Into<String>) {
        self.errors.push(FieldError::type_error(loc, msg));
    }

    /// Reports a rule broken by a field's value.
    pub fn invalid(&mut self, loc: &[&str], msg: impl Into<String>) {
        self.errors.push(FieldError::value(loc, msg));
    }

    /// Reports a required field left out (or null).
    pub fn require<T>(&mut self, name: &str, f: Field<T>) -> Option<T> {
        match f {
            Field::Set(v) => Some(v),
            Field::Absent | Field::Null => {
                // A field whose value was already reported is not "missing" as well.
                let reported = self
                    .errors
                    .iter()
                    .any(|e| e.loc.get(1).is_some_and(|n| n == name));
                if !reported {
                    self.wrong(&["body", name], "field required");
                }
                None
            }
        }
    }

    /// A string, checked with `check` (which returns what is wrong).
    pub fn string(
        &mut self,
        names: &[&str],
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Field<String> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::String(s)) => match check(&s) {
                Ok(()) => Field::Set(s),
                Err(msg) => {
                    self.invalid(&["body", &name], msg);
                    Field::Absent
                }
            },
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be a string");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, names: &[&str]) -> Field<bool> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::Bool(b)) => Field::Set(b),
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be a boolean");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// An integer in `min..=max`.
    pub fn integer(&mut self, names: &[&str], min: u64, max: u64) -> Field<u64> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Field::Set(n),
                _ => {
                    self.invalid(
                        &["body", &name],
                        format!("must be an integer from {min} to {max}"),
                    );
                    Field::Absent
                }
            },
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// An object of string values (`metadata`, `headers`).
    pub fn string_map(&mut self, names: &[&str]) -> Field<BTreeMap<String, String>> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::Object(m)) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            out.insert(k, s);
                        }
                        _ => self.wrong(&["body", &name, &k], "must be a string"),
                    }
                }
                Field::Set(out)
            }
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be an object of strings");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// An object of string or `null` values (`EndpointHeadersPatchIn`'s `headers`, where `null`
    /// removes a header).
    pub fn nullable_string_map(
        &mut self,
        names: &[&str],
    ) -> Field<BTreeMap<String, Option<String>>> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::Object(m)) => {
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            out.insert(k, Some(s));
                        }
                        Value::Null => {
                            out.insert(k, None);
                        }
                        _ => self.wrong(&["body", &name, &k], "must be a string or null"),
                    }
                }
                Field::Set(out)
            }
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be an object of strings");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// A list of distinct strings, at most `max_items`, each checked with `check`.
    pub fn string_set(
        &mut self,
        names: &[&str],
        max_items: usize,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Field<Vec<String>> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::Array(items)) => {
                if items.len() > max_items {
                    self.invalid(
                        &["body", &name],
                        format!("must have at most {max_items} items"),
                    );
                    return Field::Absent;
                }
                let mut out: Vec<String> = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    let at = i.to_string();
                    match v {
                        Value::String(s) => match check(&s) {
                            Ok(()) if out.contains(&s) => {
                                self.invalid(&["body", &name, &at], "duplicate item");
                            }
                            Ok(()) => out.push(s),
                            Err(msg) => self.invalid(&["body", &name, &at], msg),
                        },
                        _ => self.wrong(&["body", &name, &at], "must be a string"),
                    }
                }
                Field::Set(out)
            }
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be a list of strings");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// Any JSON object, kept as its compact text.
    pub fn json_object(&mut self, names: &[&str]) -> Field<Map<String, Value>> {
        let (name, f) = self.take(names);
        match f {
            Field::Set(Value::Object(m)) => Field::Set(m),
            Field::Set(_) => {
                self.wrong(&["body", &name], "must be a JSON object");
                Field::Absent
            }
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// Ignores fields hookline accepts but does not use (they are listed in docs/api.md).
    pub fn ignore(&mut self, names: &[&str]) {
        for n in names {
            self.obj.remove(*n);
        }
    }

    /// `Ok` when every field read was right, else `422` with all of them. Fields nobody read
    /// are ignored, as Svix (and pydantic) do.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn collects_every_wrong_field() {
        let mut b = object(br#"{"a": 1, "b": [1, "x", "x"], "c": null, "old": "v"}"#).unwrap();
        assert_eq!(b.string(&["a"], |_| Ok(())), Field::Absent);
        let list = b.string_set(&["b"], 10, |_| Ok(()));
        assert_eq!(list, Field::Set(vec!["x".into()]));
        assert_eq!(b.boolean(&["c"]), Field::Null);
        assert_eq!(
            b.string(&["new", "old"], |_| Ok(())),
            Field::Set("v".into())
        );
        let Err(ApiError::Validation(errs)) = b.finish() else {
            panic!()
        };
        let locs: Vec<_> = errs.iter().map(|e| e.loc.join(".")).collect();
        assert_eq!(locs, ["body.a", "body.b.0", "body.b.2"]);
    }

    #[test]
    fn not_json_or_not_object() {
        assert_eq!(object(b"{").err().unwrap().status(), 400);
        assert_eq!(object(b"[1]").err().unwrap().status(), 422);
        assert_eq!(object(b"\"x\"").err().unwrap().status(), 422);
        assert!(object(b"").is_ok());
        assert!(object(b"  \n").is_ok());
    }

    #[test]
    fn patch_semantics() {
        assert_eq!(Field::<u8>::Absent.patch_opt(Some(1)), Some(1));
        assert_eq!(Field::<u8>::Null.patch_opt(Some(1)), None);
        assert_eq!(Field::Set(2).patch_opt(Some(1)), Some(2));
        assert_eq!(Field::<u8>::Null.patch(1), 1);
    }
}
