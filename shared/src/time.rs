//! Timestamps, the date formats webhooks carry, and human-readable durations.
//!
//! The core never reads the clock (`SystemTime::now()` panics on `wasm32-unknown-unknown`):
//! callers pass `now` in as a [`Timestamp`].
//!
//! Every parser here reads attacker-controlled header values, so each one is total: malformed
//! input yields `None`, never a panic, and no field is silently normalised (no 13th month, no
//! 30th of February, no `24:00`). Calendar math is Howard Hinnant's days-from-civil algorithm
//! on the proleptic Gregorian calendar.
//!
//! Leap seconds: Unix time has none, so a `:60` second is rejected in every format rather than
//! moved to a neighbouring second.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MILLIS_PER_SEC: i64 = 1_000;
const SECS_PER_DAY: i64 = 86_400;
const MILLIS_PER_DAY: i64 = SECS_PER_DAY * MILLIS_PER_SEC;
/// 0000-01-01T00:00:00Z: the earliest instant a four-digit year can write.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z: the latest instant a four-digit year can write.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// A point in time as milliseconds since the Unix epoch (UTC). The core never reads the clock: callers pass `now` in.
///
/// The range is `0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999Z`, the span both RFC 3339 and
/// HTTP dates can write with their four-digit years; constructors and arithmetic saturate to it,
/// so every `Timestamp` formats, and its formatted form parses back to the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Self = Self { millis: 0 };
    /// The earliest representable instant, 0000-01-01T00:00:00Z.
    pub const MIN: Self = Self { millis: MIN_MILLIS };
    /// The latest representable instant, 9999-12-31T23:59:59.999Z.
    pub const MAX: Self = Self { millis: MAX_MILLIS };

    /// The instant `secs` seconds after the epoch, saturating to [`Self::MIN`]..=[`Self::MAX`].
    pub const fn from_unix_secs(secs: i64) -> Self {
        Self::from_unix_millis(secs.saturating_mul(MILLIS_PER_SEC))
    }

    /// The instant `ms` milliseconds after the epoch, saturating to [`Self::MIN`]..=[`Self::MAX`].
    pub const fn from_unix_millis(ms: i64) -> Self {
        let millis = if ms < MIN_MILLIS {
            MIN_MILLIS
        } else if ms > MAX_MILLIS {
            MAX_MILLIS
        } else {
            ms
        };
        Self { millis }
    }

    /// Whole seconds since the epoch, rounded towards the past (so -0.5 s is -1).
    pub const fn unix_secs(self) -> i64 {
        self.millis.div_euclid(MILLIS_PER_SEC)
    }

    /// Milliseconds since the epoch.
    pub const fn unix_millis(self) -> i64 {
        self.millis
    }

    /// Parses an RFC 3339 date-time such as `2026-11-23T12:00:00Z` or `2026-11-23T12:00:00.123456+02:00`.
    ///
    /// `T` and `Z` may be lowercase; a space instead of `T` is rejected. Fractional digits beyond
    /// milliseconds are truncated. `-00:00` is accepted as UTC. An instant outside
    /// [`Self::MIN`]..=[`Self::MAX`] after applying the offset is rejected, not clamped.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let mut c = Cursor::new(s);
        let year = c.digits(4)?;
        c.byte(b'-')?;
        let month = c.digits(2)?;
        c.byte(b'-')?;
        let day = c.digits(2)?;
        c.byte_of(b"Tt")?;
        let (hour, minute, second) = c.time_of_day()?;
        let mut millis = 0;
        if c.byte(b'.').is_some() {
            let frac = c.take_while(|b| b.is_ascii_digit());
            if frac.is_empty() {
                return None;
            }
            // Pad to three digits ("5" is 500 ms) and drop the rest (truncation, not rounding).
            millis = frac
                .iter()
                .chain(b"00".iter())
                .take(3)
                .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
        }
        let offset_secs = if c.byte_of(b"Zz").is_some() {
            0
        } else {
            let sign = if c.byte(b'+').is_some() {
                1
            } else {
                c.byte(b'-')?;
                -1
            };
            let oh = c.digits(2)?;
            c.byte(b':')?;
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (i64::from(oh) * 3_600 + i64::from(om) * 60)
        };
        c.end()?;
        let secs = civil_to_secs(i64::from(year), month, day, hour, minute, second)? - offset_secs;
        let ms = secs.checked_mul(MILLIS_PER_SEC)?.checked_add(millis)?;
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&ms)
            .then_some(Self { millis: ms })
    }

    /// Formats as RFC 3339 in UTC: `2026-11-23T12:00:00Z`, or `2026-11-23T12:00:00.120Z` when there are milliseconds.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// Parses an HTTP date (RFC 9110 §5.6.7) in any of its three forms.
    ///
    /// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
    /// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`; without a clock RFC 9110's
    ///   "50 years ahead" rule cannot be applied, so two-digit years use a fixed pivot:
    ///   `00..=69` are 20xx and `70..=99` are 19xx.
    /// - obsolete asctime: `Sun Nov  6 08:49:37 1994` (the day may also be written `06`)
    ///
    /// Names are case-sensitive, as the grammar says. The weekday must be a valid name for the
    /// form but is not checked against the date: it carries no information and RFC 9110 asks
    /// recipients to be lenient with obsolete forms.
    pub fn parse_http_date(s: &str) -> Option<Self> {
        parse_imf_fixdate(s)
            .or_else(|| parse_rfc850(s))
            .or_else(|| parse_asctime(s))
    }

    /// Formats as an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`; milliseconds are dropped.
    pub fn to_http_date(self) -> String {
        let days = self.millis.div_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let (h, m, s) = hms_of_day(self.millis);
        // 1970-01-01 was a Thursday (index 4 counting from Sunday).
        let weekday = lookup(&WEEKDAYS, days.wrapping_add(4).rem_euclid(7));
        let month_name = lookup(&MONTHS, i64::from(month) - 1);
        format!("{weekday}, {day:02} {month_name} {year:04} {h:02}:{m:02}:{s:02} GMT")
    }

    /// `self + d`, saturating at [`Self::MAX`]; sub-millisecond parts of `d` are dropped.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self::from_unix_millis(self.millis.saturating_add(duration_millis_i64(d)))
    }

    /// `self - d`, saturating at [`Self::MIN`]; sub-millisecond parts of `d` are dropped.
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self::from_unix_millis(self.millis.saturating_sub(duration_millis_i64(d)))
    }

    /// `self - earlier` when self >= earlier.
    pub fn checked_duration_since(self, earlier: Self) -> Option<Duration> {
        let diff = self.millis.checked_sub(earlier.millis)?;
        u64::try_from(diff).ok().map(Duration::from_millis)
    }
}

