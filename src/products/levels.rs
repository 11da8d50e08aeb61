//! Nested levels (method step 9, invariant 13): coarser neighborhoods built
//! by merging the neighborhoods as drawn, never by solving again, so every
//! feature of a level is exactly the union of features of the level below.
//!
//! Each coarser level is a walk in minutes. Within one admin unit, two
//! groups merge when they share a border with no hard barrier on it (water,
//! rail, motorway and trunk roads by default) and the merged group keeps
//! within the level's walk radius (invariant 11: at most 5 % of its
//! buildings beyond it). Among the pairs that may merge, the cheapest goes
//! first: Ward's increase of spatial variance (areas as weights, centroids
//! as positions), raised where the border runs along a minor barrier line
//! and lowered where the border is a long share of the smaller one's
//! outline (docs/design.md, "Levels"). Barrier features (water, park,
//! mountain, open) tile the unit at every level, as themselves.
//!
//! The output is a noded coverage: a merge is a dissolve of the members'
//! edges (shared edges cancel), with no overlay and no new vertex.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use geo::Centroid;
use geo_types::Coord;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::geom::contains::ShapeIndex;
use crate::geom::coverage::{self, EdgeKey, FastMap};
use crate::geom::shape::Shape;
use crate::geom::{dissolve, measure, overlay};
use crate::method::barriers::{self, SegmentTree};
use crate::method::valid::{valid_or_repaired, Validity};
use crate::model::{BarrierKind, FeatureKind, LineBarrier, Neighborhood};

/// Metres of walk per minute, as the method's walk radius counts them.
pub const METRES_PER_MINUTE: f64 = 80.0;

/// What `--levels` and `--hard-barriers` ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelSpec {
    /// Walk minutes of the levels above the neighborhoods as drawn, in
    /// increasing order: `[10, 20]` gives levels 2 and 3.
    pub walk_minutes: Vec<f64>,
    /// What no coarser level merges across: `water`, `rail`, `road` (every
    /// road), or a road class (`motorway`, `trunk`; `_link` roads count as
    /// their class).
    pub hard: Vec<String>,
}

/// The barriers no coarser level crosses unless told otherwise.
pub const DEFAULT_HARD: [&str; 4] = ["water", "rail", "motorway", "trunk"];

impl LevelSpec {
    /// The levels a config asks for (`levels`, `hard_barriers`).
    pub fn of(cfg: &crate::io::config::Config) -> LevelSpec {
        LevelSpec {
            walk_minutes: cfg.levels.clone(),
            hard: cfg
                .hard_barriers
                .clone()
                .unwrap_or_else(|| DEFAULT_HARD.iter().map(|s| s.to_string()).collect()),
        }
    }
}

/// Whether a line barrier is hard: its kind or its road class is in `hard`
/// (`_link` roads count as their class).
pub fn is_hard(hard: &[String], l: &LineBarrier) -> bool {
    let class = l.class.strip_suffix("_link").unwrap_or(&l.class);
    hard.iter()
        .any(|h| h == l.kind.as_str() || (l.kind == BarrierKind::Road && h.as_str() == class))
}

/// The lengths of border two groups share: all of it, along a hard
/// barrier, along a minor barrier line.
#[derive(Debug, Clone, Copy, Default)]
struct Border {
    shared: f64,
    hard: f64,
    minor: f64,
}

impl Border {
    fn add(&mut self, o: &Border) {
        self.shared += o.shared;
        self.hard += o.hard;
        self.minor += o.minor;
    }
}

/// A group of neighborhoods being merged.
#[derive(Debug, Clone)]
struct Group {
    /// Indices of level-1 features, in output order.
    members: Vec<usize>,
    area: f64,
    /// Area-weighted sum of the members' centroids: their union's centroid
    /// is this over `area`.
    moment: [f64; 2],
    perimeter: f64,
    buildings: Vec<[f64; 2]>,
    /// Bumped by every merge, so that stale queue entries are skipped.
    version: u32,
    alive: bool,
}

impl Group {
    fn centre(&self) -> [f64; 2] {
        [self.moment[0] / self.area, self.moment[1] / self.area]
    }
}

