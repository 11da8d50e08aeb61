//! `dongne evaluate`: dongne's neighborhoods side by side with H3 cells and
//! the admin units, on the inputs they were drawn from.
//!
//! ```text
//! dongne generate --config examples/jamsil.toml -o out/jamsil.gpkg
//! dongne evaluate out/jamsil.gpkg --config examples/jamsil.toml
//! dongne evaluate nbhd.gpkg --osm extract.osm.pbf --admin-level 8 \
//!     --json eval.json --csv eval.csv
//! ```
//!
//! The input layers and parameters are given as to `generate` (same flags,
//! same `--config`): they must be the ones the neighborhoods were drawn
//! from. Prints a table (stdout); `--json` and `--csv` write the same
//! figures to files. What each figure means is in the documentation of
//! [`dongne::products::evaluate`].

use std::path::PathBuf;

use super::generate::ParamArgs;
use super::{LayerArgs, LogArgs, NeighborhoodsArg};
use dongne::error::{Error, Result};
use dongne::io::{inputs, write};
use dongne::products::{evaluate, locate};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub neighborhoods: NeighborhoodsArg,
    /// Which level of the layer (`dongne generate --levels`): 1 is the neighborhoods as drawn.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub level: u32,
    #[command(flatten)]
    pub layers: LayerArgs,
    #[command(flatten)]
    pub params: ParamArgs,
    /// Write the figures as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    /// Official finer units to compare edges with (PATH[:LAYER]): recall, precision and F1 of every level's inner edges, of H3 and of the admin units.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub reference: Option<dongne::io::config::LayerConfig>,
    /// Attribute filter on the reference layer, as ogr2ogr's -where (e.g. "admin_level='10'").
    #[arg(long, value_name = "SQL", requires = "reference")]
    pub reference_where: Option<String>,
    /// Two edges closer than this agree [default: 30].
    #[arg(long, value_name = "METRES", requires = "reference")]
    pub tolerance: Option<f64>,
    /// Write the figures as CSV (one row per partition).
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let mut cfg = a.layers.to_config()?;
    a.params.apply(&mut cfg.params);
    cfg.validate()?;
    let all_levels = locate::read_neighborhoods(a.neighborhoods.layer()?)?;
    let layer = all_levels.clone().at_level(a.level)?;
    let tol = a.tolerance.unwrap_or(evaluate::DEFAULT_TOLERANCE_M);
    if !(tol.is_finite() && tol > 0.0) {
        return Err(Error::input(format!(
            "--tolerance must be a positive number of metres, got {tol}"
        )));
    }
    let loaded = inputs::load(&cfg)?;
    let geoms = layer.geoms_in(&loaded.crs.spatial_ref()?)?;
    let kinds: Vec<String> = layer.info.iter().map(|i| i.kind.clone()).collect();
    let mut e = evaluate::evaluate(&loaded.inputs, &cfg.params, &loaded.crs, &geoms, &kinds)?;
    e.naming = evaluate::naming(&layer);
    if let Some(spec) = &a.reference {
        let mut spec = spec.clone();
        spec.where_sql = a.reference_where.clone();
        let refs = evaluate::read_reference(&spec, &loaded.crs)?;
        e.reference = Some(evaluate::against_reference(
            &all_levels,
            &loaded.inputs,
            &loaded.crs,
            &refs,
            tol,
        )?);
    }
    print!("{}", evaluate::table(&e));
    if let Some(rows) = &e.reference {
        print!("{}", evaluate::reference_table(rows, tol));
    }
    if let Some(path) = &a.json {
        let text = serde_json::to_string_pretty(&e).map_err(|e| Error::internal(e.to_string()))?;
        write::atomic_write_bytes(path, format!("{text}\n").as_bytes())?;
    }
    if let Some(path) = &a.csv {
        write::atomic_write_bytes(path, evaluate::csv(&e).as_bytes())?;
    }
    if !log.quiet {
        tracing::info!(
            "evaluated {} ({} features) against {} admin units",
            layer.source.file,
            layer.info.len(),
            e.partitions.last().map_or(0, |p| p.units)
        );
    }
    Ok(())
}