impl Timestamp {
    /// The RFC 3339 text [`Display`](fmt::Display) writes, from a buffer on the stack, for years
    /// 0 to 9999 (all of them in practice): `None` for the others, which `Display` writes the
    /// general way. Each envelope writes one; the formatting machinery cost more than the rest
    /// of a small envelope.
    pub(crate) fn rfc3339_bytes(self) -> Option<([u8; 24], usize)> {
        let (year, month, day) = civil_from_days(self.millis.div_euclid(MILLIS_PER_DAY));
        if !(0..=9999).contains(&year) {
            return None;
        }
        let (h, m, s) = hms_of_day(self.millis);
        let ms = self.millis.rem_euclid(MILLIS_PER_SEC);
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        for (at, width, n) in [
            (0, 4, year),
            (5, 2, i64::from(month)),
            (8, 2, i64::from(day)),
            (11, 2, h),
            (14, 2, m),
            (17, 2, s),
            (20, 3, ms),
        ] {
            put_digits(&mut buf, at, width, n);
        }
        if ms != 0 {
            return Some((buf, buf.len()));
        }
        if let Some(z) = buf.get_mut(19) {
            *z = b'Z';
        }
        Some((buf, 20))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((buf, len)) = self.rfc3339_bytes()
            && let Some(Ok(text)) = buf.get(..len).map(std::str::from_utf8)
        {
            return f.write_str(text);
        }
        let (year, month, day) = civil_from_days(self.millis.div_euclid(MILLIS_PER_DAY));
        let (h, m, s) = hms_of_day(self.millis);
        let ms = self.millis.rem_euclid(MILLIS_PER_SEC);
        write!(f, "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

fn put_digits(buf: &mut [u8], at: usize, width: usize, mut n: i64) {
    for k in (at..at + width).rev() {
        if let Some(b) = buf.get_mut(k) {
            // A digit, 0 to 9: the cast cannot truncate.
            *b = b'0' + n.rem_euclid(10) as u8;
        }
        n /= 10;
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rfc3339Visitor;
        impl Visitor<'_> for Rfc3339Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp such as \"2026-11-23T12:00:00Z\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(Rfc3339Visitor)
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const WEEKDAYS_LONG: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A table entry by computed index; the callers' indices are in range by construction.
fn lookup(table: &[&'static str], index: i64) -> &'static str {
    usize::try_from(index)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("???")
}

fn month_from_abbr(name: &[u8]) -> Option<u32> {
    let i = MONTHS.iter().position(|m| m.as_bytes() == name)?;
    u32::try_from(i + 1).ok()
}

fn duration_millis_i64(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn hms_of_day(millis: i64) -> (i64, i64, i64) {
    let secs = millis.rem_euclid(MILLIS_PER_DAY) / MILLIS_PER_SEC;
    (secs / 3_600, secs / 60 % 60, secs % 60)
}

const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Seconds since the epoch of a UTC civil date-time, or `None` when any field is out of range.
fn civil_to_secs(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Option<i64> {
    if !(0..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    Some(
        days_from_civil(year, month, day) * SECS_PER_DAY
            + i64::from(hour) * 3_600
            + i64::from(min) * 60
            + i64::from(sec),
    )
}

fn from_civil(year: i64, month: u32, day: u32, (h, m, s): (u32, u32, u32)) -> Option<Timestamp> {
    let secs = civil_to_secs(year, month, day, h, m, s)?;
    Some(Timestamp::from_unix_secs(secs))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn parse_imf_fixdate(s: &str) -> Option<Timestamp> {
    let mut c = Cursor::new(s);
    c.name(&WEEKDAYS)?;
    c.bytes(b", ")?;
    let day = c.digits(2)?;
    c.byte(b' ')?;
    let month = month_from_abbr(c.take(3)?)?;
    c.byte(b' ')?;
    let year = c.digits(4)?;
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    c.bytes(b" GMT")?;
    c.end()?;
    from_civil(i64::from(year), month, day, time)
}

/// `Sunday, 06-Nov-94 08:49:37 GMT`
fn parse_rfc850(s: &str) -> Option<Timestamp> {
    let mut c = Cursor::new(s);
    c.name(&WEEKDAYS_LONG)?;
    c.bytes(b", ")?;
    let day = c.digits(2)?;
    c.byte(b'-')?;
    let month = month_from_abbr(c.take(3)?)?;
    c.byte(b'-')?;
    let yy = i64::from(c.digits(2)?);
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    c.bytes(b" GMT")?;
    c.end()?;
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    from_civil(year, month, day, time)
}

/// `Sun Nov  6 08:49:37 1994`
fn parse_asctime(s: &str) -> Option<Timestamp> {
    let mut c = Cursor::new(s);
    c.name(&WEEKDAYS)?;
    c.byte(b' ')?;
    let month = month_from_abbr(c.take(3)?)?;
    c.byte(b' ')?;
    let day = if c.byte(b' ').is_some() {
        c.digits(1)?
    } else {
        c.digits(2)?
    };
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    c.byte(b' ')?;
    let year = c.digits(4)?;
    c.end()?;
    from_civil(i64::from(year), month, day, time)
}

/// A forward-only reader over ASCII bytes; every step returns `None` instead of running off the end.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { rest: s.as_bytes() }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let n = self.rest.iter().take_while(|b| pred(**b)).count();
        let (head, tail) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = tail;
        head
    }

    fn byte(&mut self, expected: u8) -> Option<()> {
        self.byte_of(&[expected])
    }

    fn byte_of(&mut self, allowed: &[u8]) -> Option<()> {
        let (first, tail) = self.rest.split_first()?;
        if !allowed.contains(first) {
            return None;
        }
        self.rest = tail;
        Some(())
    }

    fn bytes(&mut self, expected: &[u8]) -> Option<()> {
        (self.take(expected.len())? == expected).then_some(())
    }

    /// Exactly `n` ASCII digits (n <= 4 here, so no overflow).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let digits = self.take(n)?;
        digits.iter().try_fold(0u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    }

    /// One of `names`, matched exactly.
    fn name(&mut self, names: &[&str]) -> Option<()> {
        let name = names.iter().find(|n| self.rest.starts_with(n.as_bytes()))?;
        self.take(name.len()).map(drop)
    }

    /// `HH:MM:SS`, each field two digits; ranges are checked later with the date.
    fn time_of_day(&mut self) -> Option<(u32, u32, u32)> {
        let h = self.digits(2)?;
        self.byte(b':')?;
        let m = self.digits(2)?;
        self.byte(b':')?;
        let s = self.digits(2)?;
        Some((h, m, s))
    }

    fn end(&self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

/// Parses a human duration: "250ms", "1s", "10s", "5m", "1h", "12h", "1h30m", "90" (bare integer = seconds). No negatives, no overflow panics, no empty string, no unknown units.
///
/// The form is either whole seconds (`90`) or one or more `<digits><unit>` parts with units
/// `h`, `m`, `s`, `ms`, `us`, `ns`, each used at most once and largest first (`1h30m`, not
/// `30m1h` or `1m1m`), so every duration has one obvious spelling. Parts may exceed the next
/// unit (`90m`, `1500ms`). Whitespace, signs, fractions and uppercase units are rejected, as is
/// anything beyond [`Duration::MAX`].
pub fn parse_duration(s: &str) -> Option<Duration> {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    if bytes.iter().all(u8::is_ascii_digit) {
        return u64::try_from(parse_decimal(bytes)?)
            .ok()
            .map(Duration::from_secs);
    }
    let mut c = Cursor { rest: bytes };
    let mut total: u128 = 0;
    let mut next_rank = 0;
    while !c.rest.is_empty() {
        let number = parse_decimal(c.take_while(|b| b.is_ascii_digit()))?;
        let (rank, nanos_per_unit): (usize, u128) = match c.take_while(|b| b.is_ascii_alphabetic())
        {
            b"h" => (0, 3_600 * NANOS_PER_SEC),
            b"m" => (1, 60 * NANOS_PER_SEC),
            b"s" => (2, NANOS_PER_SEC),
            b"ms" => (3, 1_000_000),
            b"us" => (4, 1_000),
            b"ns" => (5, 1),
            _ => return None,
        };
        if rank < next_rank {
            return None;
        }
        next_rank = rank + 1;
        total = total.checked_add(number.checked_mul(nanos_per_unit)?)?;
    }
    let secs = u64::try_from(total / NANOS_PER_SEC).ok()?;
    let nanos = u32::try_from(total % NANOS_PER_SEC).ok()?;
    Some(Duration::new(secs, nanos))
}

/// A non-empty run of ASCII digits as a number, `None` on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u128> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u128, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u128::from(b - b'0'))
    })
}

/// Formats a duration the same way, shortest exact form ("1s", "5m", "1h30m", "250ms").
///
/// Parts run from hours down to nanoseconds, zero parts omitted (`1m30s`, `1s500ms`), and zero
/// is `0s`; [`parse_duration`] reads every output back to the same `Duration`.
pub fn format_duration(d: Duration) -> String {
    use fmt::Write as _;
    if d.is_zero() {
        return "0s".to_owned();
    }
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    let parts: [(u64, &str); 6] = [
        (secs / 3_600, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
        (u64::from(nanos / 1_000_000), "ms"),
        (u64::from(nanos / 1_000 % 1_000), "us"),
        (u64::from(nanos % 1_000), "ns"),
    ];
    let mut out = String::new();
    for (value, unit) in parts {
        if value != 0 {
            // Writing to a String cannot fail.
            let _ = write!(out, "{value}{unit}");
        }
    }
    out
}

/// serde helpers for `#[serde(with = "crate::time::duration_serde")]` on Duration fields: serialise as the string form; deserialise from a string form or a bare non-negative integer (seconds).
///
/// Deserialising needs a self-describing format (TOML, JSON), which is what configs use.
pub mod duration_serde {
    use std::fmt;
    use std::time::Duration;

    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{format_duration, parse_duration};

    /// Writes `d` as its [`format_duration`] string.
    pub fn serialize<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*d))
    }

    /// Reads a [`parse_duration`] string or a non-negative integer number of seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }

    /// The same for `Vec<Duration>` fields: `#[serde(with = "crate::time::duration_serde::vec")]`.
    pub mod vec {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::format_duration;
        use super::De;

        /// Writes each element as its [`format_duration`] string.
        pub fn serialize<S: Serializer>(ds: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(ds.iter().map(|d| format_duration(*d)))
        }

        /// Reads a sequence whose elements are duration strings or whole seconds.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<Duration>, D::Error> {
            let items = Vec::<De>::deserialize(deserializer)?;
            Ok(items.into_iter().map(|De(d)| d).collect())
        }
    }

    /// The same for `Option<Duration>` fields; pair it with `#[serde(default)]` so a missing field is `None`.
    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::format_duration;
        use super::De;

        /// Writes `Some` as its [`format_duration`] string and `None` as the format's none.
        pub fn serialize<S: Serializer>(
            d: &Option<Duration>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => serializer.serialize_some(&format_duration(*d)),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an optional duration string or whole seconds.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<De>::deserialize(deserializer)?.map(|De(d)| d))
        }
    }

    /// Lets the `vec` and `option` helpers reuse [`deserialize`] through serde's own impls.
    struct De(Duration);

    impl<'de> Deserialize<'de> for De {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(deserializer).map(De)
        }
    }

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(
                "a duration such as \"250ms\", \"10s\", \"5m\" or \"1h30m\", or whole seconds",
            )
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
            parse_duration(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
            u64::try_from(v)
                .map(Duration::from_secs)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (RFC 3339, IMF-fixdate, unix seconds); reference values computed independently.
    const KNOWN: &[(&str, &str, i64)] = &[
        (
            "0000-01-01T00:00:00Z",
            "Sat, 01 Jan 0000 00:00:00 GMT",
            -62_167_219_200,
        ),
        (
            "0001-01-01T00:00:00Z",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            -62_135_596_800,
        ),
        (
            "1600-02-29T12:34:56Z",
            "Tue, 29 Feb 1600 12:34:56 GMT",
            -11_670_953_104,
        ),
        (
            "1900-03-01T00:00:00Z",
            "Thu, 01 Mar 1900 00:00:00 GMT",
            -2_203_891_200,
        ),
        ("1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT", 0),
        (
            "1994-11-06T08:49:37Z",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            784_111_777,
        ),
        (
            "2000-02-29T00:00:00Z",
            "Tue, 29 Feb 2000 00:00:00 GMT",
            951_782_400,
        ),
        (
            "2024-02-29T23:59:59Z",
            "Thu, 29 Feb 2024 23:59:59 GMT",
            1_709_251_199,
        ),
        (
            "2026-11-23T12:00:00Z",
            "Mon, 23 Nov 2026 12:00:00 GMT",
            1_795_435_200,
        ),
        (
            "2038-01-19T03:14:08Z",
            "Tue, 19 Jan 2038 03:14:08 GMT",
            2_147_483_648,
        ),
        (
            "2100-03-01T00:00:00Z",
            "Mon, 01 Mar 2100 00:00:00 GMT",
            4_107_542_400,
        ),
        (
            "9999-12-31T23:59:59Z",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            253_402_300_799,
        ),
    ];

    fn rfc(s: &str) -> Option<i64> {
        Timestamp::parse_rfc3339(s).map(Timestamp::unix_millis)
    }

    fn http(s: &str) -> Option<i64> {
        Timestamp::parse_http_date(s).map(Timestamp::unix_secs)
    }

    /// The stack-buffer path of `Display` writes what the general `write!` path writes, for
    /// instants across and beyond years 0 to 9999.
    #[test]
    fn rfc3339_fast_path_matches_the_general_formatting() {
        let general = |t: Timestamp| {
            let (year, month, day) = civil_from_days(t.millis.div_euclid(MILLIS_PER_DAY));
            let (h, m, s) = hms_of_day(t.millis);
            let ms = t.millis.rem_euclid(MILLIS_PER_SEC);
            let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
            if ms != 0 {
                out.push_str(&format!(".{ms:03}"));
            }
            out + "Z"
        };
        let mut next = crate::testkit::xorshift(0x0dd_ba11_cafe_f00d);
        let year_ms = 31_556_952_000i64;
        let mut instants = vec![
            0,
            1,
            -1,
            999,
            1_000,
            1_795_435_200_123,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MAX,
            i64::MIN,
        ];
        for _ in 0..20_000 {
            let span = 12_000 * year_ms;
            let r = i64::try_from(next() % u64::try_from(span).unwrap()).unwrap();
            instants.push(r - 2_000 * year_ms - 62_167_219_200_000);
            instants.push(r / 1000 * 1000);
        }
        for millis in instants {
            let t = Timestamp::from_unix_millis(millis);
            assert_eq!(t.to_string(), general(t), "{millis}");
        }
    }

    #[test]
    fn constructors_saturate_and_secs_floor() {
        assert_eq!(Timestamp::from_unix_secs(1).unix_millis(), 1_000);
        assert_eq!(Timestamp::from_unix_millis(1_999).unix_secs(), 1);
        assert_eq!(Timestamp::from_unix_millis(-1).unix_secs(), -1);
        assert_eq!(Timestamp::from_unix_millis(-1_000).unix_secs(), -1);
        assert_eq!(Timestamp::from_unix_millis(-1_001).unix_secs(), -2);
        assert_eq!(Timestamp::from_unix_secs(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from_unix_secs(i64::MIN), Timestamp::MIN);
        assert_eq!(Timestamp::from_unix_millis(i64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::from_unix_millis(i64::MIN), Timestamp::MIN);
        assert_eq!(Timestamp::UNIX_EPOCH.unix_millis(), 0);
        assert!(Timestamp::MIN < Timestamp::UNIX_EPOCH && Timestamp::UNIX_EPOCH < Timestamp::MAX);
    }

    #[test]
    fn known_instants_format_and_parse() {
        for &(rfc3339, imf, secs) in KNOWN {
            let t = Timestamp::from_unix_secs(secs);
            assert_eq!(t.to_rfc3339(), rfc3339);
            assert_eq!(t.to_string(), rfc3339);
            assert_eq!(t.to_http_date(), imf);
            assert_eq!(rfc(rfc3339), Some(secs * 1_000), "{rfc3339}");
            assert_eq!(http(imf), Some(secs), "{imf}");
        }
        assert_eq!(Timestamp::MIN.to_rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp::MAX.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(
            rfc("9999-12-31T23:59:59.999Z"),
            Some(Timestamp::MAX.unix_millis())
        );
        assert_eq!(
            Timestamp::MAX.to_http_date(),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            Timestamp::MIN.to_http_date(),
            "Sat, 01 Jan 0000 00:00:00 GMT"
        );
    }

    #[test]
    fn millis_are_printed_only_when_present() {
        let t = Timestamp::from_unix_millis(1_795_435_200_120);
        assert_eq!(t.to_rfc3339(), "2026-11-23T12:00:00.120Z");
        assert_eq!(t.to_http_date(), "Mon, 23 Nov 2026 12:00:00 GMT");
        assert_eq!(
            Timestamp::from_unix_millis(-1).to_rfc3339(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(1).to_rfc3339(),
            "1970-01-01T00:00:00.001Z"
        );
    }

    #[test]
    fn calendar_matches_a_naive_day_count_over_the_whole_range() {
        let mut days = days_from_civil(0, 1, 1);
        assert_eq!(days * MILLIS_PER_DAY, MIN_MILLIS);
        for year in 0..=9999 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month, day), days);
                    assert_eq!(civil_from_days(days), (year, month, day));
                    days += 1;
                }
            }
        }
        assert_eq!(days * MILLIS_PER_DAY - 1, MAX_MILLIS);
    }

    #[test]
    fn round_trips_across_the_range() {
        // A large prime step visits every time of day and every kind of date.
        let mut ms = MIN_MILLIS;
        let mut n = 0;
        while ms <= MAX_MILLIS {
            let t = Timestamp::from_unix_millis(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t), "{t}");
            let whole = Timestamp::from_unix_secs(t.unix_secs());
            assert_eq!(
                Timestamp::parse_http_date(&t.to_http_date()),
                Some(whole),
                "{t}"
            );
            ms += 1_000_000_007;
            n += 1;
        }
        assert!(n > 300_000);
        for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::UNIX_EPOCH] {
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        }
    }

