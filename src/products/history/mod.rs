//! Boundaries with a history (issue 23, method step 10): every version a
//! feature ever had, when it held, and where each retired id went.
//!
//! `generate --history store.gpkg --as-of DATE` keeps, in one GeoPackage
//! beside the daily layer:
//!
//! - `history`: one row per feature **version**: `nbhd_id`, `version`
//!   (1, 2, …), `valid_from`, `valid_to` (NULL while current), the output
//!   layer's attributes as written (rounded) and the exact geometry. A run
//!   adds a version only for an id whose geometry or attributes changed (or
//!   that is new), and closes (`valid_to` = the run's date) the version it
//!   replaces, or that of an id gone;
//! - `lineage`: where each changed id went ([`LineageRow`]), from the
//!   change report of [`ids::carry_over_with_overlaps`];
//! - `runs`: one row per run: its date, its features' ids in output order
//!   (the layer's order is the pipeline's, not the ids'), the working CRS.
//!
//! Ids are carried over from the store's current versions ([`History::previous`]),
//! and an id once used is never given again (retired ids are passed along).
//! [`History::at`] rebuilds the layer of any day; written in that day's
//! format, it is the same bytes as that day's output.
//!
//! The store may also be three tables in PostGIS (`pg.rs`), written
//! in the transaction that swaps the output table in.
//!
//! Dates are text `YYYY-MM-DD` so that SQL and QGIS compare them as dates
//! (`date` columns in PostGIS).
//! A version holds on `valid_from ≤ D < valid_to`.

mod date;
mod lineage;
mod pg;
mod store;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo_types::Coord;

pub use date::Date;
pub use pg::{lineage_table, runs_table};
pub use store::{check_path, stage, HISTORY_LAYER, LINEAGE_LAYER, RUNS_LAYER};

use crate::error::{Error, Result};
use crate::io::postgis::TableName;
use crate::io::reproject::WorkingCrs;
use crate::io::write::{self, Staged};
use crate::model::Neighborhood;
use crate::products::ids::{self, ChangeKind, ChangeReport, Overlap, Previous};

/// Decimals of the lineage's shares: a share does not change with the last
/// bits of an area.
const SHARE_DECIMALS: i32 = 4;

/// One version of a feature, as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// Its row in the store (0 before it is written).
    pub fid: i64,
    pub version: i64,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    /// As written ([`write::as_written`]); `id` is the `nbhd_id`.
    pub feature: Neighborhood,
}

impl Version {
    /// Whether it held on `day`.
    pub fn holds_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|t| t > day)
    }
}

/// One row of the lineage: an id of the day before and what it became.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageRow {
    /// The run that recorded it.
    pub date: Date,
    /// `None` for an `added` feature.
    pub old_id: Option<String>,
    pub old_version: Option<i64>,
    /// `None` for a `removed` feature whose ground no feature of its kind
    /// took.
    pub new_id: Option<String>,
    pub new_version: Option<i64>,
    /// Of today's buildings on the old feature's ground, the share in the
    /// new one; `None` when the old ground holds no building.
    pub building_share: Option<f64>,
    /// `|old ∩ new| / |old|`.
    pub area_share: Option<f64>,
    pub change: ChangeKind,
}

/// One run, as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub fid: i64,
    pub as_of: Date,
    /// The output's ids, in its order.
    pub ids: Vec<String>,
    pub crs: WorkingCrs,
    pub dongne_version: String,
}

/// A store read into memory (or a new one: no rows).
#[derive(Debug, Clone)]
pub struct History {
    /// As given, for messages.
    pub path: String,
    /// Whether the file exists (a new store is created by the first run).
    pub exists: bool,
    /// A store in PostGIS: the connection and the versions table (the
    /// lineage and runs tables are named after it).
    pub pg: Option<(String, TableName)>,
    pub versions: Vec<Version>,
    pub lineage: Vec<LineageRow>,
    /// In date order.
    pub runs: Vec<Run>,
}

