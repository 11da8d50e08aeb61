//! One admin unit's run: open ground, enclosures, hot spots, tessellation,
//! one piece, size rules, dissolve, and what each feature is bounded by.
//! Units are independent: a unit's result depends only on its own inputs
//! ([`UnitCtx`] and its buildings), which is what the cache and the shards
//! rely on.

use std::collections::BTreeMap;

use geo::{Buffer, ConvexHull, Coord, MultiPoint, Point};
use rayon::prelude::*;
use rstar::PointDistance;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::geom::coverage;
use crate::geom::dissolve;
use crate::geom::overlay;
use crate::geom::shape::{shapes_rect, Shape};
use crate::io::config::Params;
use crate::method::barriers::{self, BarrierIndex};
use crate::method::clustering::{self, ClusterParams};
use crate::method::enclosures::{self, Piece};
use crate::method::faces::{face_buildings, fill_barriers, FaceTable, Faces, RegionInfo};
use crate::method::frame::node_tolerance;
use crate::method::open_ground;
use crate::method::pieces;
use crate::method::report::Timings;
use crate::method::size_rules::{self, Border, Region, SizeParams};
use crate::method::tessellation;
use crate::model::{AdminUnit, AreaBarrier, BarrierKind, Building, DebugLayers, FeatureKind};

/// What every unit's run reads besides its own unit and buildings.
pub(crate) struct UnitCtx<'a> {
    pub(crate) pts: &'a [Coord],
    /// The buildings as read, for their footprints' outlines.
    pub(crate) buildings: &'a [Building],
    /// Land-use class of each building (an index into the classes; 0: none).
    pub(crate) landuse: &'a [usize],
    pub(crate) index: &'a BarrierIndex<'a>,
    pub(crate) params: &'a Params,
    pub(crate) timings: &'a Timings,
    pub(crate) want_debug: bool,
}

/// One feature of a unit, before the noding between units.
#[derive(Serialize, Deserialize)]
pub struct UnitFeature {
    pub(crate) kind: FeatureKind,
    pub(crate) shapes: Vec<Shape>,
    pub(crate) buildings: usize,
    pub(crate) bounded_by: String,
}

/// What one unit's run makes: its features and figures. Cached, and
/// carried in a shard's part file.
#[derive(Serialize, Deserialize)]
pub struct UnitOut {
    pub(crate) features: Vec<UnitFeature>,
    pub(crate) enclosures: usize,
    pub(crate) hot_spots: usize,
    pub(crate) exceptions: Vec<String>,
    #[serde(skip)]
    pub(crate) debug: Option<DebugLayers>,
}

