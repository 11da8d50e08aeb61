//! `dongne generate`: the whole method, from input layers to a neighborhood layer.
//!
//! ```text
//! dongne generate --osm extract.osm.pbf --admin-level 8 -o nbhd.gpkg
//! dongne generate --buildings bld.shp --admin dong.shp --admin-code ADM_CD --admin-name ADM_NM \
//!     --roads roads.shp --water rivers.gpkg:river --parks parks.geojson -o nbhd.geojson
//! dongne generate --config examples/gongdeok.toml
//! ```
//!
//! The output format follows the extension of `-o`: `.geojson` (RFC 7946,
//! lon/lat), `.gpkg`, `.fgb`, `.shp`. The file is written beside the target
//! under a temporary name and renamed when complete.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use super::{LayerArgs, LogArgs, LogFormat};
use crate::error::{Error, Result};
use crate::pipeline::{self, RunReport};
use crate::{read, write};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub layers: LayerArgs,

    /// Output file; the format follows the extension (.geojson, .gpkg, .fgb, .shp).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Add `hotspots`, `enclosures` and `barriers` layers (GeoPackage output only).
    #[arg(long)]
    pub debug_layers: bool,
    /// Write the run's figures (inputs, counts, areas, stage times) as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub summary: Option<PathBuf>,

    #[command(flatten)]
    pub params: ParamArgs,
}

/// Parameters of the method; each overrides the config file.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Method parameters (metres, square metres)")]
pub struct ParamArgs {
    /// Buildings closer than this belong to one hot spot [default: 40].
    #[arg(long, value_name = "METRES")]
    pub eps: Option<f64>,
    /// Buildings a hot spot and a neighborhood need [default: 5].
    #[arg(long, value_name = "N")]
    pub min_buildings: Option<usize>,
    /// Smallest neighborhood; smaller ones join a neighbour [default: 20000].
    #[arg(long, value_name = "M2")]
    pub min_area: Option<f64>,
    /// Walk that bounds a neighborhood: farthest building ≤ minutes × 80 m from its centre [default: 10].
    #[arg(long, value_name = "MINUTES")]
    pub walk_minutes: Option<f64>,
    /// Give water, parks and mountains to the neighbouring neighborhoods instead of keeping them as features.
    #[arg(long)]
    pub fill_barriers: bool,
}

