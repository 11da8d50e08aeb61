//! Names (method step 8): each neighborhood and hamlet takes the name its
//! buildings are called by, from one cascade of sources, never from across
//! a barrier, unique inside its admin unit.
//!
//! Every building votes, tier by tier ([`NameTier`]: the user's layer,
//! residential areas and complexes, places, finer admin units, stations,
//! single buildings, towns), for the source that names it: an area that
//! holds it (the most specific rank, then the smallest), else the nearest
//! point within that point's reach that stands in the building's own
//! enclosure. A feature takes the first tier in which one source has the
//! votes of at least a quarter of its buildings, and in it the source with
//! the most votes. A point across a river or a main road stands in another
//! enclosure and gets no vote, however near. docs/design.md, "Names".

use std::collections::BTreeMap;

use geo::{Area, BoundingRect, Coord};
use rstar::RTree;

use crate::geom::contains::shape_contains;
use crate::geom::overlay;
use crate::geom::shape::{box_tree, rect_to_aabb, shapes_rect, Indexed, Shape};
use crate::method::enclosures::Piece;
use crate::method::name_text::{compass, is_korean, place_name};
use crate::model::{AdminUnit, FeatureName, NamePlace, NameTier};

/// How far a point source names buildings, by its rank (metres): a city
/// 10 km, a town 4 km, a village, suburb or hamlet 2 km (Nominatim's
/// reach for ranks about 20), a neighbourhood 1 km, a locality or a
/// station 500 m.
pub fn reach(rank: u8) -> f64 {
    match rank {
        0..=16 => 10_000.0,
        17..=18 => 4_000.0,
        19..=21 => 2_000.0,
        22..=24 => 1_000.0,
        _ => 500.0,
    }
}

/// The farthest any point source reaches.
pub const MAX_REACH: f64 = 10_000.0;

/// Metres: a point this close to a piece's edge stands on it too (a
/// station on a railway's centre line, a crossing of two main roads).
const ON_EDGE: f64 = 1.0;

/// The share of a feature's buildings one source needs to name it.
const MIN_SHARE: f64 = 0.25;

/// The run's name sources, indexed by their boxes.
pub struct NameIndex<'a> {
    places: &'a [NamePlace],
    tree: RTree<Indexed>,
}

impl<'a> NameIndex<'a> {
    pub fn new(places: &'a [NamePlace]) -> NameIndex<'a> {
        let tree = box_tree(places.iter().map(|p| p.geom.bounding_rect()));
        NameIndex { places, tree }
    }

    /// The sources whose box meets `r` grown by [`MAX_REACH`], in input
    /// order (what a unit's names can depend on: its cache key).
    pub(crate) fn near(&self, r: &geo::Rect) -> Vec<&'a NamePlace> {
        let env = rect_to_aabb(&overlay::grow(r, MAX_REACH));
        let mut ids: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|i| &self.places[i]).collect()
    }
}

/// One source as a unit sees it: its name cleaned, where it stands.
struct Source<'a> {
    name: String,
    place: &'a NamePlace,
    tier: NameTier,
    rank: u8,
    at: At,
}

enum At {
    /// A point, in the unit's pieces it stands in or on the edge of (a
    /// station or a crossing on a barrier line stands on both sides), with
    /// its reach.
    Point(Coord, Vec<usize>, f64),
    /// An area (its parts on the grid), with its size.
    Area(Vec<Shape>, f64),
}

/// A feature to name: its buildings (ids into `pts`).
pub(crate) struct ToName<'a> {
    pub(crate) group: usize,
    pub(crate) buildings: &'a [usize],
}

/// The names of a unit's neighborhoods and hamlets, by group.
/// `piece_of_building` gives the piece each building stands in.
pub(crate) fn name_features(
    unit: &AdminUnit,
    features: &[ToName],
    pieces: &[Piece],
    piece_of_building: &BTreeMap<usize, usize>,
    places: &[&NamePlace],
    pts: &[Coord],
) -> BTreeMap<usize, FeatureName> {
    let sources = unit_sources(places, pieces);
    let trees = tier_trees(&sources);
    let mut names: BTreeMap<usize, FeatureName> = BTreeMap::new();
    for f in features {
        let chosen = choose(f, &sources, &trees, piece_of_building, pts);
        let name = match chosen {
            Some(s) => FeatureName {
                name: s.name.clone(),
                name_en: s.place.name_en.clone(),
                source: s.place.source.clone(),
            },
            None => FeatureName {
                name: fallback_name(unit),
                name_en: None,
                source: "fallback".into(),
            },
        };
        names.insert(f.group, name);
    }
    make_unique(&mut names, features, pts);
    names
}

