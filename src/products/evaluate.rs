//! `dongne evaluate`: dongne's neighborhoods against the two usual
//! alternatives, H3 cells and the official admin units, on the same inputs.
//!
//! Every partition is measured against the same ground truth, computed once
//! from the inputs with the pipeline's own stages:
//!
//! - **Separating barriers.** Each admin unit is cut by its barriers exactly
//!   as the enclosure stage does ([`enclosures::split`]). A barrier edge
//!   *separates* when the pieces on its two sides could each stand as a
//!   neighborhood of their own: an area barrier (water, forest, a large
//!   park, unless barriers are filled into neighborhoods), or an enclosure of
//!   at least `min_area` holding at least `min_buildings` buildings. A
//!   dead-end road cuts nothing and so separates nothing; a barrier around a
//!   traffic island or an empty field separates nothing either, since the
//!   method merges such a piece across its barrier (invariant 6 of
//!   docs/method.md). Edges between two area barriers (a river beside a
//!   forest) are left out: nobody lives on either side. A barrier running
//!   exactly along an admin boundary (shared OSM ways: rivers, streams)
//!   separates the pieces of the two units it divides, under the same rule.
//! - **Barrier inside a unit.** A separating barrier is sampled every
//!   [`SAMPLE_STEP_M`] metre or less; a sample lies inside a unit when it is
//!   in one and no unit boundary passes within [`ON_BOUNDARY_M`] of it. The
//!   share is that length over the whole separating length.
//! - **Hot spots** are recomputed per enclosure with the pipeline's
//!   clustering ([`clustering::hot_spots_by_class`]: same parameters, same
//!   building order, same land-use soft split): one is *split* when its
//!   buildings lie in two units or more.
//! - **Far buildings**: buildings farther than `walk_minutes × 80 m` from the
//!   area centroid of their unit (a building in no unit counts as far).
//! - **Area and compactness** (Polsby–Popper 4πA/P²) are per unit, in the
//!   working CRS: dongne's neighborhoods only (not its water, park and forest
//!   features), every H3 cell, every admin unit. Building membership and
//!   barrier boundaries use every feature of the layer, area barriers
//!   included: a person in a forest hut is in the forest's feature.
//!
//! H3 cells are taken at the resolution whose cell area at the frame's
//! centre is closest, on a log scale (resolutions step by a factor of 7), to
//! the median area of dongne's neighborhoods. Every cell that covers part of the frame (the
//! union of the admin units; h3o's `Covers` mode) is clipped to the frame,
//! so the three partitions tile the same ground; cells along the edge of the
//! frame are therefore smaller and less compact than whole hexagons, as the
//! units a user would get by cutting a grid to the study area.

use std::collections::{BTreeSet, HashMap};

use geo::{Area, Centroid, Coord, Euclidean, Length, MultiPolygon, Point, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use rayon::prelude::*;
use rstar::primitives::Line as RLine;
use rstar::RTree;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geom::contains::shape_contains;
use crate::geom::coverage;
use crate::geom::overlay;
use crate::geom::shape::{bounds, box_tree, rect_to_aabb, shapes_rect, Shape};
use crate::io::config::Params;
use crate::io::reproject::{Transformer, WorkingCrs};
use crate::method::barriers::{self, BarrierIndex};
use crate::method::clustering::{self, ClusterParams};
use crate::method::enclosures::{self, Piece};
use crate::method::pipeline;
use crate::model::{AdminUnit, Inputs};
use crate::products::locate::Index;

/// A barrier sample closer than this to a unit boundary lies on it, not
/// inside the unit (metres). Covers the rounding of a boundary written to
/// a file and read back, far below a road's width.
pub const ON_BOUNDARY_M: f64 = 1.0;
/// Largest spacing of the samples along a separating barrier (metres).
pub const SAMPLE_STEP_M: f64 = 1.0;
/// A unit-boundary edge lies on a barrier line when its ends and middle are
/// this close to one (metres): shared vertices, moved only by the grid.
const ON_BARRIER_M: f64 = 1e-3;

/// One way of cutting the ground into units.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Column title: `dongne`, `H3 r9`, `admin`.
    pub name: String,
    /// The units, in the working CRS.
    pub geoms: Vec<MultiPolygon<f64>>,
    /// Which units the area and compactness figures count (dongne: its
    /// neighborhoods, not its barrier features).
    pub counted: Vec<bool>,
}

