//! Stable neighborhood ids from one run to the next, and the change report.
//!
//! A daily job redraws the neighborhoods from data that changed a little.
//! `generate --previous yesterday.gpkg` matches today's features to
//! yesterday's by the area they share and gives each today's feature the id of
//! the yesterday's feature it continues; only what is really new gets a new
//! id. [`carry_over`] does it and returns a [`ChangeReport`].
//!
//! # Matching
//!
//! Features are compared within one kind (`neighborhood`, `water`,
//! `park`…) and one admin unit, while the frame stays the same: a feature
//! that moved to another unit that was there yesterday is a new one. Where
//! a unit is in one run only (its code changed, or units were split or
//! merged: 행정구역 변경), its features are compared with those of every
//! unit, so ground that continues keeps its id, which then carries the code
//! of the unit it was first drawn in. For a today's feature `C`
//! and a yesterday's feature `P` of the same group, `a = |C ∩ P|` (exact, on
//! the overlay grid).
//!
//! - `P` is the **parent** of `C` when it gives `C` the largest area and at
//!   least [`MAJORITY`] of `C`'s area: `C` is mostly made of `P`.
//! - `C` is the **child** of `P` when it takes the largest area of `P` and at
//!   least [`MAJORITY`] of `P`'s area: `P` mostly went into `C`.
//! - The **pieces** of `P` are the features whose parent is `P`.
//! - `P`'s id goes to its largest piece (its **heir**), unless `P` mostly went
//!   into a feature that is not one of its pieces (then `P` was merged into
//!   that one and none of its pieces continues it).
//!
//! Both conditions are by area share, not by vertices, so a boundary that
//! moves by a few metres (a building more or less in a Voronoi cell) keeps
//! the id, and a feature read back from GeoJSON (7 decimals) matches its
//! original exactly as well.
//!
//! # Report
//!
//! | kind | when | `previous` → `current` | `overlap` |
//! |---|---|---|---|
//! | `split` | `P` has two or more pieces | `[P]` → pieces, the heir first | share of `P`'s area in each piece |
//! | `merged` | `C` is the child of two or more | those → `[C]`, the one whose id `C` kept first | share of `C`'s area from each |
//! | `reshaped` | `C` kept `P`'s id, in no split or merge, IoU below [`RESHAPED_IOU`] and at least [`RESHAPED_MIN_M2`] changed | `[P]` → `[C]` | IoU `|C∩P| / |C∪P|` |
//! | `added` | `C` has a new id and is in no split or merge | `[]` → `[C]` | `[]` |
//! | `removed` | `P`'s id went nowhere and `P` is in no split or merge | `[P]` → `[]` | `[]` |
//! | `renamed` | `C` kept `P`'s id under another name (`previous_name` → `current_name`) | `[P]` → `[C]` | `[]` |
//!
//! Every other today's feature kept its id and (nearly) its shape and is only
//! counted (`kept`). A rename says nothing about the shape: a renamed feature
//! is also kept, reshaped, or the heir of a split or merge, and listed there
//! too. Yesterday's layer without a `name` field (written before features
//! had names) gives no renames. Identical input gives an empty list, also
//! when the previous run is read back from GeoJSON.
//!
//! # New ids
//!
//! `{admin_code}-{NNN}` (at least three digits), numbered on from the largest
//! number yesterday's file used in that unit, in output order. A new id is
//! thus never one of yesterday's ids nor another new one. An id retired more
//! than a run ago can come back only if it was the highest of its unit; the
//! output holds no history to tell. A history store (`--history`,
//! [`crate::products::history`]) does: its every id ever used is in
//! [`Previous::retired`], and none comes back.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use gdal::vector::LayerAccess;
use gdal::Dataset;
use geo_types::{Coord, Geometry, MultiPolygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geom::overlay;
use crate::geom::shape::Shape;
use crate::io::gdal_errors;
use crate::io::postgis::{self, TableName};
use crate::io::read;
use crate::io::reproject::{self, Coords, Transformer, WorkingCrs};
use crate::io::write::LAYER_NAME;
use crate::model::{Neighborhood, Source};

mod previous;
mod report;

pub use previous::{check_openable, inspect, Previous, PreviousFeature, PreviousInfo};
pub use report::{Change, ChangeKind, ChangeReport, ChangeSummary, Rename, Thresholds};

use report::*;

/// Share of area that makes one feature mostly another's (see the module
/// docs): above one half, a feature has at most one parent and one child.
pub const MAJORITY: f64 = 0.5;

/// A feature that kept its id but overlaps yesterday's shape with an IoU
/// below this is reported as `reshaped`. 0.9 lets the edge of a 10 ha
/// neighborhood move by a few metres unreported (one building more or less
/// at its rim) and reports a move of a whole block.
pub const RESHAPED_IOU: f64 = 0.9;

/// ... unless less than this much ground changed hands (`|C ∪ P| − |C ∩ P|`,
/// m²): the IoU of a centimetre-wide sliver (a barrier's tip between two
/// units) swings with GeoJSON's 1 cm rounding alone.
pub const RESHAPED_MIN_M2: f64 = 1.0;

/// Ratios in the report are rounded so that the report does not change
/// with the last bits of an area.
pub(super) const RATIO_DECIMALS: i32 = 4;

/// The fields `--previous` needs; dongne writes them in every format.
pub(super) const ID_FIELDS: [&str; 3] = ["nbhd_id", "admin_code", "kind"];

/// The field renames are read from, when yesterday's layer has it.
pub(super) const NAME_FIELD: &str = "name";

/// A feature as the matcher sees it: its group, its shapes on the overlay
/// grid, its area.
struct Item {
    admin_code: String,
    kind: String,
    /// The feature's unit is not in the other run (its code changed, or
    /// the unit was split or merged): it may match across units.
    unit_changed: bool,
    shapes: Vec<Shape>,
    area: f64,
    bbox: Option<AABB<[f64; 2]>>,
}

impl Item {
    fn new(admin_code: &str, kind: &str, geom: &MultiPolygon<f64>, unit_changed: bool) -> Item {
        let shapes = overlay::shapes_of(geom);
        let area = shapes.iter().map(overlay::shape_area).sum();
        // Holes lie inside their exterior: the exteriors give the box.
        let corners: Vec<[f64; 2]> = shapes
            .iter()
            .filter_map(|s| s.first())
            .flatten()
            .copied()
            .collect();
        let bbox = (!corners.is_empty()).then(|| AABB::from_points(&corners));
        Item {
            admin_code: admin_code.to_string(),
            kind: kind.to_string(),
            unit_changed,
            shapes,
            area,
            bbox,
        }
    }

    /// One kind, one unit; or one kind where either unit is not in the
    /// other run: ground that continues keeps its id when a unit's code
    /// changes or units are split or merged (행정구역 변경).
    fn same_group(&self, other: &Item) -> bool {
        self.kind == other.kind
            && (self.admin_code == other.admin_code || self.unit_changed || other.unit_changed)
    }
}

/// The largest `(index, area)` of a list, the smaller index on a tie: the
/// same input always gives the same answer.
fn largest(list: &[(usize, f64)]) -> Option<(usize, f64)> {
    list.iter().copied().fold(None, |best, (k, a)| match best {
        Some((bk, ba)) if ba > a || (ba == a && bk < k) => Some((bk, ba)),
        _ => Some((k, a)),
    })
}

/// Gives `current` the ids of `previous` where they continue a previous
/// feature and new ids elsewhere (in place), and reports what changed.
pub fn carry_over(current: &mut [Neighborhood], previous: &Previous) -> Result<ChangeReport> {
    carry_over_with_overlaps(current, previous).map(|(report, _)| report)
}

/// The area a previous and a current feature share (exact, on the overlay
/// grid), with both features' areas: what the history's lineage takes its
/// area shares from.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    pub previous: String,
    pub current: String,
    /// `|C ∩ P|`, m².
    pub area: f64,
    pub previous_area: f64,
    pub current_area: f64,
}