/// A candidate merge in the queue, cheapest first, then by indices.
struct Candidate {
    cost: f64,
    a: usize,
    b: usize,
    va: u32,
    vb: u32,
}

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap pops the largest.
        o.cost
            .total_cmp(&self.cost)
            .then(o.a.cmp(&self.a))
            .then(o.b.cmp(&self.b))
    }
}

/// How much a border along a minor barrier line (a main road that is not
/// hard) holds two groups apart: official units follow such roads. Chosen
/// on Monaco's quartiers (docs/design.md, "Levels"): 4, 30 and 200 gave
/// F1 0.22, 0.24 and 0.24 at the level nearest their count.
const MINOR_WEIGHT: f64 = 30.0;

/// The cost of merging `a` and `b`: Ward's increase in spatial variance,
/// times 1 + [`MINOR_WEIGHT`] × the share of their border along a minor barrier line,
/// over how much of the smaller outline the border is.
fn cost(a: &Group, b: &Group, border: &Border) -> f64 {
    let (ca, cb) = (a.centre(), b.centre());
    let d2 = (ca[0] - cb[0]).powi(2) + (ca[1] - cb[1]).powi(2);
    let ward = a.area * b.area / (a.area + b.area) * d2;
    let contact = border.shared / a.perimeter.min(b.perimeter).max(1e-9);
    let minor = border.minor / border.shared.max(1e-9);
    ward * (1.0 + MINOR_WEIGHT * minor) / contact.max(1e-6)
}

/// Whether a group with these buildings and centre keeps within `radius`:
/// at most 5 % of its buildings farther (invariant 11).
fn walkable(buildings: &[[f64; 2]], centre: [f64; 2], radius: f64) -> bool {
    let far = buildings
        .iter()
        .filter(|p| (p[0] - centre[0]).hypot(p[1] - centre[1]) > radius)
        .count();
    far * 20 <= buildings.len()
}

/// The features of every level: the neighborhoods as drawn (level 1, with
/// `parent_id` set), then each coarser level of `spec` in turn. `lines`:
/// the run's line barriers; `buildings`: the run's building points, both
/// in the features' CRS. With no coarser level asked for, `features` come
/// back as they are.
pub fn with_levels(
    mut features: Vec<Neighborhood>,
    lines: &[LineBarrier],
    buildings: &[Coord],
    spec: &LevelSpec,
) -> Result<Vec<Neighborhood>> {
    crate::io::config::check_level_walks(&spec.walk_minutes)?;
    if spec.walk_minutes.is_empty() {
        return Ok(features);
    }
    let shapes: Vec<Vec<Shape>> = features
        .par_iter()
        .map(|f| overlay::shapes_of(&f.geom))
        .collect();
    let owner = Owners::new(&features, &shapes);
    let segments = barriers::segment_tree(lines);
    let borders = borders(&features, &shapes, &owner, &segments, lines, spec);
    let mut groups = initial_groups(&features, &shapes, buildings);
    let mut adjacency: Vec<BTreeMap<usize, Border>> = vec![BTreeMap::new(); features.len()];
    for (&(i, j), b) in &borders {
        adjacency[i].insert(j, *b);
        adjacency[j].insert(i, *b);
    }
    // A group's index is its first member's (a merge keeps the smaller),
    // so a feature of any level is known by the level-1 index of its first
    // member: `keys[i]` for the i-th feature of the level below.
    let mut out_levels: Vec<Vec<Neighborhood>> = Vec::new();
    let mut keys: Vec<usize> = (0..features.len()).collect();
    for (k, &minutes) in spec.walk_minutes.iter().enumerate() {
        let level = k as u32 + 2;
        merge_within(&mut groups, &mut adjacency, minutes * METRES_PER_MINUTE);
        let made = level_features(&features, &shapes, &groups, &owner, &segments, level)?;
        let holder = holders(&groups, features.len());
        let id_of: BTreeMap<usize, String> = made.iter().map(|(g, f)| (*g, f.id.clone())).collect();
        let below: &mut Vec<Neighborhood> = match out_levels.last_mut() {
            Some(v) => v,
            None => &mut features,
        };
        for (f, key) in below.iter_mut().zip(&keys) {
            f.parent_id = id_of.get(&holder[*key]).cloned();
        }
        keys = made.iter().map(|(g, _)| *g).collect();
        out_levels.push(made.into_iter().map(|(_, f)| f).collect());
    }
    features.extend(out_levels.into_iter().flatten());
    Ok(features)
}