/// What `--summary` writes.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub version: &'a str,
    pub output: String,
    pub working_crs: String,
    pub inputs: &'a [read::LayerReport],
    pub run: &'a RunReport,
    pub area_m2: AreaStats,
    pub features_by_kind: std::collections::BTreeMap<String, usize>,
    pub seconds_total: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct AreaStats {
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let started = Instant::now();
    let mut cfg = a.layers.to_config()?;
    let p = &a.params;
    if let Some(v) = p.eps {
        cfg.params.eps = v;
    }
    if let Some(v) = p.min_buildings {
        cfg.params.min_buildings = v;
    }
    if let Some(v) = p.min_area {
        cfg.params.min_area = v;
    }
    if let Some(v) = p.walk_minutes {
        cfg.params.walk_minutes = v;
    }
    if p.fill_barriers {
        cfg.params.fill_barriers = true;
    }
    if let Some(o) = &a.output {
        cfg.output = Some(o.clone());
    }
    if a.debug_layers {
        cfg.debug_layers = true;
    }
    cfg.validate()?;
    let output = cfg.output.clone().ok_or_else(|| {
        Error::input("no output file: give -o PATH (.geojson, .gpkg, .fgb or .shp)")
    })?;
    write::check_target(&output, cfg.debug_layers)?;

    let t = Instant::now();
    let loaded = read::load(&cfg)?;
    let read_s = t.elapsed().as_secs_f64();
    for l in &loaded.layers {
        stage(log, "read", &l.role, l.features_used, None);
    }
    stage(
        log,
        "read",
        "total",
        loaded.inputs.buildings.len(),
        Some(read_s),
    );

    let out = pipeline::run(&loaded.inputs, &cfg.params, cfg.debug_layers)?;
    for (name, secs) in &out.report.stage_seconds {
        let n = match name.as_str() {
            "enclosures" => out.report.enclosures,
            "clustering" => out.report.hot_spots,
            "size_rules" | "dissolve" => out.features.len(),
            "frame" => out.report.admin_units,
            _ => 0,
        };
        stage(log, name, name, n, Some(*secs));
    }
    for e in &out.report.size_exceptions {
        tracing::warn!("{e}");
    }
    if out.report.buildings_outside_admin > 0 {
        tracing::warn!(
            "{} of {} buildings lie outside every admin unit and are in no neighborhood",
            out.report.buildings_outside_admin,
            out.report.buildings
        );
    }
    if out.report.admin_overlap_m2 > 0.0 {
        tracing::warn!(
            "admin units overlap by {:.1} m² in all; each overlap went to the unit first by code",
            out.report.admin_overlap_m2
        );
    }

    let t = Instant::now();
    write::write(&output, &out.features, &loaded.crs, out.debug.as_ref())?;
    stage(
        log,
        "write",
        "features",
        out.features.len(),
        Some(t.elapsed().as_secs_f64()),
    );

    let mut by_kind = std::collections::BTreeMap::new();
    for f in &out.features {
        *by_kind.entry(f.kind.as_str().to_string()).or_insert(0) += 1;
    }
    let summary = Summary {
        version: env!("CARGO_PKG_VERSION"),
        output: output.display().to_string(),
        working_crs: loaded.crs.label.clone(),
        inputs: &loaded.layers,
        run: &out.report,
        area_m2: area_stats(&out.features),
        features_by_kind: by_kind,
        seconds_total: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = &a.summary {
        let text =
            serde_json::to_string_pretty(&summary).map_err(|e| Error::internal(e.to_string()))?;
        write::atomic_write_bytes(path, text.as_bytes())?;
    }
    if !log.quiet {
        match log.log_format {
            LogFormat::Json => tracing::info!(
                stage = "done",
                neighborhoods = out.report.neighborhoods,
                barrier_features = out.report.barrier_features,
                seconds = summary.seconds_total,
                output = %output.display(),
                "done"
            ),
            LogFormat::Text => eprintln!(
                "dongne: {} neighborhoods and {} barrier features from {} buildings in {} admin units, {:.2} s → {}",
                out.report.neighborhoods,
                out.report.barrier_features,
                out.report.buildings,
                out.report.admin_units,
                summary.seconds_total,
                output.display()
            ),
        }
    }
    Ok(())
}

fn area_stats(features: &[crate::model::Neighborhood]) -> AreaStats {
    let mut a: Vec<f64> = features
        .iter()
        .filter(|f| f.kind == crate::model::FeatureKind::Neighborhood)
        .map(|f| f.area_m2)
        .collect();
    if a.is_empty() {
        return AreaStats::default();
    }
    a.sort_by(f64::total_cmp);
    let q = |p: f64| a[((a.len() - 1) as f64 * p).round() as usize];
    AreaStats {
        min: a[0],
        median: q(0.5),
        p90: q(0.9),
        max: a[a.len() - 1],
    }
}

/// One line per stage: `stage`, what was counted, how many, seconds.
fn stage(log: &LogArgs, stage: &str, what: &str, count: usize, seconds: Option<f64>) {
    if log.quiet {
        return;
    }
    // Text is for people (aligned columns); JSON carries the same figures as
    // fields, one object per line.
    match (log.log_format, seconds) {
        (LogFormat::Json, Some(s)) => tracing::info!(stage, what, count, seconds = s),
        (LogFormat::Json, None) => tracing::info!(stage, what, count),
        (LogFormat::Text, Some(s)) => {
            tracing::info!("{stage:<12} {what:<12} {count:>9} {s:>8.3} s")
        }
        (LogFormat::Text, None) => tracing::info!("{stage:<12} {what:<12} {count:>9}"),
    }
}
