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
//! lon/lat), `.gpkg`, `.fgb`, `.shp`, `.parquet` (GeoParquet 1.1). The file
//! is written beside the target under a temporary name and renamed when
//! complete. `-o "PG:dbname=… host=…" --table NAME` writes a PostGIS table
//! instead: built beside the old one and swapped in in one transaction.
//!
//! For a daily job (docs/operations.md):
//!
//! ```text
//! dongne generate --config daily.toml -o out/nbhd.gpkg \
//!     --previous out/nbhd.gpkg --changes out/changes.json --summary out/summary.json
//! ```
//!
//! `--previous` carries yesterday's `nbhd_id`s over to the neighborhoods that
//! continue them ([`dongne::products::ids`]); `--changes` writes what was added, removed,
//! split, merged or reshaped. The output, the change report and the summary
//! are all written to temporary files first and renamed together at the end:
//! a run that fails replaces none of them.
//!
//! `--history store.gpkg [--as-of YYYY-MM-DD]` keeps every version of every
//! feature and where each changed id went ([`dongne::products::history`]);
//! ids then carry over from the store (`--previous` only seeds a new one),
//! and the store commits with the other outputs. `dongne history` rebuilds
//! the layer of any day from it.
//!
//! `--cache DIR` keeps each admin unit's result under a key of its inputs;
//! a rerun computes only the units whose inputs changed, and writes the
//! same bytes. `--shard K/N` computes one shard's units into a part file;
//! `dongne merge` puts the parts together (docs/scale.md).
//!
//! On a terminal (stderr), a spinner shows the stage running; `--quiet`,
//! `--log-format json` or a pipe leave it out.

use std::path::PathBuf;
use std::time::Instant;

use super::deliver::{deliver, Delivery, HistoryRun, NeighbourTable, StepTime};
use super::progress::{stage, with_progress, Progress};
use super::{DeliveryArgs, LayerArgs, LogArgs, LogFormat};
use dongne::error::{Error, Result};
use dongne::io::cache::Cache;
use dongne::io::config::Config;
use dongne::io::postgis::TableName;
use dongne::io::{inputs, write};
use dongne::method::pipeline::{self, RunOptions};
use dongne::method::shards::{Part, Shard};
use dongne::model::Neighborhood;
use dongne::products::history::{Date, History};
use dongne::products::ids::{self, Previous};
use dongne::products::{checks, job};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub layers: LayerArgs,

    /// Output file; the format follows the extension (.geojson, .gpkg, .fgb, .shp, .parquet), or "PG:dbname=…" with --table.
    #[arg(short, long, value_name = "PATH", help_heading = "Output")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Add `hotspots`, `enclosures` and `barriers` layers (GeoPackage output only).
    #[arg(long)]
    pub debug_layers: bool,
    /// Also draw the result to a picture (.png or .svg): neighborhoods, barriers, buildings.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub preview: Option<PathBuf>,
    /// Also write the neighbour table (nbhd_id, neighbour_id, level, shared_m, separated_by: nothing, road, rail, water or admin; hard_m), each pair both ways: alone, beside the layer (a table in a GeoPackage or PostGIS, OUT.neighbours.parquet beside GeoParquet, OUT.neighbours.csv beside other files); with FILE.csv, as that CSV.
    #[arg(
        long,
        value_name = "FILE.csv",
        num_args = 0..=1,
        help_heading = "Output",
        conflicts_with = "shard"
    )]
    pub neighbours: Option<Option<PathBuf>>,
    /// Also write coarser levels, each a walk in minutes (e.g. 10,20): every feature of a level is the union of features of the level below, within one admin unit, never across a hard barrier.
    #[arg(
        long,
        value_name = "MINUTES,...",
        value_delimiter = ',',
        help_heading = "Levels",
        conflicts_with = "shard"
    )]
    pub levels: Option<Vec<f64>>,
    /// What no coarser level merges across: kinds (water, rail, road) or road classes [default: water,rail,motorway,trunk].
    #[arg(
        long,
        value_name = "KIND,...",
        value_delimiter = ',',
        help_heading = "Levels"
    )]
    pub hard_barriers: Option<Vec<String>>,
    /// Keep every version of every feature, and where each changed id went, in this GeoPackage (layers history, lineage, runs); ids carry over from it.
    #[arg(
        long,
        value_name = "FILE.gpkg",
        help_heading = "Output",
        conflicts_with = "shard"
    )]
    pub history: Option<PathBuf>,
    /// With --history "PG:…" (the database of -o "PG:…" --table): the history's table; NAME_lineage and NAME_runs beside it.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Output",
        requires = "history"
    )]
    pub history_table: Option<String>,
    /// With --history: the run's date, YYYY-MM-DD [default: today in UTC].
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        help_heading = "Output",
        requires = "history"
    )]
    pub as_of: Option<String>,
    /// Keep each admin unit's result in DIR; a rerun computes only the units whose inputs changed.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Compute only shard K of N (units split by Hilbert order and building count) into a part file for `dongne merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,

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
    /// Ground farther than this from every building becomes an `open` feature [default: half the walk, 400].
    #[arg(long, value_name = "METRES")]
    pub open_distance: Option<f64>,
    /// Give open ground to the neighbouring neighborhoods instead of keeping it as `open` features.
    #[arg(long)]
    pub fill_open: bool,
    /// A waterway in a culvert this long or shorter still separates its banks [default: 50].
    #[arg(long, value_name = "METRES")]
    pub culvert_length: Option<f64>,
    /// A barrier line ending this close to another barrier or the unit's edge is extended to meet it [default: 15].
    #[arg(long, value_name = "METRES")]
    pub snap_distance: Option<f64>,
}

