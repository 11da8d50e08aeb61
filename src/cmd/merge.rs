//! `dongne merge`: the part files of `generate --shard K/N` put together.
//!
//! ```text
//! dongne generate --config country.toml --shard 1/4 -o parts/1.dpart    # on four machines,
//! dongne generate --config country.toml --shard 2/4 -o parts/2.dpart    # or as four tasks
//! ...
//! dongne merge parts/*.dpart -o nbhd.gpkg --previous nbhd.gpkg --changes changes.json
//! ```
//!
//! The merge checks that every shard 1..N of one run is there once, nodes
//! the boundaries between units, numbers the ids, carries yesterday's ids
//! over and writes the layer (any output of `generate`, PostGIS too), the
//! change report and the summary. The layer is byte-identical to what one
//! `generate` of the same inputs writes.

use std::path::PathBuf;
use std::time::Instant;

use super::deliver::{deliver, Delivery, StepTime};
use super::progress::{with_progress, Progress};
use super::{DeliveryArgs, LogArgs};
use dongne::error::{Error, Result};
use dongne::io::postgis::TableName;
use dongne::io::write;
use dongne::method::pipeline;
use dongne::method::shards::{self, Part};
use dongne::products::ids::{self, Previous};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The part files, one per shard (any order).
    #[arg(required = true, value_name = "PART")]
    pub parts: Vec<PathBuf>,
    /// Output file (.geojson, .gpkg, .fgb, .shp, .parquet), or "PG:dbname=…" with --table.
    #[arg(short, long, value_name = "PATH", help_heading = "Output")]
    pub output: PathBuf,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    with_progress(log, |progress| run_steps(a, log, progress))
}

fn run_steps(a: &Args, log: &LogArgs, progress: &Progress) -> Result<()> {
    let started = Instant::now();
    let mut steps = Vec::new();
    let dest = write::Destination::new(&a.output, a.delivery.table.as_deref())?;
    write::check_target(&dest, false)?;
    for extra in a.delivery.summary.iter().chain(&a.delivery.changes) {
        write::check_writable(extra)?;
    }
    let table = match (&a.delivery.previous, &a.delivery.table) {
        (Some(_), Some(t)) => Some(TableName::parse(t)?),
        _ => None,
    };
    if let Some(p) = &a.delivery.previous {
        ids::check_openable(p, table.as_ref())?;
    }
    progress.stage("reading part files");
    let t = Instant::now();
    let parts = a
        .parts
        .iter()
        .map(|p| Ok((p.display().to_string(), Part::read(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let n = parts.len();
    let merged = shards::merge(parts)?;
    let crs = merged.crs;
    let computed = pipeline::Computed::from_parts(merged.units, merged.names, merged.report);
    steps.push(StepTime {
        step: "read",
        seconds: t.elapsed().as_secs_f64(),
    });
    let previous = match &a.delivery.previous {
        Some(path) => Some(Previous::read(path, table.as_ref(), &crs)?),
        None => None,
    };
    progress.stage("putting the units together");
    let t = Instant::now();
    let out = pipeline::assemble(computed, None)?;
    steps.push(StepTime {
        step: "pipeline",
        seconds: t.elapsed().as_secs_f64(),
    });
    if out.features.is_empty() {
        return Err(Error::input("the part files hold no neighborhoods"));
    }
    let d = Delivery {
        dest: &dest,
        output: &a.output,
        changes: a.delivery.changes.as_deref(),
        summary: a.delivery.summary.as_deref(),
        preview: None,
        neighbours: None,
        previous: previous.as_ref(),
        levels: None,
        history: None,
        crs: &crs,
        layers: &[],
        cache: None,
        shards: Some(n),
        checks: None,
    };
    deliver(d, out, steps, started, log, progress)
}