/// [`carry_over`], and every pair of a previous and a current feature of one
/// group that share ground, in current then previous order.
pub fn carry_over_with_overlaps(
    current: &mut [Neighborhood],
    previous: &Previous,
) -> Result<(ChangeReport, Vec<Overlap>)> {
    let cur_units: HashSet<&str> = current.iter().map(|c| c.admin_code.as_str()).collect();
    let prev_units: HashSet<&str> = previous
        .features
        .iter()
        .map(|p| p.admin_code.as_str())
        .collect();
    let cur: Vec<Item> = current
        .par_iter()
        .map(|c| {
            let changed = !prev_units.contains(c.admin_code.as_str());
            Item::new(&c.admin_code, c.kind.as_str(), &c.geom, changed)
        })
        .collect();
    let prev: Vec<Item> = previous
        .features
        .par_iter()
        .map(|p| {
            let changed = !cur_units.contains(p.admin_code.as_str());
            Item::new(&p.admin_code, &p.kind, &p.geom, changed)
        })
        .collect();
    let tree = RTree::bulk_load(
        prev.iter()
            .enumerate()
            .filter_map(|(j, p)| {
                p.bbox
                    .map(|b| GeomWithData::new(Rectangle::from_corners(b.lower(), b.upper()), j))
            })
            .collect::<Vec<_>>(),
    );
    // Shared areas, per today's feature: (yesterday's index, area), by index.
    let shared: Vec<Vec<(usize, f64)>> = cur
        .par_iter()
        .map(|c| {
            let Some(b) = c.bbox else {
                return Ok(Vec::new());
            };
            let mut cands: Vec<usize> = tree
                .locate_in_envelope_intersecting(&b)
                .map(|g| g.data)
                .filter(|&j| prev[j].same_group(c))
                .collect();
            cands.sort_unstable();
            let mut out = Vec::with_capacity(cands.len());
            for j in cands {
                let inter = overlay::intersection(&c.shapes, &prev[j].shapes)?;
                let a: f64 = inter.iter().map(overlay::shape_area).sum();
                if a > 0.0 {
                    out.push((j, a));
                }
            }
            Ok(out)
        })
        .collect::<Result<_>>()?;
    let mut by_prev: Vec<Vec<(usize, f64)>> = vec![Vec::new(); prev.len()];
    for (i, list) in shared.iter().enumerate() {
        for &(j, a) in list {
            by_prev[j].push((i, a));
        }
    }
    let area_of = |i: usize, j: usize| -> f64 {
        shared[i]
            .iter()
            .find(|(k, _)| *k == j)
            .map(|x| x.1)
            .unwrap_or(0.0)
    };

    let parent: Vec<Option<usize>> = (0..cur.len())
        .map(|i| {
            largest(&shared[i])
                .filter(|&(_, a)| cur[i].area > 0.0 && a >= MAJORITY * cur[i].area)
                .map(|(j, _)| j)
        })
        .collect();
    let child: Vec<Option<usize>> = (0..prev.len())
        .map(|j| {
            largest(&by_prev[j])
                .filter(|&(_, a)| prev[j].area > 0.0 && a >= MAJORITY * prev[j].area)
                .map(|(i, _)| i)
        })
        .collect();
    let mut pieces: Vec<Vec<usize>> = vec![Vec::new(); prev.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(j) = p {
            pieces[*j].push(i);
        }
    }
    // The heir: the largest piece, unless P mostly went elsewhere.
    let mut carried: Vec<Option<usize>> = vec![None; cur.len()];
    let mut heir: Vec<Option<usize>> = vec![None; prev.len()];
    for j in 0..prev.len() {
        let sized: Vec<(usize, f64)> = pieces[j].iter().map(|&i| (i, area_of(i, j))).collect();
        let Some((best, _)) = largest(&sized) else {
            continue;
        };
        if child[j].is_none_or(|c| c == best) {
            heir[j] = Some(best);
            carried[best] = Some(j);
        }
    }

    assign_ids(current, previous, &carried);
    let overlaps: Vec<Overlap> = shared
        .iter()
        .enumerate()
        .flat_map(|(i, list)| list.iter().map(move |&(j, a)| (i, j, a)))
        .map(|(i, j, a)| Overlap {
            previous: previous.features[j].id.clone(),
            current: current[i].id.clone(),
            area: a,
            previous_area: prev[j].area,
            current_area: cur[i].area,
        })
        .collect();

    let cur_id = |i: usize| current[i].id.clone();
    let prev_id = |j: usize| previous.features[j].id.clone();
    let mut changes = Vec::new();
    let mut cur_listed = vec![false; cur.len()];
    let mut prev_listed = vec![false; prev.len()];

    // Splits first, then merges: a feature listed in one is not listed as
    // kept or reshaped.
    let splits = fans(
        &pieces,
        &heir,
        |j, i| area_of(i, j),
        &mut prev_listed,
        &mut cur_listed,
    );
    let mut contributors: Vec<Vec<usize>> = vec![Vec::new(); cur.len()];
    for (j, c) in child.iter().enumerate() {
        if let Some(i) = c {
            contributors[*i].push(j);
        }
    }
    let merges = fans(
        &contributors,
        &carried,
        area_of,
        &mut cur_listed,
        &mut prev_listed,
    );
    for (j, order) in splits {
        let (ids, shares) = members_of(&order, cur_id, prev[j].area);
        changes.push(change_of(
            ChangeKind::Split,
            &prev[j],
            vec![prev_id(j)],
            ids,
            shares,
        ));
    }
    for (i, order) in merges {
        let (ids, shares) = members_of(&order, prev_id, cur[i].area);
        changes.push(change_of(
            ChangeKind::Merged,
            &cur[i],
            ids,
            vec![cur_id(i)],
            shares,
        ));
    }
    let mut summary = ChangeSummary {
        previous_features: prev.len(),
        current_features: cur.len(),
        ..Default::default()
    };
    for i in 0..cur.len() {
        match carried[i] {
            Some(j) => {
                summary.ids_carried += 1;
                if cur_listed[i] || prev_listed[j] {
                    continue;
                }
                let a = area_of(i, j);
                let union = cur[i].area + prev[j].area - a;
                let iou = if union > 0.0 { a / union } else { 1.0 };
                if iou < RESHAPED_IOU && union - a >= RESHAPED_MIN_M2 {
                    changes.push(change_of(
                        ChangeKind::Reshaped,
                        &cur[i],
                        vec![prev_id(j)],
                        vec![cur_id(i)],
                        vec![ratio(iou)],
                    ));
                } else {
                    summary.kept += 1;
                }
            }
            None => {
                summary.ids_new += 1;
                if !cur_listed[i] {
                    changes.push(change_of(
                        ChangeKind::Added,
                        &cur[i],
                        vec![],
                        vec![cur_id(i)],
                        vec![],
                    ));
                }
            }
        }
    }
    for j in 0..prev.len() {
        if heir[j].is_none() && !prev_listed[j] {
            changes.push(change_of(
                ChangeKind::Removed,
                &prev[j],
                vec![prev_id(j)],
                vec![],
                vec![],
            ));
        }
    }
    changes.extend(renames(current, &cur, previous, &carried));
    let first_id = |c: &Change| {
        c.previous
            .first()
            .or(c.current.first())
            .cloned()
            .unwrap_or_default()
    };
    changes.sort_by_cached_key(|c| (c.kind, first_id(c)));
    for c in &changes {
        match c.kind {
            ChangeKind::Split => summary.split += 1,
            ChangeKind::Merged => summary.merged += 1,
            ChangeKind::Reshaped => summary.reshaped += 1,
            ChangeKind::Added => summary.added += 1,
            ChangeKind::Removed => summary.removed += 1,
            ChangeKind::Renamed => summary.renamed += 1,
        }
    }
    let report = ChangeReport {
        previous: previous.path.clone(),
        thresholds: Thresholds {
            majority: MAJORITY,
            reshaped_iou: RESHAPED_IOU,
            reshaped_min_m2: RESHAPED_MIN_M2,
        },
        summary,
        changes,
    };
    Ok((report, overlaps))
}