/// Runs the method's stages on one admin unit (`shapes`: its framed
/// polygon; `bids`: its buildings).
pub(crate) fn run_unit(
    unit: &AdminUnit,
    shapes: &[Shape],
    bids: &[usize],
    ctx: &UnitCtx,
) -> Result<UnitOut> {
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
    let barriers::Near {
        line_ids,
        lines,
        areas,
    } = t.time(1, || ctx.index.near(&rect));
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
    let piece_of = t.time(2, || enclosures::building_pieces(bids, ctx.pts, &pieces));

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
    let eidx = t.time(5, || coverage::EdgeIndex::new(&faces));
    let adj = t.time(5, || eidx.adjacency(&faces));

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
    let mut features: Vec<UnitFeature> = t.time(6, || {
        groups
            .par_iter()
            .map(|(&g, fis)| {
                let shapes = dissolve::dissolve(fis.iter().map(|&fi| &faces[fi]));
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
/// labels: every building's point and, for a footprint within reach of
/// another hot spot ([`near_another_hot_spot`]), points along its outline
/// every [`OUTLINE_STEP`] metres, all on the grid, and those footprints to
/// keep whole. Outlines only when the enclosure holds more than one hot
/// spot: with one, nothing is drawn between buildings.
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
    let near = near_another_hot_spot(members, sites, labels, buildings);
    for ((&b, &l), near) in members.iter().zip(labels).zip(near) {
        let ring = &buildings[b].outline;
        if !near {
            // No point of this footprint is nearer another hot spot's
            // generators than its own point: its outline changes nothing
            // the boundary between hot spots could cut.
            continue;
        }
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

/// For each building, whether a building of another hot spot stands close
/// enough that the boundary between them could enter its footprint. With
/// `r` the distance from a building's point to its farthest outline corner,
/// every point of footprint `b` is within `r_b` of `b`'s point and at least
/// `d - r_b - r_c` from every generator of `c` (its point and outline, all
/// within `r_c` of `c`'s point, `d` apart from `b`'s): so `b` is out of
/// reach when `d > 2 r_b + r_c` for every `c` of another hot spot. Hot
/// spots are clusters of buildings closer than `eps`, so most buildings are
/// out of reach; only those at the edge of a hot spot near another keep
/// their outline generators: on the Liechtenstein footprints 1,363 of the
/// 13,345 in enclosures of more than one hot spot, which made the
/// tessellation stage about three times faster.
fn near_another_hot_spot(
    members: &[usize],
    sites: &[Coord],
    labels: &[usize],
    buildings: &[Building],
) -> Vec<bool> {
    use crate::geom::shape::{box_tree, rect_to_aabb};
    let radius: Vec<f64> = members
        .iter()
        .zip(sites)
        .map(|(&b, s)| {
            buildings[b]
                .outline
                .iter()
                .map(|c| (c.x - s.x).hypot(c.y - s.y))
                .fold(0.0, f64::max)
        })
        .collect();
    // Each building as the box of its reach `r_c` about its point: a
    // building `c` within `2 r_b + r_c + step` of `b` has its box meet `b`'s
    // point grown by `2 r_b + step` (and a hair, for rounding). One large
    // footprint no longer widens every building's search.
    let square = |s: &Coord, r: f64| overlay::grow(&geo::Rect::new(*s, *s), r);
    let tree = box_tree(sites.iter().zip(&radius).map(|(s, &r)| Some(square(s, r))));
    (0..members.len())
        .map(|k| {
            let env = rect_to_aabb(&square(&sites[k], 2.0 * radius[k] + OUTLINE_STEP + 1e-6));
            tree.locate_in_envelope_intersecting(&env).any(|g| {
                let c = g.data;
                labels[c] != labels[k]
                    && (sites[c].x - sites[k].x).hypot(sites[c].y - sites[k].y)
                        <= 2.0 * radius[k] + radius[c] + OUTLINE_STEP
            })
        })
        .collect()
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

/// The barrier segments a unit sees: those of its lines (`line_ids`,
/// sorted), looked up in the run's one segment index.
struct UnitSegments<'a> {
    tree: &'a barriers::SegmentTree,
    line_ids: &'a [usize],
}

impl UnitSegments<'_> {
    /// Metres: far more than the grid's rounding of a point on a line, less
    /// than the width of the narrowest barrier.
    const ON_LINE: f64 = 0.5;

    /// The kind of the unit's barrier line that `p` lies on (within
    /// [`Self::ON_LINE`]): the nearest segment, and among segments at the
    /// same distance the first kind (water before rail before road). `None`
    /// off every line: an edge between two enclosures that follows no line
    /// is an area barrier's own outline, and a line hundreds of metres away
    /// does not bound it.
    ///
    /// One index for the run, skipping other units' lines, instead of an
    /// index of the unit's segments built per unit (a fifth of the run's
    /// time on the Korea frame).
    fn on_line(&self, p: [f64; 2]) -> Option<BarrierKind> {
        let mut best: Option<(f64, BarrierKind)> = None;
        for g in self
            .tree
            .locate_within_distance(p, Self::ON_LINE * Self::ON_LINE)
        {
            let (kind, line) = g.data;
            if self.line_ids.binary_search(&line).is_err() {
                continue;
            }
            let d2 = g.distance_2(&p);
            if best.is_none_or(|(bd, bk)| d2 < bd || (d2 == bd && kind < bk)) {
                best = Some((d2, kind));
            }
        }
        best.map(|b| b.1)
    }
}

/// What bounds a feature: `admin` where no other feature of the unit lies
/// across, the area-barrier kind across, or, where the neighbour lies in
/// another enclosure, the kind of the barrier line the edge runs along (for
/// an area barrier off every line, its own kind: the edge is its outline).
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
                    // Off every line, the edge is this area barrier's own
                    // outline (a forest's edge against a neighborhood).
                    let own = match regions[face_region[fi]].kind {
                        FeatureKind::Barrier(k) => Some(k),
                        FeatureKind::Neighborhood => None,
                    };
                    if let Some(k) = segs.on_line(mid).or(own) {
                        kinds.insert(k.as_str());
                    }
                }
            }
        });
    }
    kinds.into_iter().collect::<Vec<_>>().join(",")
}