/// The figures of one partition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionStats {
    pub name: String,
    /// Units counted (dongne: neighborhoods).
    pub units: usize,
    /// Counted units holding at least one building.
    pub units_with_buildings: usize,
    pub median_area_m2: f64,
    pub p90_area_m2: f64,
    /// Mean Polsby–Popper compactness 4πA/P² of the counted units.
    pub mean_compactness: f64,
    /// Separating barrier length lying inside a unit (metres).
    pub barrier_inside_m: f64,
    /// `barrier_inside_m` over the whole separating length.
    pub barrier_inside_share: f64,
    /// Hot spots whose buildings lie in two units or more.
    pub hot_spots_split: usize,
    pub hot_spots_split_share: f64,
    /// Buildings farther than the walk radius from their unit's centroid.
    pub buildings_far: usize,
    pub buildings_far_share: f64,
    /// Counted units in more than one piece (invariant 9).
    pub units_in_pieces: usize,
    /// Footprints lying in two units or more, by more than 1 % of their
    /// area in each (invariant 10, without its barrier exception).
    pub footprints_cut: usize,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub working_crs: String,
    /// Buildings inside the frame.
    pub buildings: usize,
    pub hot_spots: usize,
    /// Length of separating barrier (metres).
    pub separating_barrier_m: f64,
    pub walk_radius_m: f64,
    pub h3_resolution: u8,
    /// Area of an H3 cell of that resolution at the frame's centre.
    pub h3_cell_area_m2: f64,
    pub partitions: Vec<PartitionStats>,
}

/// What every partition is measured against.
#[derive(Debug, Clone)]
pub struct Ground {
    /// Admin units as the pipeline frames them (input order).
    pub admin: Vec<AdminUnit>,
    pub frame: Vec<Vec<Shape>>,
    /// Building points on the grid, as the pipeline uses them.
    pub pts: Vec<Coord>,
    /// Buildings inside the frame (indices into `pts`).
    pub in_frame: Vec<usize>,
    /// The buildings of each hot spot.
    pub hot_spots: Vec<Vec<usize>>,
    /// Separating barrier edges.
    pub separating: Vec<[Coord; 2]>,
    /// Building footprints (buildings read as polygons).
    pub footprints: Vec<geo::Polygon<f64>>,
}

struct UnitOut {
    pieces: Vec<Piece>,
    viable: Vec<bool>,
    hot_spots: Vec<Vec<usize>>,
    internal: Vec<[Coord; 2]>,
    /// Unit-boundary edges with the piece they bound.
    boundary: Vec<([Coord; 2], usize)>,
    index: Index,
}

