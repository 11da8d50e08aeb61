//! The method end to end, on inputs already in the working CRS.
//!
//! The admin units are made into a clean frame and the buildings given to
//! their unit ([`crate::method::frame`]), and then each unit runs on its
//! own, in parallel: open ground, enclosures, hot spots, tessellation, one
//! piece, size rules, dissolve. Units are independent by the method's
//! invariants, so the result does not depend on the thread count; a last
//! pass nodes shared unit boundaries so neighbouring units meet vertex for
//! vertex.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::geom::coverage;
use crate::geom::measure;
use crate::geom::overlay;
use crate::geom::shape::{rect_to_rtree, Shape};
use crate::io::cache::Cache;
use crate::io::config::Params;
use crate::method::barriers::{self, BarrierIndex};
use crate::method::frame::{assign_buildings, node_between_units};
pub use crate::method::frame::{frame, node_tolerance, study_area};
use crate::method::names::NameIndex;
use crate::method::report::Timings;
pub use crate::method::report::{RunReport, STAGES};
pub use crate::method::shards::Shard;
use crate::method::unit::{run_unit, UnitCtx, UnitOut};
use crate::method::valid::{node_around_repairs, valid_or_repaired, Validity};
use crate::model::{AdminUnit, DebugLayers, FeatureKind, Inputs, Neighborhood};
use geo::{Area, Coord, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

pub struct Output {
    pub features: Vec<Neighborhood>,
    pub debug: Option<DebugLayers>,
    pub report: RunReport,
}

/// Runs the method.
pub fn run(inputs: &Inputs, params: &Params, want_debug: bool) -> Result<Output> {
    run_with(inputs, params, want_debug, RunOptions::default())
}

/// How a run is carried out, not what it computes: the output is the same
/// with any of these.
#[derive(Default, Clone, Copy)]
pub struct RunOptions<'a> {
    /// Unit results kept from earlier runs ([`crate::method::unit_cache`]).
    pub cache: Option<&'a Cache>,
}

/// Runs the method, reusing unit results from a cache.
pub fn run_with(
    inputs: &Inputs,
    params: &Params,
    want_debug: bool,
    opts: RunOptions,
) -> Result<Output> {
    let computed = compute(inputs, params, want_debug, opts, None)?;
    let barriers = want_debug.then(|| debug_barriers(inputs));
    assemble(computed, barriers)
}

/// The units of a run, each computed or (for another shard) left out, and
/// what the report knows before they are put together.
pub struct Computed {
    /// Per admin unit (in frame order): its result, `None` when another
    /// shard computes it.
    pub units: Vec<Option<UnitOut>>,
    /// Code and name of each admin unit.
    pub names: Vec<(String, String)>,
    pub report: RunReport,
    timings: Timings,
    wall: Vec<(String, f64)>,
}

impl Computed {
    /// Its units, unit names and report (for a shard's part file).
    pub fn into_parts(self) -> (Vec<Option<UnitOut>>, Vec<(String, String)>, RunReport) {
        (self.units, self.names, self.report)
    }

    /// The units of a merged run (their timings stay with the shards).
    pub fn from_parts(
        units: Vec<Option<UnitOut>>,
        names: Vec<(String, String)>,
        report: RunReport,
    ) -> Computed {
        Computed {
            units,
            names,
            report,
            timings: Timings::default(),
            wall: Vec::new(),
        }
    }
}