impl ParamArgs {
    /// Lays the parameters given as flags over those of the config file.
    pub fn apply(&self, params: &mut dongne::io::config::Params) {
        if let Some(v) = self.eps {
            params.eps = v;
        }
        if let Some(v) = self.min_buildings {
            params.min_buildings = v;
        }
        if let Some(v) = self.min_area {
            params.min_area = v;
        }
        if let Some(v) = self.walk_minutes {
            params.walk_minutes = v;
        }
        if self.fill_barriers {
            params.fill_barriers = true;
        }
        if let Some(v) = self.open_distance {
            params.open_distance = Some(v);
        }
        if self.fill_open {
            params.fill_open = true;
        }
        if let Some(v) = self.culvert_length {
            params.culvert_length = v;
        }
        if let Some(v) = self.snap_distance {
            params.snap_distance = v;
        }
    }
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    with_progress(log, |progress| run_steps(a, log, progress))
}

fn run_steps(a: &Args, log: &LogArgs, progress: &Progress) -> Result<()> {
    let started = Instant::now();
    let mut steps: Vec<StepTime> = Vec::new();
    let mut cfg = a.layers.to_config()?;
    a.params.apply(&mut cfg.params);
    if let Some(o) = &a.output {
        cfg.output = Some(o.clone());
    }
    if let Some(t) = &a.delivery.table {
        cfg.table = Some(t.clone());
    }
    if a.debug_layers {
        cfg.debug_layers = true;
    }
    if let Some(l) = &a.levels {
        cfg.levels = l.clone();
    }
    if let Some(h) = &a.hard_barriers {
        cfg.hard_barriers = Some(h.clone());
    }
    cfg.validate()?;
    let as_of = match &a.as_of {
        Some(text) => Some(Date::parse_arg("--as-of", text)?),
        None => None,
    };
    if let Some(shard) = a.shard {
        return run_shard(a, log, progress, &cfg, shard);
    }
    let output = cfg.output.clone().ok_or_else(|| {
        Error::input("no output file: give -o PATH (.geojson, .gpkg, .fgb, .shp, .parquet) or -o \"PG:…\" --table NAME")
    })?;
    // Every file the run will write is checked before the long part.
    let mut outputs: Vec<(&str, &std::path::Path)> = vec![("-o", &output)];
    outputs.extend(a.delivery.summary.as_deref().map(|p| ("--summary", p)));
    outputs.extend(a.delivery.changes.as_deref().map(|p| ("--changes", p)));
    outputs.extend(a.preview.as_deref().map(|p| ("--preview", p)));
    let dest = write::Destination::new(&output, cfg.table.as_deref())?;
    let neighbours_csv = a.neighbours.clone().flatten();
    // `--neighbours` alone: beside a file layer (inside a GeoPackage).
    let neighbours_beside = match (&a.neighbours, &dest) {
        (Some(None), write::Destination::File(p)) => {
            write::beside(p, dongne::products::neighbours::TABLE_NAME)?
        }
        _ => None,
    };
    outputs.extend(neighbours_csv.as_deref().map(|p| ("--neighbours", p)));
    outputs.extend(neighbours_beside.as_deref().map(|p| ("--neighbours", p)));
    // A PostGIS history shares the output's connection string by design.
    outputs.extend(
        a.history
            .as_deref()
            .filter(|p| !dongne::io::postgis::is_connection(&p.to_string_lossy()))
            .map(|p| ("--history", p)),
    );
    checks::outputs_apart(&cfg, &outputs)?;
    write::check_target(&dest, cfg.debug_layers)?;
    // The store is read whole before the long part: a bad one, or a run
    // dated before its last, stops the run early.
    let history = match &a.history {
        Some(path) => {
            let as_of = as_of.unwrap_or_else(Date::today_utc);
            let h = open_history(path, a.history_table.as_deref(), &dest)?;
            h.check_date(as_of)?;
            if a.delivery.previous.is_some() && h.has_run_before(as_of) {
                return Err(Error::input(
                    "--previous seeds a new history's ids; this history has runs and carries ids over itself",
                )
                .file(h.path.clone())
                .hint("leave --previous out"));
            }
            Some((h, as_of))
        }
        None => None,
    };
    for extra in a
        .delivery
        .summary
        .iter()
        .chain(&a.delivery.changes)
        .chain(&neighbours_csv)
        .chain(&neighbours_beside)
    {
        write::check_writable(extra)?;
    }
    if let Some(p) = &a.preview {
        dongne::products::preview::check_picture_path(p)?;
    }
    let previous_table = match (&a.delivery.previous, &cfg.table) {
        (Some(_), Some(t)) => Some(TableName::parse(t)?),
        _ => None,
    };
    if let Some(p) = &a.delivery.previous {
        ids::check_openable(p, previous_table.as_ref())?;
    }
    let cache = a.cache.as_deref().map(Cache::open).transpose()?;

    progress.stage("reading layers");
    let t = Instant::now();
    let loaded = inputs::load(&cfg)?;
    let read_s = t.elapsed().as_secs_f64();
    steps.push(StepTime {
        step: "read",
        seconds: read_s,
    });
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
    checks::layers_overlap(&loaded.layers)?;
    if let Some((h, _)) = &history {
        h.check_crs(&loaded.crs)?;
    }

    // Yesterday's file is read before the long part, so that a bad one stops
    // the run early; it may be the very file this run replaces.
    let previous = match &a.delivery.previous {
        Some(path) => {
            progress.stage("reading the previous output");
            let t = Instant::now();
            let prev = Previous::read(path, previous_table.as_ref(), &loaded.crs)?;
            let secs = t.elapsed().as_secs_f64();
            steps.push(StepTime {
                step: "previous",
                seconds: secs,
            });
            stage(log, "previous", "features", prev.features.len(), Some(secs));
            Some(prev)
        }
        None => None,
    };

    progress.stage("drawing neighborhoods");
    let t = Instant::now();
    let opts = RunOptions {
        cache: cache.as_ref(),
    };
    let out = pipeline::run_with(&loaded.inputs, &cfg.params, cfg.debug_layers, opts)?;
    steps.push(StepTime {
        step: "pipeline",
        seconds: t.elapsed().as_secs_f64(),
    });
    for (name, secs) in &out.report.stage_seconds {
        let n = match name.as_str() {
            "frame" => out.report.admin_units,
            "barriers" => loaded.inputs.lines.len() + loaded.inputs.areas.len(),
            "enclosures" => out.report.enclosures,
            "clustering" | "tessellation" => out.report.hot_spots,
            "size_rules" | "dissolve" | "names" => out.features.len(),
            _ => 0,
        };
        stage(log, name, name, n, Some(*secs));
    }
    for e in &out.report.size_exceptions {
        tracing::warn!("{e}");
    }
    checks::buildings_inside_units(&out.report)?;
    for w in job::report_warnings(&out.report) {
        tracing::warn!("{w}");
    }

    let cache_stats = cache.map(|c| c.finish(true));
    if let Some(c) = &cache_stats {
        tracing::info!(
            reused = c.reused,
            computed = c.computed,
            rejected = c.rejected,
            entries = c.entries,
            bytes = c.bytes,
            "cache {}: {} units reused, {} computed, {} entries, {:.1} MB",
            c.dir,
            c.reused,
            c.computed,
            c.entries,
            c.bytes as f64 / 1e6
        );
    }
    let levels = dongne::products::levels::LevelSpec::of(&cfg);
    let check = |f: &[Neighborhood]| job::invariant_warnings(f, &loaded.inputs, &cfg.params);
    let d = Delivery {
        dest: &dest,
        output: &output,
        changes: a.delivery.changes.as_deref(),
        summary: a.delivery.summary.as_deref(),
        preview: a.preview.as_deref().map(|p| (p, &loaded.inputs)),
        neighbours: a.neighbours.as_ref().map(|csv| NeighbourTable {
            csv: csv.as_deref(),
            lines: &loaded.inputs.lines,
            hard: &levels.hard,
        }),
        previous: previous.as_ref(),
        levels: Some((&levels, &loaded.inputs)),
        history: history.as_ref().map(|(h, as_of)| HistoryRun {
            history: h,
            as_of: *as_of,
            inputs: &loaded.inputs,
        }),
        crs: &loaded.crs,
        layers: &loaded.layers,
        cache: cache_stats,
        shards: None,
        checks: Some(&check),
    };
    deliver(d, out, steps, started, log, progress)
}