/// Computes the ground truth from the inputs (working CRS) and parameters.
pub fn ground(inputs: &Inputs, params: &Params) -> Result<Ground> {
    params.validate()?;
    let admin: Vec<AdminUnit> = if inputs.admin.is_empty() {
        vec![
            pipeline::study_area(&inputs.buildings, params.eps).ok_or_else(|| {
                Error::input("no buildings to work on")
                    .hint("check the buildings layer and its filter")
            })?,
        ]
    } else {
        inputs.admin.clone()
    };
    let (frame, _) = pipeline::frame(&admin)?;
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| overlay::snap(b.pt))
        .collect();
    // Buildings to units as the pipeline does: the first unit holding it.
    let unit_tree = box_tree(frame.iter().map(|s| shapes_rect(s)));
    let owner: Vec<Option<usize>> = pts
        .par_iter()
        .map(|c| {
            let p = [c.x, c.y];
            unit_tree
                .locate_all_at_point(&p)
                .map(|g| g.data)
                .filter(|&u| frame[u].iter().any(|s| shape_contains(s, p)))
                .min()
        })
        .collect();
    let mut per_unit: Vec<Vec<usize>> = vec![Vec::new(); frame.len()];
    for (b, o) in owner.iter().enumerate() {
        if let Some(u) = o {
            per_unit[*u].push(b);
        }
    }
    let in_frame: Vec<usize> = (0..pts.len()).filter(|&b| owner[b].is_some()).collect();
    let landuse = crate::method::pipeline::landuse_classes(&pts, &inputs.landuse);
    let bidx = BarrierIndex::new(&inputs.lines, &inputs.areas);
    let outs: Vec<UnitOut> = (0..frame.len())
        .into_par_iter()
        .map(|u| unit_ground(&frame[u], &per_unit[u], &pts, &landuse, &bidx, params))
        .collect::<Result<_>>()?;

    // Barrier edges along unit boundaries: each is seen from both units;
    // counted once, from the unit with the smaller index.
    let barrier_tree = barrier_segments(inputs);
    let frame_index = Index::new(
        &frame
            .iter()
            .map(|s| overlay::multipolygon_of(s))
            .collect::<Vec<_>>(),
    );
    let tol2 = ON_BARRIER_M * ON_BARRIER_M;
    let on_barrier = |p: Coord| {
        barrier_tree
            .locate_within_distance([p.x, p.y], tol2)
            .next()
            .is_some()
    };
    let mut separating = Vec::new();
    for (u, o) in outs.iter().enumerate() {
        separating.extend_from_slice(&o.internal);
        for &([a, b], piece) in &o.boundary {
            let mid = Coord {
                x: (a.x + b.x) / 2.0,
                y: (a.y + b.y) / 2.0,
            };
            if !(on_barrier(a) && on_barrier(b) && on_barrier(mid)) {
                continue;
            }
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = (dx * dx + dy * dy).sqrt();
            if len == 0.0 {
                continue;
            }
            let off = 0.01 / len;
            for side in [1.0, -1.0] {
                let q = Coord {
                    x: mid.x - dy * off * side,
                    y: mid.y + dx * off * side,
                };
                let Some(v) = frame_index.locate(q.x, q.y).map(|f| f.feature) else {
                    continue;
                };
                if v <= u {
                    continue;
                }
                if let Some(other) = outs[v].index.locate(q.x, q.y) {
                    if separates(o, piece, &outs[v], other.feature, params) {
                        separating.push([a, b]);
                    }
                }
                break;
            }
        }
    }
    let hot_spots = outs.into_iter().flat_map(|o| o.hot_spots).collect();
    let footprints = inputs
        .buildings
        .iter()
        .filter(|b| b.outline.len() >= 3)
        .map(|b| geo::Polygon::new(geo::LineString::from(b.outline.clone()), Vec::new()))
        .collect();
    Ok(Ground {
        admin,
        frame,
        pts,
        in_frame,
        hot_spots,
        separating,
        footprints,
    })
}

/// Whether the edge between piece `i` of unit `a` and piece `j` of unit
/// `b` separates two pieces that could each be a neighborhood.
fn separates(a: &UnitOut, i: usize, b: &UnitOut, j: usize, params: &Params) -> bool {
    let (bi, bj) = (a.pieces[i].barrier.is_some(), b.pieces[j].barrier.is_some());
    if bi && bj {
        return false;
    }
    if params.fill_barriers && (bi || bj) {
        return false;
    }
    a.viable[i] && b.viable[j]
}

