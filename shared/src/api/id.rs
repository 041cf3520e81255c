//! Identifiers: the ids hookline mints (Svix's shape, `app_` and 27 base62 characters that sort
//! by creation time), the `uid`s and names users choose, and endpoint secrets.
//!
//! The core draws no random numbers: callers pass the bytes in.

use base64::Engine as _;

use crate::time::Timestamp;

/// What kind of thing an id names: its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// `app_`
    Application,
    /// `ep_`
    Endpoint,
    /// `msg_`
    Message,
    /// `atmpt_`
    Attempt,
}

impl IdKind {
    /// The prefix, with its underscore.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Application => "app_",
            Self::Endpoint => "ep_",
            Self::Message => "msg_",
            Self::Attempt => "atmpt_",
        }
    }
}

/// The length of an id's time-ordered part.
const ID_CHARS: usize = 27;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// KSUID's epoch (2014-05-13T16:53:20Z), so the 32-bit seconds last until 2150.
const EPOCH_SECS: i64 = 1_400_000_000;

/// A new id: the prefix, then the seconds since 2014, the millisecond within that second and 14
/// of the 16 random bytes, in base62, so that ids minted later sort after earlier ones (lists
/// page by id, and show records in creation order). Ids minted within the same millisecond sort
/// in random order (Svix's `KsuidMs` ids have about 4 ms of resolution).
pub fn new_id(kind: IdKind, now: Timestamp, random: [u8; 16]) -> String {
    let secs = u32::try_from(now.unix_secs().saturating_sub(EPOCH_SECS).max(0)).unwrap_or(u32::MAX);
    let millis = u16::try_from(now.unix_millis().rem_euclid(1000)).unwrap_or(0);
    let mut bytes = [0u8; 20];
    let (time, rest) = bytes.split_at_mut(4);
    time.copy_from_slice(&secs.to_be_bytes());
    let (ms, rest) = rest.split_at_mut(2);
    ms.copy_from_slice(&millis.to_be_bytes());
    for (b, r) in rest.iter_mut().zip(random) {
        *b = r;
    }
    let mut id = [b'0'; ID_CHARS];
    base62(&bytes, &mut id);
    let mut out = String::with_capacity(kind.prefix().len() + ID_CHARS);
    out.push_str(kind.prefix());
    out.extend(id.iter().map(|&b| char::from(b)));
    out
}

/// 62^5: five base62 digits at a time, as the remainder of a 64-bit division (a 32-bit limb
/// shifted in above a remainder below 2^30 still fits in 64 bits).
const FIVE_DIGITS: u64 = 62 * 62 * 62 * 62 * 62;

/// `bytes`, a 160-bit big-endian number, in base62 into `out` (most significant digit first,
/// zero-padded). Long division by 62^5 over 32-bit limbs: 30 divisions where one digit at a
/// time over bytes took 540 (a sender mints an attempt id per delivery).
fn base62(bytes: &[u8; 20], out: &mut [u8; ID_CHARS]) {
    let mut limbs = [0u32; 5];
    for (limb, b) in limbs.iter_mut().zip(bytes.chunks_exact(4)) {
        let mut be = [0u8; 4];
        be.copy_from_slice(b);
        *limb = u32::from_be_bytes(be);
    }
    for digits in out.rchunks_mut(5) {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut() {
            let acc = (rem << 32) | u64::from(*limb);
            // acc < FIVE_DIGITS * 2^32, so the quotient fits in 32 bits.
            *limb = u32::try_from(acc / FIVE_DIGITS).unwrap_or(0);
            rem = acc % FIVE_DIGITS;
        }
        for slot in digits.iter_mut().rev() {
            *slot = BASE62.get((rem % 62) as usize).copied().unwrap_or(b'0');
            rem /= 62;
        }
    }
}