/// The store of `--history`: a GeoPackage file, or with `--history-table`
/// tables in the database of a PostGIS output, whose swap its rows join.
fn open_history(
    path: &std::path::Path,
    table: Option<&str>,
    dest: &write::Destination,
) -> Result<History> {
    let text = path.to_string_lossy();
    if !dongne::io::postgis::is_connection(&text) {
        if table.is_some() {
            return Err(Error::input(
                "--history-table names a table of a PostGIS history, but --history is a file",
            )
            .file(text.into_owned())
            .hint(
                "leave --history-table out, or give --history as the output's connection string",
            ));
        }
        let h = History::open(path)?;
        write::check_writable(path)?;
        return Ok(h);
    }
    let shown = dongne::io::postgis::display(&text);
    let Some(table) = table else {
        return Err(Error::input("a PostGIS --history needs --history-table NAME")
            .file(shown)
            .hint("add --history-table NAME: the versions go to that table, with NAME_lineage and NAME_runs"));
    };
    match dest {
        write::Destination::Table { conn, .. } if *conn == text => {}
        _ => {
            return Err(Error::input(
                "a PostGIS history is written in the transaction that swaps the output table in: -o must be the same connection with --table",
            )
            .file(shown)
            .hint("write the layer with -o \"<the same PG:…>\" --table NAME, or keep the history in a .gpkg file"))
        }
    }
    History::open_pg(&text, &TableName::parse(table)?)
}

