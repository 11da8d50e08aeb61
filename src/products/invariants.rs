//! The method's invariants as checks on a finished output. The integration
//! tests run them on real data; they are in the library so any output can be
//! checked the same way.
//!
//! Overlaps and containment are measured with i_overlay on dongne's fixed
//! grid (see [`crate::geom::overlay`]): every output vertex lies on that grid, so
//! the measure is exact and does not add the rounding of a second precision
//! model. (geo's boolean operations rescale each pair of polygons to their
//! own integer grid and report slivers of ~1e-3 m² that are not there.)

use geo::{Area, BoundingRect, Coord, Intersects, MultiPolygon, Point, Validation};
use rayon::prelude::*;
use rstar::{RTree, AABB};

use crate::geom::contains::ShapeIndex;
use crate::geom::overlay;
use crate::geom::shape::Shape;
use crate::model::{FeatureKind, Neighborhood};

/// One broken invariant.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Number of the invariant in the method (1–11).
    pub invariant: u8,
    pub message: String,
}

fn v(invariant: u8, message: String) -> Violation {
    Violation { invariant, message }
}

fn tree_of(features: &[Neighborhood]) -> RTree<crate::geom::shape::Indexed> {
    crate::geom::shape::box_tree(features.iter().map(|f| f.geom.bounding_rect()))
}

fn grid_area(r: crate::error::Result<Vec<Shape>>) -> f64 {
    r.map(|v| v.iter().map(overlay::shape_area).sum())
        .unwrap_or(f64::INFINITY)
}

/// Invariant 1: every polygon is valid (OGC simple features), as GEOS
/// judges it (and so QGIS, PostGIS and shapely), and as geo does, whose
/// reason is named.
pub fn validity(features: &[Neighborhood]) -> Vec<Violation> {
    features
        .par_iter()
        .filter_map(|f| {
            if let Some(e) = f.geom.validation_errors().first() {
                return Some(v(1, format!("{}: {e}", f.id)));
            }
            (!crate::io::geos::is_valid(&f.geom))
                .then(|| v(1, format!("{}: not valid as GEOS judges it", f.id)))
        })
        .collect()
}

/// 2. No two features overlap by more than `1e-9` of the smaller one.
pub fn no_overlap(features: &[Neighborhood]) -> Vec<Violation> {
    let tree = tree_of(features);
    let mut out = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let Some(r) = f.geom.bounding_rect() else {
            continue;
        };
        let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        for g in tree.locate_in_envelope_intersecting(&env) {
            let j = g.data;
            if j <= i {
                continue;
            }
            let shared = grid_area(overlay::intersection(
                &overlay::shapes_of(&f.geom),
                &overlay::shapes_of(&features[j].geom),
            ));
            let smaller = f.area_m2.min(features[j].area_m2);
            if shared > 1e-9 * smaller {
                out.push(v(
                    2,
                    format!("{} and {} overlap by {shared:.6} m²", f.id, features[j].id),
                ));
            }
        }
    }
    out
}

/// 3 and 4. The features of each unit lie inside it and cover it: `units`
/// are `(code, frame shapes)` as [`crate::method::pipeline::frame`] made them.
pub fn coverage_and_nesting(
    features: &[Neighborhood],
    units: &[(String, Vec<Shape>)],
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (code, shapes) in units {
        let unit_area: f64 = shapes.iter().map(overlay::shape_area).sum();
        let mine: Vec<&Neighborhood> = features.iter().filter(|f| &f.admin_code == code).collect();
        let mut total = 0.0;
        for f in &mine {
            let outside = grid_area(overlay::difference(&overlay::shapes_of(&f.geom), shapes));
            // Measured against the unit: a line crossing the unit's edge
            // leaves a vertex rounded to the grid (a few nanometres off the
            // edge), whatever the size of the feature it bounds.
            if outside > 1e-9 * unit_area {
                out.push(v(
                    4,
                    format!(
                        "{} lies {outside:.3e} m² outside its unit {code} of {unit_area:.0} m²",
                        f.id
                    ),
                ));
            }
            total += f.geom.unsigned_area();
        }
        if (total - unit_area).abs() > 1e-6 * unit_area {
            out.push(v(
                3,
                format!("unit {code}: features cover {total:.3} m² of {unit_area:.3} m²"),
            ));
        }
    }
    out
}

