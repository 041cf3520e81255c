//! Field rules shared by the outbound formats.

use super::error::{Fault, invalid};

/// Whether `s` is a valid event type: 1 to 256 bytes of printable ASCII, no spaces.
pub fn is_valid_event_type(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether `s` is a valid message id: 1 to 256 bytes from `A-Z a-z 0-9 . _ : -`.
pub fn is_valid_message_id(s: &str) -> bool {
    (1..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Whether `s` is a valid outbound id (an [`OutboundMessage`]'s `id`, a [`DeliveryMessage`]'s
/// `message_id`): a valid message id ([`is_valid_message_id`]) without `.`.
///
/// The sender signs deliveries with Standard Webhooks, whose signed content is
/// `{webhook-id}.{webhook-timestamp}.{body}`: an id with a `.` in it could be re-split between
/// id, timestamp and body, so it is refused where it enters, not only when signing. Inbound
/// envelope ids keep the wider rule: nothing signs them with a `.` separator.
pub fn is_valid_outbound_id(s: &str) -> bool {
    is_valid_message_id(s) && !s.contains('.')
}

/// Whether `s` is a valid endpoint name: `[a-z0-9][a-z0-9_-]{0,62}`.
pub fn is_valid_endpoint_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && s.len() <= 63
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub(super) fn check_event_type(s: &str, path: &str) -> Result<(), Fault> {
    if s.is_empty() {
        Err(invalid(path, "must not be empty"))
    } else if s.len() > 256 {
        Err(invalid(path, "must be at most 256 bytes"))
    } else if !is_valid_event_type(s) {
        Err(invalid(path, "must be printable ASCII without spaces"))
    } else {
        Ok(())
    }
}

pub(super) fn check_outbound_id(s: &str, path: &str) -> Result<(), Fault> {
    if s.is_empty() {
        Err(invalid(path, "must not be empty"))
    } else if s.len() > 256 {
        Err(invalid(path, "must be at most 256 bytes"))
    } else if s.contains('.') {
        Err(invalid(
            path,
            "must not contain \".\" (it separates the id from the timestamp in the signed content)",
        ))
    } else if !is_valid_outbound_id(s) {
        Err(invalid(path, "may contain only A-Z a-z 0-9 _ : -"))
    } else {
        Ok(())
    }
}

pub(super) fn check_endpoint(s: &str, path: &str) -> Result<(), Fault> {
    if is_valid_endpoint_name(s) {
        Ok(())
    } else {
        Err(invalid(
            path,
            "must be an endpoint name: 1 to 63 of a-z 0-9 _ -, starting with a letter or digit",
        ))
    }
}

/// An application or registry endpoint reference (id or `uid`): 1 to 256 of
/// `A-Z a-z 0-9 - _ .`, the API's rule.
pub(super) fn check_registry_name(s: &str, path: &str) -> Result<(), Fault> {
    crate::api::id::check_name(s).map_err(|msg| invalid(path, msg))
}

/// The most channels a message carries (the API's limit).
const MAX_CHANNELS: usize = crate::api::model::MAX_MESSAGE_CHANNELS;

pub(super) fn check_channels(channels: &[String]) -> Result<(), Fault> {
    if channels.len() > MAX_CHANNELS {
        return Err(invalid(
            "channels",
            format!("must hold at most {MAX_CHANNELS} channels"),
        ));
    }
    for (i, c) in channels.iter().enumerate() {
        check_registry_name(c, &format!("channels[{i}]"))?;
    }
    Ok(())
}

/// Endpoint references: configured endpoint names, or, for a message naming an application
/// (`registry`), that application's endpoint ids or `uid`s.
pub(super) fn check_endpoints(endpoints: &[String], registry: bool) -> Result<(), Fault> {
    if endpoints.is_empty() {
        return Err(invalid(
            "endpoints",
            "must not be empty (leave it out to deliver to every subscribed endpoint)",
        ));
    }
    for (i, name) in endpoints.iter().enumerate() {
        let path = format!("endpoints[{i}]");
        if registry {
            check_registry_name(name, &path)?;
        } else {
            check_endpoint(name, &path)?;
        }
        // Endpoint lists are short (one per configured endpoint), so a linear scan is fine;
        // the size cap bounds the worst case.
        if endpoints.iter().take(i).any(|earlier| earlier == name) {
            return Err(invalid(path, "repeats an earlier endpoint"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rule_predicates() {
        assert!(is_valid_event_type("invoice.paid"));
        assert!(is_valid_event_type(&"!".repeat(256)));
        assert!(!is_valid_event_type(&"!".repeat(257)));
        assert!(!is_valid_event_type("a\u{7f}"));
        assert!(is_valid_message_id("msg_01J:abc.def-1"));
        assert!(!is_valid_message_id("msg 1"));
        assert!(is_valid_endpoint_name("0"));
        assert!(is_valid_endpoint_name(&format!("a{}", "-".repeat(62))));
        assert!(!is_valid_endpoint_name(&format!("a{}", "-".repeat(63))));
    }
}
