//! The `dongne` command: parse, set up logging, dispatch, map errors to exit codes.
//! The subcommands live here, on the binary side ([`cmd`]), so the library does
//! not depend on clap or indicatif.

mod cmd;

use std::io::IsTerminal;

use clap::Parser;
use cmd::{Cli, LogFormat};
use dongne::error::exit;

fn main() {
    let cli = Cli::parse();
    init_logging(&cli.log);
    match cmd::run(cli) {
        Ok(()) => std::process::exit(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

/// Logs go to stderr: plain lines for people, one JSON object per line for
/// pipelines. `RUST_LOG` overrides the level.
fn init_logging(log: &cmd::LogArgs) {
    use tracing_subscriber::EnvFilter;
    let level = if log.quiet { "error" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match log.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder
            .without_time()
            .with_target(false)
            .with_level(true)
            .init(),
    }
}
