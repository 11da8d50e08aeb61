//! The method end to end, on inputs already in the working CRS.
//!
//! The admin units are made into a clean frame and the buildings given to
//! their unit ([`crate::method::frame`]), and then each unit runs on its
//! own, in parallel: open ground, enclosures, hot spots, tessellation, one
//! piece, size rules, dissolve. Units are independent by the method's
//! invariants, so the result does not depend on the thread count; a last
//! pass nodes shared unit boundaries so neighbouring units meet vertex for
//! vertex.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use geo::{Area, Buffer, ConvexHull, Coord, Euclidean, Length, MultiPoint, Point};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geom::contains::{shape_contains, PreparedShape};
use crate::geom::coverage;
use crate::geom::overlay;
use crate::geom::shape::{rect_to_rtree, shapes_rect, Shape};
use crate::io::cache::Cache;
use crate::io::config::Params;
use crate::method::barriers::{self, BarrierIndex};
use crate::method::clustering::{self, ClusterParams};
use crate::method::enclosures::{self, Piece};
use crate::method::frame::{assign_buildings, node_between_units};
pub use crate::method::frame::{frame, node_tolerance, study_area};
use crate::method::open_ground;
use crate::method::pieces;
pub use crate::method::shards::Shard;
use crate::method::size_rules::{self, Border, Region, SizeParams};
use crate::method::tessellation;
use crate::model::{
    AdminUnit, AreaBarrier, BarrierKind, Building, DebugLayers, FeatureKind, Inputs, Neighborhood,
};

pub const STAGES: [&str; 7] = [
    "frame",
    "barriers",
    "enclosures",
    "clustering",
    "tessellation",
    "size_rules",
    "dissolve",
];

/// Seconds per stage, summed over threads.
#[derive(Default)]
pub struct Timings([AtomicU64; 7]);

impl Timings {
    fn time<T>(&self, stage: usize, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.0[stage].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        r
    }
    fn seconds(&self) -> Vec<(String, f64)> {
        STAGES
            .iter()
            .zip(&self.0)
            .map(|(s, n)| (s.to_string(), n.load(Ordering::Relaxed) as f64 / 1e9))
            .collect()
    }
}

