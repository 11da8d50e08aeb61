//! One admin unit's run, as the method's steps in order: barriers near the
//! unit, open ground, enclosures, hot spots and their tessellation, the face
//! graph, one piece, size rules, dissolve. Each step is one function below;
//! [`run_unit`] reads as their sequence. Units are independent: a unit's
//! result depends only on its own inputs ([`UnitCtx`] and its buildings),
//! which is what the cache and the shards rely on.

use std::collections::BTreeMap;

use geo::{Buffer, ConvexHull, Coord, MultiPoint, Point};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geom::coverage;
use crate::geom::dissolve;
use crate::geom::overlay;
use crate::geom::shape::{shapes_rect, Shape};
use crate::io::config::Params;
use crate::method::barriers::{self, BarrierIndex};
use crate::method::bounded_by::{bounded_by, UnitSegments};
use crate::method::clustering::{self, ClusterParams};
use crate::method::enclosures::{self, Piece};
use crate::method::faces::{face_buildings, fill_barriers, FaceTable, Faces, RegionInfo};
use crate::method::frame::node_tolerance;
use crate::method::generators::generators;
use crate::method::names::{self, NameIndex, ToName};
use crate::method::open_ground;
use crate::method::pieces;
use crate::method::report::Timings;
use crate::method::size_rules::{self, Border, Region, SizeParams};
use crate::method::tessellation;
use crate::model::{
    AdminUnit, AreaBarrier, BarrierKind, Building, DebugLayers, FeatureKind, FeatureName,
};

/// What every unit's run reads besides its own unit and buildings.
pub(crate) struct UnitCtx<'a> {
    pub(crate) pts: &'a [Coord],
    /// The buildings as read, for their footprints' outlines.
    pub(crate) buildings: &'a [Building],
    /// Land-use class of each building (an index into the classes; 0: none).
    pub(crate) landuse: &'a [usize],
    pub(crate) index: &'a BarrierIndex<'a>,
    pub(crate) names: &'a NameIndex<'a>,
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
    pub(crate) name: Option<FeatureName>,
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

/// Runs the method's steps on one admin unit (`shapes`: its framed
/// polygon; `bids`: its buildings).
pub(crate) fn run_unit(
    unit: &AdminUnit,
    shapes: &[Shape],
    bids: &[usize],
    ctx: &UnitCtx,
) -> Result<UnitOut> {
    let t = ctx.timings;
    let Some(rect) = shapes_rect(shapes) else {
        return Ok(UnitOut {
            features: Vec::new(),
            enclosures: 0,
            hot_spots: 0,
            exceptions: vec![format!("admin unit {} ({}) is empty", unit.code, unit.name)],
            debug: None,
        });
    };
    let near = t.time(1, || ctx.index.near(&overlay::grow(&rect, 1.0)));
    let open = open_ground_of(shapes, bids, ctx)?;
    let enclosed = enclosures_of(shapes, bids, &near, &open, ctx)?;
    let mut debug = ctx.want_debug.then(DebugLayers::default);
    let labelled = hot_spots_and_faces(unit, &enclosed, ctx, debug.as_mut())?;
    let hot_spots = labelled.hot_spots;
    let graph = face_graph(labelled, ctx)?;
    let mut groups = groups_in_one_piece(&graph, ctx.timings);
    let stuck = apply_size_rules(&graph, &mut groups, ctx);
    let names = names_of(unit, &rect, &graph, &groups, &enclosed, ctx);
    let segs = UnitSegments {
        tree: ctx.index.segments(),
        line_ids: &near.line_ids,
    };
    let mut features = dissolve_groups(&graph, &groups, names, &segs, ctx.timings);
    sort_features(&mut features);
    Ok(UnitOut {
        features,
        enclosures: enclosed
            .pieces
            .iter()
            .filter(|p| p.barrier.is_none())
            .count(),
        hot_spots,
        exceptions: stuck_exceptions(unit, &stuck),
        debug,
    })
}

/// Ground farther than a walk from every building: an area barrier of its
/// own (none when the user fills open ground).
fn open_ground_of(shapes: &[Shape], bids: &[usize], ctx: &UnitCtx) -> Result<Vec<AreaBarrier>> {
    let p = ctx.params;
    if p.fill_open {
        return Ok(Vec::new());
    }
    let sites: Vec<Coord> = bids.iter().map(|&b| ctx.pts[b]).collect();
    let open = ctx.timings.time(2, || {
        open_ground::open_ground(shapes, &sites, p.open_reach(), p.min_area)
    })?;
    Ok(open
        .iter()
        .map(|s| AreaBarrier {
            fid: -1,
            kind: BarrierKind::Open,
            geom: overlay::polygon_of(s),
        })
        .collect())
}

