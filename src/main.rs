//! The `dongne` command: parse, set up logging, dispatch, map errors to exit codes.
//! The subcommands live here, on the binary side ([`cmd`]), so the library does
//! not depend on clap or indicatif.

mod cmd;

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::Parser;
use cmd::{Cli, LogFormat};
use dongne::error::exit;

/// mimalloc instead of glibc's allocator: the method makes and drops many
/// small vectors (rings, edge lists, R-tree nodes) on every thread, and
/// glibc's locking arenas cost 5–6 % of the pipeline's wall time on the
/// Liechtenstein footprints (docs/design.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse_from(bbox_values_first(std::env::args_os()));
    init_logging(&cli.log);
    let json = cli.log.log_format == LogFormat::Json;
    match cmd::run(cli) {
        Ok(()) => std::process::exit(exit::OK),
        Err(e) => {
            // A pipeline reading JSON logs gets the error as one more object.
            if json {
                tracing::error!(
                    file = e.file.as_deref(),
                    layer = e.layer.as_deref(),
                    feature = e.feature,
                    hint = e.hint.as_deref(),
                    exit_code = e.exit_code(),
                    "{}",
                    e.message
                );
            } else {
                eprintln!("error: {e}");
            }
            std::process::exit(e.exit_code());
        }
    }
}

/// `--bbox -122.52,37.70,-122.35,37.83`: a value that starts with a minus
/// and holds commas is the box, not a flag (clap would take it for one).
fn bbox_values_first(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        let negative_box = |n: &OsString| {
            n.to_str()
                .is_some_and(|n| n.starts_with('-') && n.contains(','))
        };
        if a == "--bbox" && args.peek().is_some_and(negative_box) {
            let mut joined = OsString::from("--bbox=");
            joined.push(args.next().unwrap_or_default());
            out.push(joined);
        } else {
            out.push(a);
        }
    }
    out
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