/// Frames the units and computes those of `shard` (all when `None`): the
/// part of the run whose cost grows with the buildings.
pub fn compute(
    inputs: &Inputs,
    params: &Params,
    want_debug: bool,
    opts: RunOptions,
    shard: Option<Shard>,
) -> Result<Computed> {
    params.validate()?;
    let t = Timings::default();
    let hull_unit;
    let admin: &[AdminUnit] = if inputs.admin.is_empty() {
        hull_unit = study_area(&inputs.buildings, params.eps).ok_or_else(|| {
            Error::input("no buildings to work on").hint("check the buildings layer and its filter")
        })?;
        std::slice::from_ref(&hull_unit)
    } else {
        &inputs.admin
    };
    let mut wall: Vec<(String, f64)> = Vec::new();
    let phase = Instant::now();
    let pts: Vec<Coord> = inputs
        .buildings
        .par_iter()
        .map(|b| overlay::snap(b.pt))
        .collect();
    // The frame (then the buildings to their units) and the barrier index do
    // not depend on each other: one is built while the other runs.
    let (framed, index) = rayon::join(
        || -> Result<_> {
            let (units, overlap) = t.time(0, || frame(admin))?;
            let owner = t.time(0, || assign_buildings(&pts, &units));
            Ok((units, overlap, owner))
        },
        || t.time(1, || BarrierIndex::new(&inputs.lines, &inputs.areas)),
    );
    let (units, overlap, owner) = framed?;
    let mut per_unit: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (b, o) in owner.iter().enumerate() {
        if let Some(u) = o {
            per_unit[*u].push(b);
        }
    }
    let selected: Vec<bool> = match shard {
        None => vec![true; units.len()],
        Some(s) => crate::method::shards::assign(&units, &per_unit, s.n)
            .into_iter()
            .map(|k| k == s.k)
            .collect(),
    };
    wall.push(("frame".into(), phase.elapsed().as_secs_f64()));
    let phase = Instant::now();
    let landuse = t.time(3, || landuse_classes(&pts, &inputs.landuse));
    let name_index = NameIndex::new(&inputs.names);
    let ctx = UnitCtx {
        pts: &pts,
        buildings: &inputs.buildings,
        landuse: &landuse,
        index: &index,
        names: &name_index,
        params,
        timings: &t,
        want_debug,
    };
    // Debug layers are not cached: a run that wants them computes.
    let cache = opts.cache.filter(|_| !want_debug);
    let outs: Vec<Option<UnitOut>> = (0..units.len())
        .into_par_iter()
        .map(|i| {
            if !selected[i] {
                return Ok(None);
            }
            let run = || run_unit(&admin[i], &units[i], &per_unit[i], &ctx);
            match cache {
                None => run().map(Some),
                Some(c) => crate::method::unit_cache::cached(
                    c,
                    &admin[i],
                    &units[i],
                    &per_unit[i],
                    &ctx,
                    run,
                )
                .map(Some),
            }
        })
        .collect::<Result<_>>()?;
    wall.push(("units".into(), phase.elapsed().as_secs_f64()));
    Ok(Computed {
        units: outs,
        names: admin
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
        report: RunReport {
            admin_units: units.len(),
            buildings: pts.len(),
            buildings_outside_admin: owner.iter().filter(|o| o.is_none()).count(),
            admin_overlap_m2: overlap,
            ..Default::default()
        },
        timings: t,
        wall,
    })
}