/// [`with_levels`] over a run's inputs: their line barriers and building
/// points.
pub fn with_levels_of(
    features: Vec<Neighborhood>,
    inputs: &crate::model::Inputs,
    spec: &LevelSpec,
) -> Result<Vec<Neighborhood>> {
    if spec.walk_minutes.is_empty() {
        return Ok(features);
    }
    let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
    with_levels(features, &inputs.lines, &pts, spec)
}

/// Which feature holds each edge, a table per admin unit (built in
/// parallel: levels never join two units, so an edge across units is the
/// unit's edge).
struct Owners {
    unit_of: Vec<usize>,
    maps: Vec<FastMap<EdgeKey, usize>>,
}

impl Owners {
    fn new(features: &[Neighborhood], shapes: &[Vec<Shape>]) -> Owners {
        let mut units: BTreeMap<&str, usize> = BTreeMap::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut unit_of = Vec::with_capacity(features.len());
        for (i, f) in features.iter().enumerate() {
            let u = *units.entry(f.admin_code.as_str()).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[u].push(i);
            unit_of.push(u);
        }
        let maps = members
            .par_iter()
            .map(|of| {
                let n = of
                    .iter()
                    .map(|&i| coverage::edge_count(shapes[i].iter()))
                    .sum();
                let mut m = FastMap::with_capacity_and_hasher(n, Default::default());
                for &i in of {
                    for s in &shapes[i] {
                        coverage::for_each_edge(s, |a, b| {
                            m.insert((coverage::key(a), coverage::key(b)), i);
                        });
                    }
                }
                m
            })
            .collect();
        Owners { unit_of, maps }
    }

    /// The feature of `i`'s unit that holds the edge b→a, across `i`'s a→b.
    fn across(&self, i: usize, a: [f64; 2], b: [f64; 2]) -> Option<usize> {
        self.maps[self.unit_of[i]]
            .get(&(coverage::key(b), coverage::key(a)))
            .copied()
    }
}

/// The border between every two settled features of one unit that meet:
/// its length, and how much of it runs along a hard or a minor barrier
/// line. Keys `(i, j)` with `i < j`.
fn borders(
    features: &[Neighborhood],
    shapes: &[Vec<Shape>],
    owner: &Owners,
    segments: &SegmentTree,
    lines: &[LineBarrier],
    spec: &LevelSpec,
) -> BTreeMap<(usize, usize), Border> {
    let hard: Vec<bool> = lines.iter().map(|l| is_hard(&spec.hard, l)).collect();
    let per_feature: Vec<Vec<((usize, usize), Border)>> = (0..features.len())
        .into_par_iter()
        .map(|i| {
            let mut out: BTreeMap<usize, Border> = BTreeMap::new();
            if !features[i].kind.is_settled() {
                return Vec::new();
            }
            for s in &shapes[i] {
                coverage::for_each_edge(s, |a, b| {
                    let Some(j) = owner.across(i, a, b) else {
                        return;
                    };
                    if j <= i
                        || !features[j].kind.is_settled()
                        || features[j].admin_code != features[i].admin_code
                    {
                        return;
                    }
                    let len = coverage::dist(a, b);
                    let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
                    let e = out.entry(j).or_default();
                    e.shared += len;
                    // Most borders lie on no line: one query settles them.
                    if barriers::kind_on_line(segments, mid, |_| true).is_some() {
                        if barriers::kind_on_line(segments, mid, |l| hard[l]).is_some() {
                            e.hard += len;
                        } else {
                            e.minor += len;
                        }
                    }
                });
            }
            out.into_iter().map(|(j, b)| ((i, j), b)).collect()
        })
        .collect();
    per_feature.into_iter().flatten().collect()
}