/// The unit split by its barriers, and the buildings of each piece.
struct Enclosed {
    pieces: Vec<Piece>,
    members: Vec<Vec<usize>>,
}

impl Enclosed {
    /// The piece each building stands in.
    fn piece_of_building(&self) -> BTreeMap<usize, usize> {
        self.members
            .iter()
            .enumerate()
            .flat_map(|(pi, bs)| bs.iter().map(move |&b| (b, pi)))
            .collect()
    }
}

fn enclosures_of(
    shapes: &[Shape],
    bids: &[usize],
    near: &barriers::Near,
    open: &[AreaBarrier],
    ctx: &UnitCtx,
) -> Result<Enclosed> {
    let t = ctx.timings;
    let mut areas = near.areas.clone();
    areas.extend(open.iter());
    let pieces: Vec<Piece> = t.time(2, || enclosures::split(shapes, &near.lines, &areas))?;
    let piece_of = t.time(2, || enclosures::building_pieces(bids, ctx.pts, &pieces));
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); pieces.len()];
    for (k, &b) in bids.iter().enumerate() {
        members[piece_of[k]].push(b);
    }
    Ok(Enclosed { pieces, members })
}

/// One enclosure's hot-spot labels and its tessellation.
type Tessellated = (Vec<usize>, Result<Vec<tessellation::Face>>);

/// The regions of a unit (a hot spot's cell, an empty enclosure, an area
/// barrier) and their faces.
struct Labelled {
    faces: Faces,
    regions: Vec<RegionInfo>,
    hot_spots: usize,
}

