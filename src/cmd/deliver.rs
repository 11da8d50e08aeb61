//! What a run does once its neighborhoods are drawn, shared by `generate`
//! and `merge`: carry yesterday's ids over, write the layer, the change
//! report, the summary and the picture, commit them together, and say so.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::progress::{stage, Progress};
use super::{LogArgs, LogFormat};
use dongne::error::{Error, Result};
use dongne::io::cache::CacheStats;
use dongne::io::read;
use dongne::io::reproject::WorkingCrs;
use dongne::io::write;
use dongne::method::pipeline::{Output, RunReport};
use dongne::model::{Inputs, Neighborhood};
use dongne::products::history::{self, Date, History};
use dongne::products::ids::{self, ChangeReport, ChangeSummary, Previous};

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
    /// With `--cache`: units reused and computed, and the cache's size.
    pub cache: Option<CacheStats>,
    /// With `dongne merge`: how many part files were merged.
    pub shards: Option<usize>,
    /// Wall-clock seconds of each step of the run, in order: `read`,
    /// `previous`, `pipeline`, `checks` (invariants 9 and 11), `ids`,
    /// `write` (the pipeline's own stages, summed over threads, are in
    /// `run.stage_seconds`).
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

/// Where and what to deliver.
pub struct Delivery<'a> {
    pub dest: &'a write::Destination,
    /// `-o` as given (the picture's title is its stem).
    pub output: &'a Path,
    pub changes: Option<&'a Path>,
    pub summary: Option<&'a Path>,
    /// The picture and the inputs it draws.
    pub preview: Option<(&'a Path, &'a Inputs)>,
    /// The neighbour table, when asked for.
    pub neighbours: Option<NeighbourTable<'a>>,
    pub previous: Option<&'a Previous>,
    /// The coarser levels to build (after the ids are carried over: their
    /// ids come from level 1's) and the inputs whose lines and buildings
    /// they need.
    pub levels: Option<(&'a dongne::products::levels::LevelSpec, &'a Inputs)>,
    /// `generate --history`: the store the run is recorded in; ids carry
    /// over from it (`previous` then only seeds a store with no run).
    pub history: Option<HistoryRun<'a>>,
    pub crs: &'a WorkingCrs,
    pub layers: &'a [read::LayerReport],
    pub cache: Option<CacheStats>,
    pub shards: Option<usize>,
    /// The invariant checks of the run, warnings out: they run beside the
    /// write (GDAL writes on one core; the checks take the others).
    pub checks: Option<&'a Checks<'a>>,
}

/// Where the neighbour table goes and what it needs.
pub struct NeighbourTable<'a> {
    /// A CSV of its own (`--neighbours FILE.csv`); `None`: beside the layer.
    pub csv: Option<&'a Path>,
    /// The line barriers that separate.
    pub lines: &'a [dongne::model::LineBarrier],
    /// What counts as a hard barrier (`hard_m`).
    pub hard: &'a [String],
}

/// The store a run is recorded in, the run's date, and its inputs (the
/// lineage's building shares count the run's buildings).
pub struct HistoryRun<'a> {
    pub history: &'a History,
    pub as_of: Date,
    pub inputs: &'a Inputs,
}

/// What checks a run's features and says what the user should be told.
pub type Checks<'a> = dyn Fn(&[Neighborhood]) -> Vec<String> + Sync + 'a;