/// One group per feature, with its buildings (each building to the settled
/// feature that holds it).
fn initial_groups(
    features: &[Neighborhood],
    shapes: &[Vec<Shape>],
    buildings: &[Coord],
) -> Vec<Group> {
    let (owner, parts): (Vec<usize>, Vec<&Shape>) = (0..features.len())
        .filter(|&i| features[i].kind.is_settled())
        .flat_map(|i| shapes[i].iter().map(move |s| (i, s)))
        .unzip();
    let index = ShapeIndex::new(&parts);
    let held: Vec<Option<usize>> = buildings
        .par_iter()
        .map(|c| {
            let p = overlay::snap(*c);
            index.first_containing([p.x, p.y]).map(|k| owner[k])
        })
        .collect();
    let mut bld: Vec<Vec<[f64; 2]>> = vec![Vec::new(); features.len()];
    for (c, h) in buildings.iter().zip(held) {
        if let Some(i) = h {
            bld[i].push([c.x, c.y]);
        }
    }
    features
        .iter()
        .zip(bld)
        .enumerate()
        .map(|(i, (f, buildings))| {
            let c = f.geom.centroid().map_or([0.0, 0.0], |p| [p.x(), p.y()]);
            Group {
                members: vec![i],
                area: f.area_m2,
                moment: [c[0] * f.area_m2, c[1] * f.area_m2],
                perimeter: f.perimeter_m,
                buildings,
                version: 0,
                alive: true,
            }
        })
        .collect()
}

/// Merges groups while a pair may merge within `radius`, cheapest first.
fn merge_within(groups: &mut [Group], adjacency: &mut [BTreeMap<usize, Border>], radius: f64) {
    let mut queue = BinaryHeap::new();
    let push =
        |queue: &mut BinaryHeap<Candidate>, groups: &[Group], a: usize, b: usize, bd: &Border| {
            if bd.hard > 0.0 || bd.shared <= 0.0 {
                return;
            }
            let (a, b) = (a.min(b), a.max(b));
            queue.push(Candidate {
                cost: cost(&groups[a], &groups[b], bd),
                a,
                b,
                va: groups[a].version,
                vb: groups[b].version,
            });
        };
    for a in 0..groups.len() {
        if !groups[a].alive {
            continue;
        }
        for (&b, bd) in &adjacency[a] {
            if a < b && groups[b].alive {
                push(&mut queue, groups, a, b, bd);
            }
        }
    }
    while let Some(c) = queue.pop() {
        let (a, b) = (c.a, c.b);
        if !groups[a].alive
            || !groups[b].alive
            || groups[a].version != c.va
            || groups[b].version != c.vb
        {
            continue;
        }
        let area = groups[a].area + groups[b].area;
        let moment = [
            groups[a].moment[0] + groups[b].moment[0],
            groups[a].moment[1] + groups[b].moment[1],
        ];
        let centre = [moment[0] / area, moment[1] / area];
        let ok = {
            let all: Vec<[f64; 2]> = groups[a]
                .buildings
                .iter()
                .chain(&groups[b].buildings)
                .copied()
                .collect();
            walkable(&all, centre, radius)
        };
        if !ok {
            continue;
        }
        // b into a.
        let shared = adjacency[a].get(&b).map_or(0.0, |x| x.shared);
        let gb = std::mem::replace(
            &mut groups[b],
            Group {
                members: Vec::new(),
                area: 0.0,
                moment: [0.0, 0.0],
                perimeter: 0.0,
                buildings: Vec::new(),
                version: 0,
                alive: false,
            },
        );
        let ga = &mut groups[a];
        ga.members.extend(gb.members);
        ga.members.sort_unstable();
        ga.area = area;
        ga.moment = moment;
        ga.perimeter += gb.perimeter - 2.0 * shared;
        ga.buildings.extend(gb.buildings);
        ga.version += 1;
        let from_b = std::mem::take(&mut adjacency[b]);
        adjacency[a].remove(&b);
        for (n, bd) in from_b {
            if n == a {
                continue;
            }
            adjacency[n].remove(&b);
            let e = adjacency[a].entry(n).or_default();
            e.add(&bd);
            let e = *e;
            adjacency[n].insert(a, e);
        }
        let nbrs: Vec<(usize, Border)> = adjacency[a].iter().map(|(&n, &bd)| (n, bd)).collect();
        for (n, bd) in nbrs {
            if groups[n].alive {
                push(&mut queue, groups, a, n, &bd);
            }
        }
    }
}