/// Hot spots and their tessellation, every enclosure on its own (and on
/// every thread: a unit with one big town is otherwise one long task); the
/// regions are numbered in piece order, as if one by one.
fn hot_spots_and_faces(
    unit: &AdminUnit,
    enclosed: &Enclosed,
    ctx: &UnitCtx,
    mut debug: Option<&mut DebugLayers>,
) -> Result<Labelled> {
    let (t, p) = (ctx.timings, ctx.params);
    let Enclosed { pieces, members } = enclosed;
    let cp = ClusterParams {
        eps: p.eps,
        min_buildings: p.min_buildings,
        walk_radius: p.walk_radius(),
    };
    let mut per_piece: Vec<Option<Tessellated>> = pieces
        .par_iter()
        .zip(members)
        .map(|(piece, members)| {
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
    let mut out = Labelled {
        faces: Faces::default(),
        regions: Vec::new(),
        hot_spots: 0,
    };
    for (pi, piece) in pieces.iter().enumerate() {
        let members = &members[pi];
        let push_whole = |kind, out: &mut Labelled| {
            out.regions.push(RegionInfo {
                kind,
                piece: pi,
                buildings: members.clone(),
            });
            out.faces
                .push(piece.shape.clone(), out.regions.len() - 1, pi);
        };
        if let Some(k) = piece.barrier {
            push_whole(FeatureKind::Barrier(k), &mut out);
            continue;
        }
        if let Some(d) = debug.as_deref_mut() {
            d.enclosures.push((
                format!("{}-e{}", unit.code, pi + 1),
                overlay::polygon_of(&piece.shape),
            ));
        }
        if members.is_empty() {
            push_whole(FeatureKind::Neighborhood, &mut out);
            continue;
        }
        let Some((labels, tess)) = per_piece[pi].take() else {
            return Err(Error::internal("enclosure without hot spots"));
        };
        let k = labels.iter().max().map_or(0, |m| m + 1);
        out.hot_spots += k;
        let base = out.regions.len();
        for _ in 0..k {
            out.regions.push(RegionInfo {
                kind: FeatureKind::Neighborhood,
                piece: pi,
                buildings: Vec::new(),
            });
        }
        for (m, &l) in members.iter().zip(&labels) {
            out.regions[base + l].buildings.push(*m);
        }
        if let Some(d) = debug.as_deref_mut() {
            for l in 0..k {
                let mp = MultiPoint(
                    out.regions[base + l]
                        .buildings
                        .iter()
                        .map(|&b| Point(ctx.pts[b]))
                        .collect(),
                );
                d.hotspots.push((
                    format!("{}-h{}", unit.code, out.hot_spots - k + l + 1),
                    // Grown by eps/2 so one or two buildings still draw an area.
                    geo::Geometry::MultiPolygon(mp.convex_hull().buffer(p.eps / 2.0)),
                    out.regions[base + l].buildings.len(),
                ));
            }
        }
        for f in tess? {
            out.faces.push(f.shape, base + f.label, pi);
        }
    }
    Ok(out)
}

/// The faces of a unit as a graph: noded into an exact coverage (faces
/// from separate slices meet with T-junctions), with barrier ground filled
/// when asked, their edge index and adjacency, areas and building counts.
struct FaceGraph {
    faces: Vec<Shape>,
    region: Vec<usize>,
    piece: Vec<usize>,
    regions: Vec<RegionInfo>,
    eidx: coverage::EdgeIndex,
    adj: Vec<Vec<(usize, f64)>>,
    area: Vec<f64>,
    /// Each face's building count, and the buildings.
    buildings: Vec<usize>,
    members: Vec<Vec<usize>>,
}

fn face_graph(labelled: Labelled, ctx: &UnitCtx) -> Result<FaceGraph> {
    let t = ctx.timings;
    let Labelled {
        mut faces,
        mut regions,
        ..
    } = labelled;
    t.time(6, || coverage::node(&mut faces.shapes, node_tolerance()));
    if ctx.params.fill_barriers {
        t.time(4, || fill_barriers(&mut faces, &mut regions, ctx.pts))?;
        t.time(6, || coverage::node(&mut faces.shapes, node_tolerance()));
    }
    let Faces {
        shapes: faces,
        region,
        piece,
    } = faces;
    let eidx = t.time(5, || coverage::EdgeIndex::new(&faces));
    let adj = t.time(5, || eidx.adjacency(&faces));
    let area: Vec<f64> = faces.iter().map(overlay::shape_area).collect();
    let members = t.time(5, || face_buildings(&faces, &region, &regions, ctx.pts));
    let buildings = members.iter().map(Vec::len).collect();
    Ok(FaceGraph {
        faces,
        region,
        piece,
        regions,
        eidx,
        adj,
        area,
        buildings,
        members,
    })
}

/// The group each face belongs to, and each group's kind.
struct Groups {
    of_face: Vec<usize>,
    kind: Vec<FeatureKind>,
}

/// Same-kind barrier regions that touch are one feature (a river cut by a
/// bridge); then one piece each, before the size rules: a stray piece of a
/// hot spot's region goes to its neighbour (merges then keep every group in
/// one piece, as they join groups that share a border).
fn groups_in_one_piece(g: &FaceGraph, t: &Timings) -> Groups {
    let regions = &g.regions;
    let mut uf: Vec<usize> = (0..regions.len()).collect();
    for (i, nb) in g.adj.iter().enumerate() {
        for &(j, _) in nb {
            let (ri, rj) = (g.region[i], g.region[j]);
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
    let mut groups = Groups {
        of_face: g.region.iter().map(|&r| find(&mut uf, r)).collect(),
        kind: regions.iter().map(|r| r.kind).collect(),
    };
    t.time(5, || {
        pieces::one_piece(
            &pieces::FaceGraph {
                adj: &g.adj,
                area: &g.area,
                buildings: &g.buildings,
                piece: &g.piece,
            },
            &mut groups.of_face,
            &mut groups.kind,
        )
    });
    groups
}

/// A group the size rules could not merge: its figures and the kind it
/// became.
struct Stuck {
    kind: FeatureKind,
    buildings: usize,
    area: f64,
}

/// Merges the groups below the minimum area or building count into their
/// neighbours ([`size_rules::merge_small`]). What cannot merge never stays a
/// `neighborhood`: ground with no building is `open` (a unit without a
/// building, an empty strip with no neighbour), and a few buildings with
/// no neighborhood to join (a hut among forests) a `hamlet`. So every
/// `neighborhood` meets the size rules.
fn apply_size_rules(g: &FaceGraph, groups: &mut Groups, ctx: &UnitCtx) -> Vec<Stuck> {
    let mut stats: Vec<Region> = groups
        .kind
        .iter()
        .map(|k| Region {
            buildings: 0,
            area: 0.0,
            is_neighborhood: *k == FeatureKind::Neighborhood,
        })
        .collect();
    for (fi, &gr) in groups.of_face.iter().enumerate() {
        stats[gr].buildings += g.buildings[fi];
        stats[gr].area += g.area[fi];
    }
    let mut border_len: BTreeMap<(usize, usize, bool), f64> = BTreeMap::new();
    for (i, nb) in g.adj.iter().enumerate() {
        for &(j, len) in nb {
            let (a, b) = (groups.of_face[i], groups.of_face[j]);
            if a < b {
                let across = g.piece[i] != g.piece[j];
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
    let p = ctx.params;
    let merged = ctx.timings.time(5, || {
        size_rules::merge_small(
            &stats,
            &borders,
            SizeParams {
                min_area: p.min_area,
                min_buildings: p.min_buildings,
            },
        )
    });
    for gr in groups.of_face.iter_mut() {
        *gr = merged.into[*gr];
    }
    // A region left with no ground (its hot spot's cell went to others)
    // makes no feature.
    merged
        .stuck
        .iter()
        .filter(|&&r| stats[r].area > 0.0)
        .map(|&r| {
            let kind = if stats[r].buildings == 0 {
                FeatureKind::Barrier(BarrierKind::Open)
            } else {
                FeatureKind::Hamlet
            };
            groups.kind[r] = kind;
            Stuck {
                kind,
                buildings: stats[r].buildings,
                area: stats[r].area,
            }
        })
        .collect()
}

/// The names of the unit's neighborhoods and hamlets (method step 8), by
/// group: from the sources near the unit ([`names::name_features`]).
fn names_of(
    unit: &AdminUnit,
    rect: &geo::Rect,
    g: &FaceGraph,
    groups: &Groups,
    enclosed: &Enclosed,
    ctx: &UnitCtx,
) -> BTreeMap<usize, FeatureName> {
    ctx.timings.time(7, || {
        let mut of_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (fi, &gr) in groups.of_face.iter().enumerate() {
            if groups.kind[gr].is_settled() {
                of_group.entry(gr).or_default().extend(&g.members[fi]);
            }
        }
        let to_name: Vec<ToName> = of_group
            .iter()
            .map(|(&group, b)| ToName {
                group,
                buildings: b,
            })
            .collect();
        let places = ctx.names.near(rect);
        // Without a source every name is the fallback: no piece to look up.
        let piece_of = if places.is_empty() {
            BTreeMap::new()
        } else {
            enclosed.piece_of_building()
        };
        names::name_features(
            unit,
            &to_name,
            &enclosed.pieces,
            &piece_of,
            &places,
            ctx.pts,
        )
    })
}

/// Each final group's faces dissolved into one feature, with what bounds it.
fn dissolve_groups(
    g: &FaceGraph,
    groups: &Groups,
    mut names: BTreeMap<usize, FeatureName>,
    segs: &UnitSegments,
    t: &Timings,
) -> Vec<UnitFeature> {
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut buildings: BTreeMap<usize, usize> = BTreeMap::new();
    for (fi, &gr) in groups.of_face.iter().enumerate() {
        members.entry(gr).or_default().push(fi);
        *buildings.entry(gr).or_default() += g.buildings[fi];
    }
    let table = FaceTable {
        faces: &g.faces,
        group: &groups.of_face,
        piece: &g.piece,
        region: &g.region,
        regions: &g.regions,
    };
    let members: Vec<(usize, Vec<usize>)> = members.into_iter().collect();
    let names: Vec<Option<FeatureName>> = members.iter().map(|(gr, _)| names.remove(gr)).collect();
    t.time(6, || {
        members
            .par_iter()
            .zip(names)
            .map(|(&(gr, ref fis), name)| UnitFeature {
                kind: groups.kind[gr],
                shapes: dissolve::dissolve(fis.iter().map(|&fi| &g.faces[fi])),
                buildings: buildings.get(&gr).copied().unwrap_or(0),
                bounded_by: bounded_by(fis, &table, &g.eidx, segs),
                name,
            })
            .collect()
    })
}

/// Stable order: neighborhoods first, then hamlets, then barrier features,
/// each from north-west to south-east by their first vertex.
fn sort_features(features: &mut [UnitFeature]) {
    let key = |f: &UnitFeature| {
        let v = f.shapes.first().and_then(|s| s.first()).and_then(|r| {
            r.iter()
                .copied()
                .reduce(|m, q| if (q[1], -q[0]) > (m[1], -m[0]) { q } else { m })
        });
        (f.kind, v.map(|v| (-v[1], v[0])).unwrap_or((0.0, 0.0)))
    };
    features.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.partial_cmp(&kb.1).unwrap_or(std::cmp::Ordering::Equal))
    });
}

/// What the size rules could not merge, in words for the run's warnings.
fn stuck_exceptions(unit: &AdminUnit, stuck: &[Stuck]) -> Vec<String> {
    stuck
        .iter()
        .map(|s| match s.kind {
            FeatureKind::Hamlet => format!(
                "admin unit {} ({}): {} on {:.0} m² {} no neighborhood to join: kind 'hamlet'",
                unit.code,
                unit.name,
                match s.buildings {
                    1 => "1 building".to_string(),
                    n => format!("{n} buildings"),
                },
                s.area,
                if s.buildings == 1 { "has" } else { "have" }
            ),
            _ => format!(
                "admin unit {} ({}): {:.0} m² without a building have no neighborhood to join: kind 'open'",
                unit.code, unit.name, s.area
            ),
        })
        .collect()
}

fn find(uf: &mut [usize], mut i: usize) -> usize {
    while uf[i] != i {
        uf[i] = uf[uf[i]];
        i = uf[i];
    }
    i
}
