//! Output: colours only on a terminal (and never with `NO_COLOR`), one JSON object per line with
//! `--json`, so scripts read the same facts people see.
//!
//! Text that came from outside (request bodies, headers, paths, event types, ids, queue messages,
//! config values) goes through [`untrusted`] or [`untrusted_lines`] before it is printed, and every
//! JSON line through [`json_text`]: no terminal control sequence, C1 control or Unicode format
//! character (bidi overrides, zero-width characters) reaches the terminal raw. See
//! `docs/security.md`, "The CLI prints and serves safely".

use std::borrow::Cow;
use std::io::{IsTerminal as _, Write as _};

/// A colour (or weight) for a piece of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Success.
    Green,
    /// Warnings, retries.
    Yellow,
    /// Errors, refusals.
    Red,
    /// Names and ids.
    Cyan,
    /// Secondary detail.
    Dim,
    /// Headings.
    Bold,
}

/// How to print: colours on or off, human lines or JSON lines.
#[derive(Clone, Copy, Debug)]
pub struct Ui {
    /// Whether ANSI colours are written.
    pub color: bool,
    /// Whether output is one JSON object per line.
    pub json: bool,
}

/// `--color` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Ui {
    /// Decides colours from the choice, the terminal and `NO_COLOR`.
    pub fn new(choice: ColorChoice, json: bool) -> Self {
        let color = !json
            && match choice {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
        Self { color, json }
    }

    /// Plain output, for tests.
    pub fn plain() -> Self {
        Self {
            color: false,
            json: false,
        }
    }

    /// `text` in `style` (unchanged without colours).
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        let code = match style {
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
            Style::Dim => "2",
            Style::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Writes one line to stdout (ignoring a closed pipe: `hookline listen | head` must not
    /// panic); once [`write_lines_in_background`] was called, hands it to the writer thread.
    pub fn line(&self, text: &str) {
        if let Some(lines) = LINES.get() {
            lines.push(text);
            if FALLBACK.load(std::sync::atomic::Ordering::Relaxed) {
                lines.flush();
            }
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// Writes one JSON object as a line to stdout, with [`json_text`]'s escapes: a `Value`, or a
    /// struct written straight from its fields (no `Value` tree built for a line printed often).
    pub fn json_line(&self, value: &impl serde::Serialize) {
        // What is printed serialises (strings, numbers, string-keyed maps); anything that
        // could not would print nothing rather than half a line.
        if let Ok(text) = serde_json::to_string(value) {
            self.line(&json_escape(&text));
        }
    }

    /// Writes one line to stderr (progress, hints).
    pub fn note(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// Human line or JSON object, whichever the mode asks for.
    pub fn emit(&self, human: impl FnOnce() -> String, json: impl FnOnce() -> serde_json::Value) {
        if self.json {
            self.json_line(&json());
        } else {
            self.line(&human());
        }
    }
}

/// The lines waiting for the writer thread ([`write_lines_in_background`]).
static LINES: std::sync::OnceLock<Lines> = std::sync::OnceLock::new();

/// How long the writer thread lets lines gather before it writes them: a person does not see
/// it, and under load one `write` then carries many lines instead of one each.
const GATHER: std::time::Duration = std::time::Duration::from_micros(500);

/// The most bytes of lines left to the writer thread; past it, the line that filled it is
/// written (with all before it) by the caller, so that a reader that does not keep up slows the
/// printing instead of growing the buffer.
const MAX_PENDING: usize = 1 << 20;

/// Lines waiting to be written, in the order they were printed.
struct Lines {
    pending: std::sync::Mutex<Vec<u8>>,
    /// Wakes the writer thread when lines arrive.
    arrived: std::sync::Condvar,
    /// Held while lines taken from `pending` are written, so that [`flush_lines`] also waits
    /// for lines the writer thread took before it.
    writing: std::sync::Mutex<()>,
    /// [`MAX_PENDING`] (smaller in tests).
    max_pending: usize,
}

impl Lines {
    fn push(&self, text: &str) {
        let mut pending = lock(&self.pending);
        let was_empty = pending.is_empty();
        pending.extend_from_slice(text.as_bytes());
        pending.push(b'\n');
        let full = pending.len() >= self.max_pending;
        drop(pending);
        if full {
            // Whatever reads stdout is not keeping up: write here, and wait for it, as a line
            // written directly would (memory stays bounded; the pipe sets the pace).
            self.flush();
        } else if was_empty {
            self.arrived.notify_one();
        }
    }

    /// Writes every line pushed before the call (and returns once they are written).
    fn flush(&self) {
        let _writing = lock(&self.writing);
        let batch = std::mem::take(&mut *lock(&self.pending));
        if !batch.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&batch);
            let _ = out.flush();
        }
    }

    /// The writer thread's loop: waits for lines, lets more gather, writes them all at once.
    fn run(&self) {
        loop {
            let mut pending = lock(&self.pending);
            while pending.is_empty() {
                pending = self
                    .arrived
                    .wait(pending)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            drop(pending);
            std::thread::sleep(GATHER);
            self.flush();
        }
    }
}

/// A lock that a panic elsewhere does not poison for the printing (a line is a line).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// From now on, [`Ui::line`] (and so every line on stdout) hands its line to a thread of its
/// own, which writes the lines printed within about half a millisecond with one `write`: a
/// `write` (and a wake-up of whatever reads the pipe) per line was a tenth of `hookline dev`'s
/// CPU under load. Lines keep their order. A line can then still be in memory when the process
/// is killed: [`flush_lines`] writes them out before a step that must not outrun its lines
/// (`hookline dev` calls it before it deletes a delivered batch), and before exiting.
/// Falls back to writing each line itself if the thread cannot be started.
pub fn write_lines_in_background() {
    let mut first = false;
    let lines = LINES.get_or_init(|| {
        first = true;
        Lines {
            pending: std::sync::Mutex::new(Vec::with_capacity(64 * 1024)),
            arrived: std::sync::Condvar::new(),
            writing: std::sync::Mutex::new(()),
            max_pending: MAX_PENDING,
        }
    });
    if first {
        let spawned = std::thread::Builder::new()
            .name("hookline-stdout".into())
            .spawn(move || lines.run());
        if spawned.is_err() {
            // No writer: each push would wait forever. Flush at every line instead (by hand:
            // the OnceLock cannot be emptied).
            FALLBACK.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Set when the writer thread could not start: [`Ui::line`] then flushes each line itself.
static FALLBACK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes every line printed so far (returns once they are written); a no-op unless
/// [`write_lines_in_background`] was called.
pub fn flush_lines() {
    if let Some(lines) = LINES.get() {
        lines.flush();
    }
}

/// Whether `c` must not reach a terminal raw: C0 and C1 controls and DEL (`ESC`, the 8-bit `CSI`
/// and `OSC` start escape sequences: cursor moves, title changes, OSC 52 clipboard writes), the
/// line and paragraph separators, and the Unicode format characters (category Cf: bidi
/// overrides and isolates, zero-width characters, the BOM, tag characters) that can make a line
/// read differently from what it holds. The list of Cf ranges follows Unicode 16.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// `text` with every [`is_unsafe`] character not in `keep` written out visibly (`\n`, `\r`,
/// `\t`, otherwise `\u{1b}`); borrowed when nothing needed escaping.
fn escape<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    let needs = |c: char| is_unsafe(c) && !keep.contains(&c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !needs(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.extend(c.escape_unicode()),
        }
    }
    Cow::Owned(out)
}

/// An untrusted string for one line of output (a path, a header, an id, an event type, a config
/// value): every [`is_unsafe`] character, newlines and tabs included, is written out visibly, so
/// the text can neither drive the terminal nor start a line of its own.
pub fn untrusted(text: &str) -> Cow<'_, str> {
    escape(text, &[])
}

/// An untrusted text of several lines (a body): as [`untrusted`], but newlines and tabs are kept.
/// `\r` is still written out: it would return to the start of the line and overwrite it.
/// Callers indent the lines, so none can pass for a line of hookline's own.
pub fn untrusted_lines(text: &str) -> Cow<'_, str> {
    escape(text, &['\n', '\t'])
}

/// `value` as one line of JSON whose text holds no [`is_unsafe`] character: serde_json escapes
/// the C0 controls itself; DEL, the C1 controls and the format characters it leaves raw are
/// written as `\uXXXX` escapes here, which every JSON reader decodes to the same value.
pub fn json_text(value: &serde_json::Value) -> String {
    json_escape(&value.to_string()).into_owned()
}

/// Compact JSON text (no whitespace between tokens, as serde_json writes it) with every
/// [`is_unsafe`] character written as a `\uXXXX` escape. Such characters can only sit inside
/// strings in compact JSON, where the escape means the same character.
pub fn json_escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_pending_limit_are_written_by_the_caller_not_left_to_grow() {
        // No writer thread: only the limit can empty the buffer.
        let lines = Lines {
            pending: std::sync::Mutex::new(Vec::new()),
            arrived: std::sync::Condvar::new(),
            writing: std::sync::Mutex::new(()),
            max_pending: 16,
        };
        lines.push("hookline test");
        assert_eq!(
            lock(&lines.pending).len(),
            14,
            "under the limit: left to the writer"
        );
        lines.push("hookline test");
        assert!(
            lock(&lines.pending).is_empty(),
            "at the limit: written by the caller"
        );
    }

    /// One of each kind the terminal would act on, or that reads as something else.
    const NASTY: [char; 14] = [
        '\u{1b}',
        '\u{7}',
        '\u{0}',
        '\r',
        '\u{7f}',
        '\u{9b}',
        '\u{9d}',
        '\u{202e}',
        '\u{2066}',
        '\u{200b}',
        '\u{feff}',
        '\u{2028}',
        '\u{e0041}',
        '\u{ad}',
    ];

    #[test]
    fn untrusted_text_holds_no_unsafe_character() {
        for c in NASTY.into_iter().chain(['\n', '\t']) {
            let text = format!("a{c}b");
            let shown = untrusted(&text);
            assert!(!shown.chars().any(is_unsafe), "{c:?} -> {shown:?}");
            assert!(shown.starts_with('a') && shown.ends_with('b'), "{shown:?}");
        }
        assert_eq!(
            untrusted("\u{1b}]52;c;aGk=\u{7}"),
            "\\u{1b}]52;c;aGk=\\u{7}"
        );
        assert_eq!(untrusted("x\ny\tz\r"), "x\\ny\\tz\\r");
        assert_eq!(untrusted("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
    }

    #[test]
    fn bodies_keep_newlines_and_tabs_only() {
        assert_eq!(untrusted_lines("a\n\tb"), "a\n\tb");
        for c in NASTY {
            let shown = untrusted_lines(&format!("a{c}b")).into_owned();
            assert!(!shown.chars().any(is_unsafe), "{c:?} -> {shown:?}");
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["order.created", "évènement ✔ 日本語 🎉", "a \\u{1b} b", ""] {
            assert!(matches!(untrusted(text), Cow::Borrowed(t) if t == text));
            assert!(matches!(json_escape(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn json_lines_escape_what_serde_leaves_raw_and_keep_the_value() {
        for c in NASTY.into_iter().chain(['\n', '\t']) {
            let value = serde_json::json!({ "type": format!("a{c}b"), "n": [1, "x"] });
            let text = json_text(&value);
            assert!(!text.chars().any(is_unsafe), "{c:?} -> {text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value, "{text}");
        }
        assert_eq!(
            json_text(&serde_json::json!("\u{9b}\u{e0041}")),
            "\"\\u009b\\udb40\\udc41\""
        );
    }

    #[test]
    fn unsafe_covers_the_control_and_format_ranges() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in [
            'a', ' ', '~', '\u{a0}', 'é', '\u{2027}', '\u{2030}', '\u{fffd}',
        ] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }
}
