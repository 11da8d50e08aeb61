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
//! On a terminal (stderr), a spinner shows the stage running; `--quiet`,
//! `--log-format json` or a pipe leave it out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};

use super::{LayerArgs, LogArgs, LogFormat};
use dongne::error::{Error, Result};
use dongne::io::postgis::TableName;
use dongne::io::{inputs, read, write};
use dongne::method::pipeline::{self, RunReport};
use dongne::products::ids::{self, ChangeSummary, Previous};
use dongne::products::{checks, job};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub layers: LayerArgs,

    /// Output file; the format follows the extension (.geojson, .gpkg, .fgb, .shp, .parquet), or "PG:dbname=…" with --table.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// With -o "PG:…": the table to replace, NAME or SCHEMA.NAME; also where --previous "PG:…" is read.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Add `hotspots`, `enclosures` and `barriers` layers (GeoPackage output only).
    #[arg(long)]
    pub debug_layers: bool,
    /// Write the run's figures (inputs, counts, areas, stage times) as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub summary: Option<PathBuf>,
    /// Also draw the result to a picture (.png or .svg): neighborhoods, barriers, buildings.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub preview: Option<PathBuf>,
    /// Yesterday's output: neighborhoods that continue one of its features keep its nbhd_id.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// With --previous: write the change report (added, removed, split, merged, reshaped) as JSON.
    #[arg(long, value_name = "FILE.json", requires = "previous")]
    pub changes: Option<PathBuf>,

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
    /// The file given to `--previous`, when there was one.
    pub previous: Option<String>,
    /// The counts of the change report, with `--previous`.
    pub changes: Option<ChangeSummary>,
    /// Wall-clock seconds of each step of the run, in order: `read`,
    /// `previous`, `pipeline`, `ids`, `write` (the pipeline's own stages,
    /// summed over threads, are in `run.stage_seconds`).
    pub steps: Vec<StepTime>,
    pub seconds_total: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepTime {
    pub step: &'static str,
    pub seconds: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct AreaStats {
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub max: f64,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    let progress = Progress::new(log);
    let Some(bar) = progress.bar.clone() else {
        return run_steps(a, log, &progress);
    };
    // Log lines written while the spinner is drawn would land in the middle
    // of its line: every event goes through the spinner's `suspend`, which
    // clears it, writes the line and draws it again. The run's reading and
    // logging happen on this thread, which this scoped dispatcher covers.
    let inner = tracing::dispatcher::get_default(|d| d.clone());
    let scoped = Dispatch::new(Suspending { inner, bar });
    let result = tracing::dispatcher::with_default(&scoped, || run_steps(a, log, &progress));
    progress.finish();
    result
}

fn run_steps(a: &Args, log: &LogArgs, progress: &Progress) -> Result<()> {
    let started = Instant::now();
    let mut steps: Vec<StepTime> = Vec::new();
    let mut cfg = a.layers.to_config()?;
    a.params.apply(&mut cfg.params);
    if let Some(o) = &a.output {
        cfg.output = Some(o.clone());
    }
    if let Some(t) = &a.table {
        cfg.table = Some(t.clone());
    }
    if a.debug_layers {
        cfg.debug_layers = true;
    }
    cfg.validate()?;
    let output = cfg.output.clone().ok_or_else(|| {
        Error::input("no output file: give -o PATH (.geojson, .gpkg, .fgb, .shp, .parquet) or -o \"PG:…\" --table NAME")
    })?;
    // Every file the run will write is checked before the long part.
    let mut outputs: Vec<(&str, &std::path::Path)> = vec![("-o", &output)];
    outputs.extend(a.summary.as_deref().map(|p| ("--summary", p)));
    outputs.extend(a.changes.as_deref().map(|p| ("--changes", p)));
    outputs.extend(a.preview.as_deref().map(|p| ("--preview", p)));
    checks::outputs_apart(&cfg, &outputs)?;
    let dest = write::Destination::new(&output, cfg.table.as_deref())?;
    write::check_target(&dest, cfg.debug_layers)?;
    for extra in a.summary.iter().chain(&a.changes) {
        write::check_writable(extra)?;
    }
    if let Some(p) = &a.preview {
        dongne::products::preview::check_picture_path(p)?;
    }
    let previous_table = match (&a.previous, &cfg.table) {
        (Some(_), Some(t)) => Some(TableName::parse(t)?),
        _ => None,
    };
    if let Some(p) = &a.previous {
        ids::check_openable(p, previous_table.as_ref())?;
    }

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

    // Yesterday's file is read before the long part, so that a bad one stops
    // the run early; it may be the very file this run replaces.
    let previous = match &a.previous {
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
    let mut out = pipeline::run(&loaded.inputs, &cfg.params, cfg.debug_layers)?;
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
            "size_rules" | "dissolve" => out.features.len(),
            _ => 0,
        };
        stage(log, name, name, n, Some(*secs));
    }
    for e in &out.report.size_exceptions {
        tracing::warn!("{e}");
    }
    for w in job::invariant_warnings(&out.features, &loaded.inputs, &cfg.params) {
        tracing::warn!("{w}");
    }
    checks::buildings_inside_units(&out.report)?;
    for w in job::report_warnings(&out.report) {
        tracing::warn!("{w}");
    }

    let changes = match &previous {
        Some(prev) => {
            progress.stage("matching ids with the previous output");
            let t = Instant::now();
            let report = ids::carry_over(&mut out.features, prev)?;
            let secs = t.elapsed().as_secs_f64();
            steps.push(StepTime {
                step: "ids",
                seconds: secs,
            });
            if !log.quiet {
                let s = &report.summary;
                match log.log_format {
                    LogFormat::Json => tracing::info!(
                        stage = "ids",
                        previous = %report.previous,
                        kept = s.kept,
                        reshaped = s.reshaped,
                        split = s.split,
                        merged = s.merged,
                        added = s.added,
                        removed = s.removed,
                        seconds = secs,
                    ),
                    LogFormat::Text => progress.println(&format!("dongne: {}", report.one_line())),
                }
            }
            Some(report)
        }
        None => None,
    };

    progress.stage("writing");
    let t = Instant::now();
    let mut staged = Vec::new();
    if let (Some(path), Some(report)) = (&a.changes, &changes) {
        staged.push(write::stage_bytes(path, report.to_json()?.as_bytes())?);
    }
    let staged_output = write::write_staged(&dest, &out.features, &loaded.crs, out.debug.as_ref())?;
    let write_s = t.elapsed().as_secs_f64();
    steps.push(StepTime {
        step: "write",
        seconds: write_s,
    });
    stage(log, "write", "features", out.features.len(), Some(write_s));

    let mut by_kind = std::collections::BTreeMap::new();
    for f in &out.features {
        *by_kind.entry(f.kind.as_str().to_string()).or_insert(0) += 1;
    }
    let summary = Summary {
        version: env!("CARGO_PKG_VERSION"),
        output: dest.display(),
        working_crs: loaded.crs.label.clone(),
        inputs: &loaded.layers,
        run: &out.report,
        area_m2: area_stats(&out.features),
        features_by_kind: by_kind,
        previous: previous.as_ref().map(|p| p.path.clone()),
        changes: changes.as_ref().map(|c| c.summary.clone()),
        steps,
        seconds_total: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = &a.summary {
        let text =
            serde_json::to_string_pretty(&summary).map_err(|e| Error::internal(e.to_string()))?;
        staged.push(write::stage_bytes(path, text.as_bytes())?);
    }
    if let Some(path) = &a.preview {
        let title = output
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let scene = dongne::products::preview::Scene::of_run(&out.features, &loaded.inputs, &title);
        let bytes = dongne::products::preview::render_picture(path, &scene, 1200, &[])?;
        staged.push(write::stage_bytes(path, &bytes)?);
    }
    // Every output commits together or none does; the neighborhoods last:
    // whoever finds today's layer finds its report, summary and picture too.
    staged.push(staged_output);
    write::commit_all(staged)?;
    progress.finish();
    if !log.quiet {
        match log.log_format {
            LogFormat::Json => tracing::info!(
                stage = "done",
                neighborhoods = out.report.neighborhoods,
                barrier_features = out.report.barrier_features,
                seconds = summary.seconds_total,
                output = %dest.display(),
                "done"
            ),
            LogFormat::Text => eprintln!(
                "dongne: {} neighborhoods and {} barrier features from {} buildings in {} admin units, {:.2} s → {}",
                out.report.neighborhoods,
                out.report.barrier_features,
                out.report.buildings,
                out.report.admin_units,
                summary.seconds_total,
                dest.display()
            ),
        }
    }
    Ok(())
}

fn area_stats(features: &[dongne::model::Neighborhood]) -> AreaStats {
    let mut a: Vec<f64> = features
        .iter()
        .filter(|f| f.kind == dongne::model::FeatureKind::Neighborhood)
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

// ---------------------------------------------------------------------------
// Progress on a terminal

/// A spinner on stderr naming the step that runs, with its time. Only when
/// stderr is a terminal, the log format is text and the run is not quiet: a
/// cron or Kubernetes log gets plain lines, never control characters.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(log: &LogArgs) -> Progress {
        let wanted =
            !log.quiet && log.log_format == LogFormat::Text && std::io::stderr().is_terminal();
        let bar = wanted.then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    fn stage(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
    }

    /// A line on stderr that does not break the spinner.
    fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The process's subscriber, with every event written while the spinner is
/// suspended. Everything else is passed through unchanged.
struct Suspending {
    inner: Dispatch,
    bar: ProgressBar,
}

impl Subscriber for Suspending {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.inner.enabled(metadata)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values)
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows)
    }
    fn event(&self, event: &Event<'_>) {
        self.bar.suspend(|| self.inner.event(event))
    }
    fn enter(&self, span: &Id) {
        self.inner.enter(span)
    }
    fn exit(&self, span: &Id) {
        self.inner.exit(span)
    }
    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }
    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }
}
