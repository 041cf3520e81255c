//! [`RawJson`]: a JSON value kept as the exact text it arrived as.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON value kept as the exact text it arrived as (see the module docs for why).
///
/// Equality and hashing compare the text, so `{"a":1}` and `{ "a": 1 }` are different values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(pub(super) Box<RawValue>);

impl RawJson {
    /// Validates `json` as one JSON value; surrounding whitespace is trimmed.
    pub fn from_string(json: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(json).map(Self)
    }

    /// Serialises `value` to compact JSON.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Parses the text into a `serde_json::Value` (which may reorder keys and round numbers).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.get())
    }

    /// Borrows the underlying `RawValue`.
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// Unwraps into the underlying `RawValue`.
    pub fn into_raw_value(self) -> Box<RawValue> {
        self.0
    }
}

impl From<Box<RawValue>> for RawJson {
    fn from(raw: Box<RawValue>) -> Self {
        Self(raw)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawJson {}

impl Hash for RawJson {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.get().hash(state);
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_json_equality_is_textual() {
        let a = RawJson::from_string(r#"{"a":1}"#.into()).unwrap();
        let b = RawJson::from_string(r#"{ "a": 1 }"#.into()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.to_value().unwrap(), b.to_value().unwrap());
        assert_eq!(a.to_string(), r#"{"a":1}"#);
        assert!(RawJson::from_string("{".into()).is_err());
        assert_eq!(RawJson::from(a.clone().into_raw_value()), a);
        assert_eq!(a.as_raw_value().get(), a.get());
    }
}