/// For every level-1 feature, the index of the group that holds it.
fn holders(groups: &[Group], n: usize) -> Vec<usize> {
    let mut h: Vec<usize> = (0..n).collect();
    for (g, grp) in groups.iter().enumerate() {
        if grp.alive {
            for &m in &grp.members {
                h[m] = g;
            }
        }
    }
    h
}

/// The features of one level: a feature per group, in the order of their
/// first members, with the id `{first member's id}-L{level}`.
fn level_features(
    features: &[Neighborhood],
    shapes: &[Vec<Shape>],
    groups: &[Group],
    owner: &Owners,
    segments: &SegmentTree,
    level: u32,
) -> Result<Vec<(usize, Neighborhood)>> {
    let alive: Vec<usize> = (0..groups.len()).filter(|&g| groups[g].alive).collect();
    alive
        .par_iter()
        .map(|&g| {
            let members = &groups[g].members;
            let first = &features[members[0]];
            let id = format!("{}-L{level}", first.id);
            let mut f = first.clone();
            f.id = id;
            f.level = level;
            f.parent_id = None;
            if members.len() > 1 {
                let merged = dissolve::dissolve(members.iter().flat_map(|&m| shapes[m].iter()));
                let merged = coverage::clean(merged);
                // Two members' vertices a few micrometres apart can pinch a
                // ring of the union (a hole around a park the group
                // surrounds): repaired as the pipeline repairs a feature.
                f.bounded_by = bounded_by(&merged, members, features, owner, segments);
                let (geom, validity) = valid_or_repaired(merged);
                if validity == Validity::Invalid {
                    return Err(Error::internal(format!(
                        "the union of {} features at level {level} ({}) is not a valid polygon as GEOS judges it, even after repair; nothing was written",
                        members.len(),
                        f.id
                    )));
                }
                use geo::Area;
                f.area_m2 = geom.unsigned_area();
                f.perimeter_m = measure::perimeter(&geom);
                f.compactness = measure::compactness(f.area_m2, f.perimeter_m);
                f.buildings = members.iter().map(|&m| features[m].buildings).sum();
                f.kind = if members
                    .iter()
                    .any(|&m| features[m].kind == FeatureKind::Neighborhood)
                {
                    FeatureKind::Neighborhood
                } else {
                    FeatureKind::Hamlet
                };
                // The name of the member with the most buildings: names are
                // unique in a unit at level 1, and groups are disjoint.
                let named = members
                    .iter()
                    .max_by(|&&x, &&y| {
                        features[x]
                            .buildings
                            .cmp(&features[y].buildings)
                            .then(y.cmp(&x))
                    })
                    .copied()
                    .unwrap_or(members[0]);
                f.name = features[named].name.clone();
                f.geom = geom;
            }
            Ok((g, f))
        })
        .collect()
}

/// What bounds a merged feature: along each outer edge, the admin line (no
/// feature across), the barrier feature across, or the barrier line the
/// edge runs along.
fn bounded_by(
    merged: &[Shape],
    members: &[usize],
    features: &[Neighborhood],
    owner: &Owners,
    segments: &SegmentTree,
) -> String {
    let mut kinds: std::collections::BTreeSet<&'static str> = Default::default();
    for s in merged {
        coverage::for_each_edge(s, |a, b| match owner.across(members[0], a, b) {
            None => {
                kinds.insert("admin");
            }
            Some(j) if members.binary_search(&j).is_ok() => {}
            Some(j) => {
                if features[j].admin_code != features[members[0]].admin_code {
                    kinds.insert("admin");
                } else if let FeatureKind::Barrier(k) = features[j].kind {
                    kinds.insert(k.as_str());
                } else if let Some(k) = barriers::kind_on_line(
                    segments,
                    [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0],
                    |_| true,
                ) {
                    kinds.insert(k.as_str());
                }
            }
        });
    }
    kinds.into_iter().collect::<Vec<_>>().join(",")
}