/// Figures of one run, for the summary on stderr and `--summary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub admin_units: usize,
    pub buildings: usize,
    pub buildings_outside_admin: usize,
    pub enclosures: usize,
    pub hot_spots: usize,
    pub neighborhoods: usize,
    pub barrier_features: usize,
    /// Area where input admin units overlapped, given to the first by code.
    pub admin_overlap_m2: f64,
    /// Neighborhoods that still break a size rule, with the reason.
    pub size_exceptions: Vec<String>,
    /// Seconds per stage, summed over threads.
    pub stage_seconds: Vec<(String, f64)>,
    /// Wall-clock seconds of the run's phases: `frame` (frame and buildings
    /// to units), `units` (every unit, in parallel), `between_units` (noding
    /// of shared unit boundaries), `assemble` (clean-up and attributes).
    pub wall_seconds: Vec<(String, f64)>,
}

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
    let ctx = UnitCtx {
        pts: &pts,
        buildings: &inputs.buildings,
        landuse: &landuse,
        index: &index,
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

    // Clean-up and measures of every feature, on every thread, in order.
    let geoms: Vec<(geo::MultiPolygon, f64, f64)> = all
        .into_par_iter()
        .map(|(_, s)| {
            let geom = overlay::multipolygon_of(&coverage::clean(s));
            let area = geom.unsigned_area();
            let perimeter: f64 = geom
                .0
                .iter()
                .map(|p| {
                    Euclidean.length(p.exterior())
                        + p.interiors()
                            .iter()
                            .map(|r| Euclidean.length(r))
                            .sum::<f64>()
                })
                .sum();
            (geom, area, perimeter)
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
            let (geom, area, perimeter) = geoms
                .next()
                .unwrap_or_else(|| (geo::MultiPolygon(Vec::new()), 0.0, 0.0));
            match f.kind {
                FeatureKind::Neighborhood => report.neighborhoods += 1,
                FeatureKind::Barrier(_) => report.barrier_features += 1,
            }
            features.push(Neighborhood {
                id: format!("{code}-{:03}", k + 1),
                kind: f.kind,
                admin_code: code.clone(),
                admin_name: name.clone(),
                geom,
                area_m2: area,
                perimeter_m: perimeter,
                buildings: f.buildings,
                compactness: if perimeter > 0.0 {
                    4.0 * std::f64::consts::PI * area / (perimeter * perimeter)
                } else {
                    0.0
                },
                bounded_by: f.bounded_by,
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

/// What every unit's run reads besides its own unit and buildings.
pub(crate) struct UnitCtx<'a> {
    pub(crate) pts: &'a [Coord],
    /// The buildings as read, for their footprints' outlines.
    pub(crate) buildings: &'a [Building],
    /// Land-use class of each building (an index into the classes; 0: none).
    pub(crate) landuse: &'a [usize],
    pub(crate) index: &'a BarrierIndex<'a>,
    pub(crate) params: &'a Params,
    timings: &'a Timings,
    want_debug: bool,
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

/// One feature of a unit, before the noding between units.
#[derive(Serialize, Deserialize)]
pub struct UnitFeature {
    kind: FeatureKind,
    shapes: Vec<Shape>,
    buildings: usize,
    bounded_by: String,
}

/// What one unit's run makes: its features and figures. Cached, and
/// carried in a shard's part file.
#[derive(Serialize, Deserialize)]
pub struct UnitOut {
    features: Vec<UnitFeature>,
    enclosures: usize,
    hot_spots: usize,
    exceptions: Vec<String>,
    #[serde(skip)]
    debug: Option<DebugLayers>,
}

/// The faces of a unit: each a piece of ground, the region it belongs to and
/// the piece of the split unit (enclosure or barrier) it lies in.
#[derive(Default)]
struct Faces {
    shapes: Vec<Shape>,
    region: Vec<usize>,
    piece: Vec<usize>,
}

impl Faces {
    fn push(&mut self, shape: Shape, region: usize, piece: usize) {
        self.shapes.push(shape);
        self.region.push(region);
        self.piece.push(piece);
    }
}

/// The faces after the size rules, with the group each now belongs to.
#[derive(Clone, Copy)]
struct FaceTable<'a> {
    faces: &'a [Shape],
    group: &'a [usize],
    piece: &'a [usize],
    region: &'a [usize],
    regions: &'a [RegionInfo],
}

/// A region before the size rules: what it is, which piece of the split unit
/// it lies in, and its buildings.
struct RegionInfo {
    kind: FeatureKind,
    piece: usize,
    buildings: Vec<usize>,
}

fn run_unit(unit: &AdminUnit, shapes: &[Shape], bids: &[usize], ctx: &UnitCtx) -> Result<UnitOut> {
    let t = ctx.timings;
    let p = ctx.params;
    let Some(rect) = shapes_rect(shapes) else {
        return Ok(UnitOut {
            features: Vec::new(),
            enclosures: 0,
            hot_spots: 0,
            exceptions: vec![format!("admin unit {} ({}) is empty", unit.code, unit.name)],
            debug: None,
        });
    };
    let rect = overlay::grow(&rect, 1.0);
    let (line_ids, lines, areas) = t.time(1, || {
        let line_ids = ctx.index.lines_in(&rect);
        let lines: Vec<Vec<[f64; 2]>> = line_ids
            .iter()
            .map(|&i| barriers::polyline(&ctx.index.lines[i]))
            .collect();
        let areas: Vec<_> = ctx
            .index
            .areas_in(&rect)
            .into_iter()
            .map(|i| &ctx.index.areas[i])
            .collect();
        (line_ids, lines, areas)
    });
    // Ground farther than a walk from every building: an area of its own.
    let open: Vec<AreaBarrier> = if p.fill_open {
        Vec::new()
    } else {
        let sites: Vec<Coord> = bids.iter().map(|&b| ctx.pts[b]).collect();
        t.time(2, || {
            open_ground::open_ground(shapes, &sites, p.open_reach(), p.min_area)
        })?
        .iter()
        .map(|s| AreaBarrier {
            fid: -1,
            kind: BarrierKind::Open,
            geom: overlay::polygon_of(s),
        })
        .collect()
    };
    let mut areas = areas;
    areas.extend(open.iter());
    let pieces: Vec<Piece> = t.time(2, || enclosures::split(shapes, &lines, &areas))?;
    let piece_of = t.time(2, || building_pieces(bids, ctx.pts, &pieces));

    // Regions and their faces.
    let mut faces = Faces::default();
    let mut regions: Vec<RegionInfo> = Vec::new();
    let mut in_piece: Vec<Vec<usize>> = vec![Vec::new(); pieces.len()];
    for (k, &b) in bids.iter().enumerate() {
        in_piece[piece_of[k]].push(b);
    }
    let cp = ClusterParams {
        eps: p.eps,
        min_buildings: p.min_buildings,
        walk_radius: p.walk_radius(),
    };
    // Hot spots and their tessellation, every enclosure on its own (and on
    // every thread: a unit with one big town is otherwise one long task);
    // the regions are numbered in piece order below, as if one by one.
    let mut per_piece: Vec<Option<Tessellated>> = pieces
        .par_iter()
        .enumerate()
        .map(|(pi, piece)| {
            let members = &in_piece[pi];
            if piece.barrier.is_some() || members.is_empty() {
                return None;
            }
            let sites: Vec<Coord> = members.iter().map(|&b| ctx.pts[b]).collect();
            let labels = t.time(3, || {
                clustering::hot_spots_by_class(&sites, &cp, |i| ctx.landuse[members[i]])
            });
            let tess = t.time(4, || {
                let g = generators(members, &sites, &labels, ctx.buildings);
                tessellation::tessellate_around(&piece.shape, &g.sites, &g.labels, &g.footprints)
            });
            Some((labels, tess))
        })
        .collect();
    let mut hot_spots = 0;
    let mut debug = ctx.want_debug.then(DebugLayers::default);
    for (pi, piece) in pieces.iter().enumerate() {
        let members = &in_piece[pi];
        let push_whole = |kind, regions: &mut Vec<RegionInfo>, faces: &mut Faces| {
            regions.push(RegionInfo {
                kind,
                piece: pi,
                buildings: members.clone(),
            });
            faces.push(piece.shape.clone(), regions.len() - 1, pi);
        };
        if let Some(k) = piece.barrier {
            push_whole(FeatureKind::Barrier(k), &mut regions, &mut faces);
            continue;
        }
        if let Some(d) = debug.as_mut() {
            d.enclosures.push((
                format!("{}-e{}", unit.code, pi + 1),
                overlay::polygon_of(&piece.shape),
            ));
        }
        if members.is_empty() {
            push_whole(FeatureKind::Neighborhood, &mut regions, &mut faces);
            continue;
        }
        let Some((labels, tess)) = per_piece[pi].take() else {
            return Err(crate::error::Error::internal("enclosure without hot spots"));
        };
        let k = labels.iter().max().map_or(0, |m| m + 1);
        hot_spots += k;
        let base = regions.len();
        for _ in 0..k {
            regions.push(RegionInfo {
                kind: FeatureKind::Neighborhood,
                piece: pi,
                buildings: Vec::new(),
            });
        }
        for (m, &l) in members.iter().zip(&labels) {
            regions[base + l].buildings.push(*m);
        }
        if let Some(d) = debug.as_mut() {
            for l in 0..k {
                let mp = MultiPoint(
                    regions[base + l]
                        .buildings
                        .iter()
                        .map(|&b| Point(ctx.pts[b]))
                        .collect(),
                );
                d.hotspots.push((
                    format!("{}-h{}", unit.code, hot_spots - k + l + 1),
                    // Grown by eps/2 so one or two buildings still draw an area.
                    geo::Geometry::MultiPolygon(mp.convex_hull().buffer(p.eps / 2.0)),
                    regions[base + l].buildings.len(),
                ));
            }
        }
        for f in tess? {
            faces.push(f.shape, base + f.label, pi);
        }
    }
    let enclosures = pieces.iter().filter(|p| p.barrier.is_none()).count();

    // Faces from separate slices meet with T-junctions: node them, then the
    // coverage is exact.
    t.time(6, || coverage::node(&mut faces.shapes, node_tolerance()));
    if p.fill_barriers {
        t.time(4, || fill_barriers(&mut faces, &mut regions, ctx.pts))?;
        t.time(6, || coverage::node(&mut faces.shapes, node_tolerance()));
    }
    let Faces {
        shapes: faces,
        region: face_region,
        piece: face_piece,
    } = faces;
    let adj = t.time(5, || coverage::adjacency(&faces));

    // Same-kind barrier regions that touch are one feature (a river cut by a bridge).
    let mut uf: Vec<usize> = (0..regions.len()).collect();
    for (i, nb) in adj.iter().enumerate() {
        for &(j, _) in nb {
            let (ri, rj) = (face_region[i], face_region[j]);
            if ri != rj
                && regions[ri].kind == regions[rj].kind
                && regions[ri].kind != FeatureKind::Neighborhood
            {
                let (a, b) = (find(&mut uf, ri), find(&mut uf, rj));
                if a != b {
                    uf[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let face_area: Vec<f64> = faces.iter().map(overlay::shape_area).collect();
    let mut face_group: Vec<usize> = face_region.iter().map(|&r| find(&mut uf, r)).collect();

    // One piece each, before the size rules: a stray piece of a hot spot's
    // region goes to its neighbour (merges then keep every group in one
    // piece, as they join groups that share a border).
    let face_buildings = t.time(5, || {
        face_buildings(&faces, &face_region, &regions, ctx.pts)
    });
    let mut group_kind: Vec<FeatureKind> = regions.iter().map(|r| r.kind).collect();
    t.time(5, || {
        pieces::one_piece(
            &pieces::FaceGraph {
                adj: &adj,
                area: &face_area,
                buildings: &face_buildings,
                piece: &face_piece,
            },
            &mut face_group,
            &mut group_kind,
        )
    });
    let mut stats: Vec<Region> = group_kind
        .iter()
        .map(|k| Region {
            buildings: 0,
            area: 0.0,
            is_neighborhood: *k == FeatureKind::Neighborhood,
        })
        .collect();
    for (fi, &g) in face_group.iter().enumerate() {
        stats[g].buildings += face_buildings[fi];
        stats[g].area += face_area[fi];
    }
    let mut border_len: BTreeMap<(usize, usize, bool), f64> = BTreeMap::new();
    for (i, nb) in adj.iter().enumerate() {
        for &(j, len) in nb {
            let (a, b) = (face_group[i], face_group[j]);
            if a < b {
                let across = face_piece[i] != face_piece[j];
                *border_len.entry((a, b, across)).or_default() += len;
            }
        }
    }
    let borders: Vec<Border> = border_len
        .into_iter()
        .map(|((a, b, across_barrier), length)| Border {
            a,
            b,
            length,
            across_barrier,
        })
        .collect();
    let merged = t.time(5, || {
        size_rules::merge_small(
            &stats,
            &borders,
            SizeParams {
                min_area: p.min_area,
                min_buildings: p.min_buildings,
            },
        )
    });
    for g in face_group.iter_mut() {
        *g = merged.into[*g];
    }

    // Dissolve each final group's faces.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut group_buildings: BTreeMap<usize, usize> = BTreeMap::new();
    for (fi, &g) in face_group.iter().enumerate() {
        groups.entry(g).or_default().push(fi);
        *group_buildings.entry(g).or_default() += face_buildings[fi];
    }
    let table = FaceTable {
        faces: &faces,
        group: &face_group,
        piece: &face_piece,
        region: &face_region,
        regions: &regions,
    };
    let segs = UnitSegments {
        tree: ctx.index.segments(),
        line_ids: &line_ids,
    };
    let eidx = coverage::EdgeIndex::new(&faces);
    let mut features: Vec<UnitFeature> = t.time(6, || {
        groups
            .par_iter()
            .map(|(&g, fis)| {
                let shapes = coverage::dissolve(fis.iter().map(|&fi| &faces[fi]));
                let bounded_by = bounded_by(fis, &table, &eidx, &segs);
                UnitFeature {
                    kind: group_kind[g],
                    shapes,
                    buildings: group_buildings.get(&g).copied().unwrap_or(0),
                    bounded_by,
                }
            })
            .collect()
    });
    // Stable order: neighborhoods first, then barrier features, each from
    // north-west to south-east by their first vertex.
    features.sort_by(|a, b| {
        let key = |f: &UnitFeature| {
            let v = f.shapes.first().and_then(|s| s.first()).and_then(|r| {
                r.iter()
                    .copied()
                    .reduce(|m, q| if (q[1], -q[0]) > (m[1], -m[0]) { q } else { m })
            });
            (f.kind, v.map(|v| (-v[1], v[0])).unwrap_or((0.0, 0.0)))
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.partial_cmp(&kb.1).unwrap_or(std::cmp::Ordering::Equal))
    });
    // A region left with no ground (its hot spot's cell went to others)
    // makes no feature: nothing to warn about.
    let exceptions = merged
        .stuck
        .iter()
        .filter(|&&r| stats[r].area > 0.0)
        .map(|&r| {
            format!(
                "admin unit {} ({}): a neighborhood with {} buildings and {:.0} m² has no neighbour to merge with",
                unit.code, unit.name, stats[r].buildings, stats[r].area
            )
        })
        .collect();
    Ok(UnitOut {
        features,
        enclosures,
        hot_spots,
        exceptions,
        debug,
    })
}

/// Gives the ground of area barriers to the neighborhoods around it, split
/// by the same polygon → point → polygon step as the land: points along the
/// barrier's shared borders carry their neighbour's label, and each spot of
/// the barrier goes to the nearest. A river is thus shared along its middle
/// between its banks. Barrier ground with no neighborhood around it stays a
/// barrier feature.
fn fill_barriers(table: &mut Faces, regions: &mut [RegionInfo], pts: &[Coord]) -> Result<()> {
    let Faces {
        shapes: faces,
        region: face_region,
        piece: face_piece,
    } = table;
    const STEP: f64 = 5.0;
    // Open ground is no barrier to fill: it stays open (or, with
    // `fill_open`, was never made).
    let is_barrier = |fi: usize, fr: &[usize], regions: &[RegionInfo]| matches!(regions[fr[fi]].kind, FeatureKind::Barrier(k) if k != BarrierKind::Open);
    let adj = coverage::adjacency(faces);
    let idx = coverage::EdgeIndex::new(faces);
    let mut seen = vec![false; faces.len()];
    let mut removed = vec![false; faces.len()];
    let (mut new_faces, mut new_region, mut new_piece) = (Vec::new(), Vec::new(), Vec::new());
    for start in 0..faces.len() {
        if seen[start] || !is_barrier(start, face_region, regions) {
            continue;
        }
        // One connected patch of barrier ground.
        let mut comp = vec![start];
        seen[start] = true;
        let mut k = 0;
        while k < comp.len() {
            for &(g, _) in &adj[comp[k]] {
                if !seen[g] && is_barrier(g, face_region, regions) {
                    seen[g] = true;
                    comp.push(g);
                }
            }
            k += 1;
        }
        let (mut sites, mut labels) = (Vec::new(), Vec::new());
        for &fi in &comp {
            coverage::for_each_edge(&faces[fi], |a, b| {
                let Some(g) = idx.across(a, b) else { return };
                if is_barrier(g, face_region, regions) {
                    return;
                }
                for p in coverage::points_along(a, b, STEP, true) {
                    sites.push(Coord { x: p[0], y: p[1] });
                    labels.push(face_region[g]);
                }
            });
        }
        if sites.is_empty() {
            continue;
        }
        let ground = coverage::dissolve(comp.iter().map(|&fi| &faces[fi]));
        let mut pieces = Vec::new();
        for shape in &ground {
            for f in tessellation::tessellate(shape, &sites, &labels)? {
                pieces.push(f);
            }
        }
        // Buildings standing on the barrier go with the piece they stand in
        // (the first by index where pieces share an edge).
        let piece_tree = RTree::bulk_load(
            pieces
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    shapes_rect(std::slice::from_ref(&f.shape))
                        .map(|r| GeomWithData::new(rect_to_rtree(&r), i))
                })
                .collect::<Vec<_>>(),
        );
        for &fi in &comp {
            let r = face_region[fi];
            for b in std::mem::take(&mut regions[r].buildings) {
                let p = [pts[b].x, pts[b].y];
                let to = piece_tree
                    .locate_all_at_point(&p)
                    .map(|g| g.data)
                    .filter(|&i| shape_contains(&pieces[i].shape, p))
                    .min()
                    .map_or(labels[0], |i| pieces[i].label);
                regions[to].buildings.push(b);
            }
            removed[fi] = true;
        }
        for f in pieces {
            new_piece.push(regions[f.label].piece);
            new_region.push(f.label);
            new_faces.push(f.shape);
        }
    }
    let keep: Vec<usize> = (0..faces.len()).filter(|&i| !removed[i]).collect();
    *faces = keep
        .iter()
        .map(|&i| std::mem::take(&mut faces[i]))
        .chain(new_faces)
        .collect();
    *face_region = keep
        .iter()
        .map(|&i| face_region[i])
        .chain(new_region)
        .collect();
    *face_piece = keep
        .iter()
        .map(|&i| face_piece[i])
        .chain(new_piece)
        .collect();
    Ok(())
}

/// The buildings each face holds. A region of one face holds all of its
/// buildings there; a region of several faces (a hot spot's region cut by a
/// concave enclosure) gives each building to the face it stands in, the
/// first by index on a shared edge, the region's first face if none.
fn face_buildings(
    faces: &[Shape],
    face_region: &[usize],
    regions: &[RegionInfo],
    pts: &[Coord],
) -> Vec<usize> {
    let mut of_region: Vec<Vec<usize>> = vec![Vec::new(); regions.len()];
    for (fi, &r) in face_region.iter().enumerate() {
        of_region[r].push(fi);
    }
    let mut out = vec![0; faces.len()];
    for (r, fs) in of_region.iter().enumerate() {
        let Some(&first) = fs.first() else { continue };
        if fs.len() == 1 {
            out[first] += regions[r].buildings.len();
            continue;
        }
        let prepared: Vec<PreparedShape> =
            fs.iter().map(|&f| PreparedShape::new(&faces[f])).collect();
        for &b in &regions[r].buildings {
            let p = [pts[b].x, pts[b].y];
            let k = prepared.iter().position(|s| s.contains(p)).unwrap_or(0);
            out[fs[k]] += 1;
        }
    }
    out
}

/// Spacing of the generators along a footprint's outline (metres). The
/// boundary between two hot spots runs along the bisectors of outline
/// points; between footprints a few metres apart, points this close keep it
/// off both buildings (it can only cut a corner by a fraction of a spacing).
pub const OUTLINE_STEP: f64 = 2.0;

/// What an enclosure is tessellated with.
struct Generators {
    sites: Vec<Coord>,
    labels: Vec<usize>,
    /// Footprint outlines on the grid, with their building's label.
    footprints: Vec<(Vec<[f64; 2]>, usize)>,
}

/// The Voronoi generators of an enclosure's buildings with their hot-spot
/// labels: every building's point and, for a footprint, points along its
/// outline every [`OUTLINE_STEP`] metres, all on the grid, and the
/// footprints to keep whole. Outlines only when the enclosure holds more
/// than one hot spot: with one, nothing is drawn between buildings.
fn generators(
    members: &[usize],
    sites: &[Coord],
    labels: &[usize],
    buildings: &[Building],
) -> Generators {
    let mut g = Generators {
        sites: sites.to_vec(),
        labels: labels.to_vec(),
        footprints: Vec::new(),
    };
    if labels.windows(2).all(|w| w[0] == w[1]) {
        return g;
    }
    for (&b, &l) in members.iter().zip(labels) {
        let ring = &buildings[b].outline;
        for (k, a) in ring.iter().enumerate() {
            let c = ring[(k + 1) % ring.len()];
            for p in coverage::points_along([a.x, a.y], [c.x, c.y], OUTLINE_STEP, false) {
                g.sites.push(overlay::snap(Coord { x: p[0], y: p[1] }));
                g.labels.push(l);
            }
        }
        if ring.len() >= 3 {
            let snapped = ring.iter().map(|c| overlay::snap_pt([c.x, c.y])).collect();
            g.footprints.push((snapped, l));
        }
    }
    g
}

/// One enclosure's hot-spot labels and its tessellation.
type Tessellated = (Vec<usize>, Result<Vec<tessellation::Face>>);

fn find(uf: &mut [usize], mut i: usize) -> usize {
    while uf[i] != i {
        uf[i] = uf[uf[i]];
        i = uf[i];
    }
    i
}

/// The piece of the split unit each building stands in. A building on a
/// shared edge goes to the first piece; one a hair outside every piece (grid
/// rounding at the unit's edge) to the nearest.
fn building_pieces(bids: &[usize], pts: &[Coord], pieces: &[Piece]) -> Vec<usize> {
    let tree = RTree::bulk_load(
        pieces
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                shapes_rect(std::slice::from_ref(&p.shape))
                    .map(|r| GeomWithData::new(rect_to_rtree(&r), i))
            })
            .collect::<Vec<_>>(),
    );
    // Pieces are prepared when first met: most are small or meet few points.
    let prepared: Vec<std::cell::OnceCell<PreparedShape>> = (0..pieces.len())
        .map(|_| std::cell::OnceCell::new())
        .collect();
    let contains = |i: usize, p: [f64; 2]| {
        prepared[i]
            .get_or_init(|| PreparedShape::new(&pieces[i].shape))
            .contains(p)
    };
    bids.iter()
        .map(|&b| {
            let p = [pts[b].x, pts[b].y];
            let inside = tree
                .locate_all_at_point(&p)
                .filter(|g| contains(g.data, p))
                .map(|g| g.data)
                .min();
            inside.unwrap_or_else(|| nearest_piece(p, pieces, &tree))
        })
        .collect()
}

/// The piece nearest to `p` (the first by index among equals). Pieces are
/// taken by the distance of their boxes, nearest first, until a box lies
/// farther than the best piece found: O(log n) instead of every piece.
fn nearest_piece(
    p: [f64; 2],
    pieces: &[Piece],
    tree: &RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
) -> usize {
    use geo::Distance;
    use rstar::PointDistance;
    let pt = Point::new(p[0], p[1]);
    let mut best: Option<(f64, usize)> = None;
    for g in tree.nearest_neighbor_iter(&p) {
        let box_d = g.geom().distance_2(&p).sqrt();
        if best.is_some_and(|(d, _)| box_d > d) {
            break;
        }
        let d = Euclidean.distance(&overlay::polygon_of(&pieces[g.data].shape), &pt);
        if best.is_none_or(|(bd, bi)| d < bd || (d == bd && g.data < bi)) {
            best = Some((d, g.data));
        }
    }
    best.map_or(0, |b| b.1)
}

/// The barrier segments a unit sees: those of its lines (`line_ids`,
/// sorted), looked up in the run's one segment index.
struct UnitSegments<'a> {
    tree: &'a barriers::SegmentTree,
    line_ids: &'a [usize],
}

impl UnitSegments<'_> {
    /// The kind of the nearest segment of the unit's lines; among segments
    /// at the same distance, the first kind (water before rail before road).
    ///
    /// One index for the run, walked nearest first and skipping other
    /// units' lines, instead of an index of the unit's segments built per
    /// unit (a fifth of the run's time on the Korea frame).
    fn nearest(&self, p: [f64; 2]) -> Option<BarrierKind> {
        let mut best: Option<(f64, BarrierKind)> = None;
        for (g, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&p) {
            if best.is_some_and(|(bd, _)| d2 > bd) {
                break;
            }
            let (kind, line) = g.data;
            if self.line_ids.binary_search(&line).is_err() {
                continue;
            }
            if best.is_none_or(|(_, bk)| kind < bk) {
                best = Some((d2, kind));
            }
        }
        best.map(|b| b.1)
    }
}

/// What bounds a feature: `admin` where no other feature of the unit lies
/// across, the area-barrier kind across, or the kind of the nearest barrier
/// line where the neighbour lies in another enclosure.
fn bounded_by(
    fis: &[usize],
    t: &FaceTable,
    idx: &coverage::EdgeIndex,
    segs: &UnitSegments,
) -> String {
    let FaceTable {
        faces,
        group: face_group,
        piece: face_piece,
        region: face_region,
        regions,
    } = *t;
    let me = face_group[fis[0]];
    let mut kinds: std::collections::BTreeSet<&'static str> = Default::default();
    for &fi in fis {
        coverage::for_each_edge(&faces[fi], |a, b| match idx.across(a, b) {
            None => {
                kinds.insert("admin");
            }
            Some(fj) if face_group[fj] == me => {}
            Some(fj) => {
                if let FeatureKind::Barrier(k) = regions[face_region[fj]].kind {
                    kinds.insert(k.as_str());
                } else if face_piece[fj] != face_piece[fi] {
                    let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
                    if let Some(k) = segs.nearest(mid) {
                        kinds.insert(k.as_str());
                    }
                }
            }
        });
    }
    kinds.into_iter().collect::<Vec<_>>().join(",")
}
