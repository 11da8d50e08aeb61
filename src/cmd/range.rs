//! `dongne range`: how far "my neighborhood" reaches (Daangn's 동네 범위).
//!
//! ```text
//! dongne generate --osm monaco.osm.pbf --admin-level 8 --levels 10 --neighbours -o m.gpkg
//! dongne range m.gpkg --id r2220322-004 --steps 2
//! dongne range m.geojson --id r2220322-004 --steps 1 --across-hard
//! ```
//!
//! Lists the neighborhood and those within `--steps` borders of it, at its
//! own level, over the neighbour table `generate --neighbours` wrote (inside
//! a GeoPackage, `OUT.neighbours.csv` beside other files, or
//! `--neighbours FILE.csv`). A border along a hard barrier (water, rail,
//! motorway, trunk: `generate --hard-barriers`) is not crossed unless
//! `--across-hard`; admin lines are, unless `--within-unit`.
//!
//! Output: CSV (stdout, or `-o FILE.csv`): `nbhd_id`, `steps`, `name`,
//! `admin_code`, in order of steps, then id.

use std::path::PathBuf;

use super::{LogArgs, NeighborhoodsArg};
use dongne::error::{Error, Result};
use dongne::products::locate;
use dongne::products::range::{self, RangeOptions};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub neighborhoods: NeighborhoodsArg,
    /// The neighborhood to start from (its nbhd_id).
    #[arg(long, value_name = "NBHD_ID")]
    pub id: String,
    /// How many borders away [default: 1].
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub steps: u32,
    /// Cross borders along hard barriers (water, rail, motorways) too.
    #[arg(long)]
    pub across_hard: bool,
    /// Stay within the start's admin unit.
    #[arg(long)]
    pub within_unit: bool,
    /// The neighbour table, when it is not inside the layer's GeoPackage or beside its file.
    #[arg(long, value_name = "FILE.csv")]
    pub neighbours: Option<PathBuf>,
    /// Write the CSV here instead of to stdout.
    #[arg(short, long, value_name = "FILE.csv")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let spec = a.neighborhoods.layer()?;
    let layer = locate::read_neighborhoods(spec)?;
    let Some(k) = layer.info.iter().position(|i| i.nbhd_id == a.id) else {
        return Err(Error::input(format!("no feature with nbhd_id '{}'", a.id))
            .file(layer.source.file.clone())
            .layer(layer.source.layer.clone())
            .hint("give an nbhd_id of the layer, e.g. from dongne locate"));
    };
    let start = &layer.info[k];
    let table = range::read_table(&range::table_source(spec, a.neighbours.as_deref())?)?;
    let table: Vec<range::Edge> = table
        .into_iter()
        .filter(|e| e.level == start.level)
        .collect();
    let opts = RangeOptions {
        across_hard: a.across_hard,
        within_unit: a.within_unit,
    };
    let found = range::within_steps(&table, &a.id, a.steps, opts);
    let by_id: std::collections::HashMap<&str, &locate::FeatureInfo> =
        layer.info.iter().map(|i| (i.nbhd_id.as_str(), i)).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::internal(format!("range CSV: {e}"));
    w.write_record(["nbhd_id", "steps", "name", "admin_code"])
        .map_err(err)?;
    for (id, steps) in &found {
        let info = by_id.get(id.as_str());
        w.write_record([
            id.as_str(),
            &steps.to_string(),
            info.map_or("", |i| i.name.as_str()),
            info.map_or("", |i| i.admin_code.as_str()),
        ])
        .map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::internal(format!("range CSV: {e}")))?;
    super::emit(&bytes, a.output.as_deref())?;
    if !log.quiet {
        tracing::info!(
            "{} neighborhoods within {} steps of {}",
            found.len(),
            a.steps,
            a.id
        );
    }
    Ok(())
}
