//! dongne's integration tests, in one binary: each file of `tests/it/` is a
//! module (one GDAL-linking binary to build and link instead of fifteen).
//! Helpers shared by several modules live in [`common`].
//!
//! Run one module with `cargo test --release --test it -- real_data::`.

mod common;

mod atomic;
mod barrier_gaps;
mod cli_check;
mod cli_errors;
mod cli_logs;
mod determinism;
mod evaluate;
mod examples_parse;
mod history;
mod history_cli;
mod hostile;
mod io;
mod layout;
mod levels;
mod locate;
mod names;
mod neighbours;
mod osm_unclosed;
mod postgis;
mod preview;
mod properties;
mod real_data;
mod reruns;
mod scale;
mod stable_ids;
mod synthetic;