/// Whether `s` has the shape of an id of `kind` that hookline minted.
pub fn is_id(kind: IdKind, s: &str) -> bool {
    s.strip_prefix(kind.prefix()).is_some_and(|rest| {
        rest.len() == ID_CHARS && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The longest `uid`, event type name or `eventId` (Svix's limit).
pub const MAX_NAME: usize = 256;

/// Checks a user-chosen name (`uid`, event type, `eventId`, channel): 1 to 256 of
/// `a-z A-Z 0-9 - _ .`, as Svix requires.
pub fn check_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.len() > MAX_NAME {
        return Err(format!("must be at most {MAX_NAME} characters"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "may only hold a-z, A-Z, 0-9, '-', '_' and '.' (found {c:?})"
        ));
    }
    Ok(())
}

/// A `uid` must not look like an id hookline mints, or lookups by "id or uid" would be
/// ambiguous.
pub fn check_uid(kind: IdKind, s: &str) -> Result<(), String> {
    check_name(s)?;
    if s.starts_with(kind.prefix()) {
        return Err(format!("must not start with {:?}", kind.prefix()));
    }
    Ok(())
}

/// The prefix of an endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new endpoint secret from 24 random bytes: `whsec_` and 32 base64 characters, as Svix makes.
pub fn new_secret(random: [u8; 24]) -> String {
    let mut s = SECRET_PREFIX.to_owned();
    base64::engine::general_purpose::STANDARD.encode_string(random, &mut s);
    s
}

/// Checks a secret the user supplies: `whsec_` (optional) then 24 to 64 bytes in base64, as
/// Svix accepts (`^(whsec_)?[a-zA-Z0-9+/=]{32,100}$`). Returns it with the prefix.
pub fn check_secret(s: &str) -> Result<String, String> {
    let body = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
    let ok_chars = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !(32..=100).contains(&body.len()) || !ok_chars {
        return Err("must be 32 to 100 base64 characters, optionally after \"whsec_\"".to_owned());
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "is not valid base64".to_owned())?;
    if !(24..=64).contains(&key.len()) {
        return Err("must decode to 24 to 64 bytes".to_owned());
    }
    Ok(format!("{SECRET_PREFIX}{body}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn ids_sort_by_time_and_have_svix_shape() {
        let a = new_id(
            IdKind::Application,
            Timestamp::from_unix_secs(1_700_000_000),
            [0xff; 16],
        );
        let b = new_id(
            IdKind::Application,
            Timestamp::from_unix_secs(1_700_000_001),
            [0; 16],
        );
        assert!(a < b, "{a} < {b}");
        // A millisecond later sorts later too, whatever the random bytes.
        let c = new_id(
            IdKind::Application,
            Timestamp::from_unix_millis(1_700_000_001_001),
            [0; 16],
        );
        let d = new_id(
            IdKind::Application,
            Timestamp::from_unix_millis(1_700_000_001_000),
            [0xff; 16],
        );
        assert!(b < d && d < c, "{b} < {d} < {c}");
        assert!(is_id(IdKind::Application, &a) && is_id(IdKind::Application, &b));
        assert_eq!(a.len(), 4 + 27);
        assert!(!is_id(IdKind::Endpoint, &a));
        // The largest 160-bit value still fits in 27 characters.
        let max = new_id(IdKind::Message, Timestamp::MAX, [0xff; 16]);
        assert!(is_id(IdKind::Message, &max), "{max}");
        assert_ne!(
            new_id(IdKind::Message, Timestamp::UNIX_EPOCH, [1; 16]),
            new_id(IdKind::Message, Timestamp::UNIX_EPOCH, [2; 16])
        );
    }

    /// The encoding as it was first written, one digit at a time over bytes: the fast one must
    /// give the same ids (stored ids sort and page by them).
    fn base62_reference(bytes: [u8; 20]) -> [u8; ID_CHARS] {
        let mut out = [b'0'; ID_CHARS];
        let mut num = bytes;
        for slot in out.iter_mut().rev() {
            let mut rem: u32 = 0;
            for b in num.iter_mut() {
                let acc = (rem << 8) | u32::from(*b);
                *b = u8::try_from(acc / 62).unwrap();
                rem = acc % 62;
            }
            *slot = BASE62[rem as usize];
        }
        out
    }

    #[test]
    fn base62_by_five_digits_matches_one_digit_at_a_time() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cases = vec![[0u8; 20], [0xff; 20], [0x80; 20]];
        for _ in 0..20_000 {
            let mut b = [0u8; 20];
            for byte in &mut b {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
            cases.push(b);
        }
        for b in cases {
            let mut fast = [0u8; ID_CHARS];
            base62(&b, &mut fast);
            assert_eq!(fast, base62_reference(b), "{b:?}");
        }
    }

    #[test]
    fn names_follow_svix_rules() {
        assert!(check_name("invoice.paid-v2_x").is_ok());
        for bad in ["", "a b", "é", "a/b", "a\0", &"x".repeat(257)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_uid(IdKind::Application, "app_123").is_err());
        assert!(check_uid(IdKind::Application, "ep_123").is_ok());
    }

    #[test]
    fn secrets() {
        let s = new_secret([7; 24]);
        assert!(s.starts_with("whsec_") && s.len() == 6 + 32);
        assert_eq!(check_secret(&s).unwrap(), s);
        assert_eq!(check_secret(&s[6..]).unwrap(), s);
        for bad in [
            "whsec_",
            "whsec_short",
            &format!("whsec_{}", "!".repeat(40)),
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(check_secret(bad).is_err(), "{bad}");
        }
    }
}
