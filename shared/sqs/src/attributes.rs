//! Message attributes: their types, their size as SQS counts it, and the MD5 digests SQS returns
//! for bodies (`MD5OfMessageBody`, `MD5OfBody`) and attributes (`MD5OfMessageAttributes`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest as _, Md5};

/// The `DataType` of a text attribute.
pub const STRING_DATA_TYPE: &str = "String";

/// Transport-type byte of text values (`String`, `Number`) in the attribute digest.
const TEXT_TRANSPORT: u8 = 1;
/// Transport-type byte of `Binary` values in the attribute digest.
const BINARY_TRANSPORT: u8 = 2;

/// One message attribute (SQS `MessageAttributes`), as the JSON protocol carries it.
///
/// Serialised (by `hookline dev`'s store) as `{"name", "data_type", "value"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// `String`, `Number` or `Binary` (optionally with a `.custom` suffix).
    pub data_type: String,
    /// The value: text for `String`/`Number`, base64 for `Binary`.
    pub value: String,
}

impl Attribute {
    /// A `String` attribute.
    pub fn string(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            data_type: STRING_DATA_TYPE.to_owned(),
            value: value.into(),
        }
    }

    /// Whether the value is binary (`Binary`, `Binary.custom`): base64 in JSON, `BinaryValue`.
    pub fn is_binary(&self) -> bool {
        self.data_type.starts_with("Binary")
    }

    /// What SQS counts against the message size limit for this attribute.
    pub fn size_bytes(&self) -> usize {
        attribute_size(&self.name, &self.data_type, &self.value)
    }
}

/// An attribute's size as SQS counts it against the message size limit: its name, data type and
/// value, in UTF-8 bytes.
pub fn attribute_size(name: &str, data_type: &str, value: &str) -> usize {
    name.len()
        .saturating_add(data_type.len())
        .saturating_add(value.len())
}

/// Why an attribute's digest cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    /// A `Binary` value that is not base64: hashing it as empty would give a digest of bytes
    /// that were never sent.
    #[error("message attribute {name}: a Binary value must be base64: {reason}")]
    BinaryNotBase64 {
        /// The attribute's name.
        name: String,
        /// The decoder's complaint.
        reason: String,
    },
}

/// MD5 of `data`, lower-case hex: `MD5OfMessageBody` of a body.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// `MD5OfMessageAttributes` as SQS computes it; `None` when there are no attributes (SQS then
/// sends no digest). A `Binary` value is hashed as its decoded bytes.
pub fn md5_of_attributes(attributes: &[Attribute]) -> Result<Option<String>, AttributeError> {
    let mut sorted: Vec<&Attribute> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut parts = Vec::with_capacity(sorted.len());
    for a in sorted {
        let value = if a.is_binary() {
            let raw = BASE64
                .decode(&a.value)
                .map_err(|e| AttributeError::BinaryNotBase64 {
                    name: a.name.clone(),
                    reason: e.to_string(),
                })?;
            (BINARY_TRANSPORT, raw.into())
        } else {
            (TEXT_TRANSPORT, a.value.as_bytes().into())
        };
        parts.push((a.name.as_str(), a.data_type.as_str(), value));
    }
    Ok(digest_sorted(parts))
}

/// [`md5_of_attributes`] of `String` attributes given as `(name, value)` pairs (what the
/// receiver sends).
pub fn md5_of_string_attributes(attributes: &[(String, String)]) -> Option<String> {
    // Names are unique within a message, so sorting the pairs sorts by name; and a sort of
    // `(String, String)` shares its code with the receiver's other one (a smaller Worker bundle).
    let mut sorted = attributes.to_vec();
    sorted.sort();
    digest_sorted(
        sorted
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str(),
                    STRING_DATA_TYPE,
                    (TEXT_TRANSPORT, value.as_bytes().into()),
                )
            })
            .collect(),
    )
}

/// An attribute to digest: name, data type, and the transport byte with the value's bytes.
type DigestPart<'a> = (&'a str, &'a str, (u8, std::borrow::Cow<'a, [u8]>));

/// SQS's algorithm over attributes already sorted by name (byte-wise): each written as
/// length-prefixed name, length-prefixed data type, the transport byte, length-prefixed value.
fn digest_sorted(parts: Vec<DigestPart<'_>>) -> Option<String> {
    if parts.is_empty() {
        return None;
    }
    let mut hasher = Md5::new();
    for (name, data_type, (transport, value)) in &parts {
        update_len_prefixed(&mut hasher, name.as_bytes());
        update_len_prefixed(&mut hasher, data_type.as_bytes());
        hasher.update([*transport]);
        update_len_prefixed(&mut hasher, value);
    }
    Some(hex::encode(hasher.finalize()))
}

fn update_len_prefixed(hasher: &mut Md5, bytes: &[u8]) {
    // SQS encodes lengths as 4-byte big-endian; no SQS message (1 MiB at most) exceeds u32.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    hasher.update(len.to_be_bytes());
    hasher.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(value: &str) -> Attribute {
        Attribute {
            name: "blob".into(),
            data_type: "Binary".into(),
            value: value.into(),
        }
    }

    #[test]
    fn md5_known_values() {
        // md5("hello"), md5("a") and the digests moto 5.2.5 returned for body "ok" and for the
        // single attribute k=String:v (observed on the wire).
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(md5_hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5_hex(b"ok"), "444bcb3a3fcf8389296c49467f27e1d6");
        assert_eq!(
            md5_of_string_attributes(&[("k".into(), "v".into())]).as_deref(),
            Some("0a77b0642718c3d9dd47090567d11e0d")
        );
        assert_eq!(
            md5_of_attributes(&[Attribute::string("k", "v")])
                .unwrap()
                .as_deref(),
            Some("0a77b0642718c3d9dd47090567d11e0d")
        );
    }

    #[test]
    fn order_of_the_input_does_not_matter() {
        let a = md5_of_string_attributes(&[("b".into(), "2".into()), ("a".into(), "1".into())]);
        let b = md5_of_string_attributes(&[("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(a, b);
        assert_eq!(
            md5_of_attributes(&[Attribute::string("b", "2"), Attribute::string("a", "1")]).unwrap(),
            a
        );
        assert_eq!(md5_of_string_attributes(&[]), None);
        assert_eq!(md5_of_attributes(&[]).unwrap(), None);
    }

    #[test]
    fn the_data_type_is_part_of_the_digest() {
        let number = Attribute {
            data_type: "Number".into(),
            ..Attribute::string("n", "1")
        };
        assert_ne!(
            md5_of_attributes(&[number]).unwrap(),
            md5_of_attributes(&[Attribute::string("n", "1")]).unwrap()
        );
    }

    #[test]
    fn a_binary_attribute_that_is_not_base64_is_an_error_not_an_empty_hash() {
        assert!(matches!(
            md5_of_attributes(&[binary("not base64!")]),
            Err(AttributeError::BinaryNotBase64 { ref name, .. }) if name == "blob"
        ));
        // Valid base64 hashes the decoded bytes, not the text.
        assert_ne!(
            md5_of_attributes(&[binary("AAE=")]).unwrap(),
            md5_of_attributes(&[binary("")]).unwrap()
        );
        assert!(binary("").is_binary());
        assert!(!Attribute::string("a", "b").is_binary());
    }

    #[test]
    fn size_counts_name_type_and_value() {
        assert_eq!(Attribute::string("k", "v").size_bytes(), 1 + 6 + 1);
        assert_eq!(attribute_size("\u{e9}", "Number", "12"), 2 + 6 + 2);
    }
}