    #[test]
    fn rfc3339_accepts_offsets_fractions_and_lowercase() {
        let noon = 1_795_435_200_000;
        let cases: &[(&str, i64)] = &[
            ("2026-11-23T12:00:00Z", noon),
            ("2026-11-23t12:00:00z", noon),
            ("2026-11-23T12:00:00+00:00", noon),
            ("2026-11-23T12:00:00-00:00", noon),
            ("2026-11-23T14:00:00+02:00", noon),
            ("2026-11-23T06:30:00-05:30", noon),
            ("2026-11-24T11:59:00+23:59", noon),
            ("2026-11-23T12:00:00.123456+00:00", noon + 123),
            ("2026-11-23T14:00:00.123456+02:00", noon + 123),
            ("2026-11-23T12:00:00.1Z", noon + 100),
            ("2026-11-23T12:00:00.12Z", noon + 120),
            ("2026-11-23T12:00:00.999999999999999999999Z", noon + 999),
            ("2026-11-23T12:00:00.000Z", noon),
            ("1969-12-31T23:59:59.999Z", -1),
            ("1970-01-01T00:00:00+01:00", -3_600_000),
            ("0000-01-01T01:00:00+01:00", MIN_MILLIS),
        ];
        for &(s, ms) in cases {
            assert_eq!(rfc(s), Some(ms), "{s}");
        }
    }