/// Invariant 5: each building inside the frame lies in exactly one feature
/// (on a shared boundary it touches several but is counted once), and the
/// features' building counts add up.
pub fn buildings_in_one_feature(
    features: &[Neighborhood],
    buildings: &[Coord],
    in_frame: usize,
) -> Vec<Violation> {
    let tree = tree_of(features);
    let mut out = Vec::new();
    let mut outside = 0usize;
    for (b, c) in buildings.iter().enumerate() {
        let p = Point(*c);
        let touching: Vec<usize> = tree
            .locate_all_at_point(&[c.x, c.y])
            .map(|g| g.data)
            .filter(|&i| features[i].geom.intersects(&p))
            .collect();
        let inside = touching
            .iter()
            .filter(|&&i| geo::Contains::contains(&features[i].geom, &p))
            .count();
        if touching.is_empty() {
            outside += 1;
        } else if inside > 1 {
            out.push(v(5, format!("building #{b} lies inside {inside} features")));
        }
    }
    let counted: usize = features.iter().map(|f| f.buildings).sum();
    if counted != in_frame {
        out.push(v(
            5,
            format!("features count {counted} buildings, the frame holds {in_frame}"),
        ));
    }
    if buildings.len() - outside < in_frame {
        out.push(v(
            5,
            format!(
                "{} buildings of the frame lie in no feature",
                in_frame - (buildings.len() - outside)
            ),
        ));
    }
    out
}

/// 6, for one barrier: no neighborhood holds buildings on both sides of the
/// line `a→b` within `reach` metres of it (used for named barriers such as a
/// river or a main road). Returns the offending neighborhoods.
pub fn straddles(
    features: &[Neighborhood],
    buildings: &[Coord],
    line: &[Coord],
    reach: f64,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let tree = tree_of(features);
    // side[i] = (left?, right?) for neighborhood i
    let mut side = vec![(false, false); features.len()];
    for c in buildings {
        let Some((d, left)) = signed_distance(line, *c) else {
            continue;
        };
        if d > reach {
            continue;
        }
        let p = Point(*c);
        for g in tree.locate_all_at_point(&[c.x, c.y]) {
            let f = &features[g.data];
            if f.kind.is_settled() && geo::Contains::contains(&f.geom, &p) {
                if left {
                    side[g.data].0 = true;
                } else {
                    side[g.data].1 = true;
                }
            }
        }
    }
    for (i, s) in side.iter().enumerate() {
        if s.0 && s.1 {
            out.push(v(
                6,
                format!(
                    "{} holds buildings on both sides of the barrier",
                    features[i].id
                ),
            ));
        }
    }
    out
}