/// Puts every unit's result together: nodes the boundaries between units,
/// cleans and measures each feature, numbers the ids. Fails when a unit was
/// not computed (a shard missing from a merge).
pub fn assemble(
    computed: Computed,
    debug_barriers: Option<Vec<(String, String, geo::Geometry)>>,
) -> Result<Output> {
    let Computed {
        units,
        names,
        mut report,
        timings: t,
        mut wall,
    } = computed;
    let mut outs: Vec<UnitOut> = Vec::with_capacity(units.len());
    for (u, o) in units.into_iter().enumerate() {
        outs.push(o.ok_or_else(|| {
            Error::input(format!(
                "admin unit {} ({}) was computed by no shard",
                names[u].0, names[u].1
            ))
            .hint("merge the part files of every shard, 1/N to N/N, of the same inputs")
        })?);
    }
    let phase = Instant::now();

    // Neighbouring units were computed apart: node their shared boundaries.
    // The shapes move out of the units' features (no copy of the country).
    let mut all: Vec<(usize, Vec<Shape>)> = outs
        .iter_mut()
        .enumerate()
        .flat_map(|(u, o)| {
            o.features
                .iter_mut()
                .map(move |f| (u, std::mem::take(&mut f.shapes)))
        })
        .collect();
    t.time(6, || node_between_units(&mut all));
    wall.push(("between_units".into(), phase.elapsed().as_secs_f64()));
    let phase = Instant::now();

    // Clean-up, validity as GEOS judges it, and measures of every feature,
    // on every thread, in order.
    let mut checked: Vec<(geo::MultiPolygon, Validity)> = all
        .into_par_iter()
        .map(|(_, s)| valid_or_repaired(coverage::clean(s)))
        .collect();
    node_around_repairs(&mut checked);
    let geoms: Vec<(geo::MultiPolygon, f64, f64, bool)> = checked
        .into_par_iter()
        .map(|(geom, v)| {
            let area = geom.unsigned_area();
            let perimeter = measure::perimeter(&geom);
            (geom, area, perimeter, v != Validity::Invalid)
        })
        .collect();
    let mut features = Vec::with_capacity(geoms.len());
    let mut debug = debug_barriers.map(|barriers| DebugLayers {
        barriers,
        ..Default::default()
    });
    let mut geoms = geoms.into_iter();
    for (u, o) in outs.into_iter().enumerate() {
        report.enclosures += o.enclosures;
        report.hot_spots += o.hot_spots;
        report.size_exceptions.extend(o.exceptions);
        let (code, name) = &names[u];
        for (k, f) in o.features.into_iter().enumerate() {
            let (geom, area, perimeter, valid) = geoms
                .next()
                .unwrap_or_else(|| (geo::MultiPolygon(Vec::new()), 0.0, 0.0, true));
            let id = format!("{code}-{:03}", k + 1);
            if !valid {
                return Err(Error::internal(format!(
                    "feature {id} ({}) is not a valid polygon as GEOS judges it, even after repair; nothing was written",
                    f.kind.as_str()
                )));
            }
            match f.kind {
                FeatureKind::Neighborhood => report.neighborhoods += 1,
                FeatureKind::Hamlet => report.hamlets += 1,
                FeatureKind::Barrier(_) => report.barrier_features += 1,
            }
            features.push(Neighborhood {
                id,
                kind: f.kind,
                admin_code: code.clone(),
                admin_name: name.clone(),
                geom,
                area_m2: area,
                perimeter_m: perimeter,
                buildings: f.buildings,
                compactness: measure::compactness(area, perimeter),
                bounded_by: f.bounded_by,
                name: f.name,
                level: 1,
                parent_id: None,
            });
        }
        if let (Some(d), Some(od)) = (debug.as_mut(), o.debug) {
            d.hotspots.extend(od.hotspots);
            d.enclosures.extend(od.enclosures);
        }
    }
    report.stage_seconds = t.seconds();
    wall.push(("assemble".into(), phase.elapsed().as_secs_f64()));
    report.wall_seconds = wall;
    Ok(Output {
        features,
        debug,
        report,
    })
}

/// The barrier layer of the debug output: every barrier as read.
fn debug_barriers(inputs: &Inputs) -> Vec<(String, String, geo::Geometry)> {
    inputs
        .lines
        .iter()
        .map(|l| {
            (
                l.kind.as_str().to_string(),
                l.class.clone(),
                barriers::footprint(l),
            )
        })
        .chain(inputs.areas.iter().map(|a| {
            (
                a.kind.as_str().to_string(),
                String::new(),
                geo::Geometry::Polygon(a.geom.clone()),
            )
        }))
        .collect()
}

/// The land-use class each building stands in, as an index (0: none; else
/// 1 + the class's rank in sorted order), for the soft split.
pub fn landuse_classes(pts: &[Coord], landuse: &[crate::model::LanduseArea]) -> Vec<usize> {
    use geo::{BoundingRect, Contains};
    if landuse.is_empty() {
        return vec![0; pts.len()];
    }
    let mut classes: Vec<&str> = landuse.iter().map(|l| l.class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let tree = RTree::bulk_load(
        landuse
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                l.geom
                    .bounding_rect()
                    .map(|r| GeomWithData::new(rect_to_rtree(&r), i))
            })
            .collect::<Vec<_>>(),
    );
    pts.par_iter()
        .map(|c| {
            tree.locate_all_at_point(&[c.x, c.y])
                .map(|g| g.data)
                .filter(|&i| landuse[i].geom.contains(&Point(*c)))
                .min()
                .map_or(0, |i| {
                    1 + classes
                        .binary_search(&landuse[i].class.as_str())
                        .unwrap_or(0)
                })
        })
        .collect()
}