    #[test]
    fn rfc3339_rejects_malformed_and_out_of_range() {
        let bad = [
            "",
            "2026-11-23",
            "2026-11-23T12:00:00",
            "2026-11-23T12:00Z",
            "2026-11-23 12:00:00Z",
            "2026-11-23_12:00:00Z",
            "2026-11-23T12:00:00Z ",
            " 2026-11-23T12:00:00Z",
            "2026-11-23T12:00:00ZZ",
            "2026-11-23T12:00:00.Z",
            "2026-11-23T12:00:00,5Z",
            "2026-11-23T12:00:00.5",
            "2026-11-23T12:00:00+0200",
            "2026-11-23T12:00:00+02",
            "2026-11-23T12:00:00+24:00",
            "2026-11-23T12:00:00+02:60",
            "2026-11-23T12:00:00 +02:00",
            "2026-11-23T12:00:00UTC",
            "2026-00-23T12:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-00T12:00:00Z",
            "2026-11-31T12:00:00Z",
            "2026-02-29T12:00:00Z",
            "1900-02-29T12:00:00Z",
            "2000-02-30T12:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T12:60:00Z",
            "2016-12-31T23:59:60Z",
            "2026-1-23T12:00:00Z",
            "26-11-23T12:00:00Z",
            "+2026-11-23T12:00:00Z",
            "12026-11-23T12:00:00Z",
            "2026/11/23T12:00:00Z",
            "2026-11-23T1:00:00Z",
            "2026-11-23T12:00:0Z",
            "2026-11-23T12:00:-1Z",
            "２026-11-23T12:00:00Z",
            "9999-12-31T23:59:59-00:01",
            "0000-01-01T00:00:00+00:01",
            "1994-11-06T08:49:37Z\n",
            "Sun, 06 Nov 1994 08:49:37 GMT",
        ];
        for s in bad {
            assert_eq!(rfc(s), None, "{s:?}");
        }
    }

