//! The `hookline` binary: parses the command line and hands each subcommand to its module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hookline_cli::ui::ColorChoice;
use hookline_cli::{CliError, Ui, check, dev, listen, log, replay, send, sign};

/// hookline: verified inbound webhooks and signed, retried outbound webhooks, on the edge or on
/// your laptop.
#[derive(Debug, Parser)]
#[command(name = "hookline", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// Print one JSON object per line instead of human-readable text.
    #[arg(long, global = true)]
    json: bool,
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// Each line fits 80 columns, so `--help` never wraps one (clap wraps at the terminal's width):
/// every example can be copied and pasted as printed (`cli/tests/cli/check.rs` runs them).
const EXAMPLES: &str = "\
Examples:
  hookline dev                 # receiver + queue + sender on 127.0.0.1:8787
  hookline listen --port 9000  # a sink that verifies and prints deliveries
  hookline sign --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \\
    --curl http://127.0.0.1:8787/hooks/demo | sh
  hookline send --dev --type order.created --data '{\"id\":1}'
  hookline replay --dev --dry-run
  hookline log --status fail --since 1h
  hookline check --strict

Exit codes: 0 ok, 1 problems found, 2 usage, 69 service unavailable, 74 file error, 78 bad configuration.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole system locally: receiver, embedded durable queue and sender.
    Dev(dev::Args),
    /// Print the headers (or a curl command) a provider would send for a body.
    Sign(sign::Args),
    /// Run a local sink that verifies Standard Webhooks signatures and prints deliveries.
    Listen(listen::Args),
    /// Enqueue an outbound event on SQS or on `hookline dev`.
    Send(send::Args),
    /// Move dead-lettered messages back to their queue.
    Replay(replay::Args),
    /// Show the delivery history (attempts, messages' status, endpoint stats) of `hookline dev`
    /// or a deployed API.
    Log(log::Args),
    /// Validate hookline.toml, wrangler.toml and template.yaml against each other.
    Check(check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.color, cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui.note(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(hookline_cli::error::exit::UNAVAILABLE);
        }
    };
    let result: Result<(), CliError> = runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => dev::run(args, ui).await,
            Command::Sign(args) => sign::run(args, ui),
            Command::Listen(args) => listen::run(args, ui).await,
            Command::Send(args) => send::run(args, ui).await,
            Command::Replay(args) => replay::run(args, ui).await,
            Command::Log(args) => log::run(args, ui).await,
            Command::Check(args) => check::run(args, ui),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            // Messages may quote what a file, a queue or a server said: never raw to the terminal.
            if !message.is_empty() {
                if ui.json {
                    ui.note(&hookline_cli::ui::json_text(
                        &serde_json::json!({"error": message}),
                    ));
                } else {
                    ui.note(&format!(
                        "{} {}",
                        ui.paint(hookline_cli::ui::Style::Red, "error:"),
                        hookline_cli::ui::untrusted_lines(&message)
                    ));
                }
            }
            e.exit_code()
        }
    }
}
