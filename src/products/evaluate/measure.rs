//! The figures of one partition against the ground.

use super::*;
use crate::geom::measure::{compactness, perimeter};
use geo::Centroid;

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
        areas.push(a);
        compact.push(compactness(a, perimeter(m)));
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
    let tree: SegTree = RTree::bulk_load(boundary_segments(&p.geoms));
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
pub(super) fn footprints_cut(
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

pub(super) fn separating_length(g: &Ground) -> f64 {
    g.separating
        .iter()
        .map(|[a, b]| ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt())
        .sum()
}