/// Carries ids over, writes every output and commits them together.
pub fn deliver(
    d: Delivery,
    mut out: Output,
    mut steps: Vec<StepTime>,
    started: Instant,
    log: &LogArgs,
    progress: &Progress,
) -> Result<()> {
    let mut staged_history = None;
    let mut history_sql = None;
    // The coarser levels, once level 1 has its ids: theirs follow from it.
    let mut levels_s = None;
    let mut levels = |features: Vec<Neighborhood>| -> Result<Vec<Neighborhood>> {
        match d.levels.filter(|(s, _)| !s.walk_minutes.is_empty()) {
            Some((spec, inputs)) => {
                progress.stage("building the coarser levels");
                let t = Instant::now();
                let all = dongne::products::levels::with_levels_of(features, inputs, spec)?;
                levels_s = Some(t.elapsed().as_secs_f64());
                Ok(all)
            }
            None => Ok(features),
        }
    };
    let changes = if let Some(h) = &d.history {
        progress.stage("matching ids with the history");
        let t = Instant::now();
        let points: Vec<geo_types::Coord<f64>> = h.inputs.buildings.iter().map(|b| b.pt).collect();
        let rec = history::record(
            h.history,
            d.previous,
            &mut out.features,
            h.as_of,
            &points,
            d.crs,
            levels,
        )?;
        let secs = t.elapsed().as_secs_f64();
        steps.push(StepTime {
            step: "ids",
            seconds: secs,
        });
        if let Some(report) = &rec.report {
            log_report(report, secs, log, progress);
        }
        if !log.quiet {
            let line = rec.plan.one_line(&h.history.path);
            match log.log_format {
                LogFormat::Json => tracing::info!(
                    stage = "history",
                    as_of = %h.as_of,
                    versions_added = rec.plan.add.len(),
                    versions_closed = rec.plan.close.len(),
                    lineage = rec.plan.lineage.len(),
                    rerun = rec.plan.rerun,
                    unchanged = rec.staged.is_none(),
                    "{line}"
                ),
                LogFormat::Text => progress.println(&format!("dongne: {line}")),
            }
        }
        staged_history = rec.staged;
        history_sql = rec.sql;
        rec.report
    } else if let Some(prev) = d.previous {
        progress.stage("matching ids with the previous output");
        let t = Instant::now();
        let report = ids::carry_over(&mut out.features, prev)?;
        let secs = t.elapsed().as_secs_f64();
        steps.push(StepTime {
            step: "ids",
            seconds: secs,
        });
        log_report(&report, secs, log, progress);
        out.features = levels(std::mem::take(&mut out.features))?;
        Some(report)
    } else {
        out.features = levels(std::mem::take(&mut out.features))?;
        None
    };
    if let Some(secs) = levels_s {
        steps.push(StepTime {
            step: "levels",
            seconds: secs,
        });
        stage(log, "levels", "features", out.features.len(), Some(secs));
    }

    progress.stage("writing");
    let t = Instant::now();
    let mut staged = Vec::new();
    if let (Some(path), Some(report)) = (d.changes, &changes) {
        staged.push(write::stage_bytes(path, report.to_json()?.as_bytes())?);
    }
    let mut tables = Vec::new();
    if let Some(n) = &d.neighbours {
        let rows = dongne::products::neighbours::neighbours(&out.features, n.lines, n.hard);
        let table = dongne::products::neighbours::as_table(&rows);
        match n.csv {
            Some(path) => staged.push(write::stage_bytes(path, &table.csv()?)?),
            None => tables.push(table),
        }
    }
    if let write::Destination::File(path) = d.dest {
        staged.extend(write::stage_beside(path, &tables)?);
    }
    let (staged_output, checked) = std::thread::scope(|s| {
        let checking = d.checks.map(|check| {
            s.spawn(|| {
                let t = Instant::now();
                (check(&out.features), t.elapsed().as_secs_f64())
            })
        });
        let staged = write::write_staged_with_sql(
            d.dest,
            &out.features,
            d.crs,
            out.debug.as_ref(),
            &tables,
            history_sql.as_deref().unwrap_or(""),
        );
        let write_s = t.elapsed().as_secs_f64();
        let checked = checking.map(|h| {
            h.join()
                .map_err(|_| Error::internal("the invariant checks stopped"))
        });
        (staged.map(|s| (s, write_s)), checked.transpose())
    });
    let (staged_output, write_s) = staged_output?;
    if let Some((warnings, secs)) = checked? {
        for w in warnings {
            tracing::warn!("{w}");
        }
        steps.push(StepTime {
            step: "checks",
            seconds: secs,
        });
    }
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
        output: d.dest.display(),
        working_crs: d.crs.label.clone(),
        inputs: d.layers,
        run: &out.report,
        area_m2: area_stats(&out.features),
        features_by_kind: by_kind,
        previous: d.previous.map(|p| p.path.clone()),
        changes: changes.as_ref().map(|c| c.summary.clone()),
        cache: d.cache,
        shards: d.shards,
        steps,
        seconds_total: started.elapsed().as_secs_f64(),
    };
    if let Some(path) = d.summary {
        let text =
            serde_json::to_string_pretty(&summary).map_err(|e| Error::internal(e.to_string()))?;
        staged.push(write::stage_bytes(path, text.as_bytes())?);
    }
    if let Some((path, inputs)) = d.preview {
        let title = d
            .output
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let scene = dongne::products::preview::Scene::of_run(&out.features, inputs, &title);
        let bytes = dongne::products::preview::render_picture(path, &scene, 1200, &[])?;
        staged.push(write::stage_bytes(path, &bytes)?);
    }
    // Every output commits together or none does; the neighborhoods last:
    // whoever finds today's layer finds its report, summary and picture too.
    // The history before the layer: whoever finds today's layer finds it
    // recorded.
    staged.extend(staged_history);
    staged.push(staged_output);
    write::commit_all(staged)?;
    progress.finish();
    if !log.quiet {
        match log.log_format {
            LogFormat::Json => tracing::info!(
                stage = "done",
                neighborhoods = out.report.neighborhoods,
                hamlets = out.report.hamlets,
                barrier_features = out.report.barrier_features,
                seconds = summary.seconds_total,
                output = %d.dest.display(),
                "done"
            ),
            LogFormat::Text => eprintln!(
                "dongne: {} neighborhoods{} and {} barrier features from {} buildings in {} admin units, {:.2} s → {}",
                out.report.neighborhoods,
                match out.report.hamlets {
                    0 => String::new(),
                    1 => ", 1 hamlet".to_string(),
                    h => format!(", {h} hamlets"),
                },
                out.report.barrier_features,
                out.report.buildings,
                out.report.admin_units,
                summary.seconds_total,
                d.dest.display()
            ),
        }
    }
    Ok(())
}

/// Says what the id matching found, one line (text) or one object (JSON).
fn log_report(report: &ChangeReport, secs: f64, log: &LogArgs, progress: &Progress) {
    if log.quiet {
        return;
    }
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
            renamed = s.renamed,
            seconds = secs,
        ),
        LogFormat::Text => progress.println(&format!("dongne: {}", report.one_line())),
    }
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