fn unit_ground(
    shapes: &[Shape],
    bids: &[usize],
    pts: &[Coord],
    landuse: &[usize],
    bidx: &BarrierIndex,
    params: &Params,
) -> Result<UnitOut> {
    let Some(rect) = shapes_rect(shapes) else {
        return Ok(UnitOut {
            pieces: Vec::new(),
            viable: Vec::new(),
            hot_spots: Vec::new(),
            internal: Vec::new(),
            boundary: Vec::new(),
            index: Index::new(&[]),
        });
    };
    let rect = overlay::grow(&rect, 1.0);
    let lines: Vec<Vec<[f64; 2]>> = bidx
        .lines_in(&rect)
        .into_iter()
        .map(|i| barriers::polyline(&bidx.lines[i]))
        .collect();
    let areas: Vec<_> = bidx
        .areas_in(&rect)
        .into_iter()
        .map(|i| &bidx.areas[i])
        .collect();
    let pieces = enclosures::split(shapes, &lines, &areas)?;
    let index = Index::new(
        &pieces
            .iter()
            .map(|p| overlay::multipolygon_of(std::slice::from_ref(&p.shape)))
            .collect::<Vec<_>>(),
    );

    // Buildings to pieces as the pipeline does: the first piece holding it,
    // else the nearest.
    let tree = box_tree(
        pieces
            .iter()
            .map(|p| shapes_rect(std::slice::from_ref(&p.shape))),
    );
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); pieces.len()];
    for &b in bids {
        let p = [pts[b].x, pts[b].y];
        let k = tree
            .locate_all_at_point(&p)
            .map(|g| g.data)
            .filter(|&k| shape_contains(&pieces[k].shape, p))
            .min()
            .or_else(|| nearest_piece(p, &pieces));
        if let Some(k) = k {
            members[k].push(b);
        }
    }
    let viable: Vec<bool> = pieces
        .iter()
        .zip(&members)
        .map(|(p, m)| match p.barrier {
            Some(_) => !params.fill_barriers,
            None => {
                overlay::shape_area(&p.shape) >= params.min_area && m.len() >= params.min_buildings
            }
        })
        .collect();

    let cp = ClusterParams {
        eps: params.eps,
        min_buildings: params.min_buildings,
        walk_radius: params.walk_radius(),
    };
    let mut hot_spots = Vec::new();
    for (p, m) in pieces.iter().zip(&members) {
        if p.barrier.is_some() || m.is_empty() {
            continue;
        }
        let sites: Vec<Coord> = m.iter().map(|&b| pts[b]).collect();
        let labels = clustering::hot_spots_by_class(&sites, &cp, |i| landuse[m[i]]);
        let k = labels.iter().max().map_or(0, |l| l + 1);
        let mut groups = vec![Vec::new(); k];
        for (&b, &l) in m.iter().zip(&labels) {
            groups[l].push(b);
        }
        hot_spots.extend(groups.into_iter().filter(|g| !g.is_empty()));
    }

    // Edges shared by two pieces (one slice: shared vertex for vertex) are
    // barrier edges; edges of one piece only are on the unit's boundary.
    type Key = ((u64, u64), (u64, u64));
    let mut edges: HashMap<Key, (usize, usize, [Coord; 2])> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    for (k, p) in pieces.iter().enumerate() {
        coverage::for_each_edge(&p.shape, |a, b| {
            let (ka, kb) = (coverage::key(a), coverage::key(b));
            let key = if ka <= kb { (ka, kb) } else { (kb, ka) };
            let seg = [Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] }];
            edges.entry(key).and_modify(|e| e.1 = k).or_insert_with(|| {
                order.push(key);
                (k, usize::MAX, seg)
            });
        });
    }
    let mut out = UnitOut {
        pieces,
        viable,
        hot_spots,
        internal: Vec::new(),
        boundary: Vec::new(),
        index,
    };
    for key in order {
        let (i, j, seg) = edges[&key];
        if j == usize::MAX {
            out.boundary.push((seg, i));
        } else if i != j && separates(&out, i, &out, j, params) {
            out.internal.push(seg);
        }
    }
    Ok(out)
}

fn nearest_piece(p: [f64; 2], pieces: &[Piece]) -> Option<usize> {
    use geo::Distance;
    let pt = Point::new(p[0], p[1]);
    (0..pieces.len()).min_by(|&a, &b| {
        let da = Euclidean.distance(&overlay::polygon_of(&pieces[a].shape), &pt);
        let db = Euclidean.distance(&overlay::polygon_of(&pieces[b].shape), &pt);
        da.total_cmp(&db)
    })
}

type SegTree = RTree<RLine<[f64; 2]>>;

/// Every barrier line and area outline, on the grid, as segments.
fn barrier_segments(inputs: &Inputs) -> SegTree {
    let mut segs = Vec::new();
    let mut push = |l: &[[f64; 2]]| {
        for w in l.windows(2) {
            if w[0] != w[1] {
                segs.push(RLine::new(w[0], w[1]));
            }
        }
    };
    for l in &inputs.lines {
        push(&barriers::polyline(l));
    }
    for a in &inputs.areas {
        for r in barriers::outlines(a) {
            push(&r);
        }
    }
    RTree::bulk_load(segs)
}

// ---------------------------------------------------------------------------
// H3