/// The unit's own name: the last word of a name given with its parents
/// (`서울특별시 송파구 잠실6동` → `잠실6동`), or its code.
fn fallback_name(unit: &AdminUnit) -> String {
    match unit.name.split_whitespace().last() {
        Some(w) => w.to_string(),
        None => unit.code.clone(),
    }
}

/// The sources a unit can use: names cleaned (no numbers, no generic
/// words, complexes without their building numbers), points placed in the
/// unit's pieces (a point outside the unit names nothing in it), named
/// buildings a complex where two or more share the name, else one
/// building.
fn unit_sources<'a>(places: &[&'a NamePlace], pieces: &[Piece]) -> Vec<Source<'a>> {
    let piece_tree = box_tree(
        pieces
            .iter()
            .map(|p| shapes_rect(std::slice::from_ref(&p.shape))),
    );
    let mut per_building_name: BTreeMap<String, usize> = BTreeMap::new();
    let cleaned: Vec<Option<String>> = places.iter().map(|p| place_name(&p.name)).collect();
    for (p, n) in places.iter().zip(&cleaned) {
        if let (Some(n), "building") = (n, p.source.as_str()) {
            *per_building_name.entry(n.clone()).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (p, name) in places.iter().zip(cleaned) {
        let Some(name) = name else { continue };
        let (tier, rank) = match p.source.as_str() {
            "building" if per_building_name.get(&name).copied().unwrap_or(0) < 2 => {
                (NameTier::Landmark, 30)
            }
            _ => (p.tier, p.rank),
        };
        let at = match &p.geom {
            geo::Geometry::Point(pt) => {
                let env = rect_to_aabb(&overlay::grow(&geo::Rect::new(pt.0, pt.0), ON_EDGE));
                let mut on: Vec<usize> = piece_tree
                    .locate_in_envelope_intersecting(&env)
                    .map(|g| g.data)
                    .filter(|&i| {
                        use geo::Distance;
                        let c = [pt.x(), pt.y()];
                        shape_contains(&pieces[i].shape, c)
                            || geo::Euclidean.distance(&overlay::polygon_of(&pieces[i].shape), pt)
                                <= ON_EDGE
                    })
                    .collect();
                on.sort_unstable();
                if on.is_empty() {
                    continue;
                }
                At::Point(pt.0, on, reach(rank))
            }
            geo::Geometry::MultiPolygon(mp) => At::Area(overlay::shapes_of(mp), mp.unsigned_area()),
            _ => continue,
        };
        out.push(Source {
            name,
            place: p,
            tier,
            rank,
            at,
        });
    }
    out
}

/// Per tier, the sources' boxes (a point's grown by its reach), in tier
/// order.
fn tier_trees(sources: &[Source]) -> Vec<(NameTier, RTree<Indexed>)> {
    let mut tiers: Vec<NameTier> = sources.iter().map(|s| s.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    tiers
        .into_iter()
        .map(|t| {
            let boxes = sources.iter().map(|s| {
                (s.tier == t).then(|| match &s.at {
                    At::Point(c, _, r) => overlay::grow(&geo::Rect::new(*c, *c), *r),
                    At::Area(_, _) => s.place.geom.bounding_rect().expect("an area has a box"),
                })
            });
            (t, box_tree(boxes))
        })
        .collect()
}

/// The source that names feature `f`: the first tier in which one source
/// has a quarter of its buildings' votes, and in it the most votes (then
/// the more specific, the nearer, the name).
fn choose<'s>(
    f: &ToName,
    sources: &'s [Source],
    trees: &[(NameTier, RTree<Indexed>)],
    piece_of_building: &BTreeMap<usize, usize>,
    pts: &[Coord],
) -> Option<&'s Source<'s>> {
    let n = f.buildings.len();
    if n == 0 {
        return None;
    }
    for (_, tree) in trees {
        // Votes and the nearest voter, per name: the buildings of one
        // complex are as many sources of one name.
        let mut votes: BTreeMap<&str, (usize, f64, usize)> = BTreeMap::new();
        for &b in f.buildings {
            let p = pts[b];
            let piece = piece_of_building.get(&b).copied();
            let best = tree
                .locate_all_at_point(&[p.x, p.y])
                .filter_map(|g| {
                    let s = &sources[g.data];
                    let key = match &s.at {
                        At::Area(shapes, area) => shapes
                            .iter()
                            .any(|sh| shape_contains(sh, [p.x, p.y]))
                            .then_some((0.0, *area)),
                        At::Point(c, on, r) => {
                            let d = (c.x - p.x).hypot(c.y - p.y);
                            (piece.is_some_and(|pc| on.binary_search(&pc).is_ok()) && d <= *r)
                                .then_some((d, 0.0))
                        }
                    }?;
                    Some((key, g.data))
                })
                .min_by(|((da, aa), ia), ((db, ab), ib)| {
                    da.total_cmp(db)
                        .then(sources[*ib].rank.cmp(&sources[*ia].rank))
                        .then(aa.total_cmp(ab))
                        .then(ia.cmp(ib))
                });
            if let Some(((d, _), i)) = best {
                let v = votes
                    .entry(sources[i].name.as_str())
                    .or_insert((0, f64::INFINITY, i));
                v.0 += 1;
                v.1 = v.1.min(d);
                v.2 = v.2.min(i);
            }
        }
        let winner = votes
            .iter()
            .max_by(|(na, (va, da, ia)), (nb, (vb, db, ib))| {
                va.cmp(vb)
                    .then(sources[*ia].rank.cmp(&sources[*ib].rank))
                    .then(db.total_cmp(da))
                    .then(nb.cmp(na))
            });
        if let Some((_, &(v, _, i))) = winner {
            if v as f64 >= MIN_SHARE * n as f64 {
                return Some(&sources[i]);
            }
        }
    }
    None
}

/// Names shared inside the unit get a compass qualifier in the name's
/// language, by the bearing of each feature's buildings from the middle of
/// all that share it (`Triesenberg north`, `잠실3동 남`); names still shared
/// then (two in one direction) a number, in group order. Deterministic: it
/// depends on the buildings only.
fn make_unique(names: &mut BTreeMap<usize, FeatureName>, features: &[ToName], pts: &[Coord]) {
    let centre_of: BTreeMap<usize, Coord> = features
        .iter()
        .map(|f| {
            let n = f.buildings.len().max(1) as f64;
            let (x, y) = f
                .buildings
                .iter()
                .fold((0.0, 0.0), |(x, y), &b| (x + pts[b].x, y + pts[b].y));
            (f.group, Coord { x: x / n, y: y / n })
        })
        .collect();
    let shared = |names: &BTreeMap<usize, FeatureName>| -> Vec<Vec<usize>> {
        let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (g, n) in names.iter() {
            by.entry(n.name.as_str()).or_default().push(*g);
        }
        by.into_values().filter(|v| v.len() > 1).collect()
    };
    let suffix = |n: &mut FeatureName, ko: &str, en: &str| {
        n.name = format!("{} {ko}", n.name);
        if let Some(e) = n.name_en.as_mut() {
            *e = format!("{e} {en}");
        }
    };
    for dup in shared(names) {
        let cs: Vec<Coord> = dup.iter().map(|g| centre_of[g]).collect();
        let k = cs.len() as f64;
        let mid = Coord {
            x: cs.iter().map(|c| c.x).sum::<f64>() / k,
            y: cs.iter().map(|c| c.y).sum::<f64>() / k,
        };
        let sectors: Vec<usize> = cs
            .iter()
            .map(|c| {
                let bearing = (c.x - mid.x).atan2(c.y - mid.y).to_degrees();
                ((bearing.rem_euclid(360.0) / 45.0).round() as usize) % 8
            })
            .collect();
        let mut distinct = sectors.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() == sectors.len() {
            for (g, &sector) in dup.iter().zip(&sectors) {
                let n = names.get_mut(g).expect("named");
                let ko = compass(sector, is_korean(&n.name));
                suffix(n, ko, compass(sector, false));
            }
        } else {
            // More than one in a direction: numbered from the north-west,
            // as the ids are.
            let mut order: Vec<(usize, Coord)> = dup.iter().copied().zip(cs).collect();
            order.sort_by(|a, b| (-a.1.y, a.1.x).partial_cmp(&(-b.1.y, b.1.x)).unwrap());
            for (k, (g, _)) in order.iter().enumerate() {
                let number = (k + 1).to_string();
                suffix(names.get_mut(g).expect("named"), &number, &number);
            }
        }
    }
    // A qualified name that meets another (`Triesen north` given twice):
    // numbered, in group order.
    for dup in shared(names) {
        for (k, g) in dup.iter().enumerate() {
            let number = (k + 1).to_string();
            suffix(names.get_mut(g).expect("named"), &number, &number);
        }
    }
}
