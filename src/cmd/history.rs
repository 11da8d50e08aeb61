//! `dongne history`: the neighborhood layer as it was on a day, rebuilt from
//! the store `generate --history` keeps.
//!
//! ```text
//! dongne history out/history.gpkg --as-of 2026-11-01 -o nbhd-2026-11-01.gpkg
//! dongne history out/history.gpkg -o today.geojson
//! ```
//!
//! The layer holds the versions valid that day, in the order of the last
//! run on or before it; written in that run's format (the extension of
//! `-o`), it is the same bytes as that day's output (without debug layers).
//! The work is [`dongne::products::history`]'s.

use std::path::PathBuf;

use super::{LogArgs, LogFormat};
use dongne::error::Result;
use dongne::io::write;
use dongne::products::history::{Date, History};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The history store, a GeoPackage written by `dongne generate --history`.
    #[arg(value_name = "STORE.gpkg")]
    pub store: PathBuf,
    /// With a store "PG:…": its versions table (NAME_lineage and NAME_runs beside it).
    #[arg(long, value_name = "NAME")]
    pub history_table: Option<String>,
    /// The day, YYYY-MM-DD [default: today in UTC].
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// The layer to write; the format follows the extension (.geojson, .gpkg, .fgb, .shp, .parquet).
    #[arg(short, long, value_name = "PATH")]
    pub output: PathBuf,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let day = match &a.as_of {
        Some(text) => Date::parse_arg("--as-of", text)?,
        None => Date::today_utc(),
    };
    write::Format::from_path(&a.output)?;
    write::check_writable(&a.output)?;
    let text = a.store.to_string_lossy();
    let pg = dongne::io::postgis::is_connection(&text);
    if pg {
        let table = a.history_table.as_deref().ok_or_else(|| {
            dongne::error::Error::input("a PostGIS store needs --history-table NAME")
                .file(dongne::io::postgis::display(&text))
                .hint("add --history-table NAME, as generate --history-table was given")
        })?;
        let table = dongne::io::postgis::TableName::parse(table)?;
        let history = History::open_pg(&text, &table)?;
        return write_day(a, log, &history, day);
    }
    if !a.store.exists() {
        return Err(dongne::error::Error::input("file not found")
            .file(a.store.display().to_string())
            .hint("give the store that dongne generate --history wrote"));
    }
    let same = |p: &std::path::Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        std::fs::canonicalize(dir)
            .ok()
            .map(|d| d.join(p.file_name().unwrap_or_default()))
    };
    if same(&a.output).is_some() && same(&a.output) == same(&a.store) {
        return Err(dongne::error::Error::input(
            "-o names the history store: writing it would destroy it",
        )
        .file(a.output.display().to_string())
        .hint("write the layer to another file"));
    }
    let history = History::open(&a.store)?;
    write_day(a, log, &history, day)
}

/// Writes the layer of `day` to `-o`.
fn write_day(a: &Args, log: &LogArgs, history: &History, day: Date) -> Result<()> {
    let (features, crs) = history.at(day)?;
    write::write(&a.output, &features, &crs, None)?;
    if !log.quiet {
        match log.log_format {
            LogFormat::Json => tracing::info!(
                stage = "done",
                as_of = %day,
                features = features.len(),
                output = %a.output.display(),
                "done"
            ),
            LogFormat::Text => eprintln!(
                "dongne: {} features as of {day} → {}",
                features.len(),
                a.output.display()
            ),
        }
    }
    Ok(())
}