/// The resolution whose cell area at `lonlat` (cells shrink away from the
/// icosahedron's face centres: in Seoul a resolution-9 cell holds 72,000 m²,
/// the global average is 105,000 m²) is closest to `area_m2` on a log scale.
pub fn h3_resolution_for(area_m2: f64, lonlat: (f64, f64)) -> (Resolution, f64) {
    let ll = h3o::LatLng::new(lonlat.1, lonlat.0).ok();
    let mut best = (Resolution::Zero, Resolution::Zero.area_m2());
    let mut best_d = f64::INFINITY;
    for r in 0..=15u8 {
        let Ok(res) = Resolution::try_from(r) else {
            continue;
        };
        let cell_area = ll.map_or(res.area_m2(), |ll| ll.to_cell(res).area_m2());
        let d = (cell_area / area_m2.max(1e-9)).ln().abs();
        if d < best_d {
            best = (res, cell_area);
            best_d = d;
        }
    }
    best
}

/// H3 cells at `res` covering the frame, clipped to it, in the working CRS,
/// ordered by cell index.
pub fn h3_partition(
    frame: &[Vec<Shape>],
    crs: &WorkingCrs,
    res: Resolution,
) -> Result<Vec<MultiPolygon<f64>>> {
    let to_ll = Transformer::to_lonlat(crs)?;
    let from_ll = Transformer::from_lonlat(&crs.spatial_ref()?)?;
    let mut tiler = TilerBuilder::new(res)
        .containment_mode(ContainmentMode::Covers)
        .build();
    // Each unit's bounding box in lon/lat is tiled, not the unit itself:
    // h3o tests complex polygons through DE-9IM relate, seconds for a few
    // municipalities, while the clip below drops the cells outside anyway.
    for shapes in frame {
        let ll = to_ll.multi_polygon(&overlay::multipolygon_of(shapes), None)?;
        if let Some(r) = geo::BoundingRect::bounding_rect(&ll) {
            tiler
                .add(r.to_polygon())
                .map_err(|e| Error::internal(format!("H3 tiling of the frame: {e}")))?;
        }
    }
    let cells: BTreeSet<CellIndex> = tiler.into_coverage().collect();
    let mut polys: Vec<Polygon<f64>> = cells
        .iter()
        .map(|c| {
            let ring: Vec<Coord> = c
                .boundary()
                .iter()
                .map(|ll| Coord {
                    x: ll.lng(),
                    y: ll.lat(),
                })
                .collect();
            Polygon::new(geo::LineString::from(ring), vec![])
        })
        .collect();
    from_ll.transform_all(&mut polys, |_| None)?;

    // Clip to the frame; a cell no frame edge passes through is whole
    // inside a unit or whole outside.
    let mut frame_edges = Vec::new();
    for s in frame.iter().flatten() {
        coverage::for_each_edge(s, |a, b| frame_edges.push(RLine::new(a, b)));
    }
    let edge_tree: SegTree = RTree::bulk_load(frame_edges);
    let unit_tree = box_tree(frame.iter().map(|s| shapes_rect(s)));
    let clipped: Vec<Option<MultiPolygon<f64>>> = polys
        .par_iter()
        .map(|p| {
            let shape = overlay::shape_of(p);
            let Some(r) = shapes_rect(std::slice::from_ref(&shape)) else {
                return Ok(None);
            };
            let env = rect_to_aabb(&r);
            let mut near: Vec<usize> = unit_tree
                .locate_in_envelope_intersecting(&env)
                .map(|g| g.data)
                .collect();
            near.sort_unstable();
            if edge_tree
                .locate_in_envelope_intersecting(&env)
                .next()
                .is_none()
            {
                let v = shape[0][0];
                let inside = near
                    .iter()
                    .any(|&u| frame[u].iter().any(|s| shape_contains(s, v)));
                return Ok(inside.then(|| overlay::multipolygon_of(&[shape])));
            }
            let clip: Vec<Shape> = near
                .iter()
                .flat_map(|&u| frame[u].iter().cloned())
                .collect();
            let out = overlay::intersection(std::slice::from_ref(&shape), &clip)?;
            Ok((!out.is_empty()).then(|| overlay::multipolygon_of(&out)))
        })
        .collect::<Result<_>>()?;
    Ok(clipped.into_iter().flatten().collect())
}

