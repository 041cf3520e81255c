//! Output: colours only on a terminal (and never with `NO_COLOR`), one JSON object per line with
//! `--json`, so scripts read the same facts people see.

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
    /// panic).
    pub fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// Writes one JSON object as a line to stdout.
    pub fn json_line(&self, value: &serde_json::Value) {
        self.line(&value.to_string());
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