/// Invariant 6, everywhere: a neighborhood whose buildings stand in more than
/// one enclosure (pieces of the unit between barriers) holds, besides its
/// main enclosure, only enclosures too small to be neighborhoods of their own
/// (fewer than `min_buildings` buildings or less than `min_area`): the
/// traffic-island exception. Enclosures are recomputed from the inputs with
/// the enclosure stage; `units` are `(code, frame shapes)`.
pub fn no_barrier_inside(
    features: &[Neighborhood],
    units: &[(String, Vec<Shape>)],
    inputs: &crate::model::Inputs,
    min_area: f64,
    min_buildings: usize,
) -> Vec<Violation> {
    use crate::geom::contains::shape_contains;
    use crate::method::barriers::BarrierIndex;
    let index = BarrierIndex::new(&inputs.lines, &inputs.areas);
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| overlay::snap(b.pt))
        .collect();
    let tree = tree_of(features);
    let mut out = Vec::new();
    for (code, shapes) in units {
        let Some(r) = geo::BoundingRect::bounding_rect(&overlay::multipolygon_of(shapes)) else {
            continue;
        };
        let r = overlay::grow(&r, 1.0);
        let near = index.near(&r);
        let Ok(pieces) = crate::method::enclosures::split(shapes, &near.lines, &near.areas) else {
            out.push(v(
                6,
                format!("unit {code}: enclosures could not be recomputed"),
            ));
            continue;
        };
        // For each neighborhood of this unit: buildings per enclosure.
        let mut per: std::collections::BTreeMap<usize, std::collections::BTreeMap<usize, usize>> =
            Default::default();
        let mut piece_buildings = vec![0usize; pieces.len()];
        for c in &pts {
            let p = [c.x, c.y];
            let Some(pi) = pieces
                .iter()
                .position(|pc| pc.barrier.is_none() && shape_contains(&pc.shape, p))
            else {
                continue;
            };
            piece_buildings[pi] += 1;
            let owner = tree.locate_all_at_point(&p).map(|g| g.data).find(|&i| {
                &features[i].admin_code == code
                    && features[i].kind.is_settled()
                    && geo::Contains::contains(&features[i].geom, &Point(*c))
            });
            if let Some(f) = owner {
                *per.entry(f).or_default().entry(pi).or_default() += 1;
            }
        }
        for (f, by_piece) in per {
            if by_piece.len() < 2 {
                continue;
            }
            let main = by_piece
                .iter()
                .max_by_key(|(pi, n)| (**n, std::cmp::Reverse(**pi)))
                .map(|(pi, _)| *pi);
            for &pi in by_piece.keys() {
                let small = piece_buildings[pi] < min_buildings
                    || overlay::shape_area(&pieces[pi].shape) < min_area;
                if Some(pi) != main && !small {
                    out.push(v(
                        6,
                        format!(
                            "{} spans a barrier: it holds buildings of an enclosure of {} buildings and {:.0} m² besides its main one",
                            features[f].id,
                            piece_buildings[pi],
                            overlay::shape_area(&pieces[pi].shape)
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Distance from `c` to the polyline and whether `c` is on its left, for
/// points whose nearest point is inside a segment (not beyond the ends).
fn signed_distance(line: &[Coord], c: Coord) -> Option<(f64, bool)> {
    let mut best: Option<(f64, bool)> = None;
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len2 = dx * dx + dy * dy;
        if len2 == 0.0 {
            continue;
        }
        let t = ((c.x - a.x) * dx + (c.y - a.y) * dy) / len2;
        if !(0.0..=1.0).contains(&t) {
            continue;
        }
        let cross = dx * (c.y - a.y) - dy * (c.x - a.x);
        let d = cross.abs() / len2.sqrt();
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cross > 0.0));
        }
    }
    best
}

/// Invariant 8: every neighborhood meets the minimum area and building
/// count. Ground the size rules could not merge is no neighborhood: a
/// `hamlet` holds at least one building, and ground without one is `open`.
pub fn size_rules(
    features: &[Neighborhood],
    min_area: f64,
    min_buildings: usize,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let small: Vec<&Neighborhood> = features
        .iter()
        .filter(|f| {
            f.kind == FeatureKind::Neighborhood
                && (f.area_m2 < min_area || f.buildings < min_buildings)
        })
        .collect();
    if let Some(first) = small.first() {
        out.push(v(
            8,
            format!(
                "{} neighborhoods break the size rules (first: {} with {} buildings, {:.0} m²)",
                small.len(),
                first.id,
                first.buildings,
                first.area_m2
            ),
        ));
    }
    if let Some(h) = features
        .iter()
        .find(|f| f.kind == FeatureKind::Hamlet && f.buildings == 0)
    {
        out.push(v(8, format!("{} is a hamlet without a building", h.id)));
    }
    out
}

/// Invariant 9: every neighborhood is one polygon (holes allowed), and no feature has
/// less than [`crate::method::pieces::MIN_FEATURE_AREA`].
pub fn one_piece(features: &[Neighborhood]) -> Vec<Violation> {
    let mut out = Vec::new();
    for f in features {
        if f.kind.is_settled() && f.geom.0.len() != 1 {
            out.push(v(9, format!("{} is in {} pieces", f.id, f.geom.0.len())));
        }
        if f.area_m2 < crate::method::pieces::MIN_FEATURE_AREA {
            out.push(v(9, format!("{} is a sliver of {:.4} m²", f.id, f.area_m2)));
        }
    }
    out
}

/// Invariant 10: no footprint is cut between two features of one unit by more than
/// `1%` of its area each, unless a barrier line crosses it (`barriers`:
/// the line barriers as read). Area barriers and admin edges may cut a
/// footprint; the check looks at neighborhoods and open ground of one unit.
pub fn footprints_whole(
    features: &[Neighborhood],
    footprints: &[geo::Polygon],
    barriers: &[geo::LineString],
) -> Vec<Violation> {
    let tree = tree_of(features);
    let lines = crate::geom::shape::box_tree(barriers.iter().map(|l| l.bounding_rect()));
    let mut cut = Vec::new();
    for (k, fp) in footprints.iter().enumerate() {
        let Some(r) = fp.bounding_rect() else {
            continue;
        };
        let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let area = fp.unsigned_area();
        if area <= 0.0 {
            continue;
        }
        let shape = [overlay::shape_of(fp)];
        let mut holders: Vec<&str> = Vec::new();
        for g in tree.locate_in_envelope_intersecting(&env) {
            let f = &features[g.data];
            if !matches!(
                f.kind,
                FeatureKind::Neighborhood
                    | FeatureKind::Hamlet
                    | FeatureKind::Barrier(crate::model::BarrierKind::Open)
            ) {
                continue;
            }
            let shared = grid_area(overlay::intersection(&shape, &overlay::shapes_of(&f.geom)));
            if shared > 0.01 * area {
                holders.push(&f.admin_code);
            }
        }
        if holders.len() < 2 || holders.iter().any(|c| *c != holders[0]) {
            continue;
        }
        let crossed = lines
            .locate_in_envelope_intersecting(&env)
            .any(|g| barriers[g.data].intersects(fp));
        if !crossed {
            cut.push(k);
        }
    }
    if cut.is_empty() {
        return Vec::new();
    }
    vec![v(
        10,
        format!(
            "{} footprints are cut between two features with no barrier across them (first: footprint #{})",
            cut.len(),
            cut[0]
        ),
    )]
}

/// Invariant 11: neighborhoods are walkable: at most 5% of the buildings in
/// neighborhoods lie farther than `walk_radius` from the centroid of the
/// neighborhood that holds them. Returns the share with the violation.
pub fn walkable(
    features: &[Neighborhood],
    buildings: &[Coord],
    walk_radius: f64,
) -> (f64, Vec<Violation>) {
    use geo::Centroid;
    // Each neighborhood's polygons, in feature order, prepared for point
    // location: on a country, millions of buildings meet polygons of
    // hundreds of vertices.
    let (owner, parts): (Vec<usize>, Vec<Shape>) = features
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind.is_settled())
        .flat_map(|(i, f)| overlay::shapes_of(&f.geom).into_iter().map(move |s| (i, s)))
        .unzip();
    let index = ShapeIndex::new(&parts.iter().collect::<Vec<_>>());
    let centres: Vec<Option<Point>> = features.par_iter().map(|f| f.geom.centroid()).collect();
    // Every building on its own: in parallel, counts summed.
    let (held, far) = buildings
        .par_iter()
        .map(|c| {
            let found = index.first_containing([c.x, c.y]).map(|k| owner[k]);
            match found {
                None => (0usize, 0usize),
                Some(i) => {
                    let beyond =
                        centres[i].is_some_and(|o| (o.x() - c.x).hypot(o.y() - c.y) > walk_radius);
                    (1, usize::from(beyond))
                }
            }
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let share = if held == 0 {
        0.0
    } else {
        far as f64 / held as f64
    };
    let bad = if share > 0.05 {
        vec![v(
            11,
            format!(
                "{far} of {held} buildings ({:.1}%) lie farther than {walk_radius:.0} m from the centroid of their neighborhood",
                100.0 * share
            ),
        )]
    } else {
        Vec::new()
    };
    (share, bad)
}

/// Invariant 12: every neighborhood and hamlet has a non-empty name,
/// unique inside its admin unit. (That no name comes from across a barrier
/// holds by construction: a source names only buildings of its own
/// enclosure; tests/it/names.rs checks it on a river.)
pub fn names(features: &[Neighborhood]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen: std::collections::BTreeMap<(&str, &str), &str> = Default::default();
    for f in features.iter().filter(|f| f.kind.is_settled()) {
        let Some(n) = f.name.as_ref().filter(|n| !n.name.trim().is_empty()) else {
            out.push(v(12, format!("{} has no name", f.id)));
            continue;
        };
        if let Some(other) = seen.insert((f.admin_code.as_str(), n.name.as_str()), &f.id) {
            out.push(v(
                12,
                format!("{other} and {} are both called '{}'", f.id, n.name),
            ));
        }
    }
    out
}

/// All of 1–5, 8, 9 and 12 at once.
pub fn check_all(
    features: &[Neighborhood],
    units: &[(String, Vec<Shape>)],
    buildings: &[Coord],
    in_frame: usize,
    min_area: f64,
    min_buildings: usize,
) -> Vec<Violation> {
    let mut out = validity(features);
    out.extend(no_overlap(features));
    out.extend(coverage_and_nesting(features, units));
    out.extend(buildings_in_one_feature(features, buildings, in_frame));
    out.extend(size_rules(features, min_area, min_buildings));
    out.extend(one_piece(features));
    out.extend(names(features));
    out
}

/// A convenience for tests: a MultiPolygon's area.
pub fn area(mp: &MultiPolygon) -> f64 {
    mp.unsigned_area()
}