/// The centre of the frame's bounding box, in lon/lat.
fn frame_centre_lonlat(frame: &[Vec<Shape>], crs: &WorkingCrs) -> Result<(f64, f64)> {
    let r = bounds(frame.iter().flatten().flatten())
        .ok_or_else(|| Error::input("the admin units are empty"))?;
    let c = Transformer::to_lonlat(crs)?.point(Point(r.center()), None)?;
    Ok((c.x(), c.y()))
}

// ---------------------------------------------------------------------------
// Measuring

/// The figures of one partition against the ground truth.
pub fn measure(p: &Partition, g: &Ground, params: &Params) -> PartitionStats {
    let index = Index::new(&p.geoms);
    let walk = params.walk_radius();

    // Units of the buildings, areas, centroids.
    let unit_of: Vec<Option<usize>> = g
        .pts
        .par_iter()
        .map(|c| index.locate(c.x, c.y).map(|f| f.feature))
        .collect();
    let centroids: Vec<Option<Coord>> = p.geoms.iter().map(|m| m.centroid().map(|c| c.0)).collect();
    let mut has_building = vec![false; p.geoms.len()];
    let mut far = 0usize;
    for &b in &g.in_frame {
        match unit_of[b] {
            Some(u) => {
                has_building[u] = true;
                let d = centroids[u]
                    .map(|c| ((g.pts[b].x - c.x).powi(2) + (g.pts[b].y - c.y).powi(2)).sqrt())
                    .unwrap_or(f64::INFINITY);
                far += (d > walk) as usize;
            }
            None => far += 1,
        }
    }
    let mut areas = Vec::new();
    let mut compact = Vec::new();
    let mut with_buildings = 0;
    for (i, m) in p.geoms.iter().enumerate() {
        if !p.counted[i] {
            continue;
        }
        let a = m.unsigned_area();
        let per: f64 =
            m.0.iter()
                .map(|q| {
                    Euclidean.length(q.exterior())
                        + q.interiors()
                            .iter()
                            .map(|r| Euclidean.length(r))
                            .sum::<f64>()
                })
                .sum();
        areas.push(a);
        compact.push(if per > 0.0 {
            4.0 * std::f64::consts::PI * a / (per * per)
        } else {
            0.0
        });
        with_buildings += has_building[i] as usize;
    }
    areas.sort_by(f64::total_cmp);
    let q = |f: f64| {
        if areas.is_empty() {
            0.0
        } else {
            areas[((areas.len() - 1) as f64 * f).round() as usize]
        }
    };

    // Hot spots in two units or more.
    let split = g
        .hot_spots
        .iter()
        .filter(|h| {
            let first = unit_of[h[0]];
            h.iter().any(|&b| unit_of[b] != first)
        })
        .count();

    // Separating barrier inside units.
    let mut edges = Vec::new();
    for m in &p.geoms {
        for poly in &m.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    if w[0] != w[1] {
                        edges.push(RLine::new([w[0].x, w[0].y], [w[1].x, w[1].y]));
                    }
                }
            }
        }
    }
    let tree: SegTree = RTree::bulk_load(edges);
    let on2 = ON_BOUNDARY_M * ON_BOUNDARY_M;
    let inside_per_seg: Vec<f64> = g
        .separating
        .par_iter()
        .map(|[a, b]| {
            let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
            let n = (len / SAMPLE_STEP_M).ceil().max(1.0) as usize;
            let step = len / n as f64;
            (0..n)
                .filter(|&k| {
                    let t = (k as f64 + 0.5) / n as f64;
                    let (x, y) = (a.x + t * (b.x - a.x), a.y + t * (b.y - a.y));
                    // Inside a counted unit: a river across open ground
                    // (a barrier feature itself) is no fault.
                    tree.locate_within_distance([x, y], on2).next().is_none()
                        && index.locate(x, y).is_some_and(|f| p.counted[f.feature])
                })
                .count() as f64
                * step
        })
        .collect();
    // Summed in order: the same total whatever the thread count.
    let inside: f64 = inside_per_seg.iter().sum();
    let total = separating_length(g);
    let share = |n: f64, d: f64| if d > 0.0 { n / d } else { 0.0 };
    let units_in_pieces = (0..p.geoms.len())
        .filter(|&i| p.counted[i] && p.geoms[i].0.len() > 1)
        .count();
    let footprints_cut = footprints_cut(&p.geoms, &index, &g.footprints);
    PartitionStats {
        units_in_pieces,
        footprints_cut,
        name: p.name.clone(),
        units: areas.len(),
        units_with_buildings: with_buildings,
        median_area_m2: q(0.5),
        p90_area_m2: q(0.9),
        mean_compactness: if compact.is_empty() {
            0.0
        } else {
            compact.iter().sum::<f64>() / compact.len() as f64
        },
        barrier_inside_m: inside,
        barrier_inside_share: share(inside, total),
        hot_spots_split: split,
        hot_spots_split_share: share(split as f64, g.hot_spots.len() as f64),
        buildings_far: far,
        buildings_far_share: share(far as f64, g.in_frame.len() as f64),
    }
}