/// Carried ids from `previous`; new ids `{admin_code}-{NNN}` numbered on
/// from the largest number of the unit in `previous` (its features and its
/// retired ids), in output order.
fn assign_ids(current: &mut [Neighborhood], previous: &Previous, carried: &[Option<usize>]) {
    let mut used: HashSet<String> = previous.features.iter().map(|p| p.id.clone()).collect();
    used.extend(previous.retired.iter().map(|(id, _)| id.clone()));
    let mut next: BTreeMap<String, u64> = BTreeMap::new();
    let all = previous
        .features
        .iter()
        .map(|p| (&p.id, &p.admin_code))
        .chain(previous.retired.iter().map(|(id, code)| (id, code)));
    for (id, code) in all {
        let n = id
            .strip_prefix(code.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|num| num.parse::<u64>().ok());
        if let Some(n) = n {
            let e = next.entry(code.clone()).or_insert(1);
            *e = (*e).max(n.saturating_add(1));
        }
    }
    for (i, c) in current.iter_mut().enumerate() {
        if let Some(j) = carried[i] {
            c.id = previous.features[j].id.clone();
            continue;
        }
        let n = next.entry(c.admin_code.clone()).or_insert(1);
        let id = loop {
            let candidate = format!("{}-{:03}", c.admin_code, *n);
            *n = n.saturating_add(1);
            if !used.contains(&candidate) {
                break candidate;
            }
        };
        used.insert(id.clone());
        c.id = id;
    }
}

#[cfg(test)]
mod tests;