    #[test]
    fn http_date_accepts_the_three_forms() {
        let rfc_example = 784_111_777;
        let cases: &[(&str, i64)] = &[
            ("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example),
            ("Sunday, 06-Nov-94 08:49:37 GMT", rfc_example),
            ("Sun Nov  6 08:49:37 1994", rfc_example),
            ("Sun Nov 06 08:49:37 1994", rfc_example),
            // The weekday is not checked against the date.
            ("Fri, 06 Nov 1994 08:49:37 GMT", rfc_example),
            ("Monday, 06-Nov-94 08:49:37 GMT", rfc_example),
            ("Wed Nov  6 08:49:37 1994", rfc_example),
            ("Thu Jan  1 00:00:00 1970", 0),
            ("Thu Feb 29 00:00:00 2024", 1_709_164_800),
            ("Mon Dec 31 23:59:59 2029", 1_893_455_999),
            // Two-digit years: 70..=99 are 19xx, 00..=69 are 20xx.
            ("Thursday, 01-Jan-70 00:00:00 GMT", 0),
            ("Friday, 31-Dec-99 23:59:59 GMT", 946_684_799),
            ("Saturday, 01-Jan-00 00:00:00 GMT", 946_684_800),
            ("Tuesday, 29-Feb-00 00:00:00 GMT", 951_782_400),
            ("Sunday, 31-Dec-69 23:59:59 GMT", 3_155_759_999),
        ];
        for &(s, secs) in cases {
            assert_eq!(http(s), Some(secs), "{s}");
        }
    }

    #[test]
    fn http_date_rejects_malformed() {
        let bad = [
            "",
            "GMT",
            "784111777",
            "1994-11-06T08:49:37Z",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "SUN, 06 NOV 1994 08:49:37 GMT",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sun,06 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 November 1994 08:49:37 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov   6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun Nov  6 08:49:37  1994",
            "Sunday Nov  6 08:49:37 1994",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:37 GMT",
            "Sat, 31 Dec 2016 23:59:60 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08.49.37 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun Nov  0 08:49:37 1994",
            "Sun Nov 31 08:49:37 1994",
            "Sun, -6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\0",
            "Sun, ０6 Nov 1994 08:49:37 GMT",
        ];
        for s in bad {
            assert_eq!(http(s), None, "{s:?}");
        }
    }

    #[test]
    fn arithmetic_saturates_and_durations_are_checked() {
        let t = Timestamp::from_unix_secs(100);
        assert_eq!(
            t.saturating_add(Duration::from_millis(1_500)).unix_millis(),
            101_500
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(200)).unix_secs(), -100);
        // Sub-millisecond parts are dropped, not rounded.
        assert_eq!(
            t.saturating_add(Duration::from_micros(1_999)).unix_millis(),
            100_001
        );
        assert_eq!(t.saturating_add(Duration::MAX), Timestamp::MAX);
        assert_eq!(t.saturating_sub(Duration::MAX), Timestamp::MIN);
        assert_eq!(
            Timestamp::MAX.saturating_add(Duration::from_millis(1)),
            Timestamp::MAX
        );
        assert_eq!(
            Timestamp::MIN.saturating_sub(Duration::from_millis(1)),
            Timestamp::MIN
        );

        let later = Timestamp::from_unix_millis(100_250);
        assert_eq!(
            later.checked_duration_since(t),
            Some(Duration::from_millis(250))
        );
        assert_eq!(t.checked_duration_since(t), Some(Duration::ZERO));
        assert_eq!(t.checked_duration_since(later), None);
        assert_eq!(
            Timestamp::MAX.checked_duration_since(Timestamp::MIN),
            Some(Duration::from_millis((MAX_MILLIS - MIN_MILLIS) as u64))
        );
    }