/// `--shard K/N`: computes this shard's units into a part file for
/// `dongne merge`.
fn run_shard(
    a: &Args,
    log: &LogArgs,
    progress: &Progress,
    cfg: &Config,
    shard: Shard,
) -> Result<()> {
    let started = Instant::now();
    let output = cfg
        .output
        .clone()
        .ok_or_else(|| Error::input("no part file: give -o PART (e.g. part-1-of-4.dpart)"))?;
    if a.delivery.previous.is_some()
        || a.delivery.changes.is_some()
        || a.preview.is_some()
        || cfg.debug_layers
    {
        return Err(Error::input(
            "--shard writes a part file: --previous, --changes, --preview and --debug-layers belong to dongne merge",
        )
        .hint("give them to dongne merge PART... -o OUT"));
    }
    write::check_writable(&output)?;
    let cache = a.cache.as_deref().map(Cache::open).transpose()?;
    progress.stage("reading layers");
    let loaded = inputs::load(cfg)?;
    checks::layers_overlap(&loaded.layers)?;
    progress.stage("drawing this shard's neighborhoods");
    let opts = RunOptions {
        cache: cache.as_ref(),
    };
    let computed = pipeline::compute(&loaded.inputs, &cfg.params, false, opts, Some(shard))?;
    let params_json =
        serde_json::to_string(&cfg.params).map_err(|e| Error::internal(e.to_string()))?;
    let (units, names, report) = computed.into_parts();
    let part = Part::of(units, names, report, shard, &params_json, &loaded.crs);
    let units = part.units.len();
    progress.stage("writing");
    write::atomic_write_bytes(&output, &part.to_bytes()?)?;
    if let Some(c) = cache {
        // A shard uses only its units' entries: nothing is pruned.
        c.finish(false);
    }
    progress.finish();
    if !log.quiet {
        let secs = started.elapsed().as_secs_f64();
        match log.log_format {
            LogFormat::Json => tracing::info!(
                stage = "done",
                shard = %format!("{}/{}", shard.k, shard.n),
                units,
                seconds = secs,
                output = %output.display(),
            ),
            LogFormat::Text => eprintln!(
                "dongne: shard {}/{}: {units} admin units, {secs:.2} s → {}",
                shard.k,
                shard.n,
                output.display()
            ),
        }
    }
    Ok(())
}