/// Footprints in two units or more by more than 1 % of their area each.
/// A footprint whose outline vertices all lie inside one unit is whole
/// (the cheap test that settles nearly all); the others are intersected
/// with the units around them.
fn footprints_cut(
    units: &[MultiPolygon<f64>],
    index: &Index,
    footprints: &[Polygon<f64>],
) -> usize {
    use geo::{BooleanOps, BoundingRect};
    let tree = box_tree(units.iter().map(|m| m.bounding_rect()));
    footprints
        .par_iter()
        .filter(|f| {
            let mut one = None;
            let whole = f.exterior().0.iter().all(|c| match index.locate(c.x, c.y) {
                Some(found) if !found.on_edge => *one.get_or_insert(found.feature) == found.feature,
                _ => false,
            });
            if whole {
                return false;
            }
            let area = f.unsigned_area();
            let Some(r) = f.bounding_rect() else {
                return false;
            };
            let env = rect_to_aabb(&r);
            tree.locate_in_envelope_intersecting(&env)
                .filter(|g| {
                    units[g.data]
                        .intersection(&MultiPolygon(vec![(*f).clone()]))
                        .unsigned_area()
                        > 0.01 * area
                })
                .count()
                >= 2
        })
        .count()
}

fn separating_length(g: &Ground) -> f64 {
    g.separating
        .iter()
        .map(|[a, b]| ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt())
        .sum()
}

/// Runs the comparison: `nbhd` is the neighborhood layer in the working CRS
/// with each feature's kind (`neighborhood` or a barrier kind).
pub fn evaluate(
    inputs: &Inputs,
    params: &Params,
    crs: &WorkingCrs,
    nbhd: &[MultiPolygon<f64>],
    kinds: &[String],
) -> Result<Evaluation> {
    let g = ground(inputs, params)?;
    let counted: Vec<bool> = kinds.iter().map(|k| k == "neighborhood").collect();
    let dongne = Partition {
        name: "dongne".into(),
        geoms: nbhd.to_vec(),
        counted,
    };
    let mut nb_areas: Vec<f64> = nbhd
        .iter()
        .zip(&dongne.counted)
        .filter(|(_, c)| **c)
        .map(|(m, _)| m.unsigned_area())
        .collect();
    if nb_areas.is_empty() {
        return Err(
            Error::input("the layer has no feature of kind 'neighborhood'")
                .hint("give the layer written by `dongne generate`"),
        );
    }
    nb_areas.sort_by(f64::total_cmp);
    let median = nb_areas[(nb_areas.len() - 1) / 2];
    let centre = frame_centre_lonlat(&g.frame, crs)?;
    let (res, cell_area) = h3_resolution_for(median, centre);
    let cells = h3_partition(&g.frame, crs, res)?;
    let h3 = Partition {
        name: format!("H3 r{}", u8::from(res)),
        counted: vec![true; cells.len()],
        geoms: cells,
    };
    let admin = Partition {
        name: "admin".into(),
        geoms: g
            .frame
            .iter()
            .map(|s| overlay::multipolygon_of(s))
            .collect(),
        counted: vec![true; g.frame.len()],
    };
    let partitions = [dongne, h3, admin]
        .iter()
        .map(|p| measure(p, &g, params))
        .collect();
    Ok(Evaluation {
        working_crs: crs.label.clone(),
        buildings: g.in_frame.len(),
        hot_spots: g.hot_spots.len(),
        separating_barrier_m: separating_length(&g),
        walk_radius_m: params.walk_radius(),
        h3_resolution: u8::from(res),
        h3_cell_area_m2: cell_area,
        partitions,
    })
}