    #[test]
    fn timestamp_serde_is_an_rfc3339_string() {
        let t = Timestamp::from_unix_millis(1_795_435_200_120);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-23T12:00:00.120Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"2026-11-23T14:00:00.12+02:00\"").unwrap(),
            t
        );
        for bad in ["\"2026-02-30T00:00:00Z\"", "1795435200", "null", "\"\""] {
            assert!(serde_json::from_str::<Timestamp>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }

    #[test]
    fn parse_duration_accepts() {
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        let cases: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("0h0m", Duration::ZERO),
            ("90", s(90)),
            ("007", s(7)),
            ("250ms", ms(250)),
            ("1s", s(1)),
            ("10s", s(10)),
            ("60s", s(60)),
            ("5m", s(300)),
            ("90m", s(5_400)),
            ("1h", s(3_600)),
            ("12h", s(43_200)),
            ("1h30m", s(5_400)),
            ("1h30s", s(3_630)),
            ("1m30s", s(90)),
            ("1s500ms", ms(1_500)),
            ("1500ms", ms(1_500)),
            ("1h2m3s4ms5us6ns", Duration::new(3_723, 4_005_006)),
            ("7us", Duration::from_micros(7)),
            ("7ns", Duration::from_nanos(7)),
            ("18446744073709551615", s(u64::MAX)),
            ("18446744073709551615s999ms999us999ns", Duration::MAX),
            ("5124095576030431h", s(5_124_095_576_030_431 * 3_600)),
        ];
        for &(text, d) in cases {
            assert_eq!(parse_duration(text), Some(d), "{text}");
        }
    }

    #[test]
    fn parse_duration_rejects() {
        let bad = [
            "",
            " ",
            "s",
            "ms",
            "-1",
            "-1s",
            "+1s",
            "1.5s",
            "1.5",
            "1,5s",
            " 1s",
            "1s ",
            "1 s",
            "1h 30m",
            "1S",
            "1H",
            "1Ms",
            "1d",
            "1w",
            "1sec",
            "1µs",
            "1x",
            "1h30",
            "30m1h",
            "1s1m",
            "1m1m",
            "1ms1s",
            "h1",
            "1hh",
            "0x10",
            "1e3",
            "18446744073709551616",
            "18446744073709551616s",
            "5124095576030432h",
            "18446744073709551615s1000ms",
            "99999999999999999999999999999999999999999999h",
            "１s",
        ];
        for text in bad {
            assert_eq!(parse_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn format_duration_is_canonical_and_round_trips() {
        let cases: &[(Duration, &str)] = &[
            (Duration::ZERO, "0s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(3_600), "1h"),
            (Duration::from_secs(5_400), "1h30m"),
            (Duration::from_secs(43_200), "12h"),
            (Duration::from_secs(46_800), "13h"),
            (Duration::from_secs(90_061), "25h1m1s"),
            (Duration::from_millis(1_500), "1s500ms"),
            (Duration::new(3_723, 4_005_006), "1h2m3s4ms5us6ns"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::MAX, "5124095576030431h15s999ms999us999ns"),
        ];
        for &(d, text) in cases {
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Some(d), "{text}");
        }
        let mut nanos: u128 = 1;
        while nanos < u128::from(u64::MAX) * 1_000_000_000 {
            let d = Duration::new(
                (nanos / 1_000_000_000) as u64,
                (nanos % 1_000_000_000) as u32,
            );
            assert_eq!(parse_duration(&format_duration(d)), Some(d), "{d:?}");
            nanos = nanos * 7 + 3;
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Config {
        #[serde(with = "duration_serde")]
        timeout: Duration,
        #[serde(with = "duration_serde::vec", default)]
        steps: Vec<Duration>,
        #[serde(with = "duration_serde::option", default)]
        grace: Option<Duration>,
    }

    #[test]
    fn duration_serde_reads_strings_and_seconds() {
        let c: Config =
            serde_json::from_str(r#"{"timeout":"1h30m","steps":["250ms",10,"5m"],"grace":90}"#)
                .unwrap();
        assert_eq!(
            c,
            Config {
                timeout: Duration::from_secs(5_400),
                steps: vec![
                    Duration::from_millis(250),
                    Duration::from_secs(10),
                    Duration::from_secs(300)
                ],
                grace: Some(Duration::from_secs(90)),
            }
        );
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"timeout":"1h30m","steps":["250ms","10s","5m"],"grace":"1m30s"}"#
        );

        let c: Config = toml::from_str("timeout = 30\nsteps = [\"1s\", 60]\n").unwrap();
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.steps, [Duration::from_secs(1), Duration::from_secs(60)]);
        assert_eq!(c.grace, None);
        let back: Config = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);

        let c: Config = serde_json::from_str(r#"{"timeout":"0s","grace":null}"#).unwrap();
        assert_eq!(c.grace, None);
        assert!(c.steps.is_empty());
    }

    #[test]
    fn duration_serde_rejects_bad_values() {
        for bad in [
            r#"{"timeout":-1}"#,
            r#"{"timeout":1.5}"#,
            r#"{"timeout":"1.5s"}"#,
            r#"{"timeout":"10 s"}"#,
            r#"{"timeout":""}"#,
            r#"{"timeout":true}"#,
            r#"{"timeout":null}"#,
            r#"{"timeout":"1s","steps":["1s","x"]}"#,
            r#"{"timeout":"1s","grace":"-5s"}"#,
        ] {
            assert!(serde_json::from_str::<Config>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<Config>(r#"{"timeout":"5 min"}"#).unwrap_err();
        assert!(err.to_string().contains("\"1h30m\""), "{err}");
        assert!(toml::from_str::<Config>("timeout = -3").is_err());
    }

    /// A deterministic stand-in for the fuzzer: random and mutated inputs must never panic.
    #[test]
    fn parsers_never_panic() {
        let seeds = [
            "2026-11-23T12:00:00.123456+02:00",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "1h2m3s4ms5us6ns",
            "18446744073709551615",
        ];
        let alphabet = "0123456789-:.+ ,TtZzGMSunNovhmsµ２\u{0}";
        crate::testkit::mangle_text(&seeds, alphabet, 40, 0x9E37_79B9_7F4A_7C15, |s| {
            let _ = Timestamp::parse_rfc3339(s);
            let _ = Timestamp::parse_http_date(s);
            let _ = parse_duration(s);
        });
    }
}

/// The hand-written date parsers checked against well-kept crates over many generated inputs.
///
/// They stay hand-written on purpose: `httpdate` refuses dates before 1970 and a weekday that
/// does not match the date (RFC 9110 asks recipients to be lenient with it), and both crates
/// would add code to the Worker bundle for what a few dozen lines do here.
#[cfg(test)]
mod cross_checks {
    use super::*;
    use crate::testkit::xorshift;
    use std::time::UNIX_EPOCH;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    fn httpdate_millis(s: &str) -> Option<i64> {
        let t = httpdate::parse_http_date(s).ok()?;
        let d = t.duration_since(UNIX_EPOCH).ok()?;
        Some(i64::try_from(d.as_millis()).unwrap())
    }

    /// Every IMF-fixdate hookline writes is what `httpdate` writes, and both read it, and its
    /// RFC 850 and asctime spellings, as the same instant (1970..=9999, `httpdate`'s range).
    #[test]
    fn http_dates_agree_with_httpdate() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let max_secs = MAX_MILLIS / MILLIS_PER_SEC;
        for i in 0..20_000u64 {
            let secs = match i {
                0 => 0,
                1 => max_secs,
                _ => i64::try_from(next() % u64::try_from(max_secs).unwrap()).unwrap(),
            };
            let t = Timestamp::from_unix_secs(secs);
            let imf = t.to_http_date();
            let system = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap());
            assert_eq!(imf, httpdate::fmt_http_date(system), "{secs}");
            assert_eq!(Timestamp::parse_http_date(&imf), Some(t));
            assert_eq!(httpdate_millis(&imf), Some(t.unix_millis()), "{imf}");

            // The same instant in the two obsolete forms.
            let (wd, rest) = imf.split_once(", ").unwrap();
            let parts: Vec<&str> = rest.split(' ').collect();
            let (day, month, year, hms) = (parts[0], parts[1], parts[2], parts[3]);
            let long = WEEKDAYS_LONG[WEEKDAYS.iter().position(|w| *w == wd).unwrap()];
            let day_num: u32 = day.parse().unwrap();
            let asctime = format!("{wd} {month} {day_num:>2} {hms} {year}");
            assert_eq!(Timestamp::parse_http_date(&asctime), Some(t), "{asctime}");
            assert_eq!(
                httpdate_millis(&asctime),
                Some(t.unix_millis()),
                "{asctime}"
            );
            let yy: i64 = year.parse::<i64>().unwrap();
            if (1970..2070).contains(&yy) {
                let rfc850 = format!("{long}, {day}-{month}-{:02} {hms} GMT", yy % 100);
                assert_eq!(Timestamp::parse_http_date(&rfc850), Some(t), "{rfc850}");
                assert_eq!(httpdate_millis(&rfc850), Some(t.unix_millis()), "{rfc850}");
            }
        }
        // Where hookline is more lenient, on purpose: a weekday that does not match the date,
        // and dates before 1970.
        let wrong_weekday = "Mon, 06 Nov 1994 08:49:37 GMT";
        assert!(Timestamp::parse_http_date(wrong_weekday).is_some());
        assert!(httpdate::parse_http_date(wrong_weekday).is_err());
        let before_1970 = "Wed, 31 Dec 1969 23:59:59 GMT";
        assert_eq!(
            Timestamp::parse_http_date(before_1970),
            Some(Timestamp::from_unix_secs(-1))
        );
        assert!(httpdate::parse_http_date(before_1970).is_err());
    }

    fn time_millis(s: &str) -> Option<i64> {
        let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        // Truncated towards the past, as hookline drops digits beyond milliseconds.
        Some(i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap())
    }

    /// Generated RFC 3339 date-times, valid and mangled: every one hookline accepts, `time`
    /// accepts too and reads as the same instant (to the millisecond). Where `time` accepts and
    /// hookline does not, hookline is stricter on purpose: a `:60` leap second, instants
    /// outside years 0000..=9999 once the offset is applied, and a separator other than `T` or
    /// `t` between date and time (`time` takes any byte there, RFC 3339 only names a space).
    #[test]
    fn rfc3339_agrees_with_time() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let mut both = 0;
        let mut only_time = Vec::new();
        for _ in 0..50_000 {
            let n = |next: &mut dyn FnMut() -> u64, m: u64| next() % m;
            let frac_len = n(&mut next, 12) as usize;
            let frac: String = (0..frac_len)
                .map(|_| char::from(b'0' + n(&mut next, 10) as u8))
                .collect();
            let offset = match n(&mut next, 4) {
                0 => "Z".to_owned(),
                1 => "z".to_owned(),
                _ => format!(
                    "{}{:02}:{:02}",
                    if n(&mut next, 2) == 0 { '+' } else { '-' },
                    n(&mut next, 25),
                    n(&mut next, 61)
                ),
            };
            let mut s = format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}{frac}{offset}",
                n(&mut next, 10_000),
                n(&mut next, 13),
                n(&mut next, 32),
                if n(&mut next, 4) == 0 { 't' } else { 'T' },
                n(&mut next, 25),
                n(&mut next, 61),
                n(&mut next, 61),
                if frac_len > 0 { "." } else { "" },
            );
            if n(&mut next, 8) == 0 {
                // A mangled byte: both must still agree on whatever they both accept.
                let i = n(&mut next, s.len() as u64) as usize;
                let b = b"0:-+.TZ x9"[n(&mut next, 10) as usize];
                s.replace_range(i..=i, &char::from(b).to_string());
            }
            let ours = Timestamp::parse_rfc3339(&s).map(Timestamp::unix_millis);
            let theirs = time_millis(&s);
            match (ours, theirs) {
                (Some(a), Some(b)) => {
                    assert_eq!(a, b, "{s}");
                    both += 1;
                }
                (Some(_), None) => panic!("hookline accepts what `time` refuses: {s}"),
                (None, Some(_)) => only_time.push(s),
                (None, None) => {}
            }
        }
        assert!(both > 5_000, "too few valid inputs generated: {both}");
        for s in &only_time {
            let leap_second = s.get(17..19) == Some("60");
            let year: i64 = s.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
            let near_the_ends = year == 0 || year == 9999;
            let other_separator = !matches!(s.as_bytes().get(10), Some(b'T' | b't'));
            assert!(
                leap_second || near_the_ends || other_separator,
                "`time` accepts what hookline refuses, for no documented reason: {s}"
            );
        }
    }
}