impl History {
    /// The last run, if any.
    pub fn last_run(&self) -> Option<&Run> {
        self.runs.iter().max_by_key(|r| r.as_of)
    }

    /// Refuses a run dated before the store's last run: a history only
    /// grows forward. The same date is a rerun, which replaces that day.
    pub fn check_date(&self, as_of: Date) -> Result<()> {
        match self.last_run() {
            Some(last) if as_of < last.as_of => {
                let store = match &self.pg {
                    Some((conn, table)) => format!(
                        "\"{}\" --history-table {table}",
                        crate::io::postgis::display(conn)
                    ),
                    None => self.path.clone(),
                };
                Err(Error::input(format!(
                    "--as-of {as_of} is before the last run in the history, {}",
                    last.as_of
                ))
                .file(self.path.clone())
                .hint(format!(
                    "a history grows forward: run with --as-of {} or later; the layer of {as_of} is rebuilt with dongne history {store} --as-of {as_of} -o FILE",
                    last.as_of
                )))
            }
            _ => Ok(()),
        }
    }

    /// Whether a run of `as_of` replaces one already stored.
    pub fn is_rerun(&self, as_of: Date) -> bool {
        self.runs.iter().any(|r| r.as_of == as_of)
    }

    /// The versions current before a run of `as_of`: those from an earlier
    /// day still open (or closed by a run of `as_of` itself, which a rerun
    /// replaces).
    pub fn current_before(&self, as_of: Date) -> Vec<&Version> {
        self.versions
            .iter()
            .filter(|v| v.valid_from < as_of && v.valid_to.is_none_or(|t| t >= as_of))
            .collect()
    }

    /// Whether the store has a run before `as_of` to carry ids from.
    pub fn has_run_before(&self, as_of: Date) -> bool {
        self.runs.iter().any(|r| r.as_of < as_of)
    }

    /// The working CRS of the last run.
    pub fn crs(&self) -> Option<&WorkingCrs> {
        self.last_run().map(|r| &r.crs)
    }

    /// Refuses a run in another working CRS than the store's: versions are
    /// compared, and rebuilt, in the CRS they were written in.
    pub fn check_crs(&self, crs: &WorkingCrs) -> Result<()> {
        match self.crs() {
            Some(h) if h != crs => Err(Error::input(format!(
                "the history is in {}, this run works in {}",
                h.label, crs.label
            ))
            .file(self.path.clone())
            .hint("give --crs as the history's runs did, or start a new history file")),
            _ => Ok(()),
        }
    }

    /// The store's current versions as the previous run [`ids::carry_over`]
    /// matches against, with every other id it ever used as retired.
    pub fn previous(&self, as_of: Date) -> Previous {
        let current = self.current_before(as_of);
        let live: BTreeSet<&str> = current.iter().map(|v| v.feature.id.as_str()).collect();
        let retired: BTreeMap<&str, &str> = self
            .versions
            .iter()
            .filter(|v| v.valid_from < as_of && !live.contains(v.feature.id.as_str()))
            .map(|v| (v.feature.id.as_str(), v.feature.admin_code.as_str()))
            .collect();
        let mut prev = Previous::from_features(
            self.path.clone(),
            &current
                .iter()
                .map(|v| v.feature.clone())
                .collect::<Vec<_>>(),
        );
        prev.retired = retired
            .into_iter()
            .map(|(id, code)| (id.to_string(), code.to_string()))
            .collect();
        prev
    }