// ---------------------------------------------------------------------------
// Reports

/// The side-by-side table for people.
pub fn table(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} buildings, {} hot spots, {:.1} km of separating barrier; walk radius {:.0} m; H3 resolution {} ({:.0} m² a cell here); {}",
        e.buildings,
        e.hot_spots,
        e.separating_barrier_m / 1000.0,
        e.walk_radius_m,
        e.h3_resolution,
        e.h3_cell_area_m2,
        e.working_crs
    );
    let _ = write!(s, "{:<34}", "");
    for p in &e.partitions {
        let _ = write!(s, "{:>12}", p.name);
    }
    s.push('\n');
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    type Cell = Box<dyn Fn(&PartitionStats) -> String>;
    let rows: [(&str, Cell); 10] = [
        ("units", Box::new(|p| p.units.to_string())),
        (
            "units with buildings",
            Box::new(|p| p.units_with_buildings.to_string()),
        ),
        (
            "median area (m²)",
            Box::new(|p| format!("{:.0}", p.median_area_m2)),
        ),
        (
            "p90 area (m²)",
            Box::new(|p| format!("{:.0}", p.p90_area_m2)),
        ),
        (
            "mean compactness (4πA/P²)",
            Box::new(|p| format!("{:.3}", p.mean_compactness)),
        ),
        (
            "barrier length inside a unit",
            Box::new(move |p| pct(p.barrier_inside_share)),
        ),
        (
            "hot spots split across units",
            Box::new(move |p| format!("{} ({})", p.hot_spots_split, pct(p.hot_spots_split_share))),
        ),
        (
            "buildings beyond the walk",
            Box::new(move |p| pct(p.buildings_far_share)),
        ),
        (
            "units in more than one piece",
            Box::new(|p| p.units_in_pieces.to_string()),
        ),
        ("footprints cut", Box::new(|p| p.footprints_cut.to_string())),
    ];
    for (label, f) in rows.iter() {
        let _ = write!(s, "{:<34}", label);
        for p in &e.partitions {
            let _ = write!(s, "{:>12}", f(p));
        }
        s.push('\n');
    }
    s
}

/// One CSV row per partition: its figures, then the run's.
pub fn csv(e: &Evaluation) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // In memory: writing cannot fail.
    let _ = w.write_record([
        "partition",
        "units",
        "units_with_buildings",
        "median_area_m2",
        "p90_area_m2",
        "mean_compactness",
        "barrier_inside_m",
        "barrier_inside_share",
        "hot_spots_split",
        "hot_spots_split_share",
        "buildings_far",
        "buildings_far_share",
        "units_in_pieces",
        "footprints_cut",
        "separating_barrier_m",
        "hot_spots",
        "buildings",
    ]);
    for p in &e.partitions {
        let _ = w.write_record([
            p.name.clone(),
            p.units.to_string(),
            p.units_with_buildings.to_string(),
            format!("{:.1}", p.median_area_m2),
            format!("{:.1}", p.p90_area_m2),
            format!("{:.4}", p.mean_compactness),
            format!("{:.1}", p.barrier_inside_m),
            format!("{:.6}", p.barrier_inside_share),
            p.hot_spots_split.to_string(),
            format!("{:.6}", p.hot_spots_split_share),
            p.buildings_far.to_string(),
            format!("{:.6}", p.buildings_far_share),
            p.units_in_pieces.to_string(),
            p.footprints_cut.to_string(),
            format!("{:.1}", e.separating_barrier_m),
            e.hot_spots.to_string(),
            e.buildings.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_closest_on_a_log_scale_at_the_place() {
        // Seoul: a resolution-9 cell is ~72,000 m², resolution 10 ~10,000 m².
        let seoul = (127.0, 37.5);
        assert_eq!(u8::from(h3_resolution_for(72_000.0, seoul).0), 9);
        assert_eq!(u8::from(h3_resolution_for(10_000.0, seoul).0), 10);
        let (r, a) = h3_resolution_for(150_000.0, seoul);
        assert_eq!(u8::from(r), 9);
        assert!((60_000.0..85_000.0).contains(&a), "{a}");
    }
}