    /// The layer as it was on `day`: the versions that held then, in the
    /// order of the last run on or before `day`, and that run's CRS.
    pub fn at(&self, day: Date) -> Result<(Vec<Neighborhood>, WorkingCrs)> {
        let run = self
            .runs
            .iter()
            .filter(|r| r.as_of <= day)
            .max_by_key(|r| r.as_of)
            .ok_or_else(|| {
                let first = self.runs.iter().map(|r| r.as_of).min();
                let what = match first {
                    Some(f) => format!("the history starts on {f}, after {day}"),
                    None => "the history holds no run".to_string(),
                };
                Error::input(what)
                    .file(self.path.clone())
                    .hint("give --as-of a day on or after the first run")
            })?;
        let mut by_id: HashMap<&str, &Version> = HashMap::new();
        for v in self.versions.iter().filter(|v| v.holds_on(day)) {
            if by_id.insert(v.feature.id.as_str(), v).is_some() {
                return Err(damaged(
                    &self.path,
                    format!("two versions of {} hold on {day}", v.feature.id),
                ));
            }
        }
        let mut out = Vec::with_capacity(run.ids.len());
        for id in &run.ids {
            let v = by_id.remove(id.as_str()).ok_or_else(|| {
                damaged(
                    &self.path,
                    format!(
                        "the run of {} lists {id}, which has no version then",
                        run.as_of
                    ),
                )
            })?;
            out.push(v.feature.clone());
        }
        if let Some(id) = by_id.keys().min() {
            return Err(damaged(
                &self.path,
                format!(
                    "{id} holds on {day} but the run of {} does not list it",
                    run.as_of
                ),
            ));
        }
        Ok((out, run.crs.clone()))
    }
}

fn damaged(path: &str, what: String) -> Error {
    Error::input(format!("the history is inconsistent: {what}"))
        .file(path.to_string())
        .hint("the store was edited by hand or by another tool; restore it from a backup")
}

/// What one run adds to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub as_of: Date,
    /// The store has a run of `as_of`: its rows are replaced.
    pub rerun: bool,
    /// Rows (fids) whose `valid_to` becomes `as_of`.
    pub close: Vec<i64>,
    /// New versions (fid 0).
    pub add: Vec<Version>,
    pub lineage: Vec<LineageRow>,
    pub run: Run,
}

impl Plan {
    /// A rerun whose rows are those already stored for its day: nothing to
    /// write.
    pub fn already_stored(&self, history: &History) -> bool {
        if !self.rerun {
            return false;
        }
        let day = self.as_of;
        let mut added: Vec<(&str, i64, &Neighborhood)> = history
            .versions
            .iter()
            .filter(|v| v.valid_from == day)
            .map(|v| (v.feature.id.as_str(), v.version, &v.feature))
            .collect();
        let mut want: Vec<(&str, i64, &Neighborhood)> = self
            .add
            .iter()
            .map(|v| (v.feature.id.as_str(), v.version, &v.feature))
            .collect();
        added.sort_by_key(|x| (x.0, x.1));
        want.sort_by_key(|x| (x.0, x.1));
        let mut closed: Vec<i64> = history
            .versions
            .iter()
            .filter(|v| v.valid_to == Some(day))
            .map(|v| v.fid)
            .collect();
        closed.sort_unstable();
        let mut close = self.close.clone();
        close.sort_unstable();
        let run = history.runs.iter().find(|r| r.as_of == day);
        added == want && closed == close && run.is_some_and(|r| r.ids == self.run.ids)
    }

    /// `store.gpkg 2026-11-01: 12 versions added, 9 closed, 4 lineage rows`
    pub fn one_line(&self, path: &str) -> String {
        format!(
            "history {path} {}: {} versions added, {} closed, {} lineage rows{}",
            self.as_of,
            self.add.len(),
            self.close.len(),
            self.lineage.len(),
            if self.rerun {
                " (the day's run replaced)"
            } else {
                ""
            }
        )
    }
}

/// What [`record`] did: the change report (when the store had a run to
/// carry ids from) and the store staged (`None`: a rerun with nothing new),
/// or for a store in PostGIS the SQL to run in the transaction that swaps
/// the layer's table in.
pub struct Recorded {
    pub report: Option<ChangeReport>,
    pub plan: Plan,
    pub staged: Option<Staged>,
    pub sql: Option<String>,
}

/// A run's features into the store: carries ids over from its current
/// versions (or, for a store with no earlier run, from `seed`, a
/// `--previous` layer), plans the rows and stages the store's new file
/// for [`write::commit_all`]. `buildings` are the run's building points
/// (the lineage's building shares). `then` makes the layer of the features
/// once their ids are carried over (the coarser levels, whose ids follow
/// from level 1's): what it returns is what the store records.
pub fn record(
    history: &History,
    seed: Option<&Previous>,
    features: &mut Vec<Neighborhood>,
    as_of: Date,
    buildings: &[Coord<f64>],
    crs: &WorkingCrs,
    then: impl FnOnce(Vec<Neighborhood>) -> Result<Vec<Neighborhood>>,
) -> Result<Recorded> {
    history.check_date(as_of)?;
    history.check_crs(crs)?;
    let from_history;
    let previous = if history.has_run_before(as_of) {
        from_history = history.previous(as_of);
        Some(&from_history)
    } else {
        seed
    };
    let matched = match previous {
        Some(p) => Some(ids::carry_over_with_overlaps(features, p)?),
        None => None,
    };
    let (report, overlaps) = match matched {
        Some((r, o)) => (Some(r), o),
        None => (None, Vec::new()),
    };
    *features = then(std::mem::take(features))?;
    let plan = plan(
        history,
        features,
        as_of,
        report.as_ref(),
        &overlaps,
        buildings,
        crs,
    );
    let (staged, sql) = if plan.already_stored(history) {
        (None, None)
    } else if let Some((_, table)) = &history.pg {
        (None, Some(pg::sql(table, &plan)?))
    } else {
        (Some(stage(history, &plan)?), None)
    };
    Ok(Recorded {
        report,
        plan,
        staged,
        sql,
    })
}

/// The rows a run of `as_of` adds, against the versions current before it.
pub fn plan(
    history: &History,
    features: &[Neighborhood],
    as_of: Date,
    report: Option<&ChangeReport>,
    overlaps: &[Overlap],
    buildings: &[Coord<f64>],
    crs: &WorkingCrs,
) -> Plan {
    let current: HashMap<&str, &Version> = history
        .current_before(as_of)
        .into_iter()
        .map(|v| (v.feature.id.as_str(), v))
        .collect();
    // The highest version each id had before (an id is never reused, but
    // a store may say otherwise: numbering on keeps versions unique).
    let mut last_version: HashMap<&str, i64> = HashMap::new();
    for v in history.versions.iter().filter(|v| v.valid_from < as_of) {
        let e = last_version.entry(v.feature.id.as_str()).or_insert(0);
        *e = (*e).max(v.version);
    }
    let mut close = Vec::new();
    let mut add = Vec::new();
    let mut new_version: HashMap<&str, i64> = HashMap::new();
    let mut today: BTreeSet<&str> = BTreeSet::new();
    for f in features {
        today.insert(f.id.as_str());
        let written = write::as_written(f);
        match current.get(f.id.as_str()) {
            Some(v) if v.feature == written => {
                new_version.insert(f.id.as_str(), v.version);
                continue;
            }
            Some(v) => close.push(v.fid),
            None => {}
        }
        let version = last_version.get(f.id.as_str()).copied().unwrap_or(0) + 1;
        new_version.insert(f.id.as_str(), version);
        add.push(Version {
            fid: 0,
            version,
            valid_from: as_of,
            valid_to: None,
            feature: written,
        });
    }
    for (id, v) in &current {
        if !today.contains(id) {
            close.push(v.fid);
        }
    }
    close.sort_unstable();
    let lineage = match report {
        Some(r) => lineage::lineage(
            r,
            overlaps,
            &current,
            features,
            &new_version,
            buildings,
            as_of,
        ),
        None => Vec::new(),
    };
    Plan {
        as_of,
        rerun: history.is_rerun(as_of),
        close,
        add,
        lineage,
        run: Run {
            fid: 0,
            as_of,
            ids: features.iter().map(|f| f.id.clone()).collect(),
            crs: crs.clone(),
            dongne_version: env!("CARGO_PKG_VERSION").to_string(),
        },
    }
}
