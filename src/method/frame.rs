//! The admin frame: the units made one clean coverage (an overlap goes to
//! the unit first by code), the buildings given to their unit, the study
//! area when there are no units, and the noding of the boundaries that
//! units computed apart share. The pipeline's first and last steps around
//! the per-unit stages.

use geo::{Buffer, ConvexHull, Coord, MultiPoint, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::error::Result;
use crate::geom::contains::ShapeIndex;
use crate::geom::coverage;
use crate::geom::overlay;
use crate::geom::shape::{rect_to_aabb, rect_to_rtree, shapes_rect, Shape};
use crate::model::{AdminUnit, Building};

/// Vertices closer than this to an edge are taken to lie on it when shared
/// boundaries are noded: above the half-diagonal of a grid cell, far below
/// anything drawn on purpose.
pub fn node_tolerance() -> f64 {
    1.5 * overlay::cell()
}

/// The stages timed in the run summary.
/// The admin units as a clean coverage on the grid: each unit minus the
/// units before it (by code, then feature id) that overlap it. Returns, in
/// the input order, the shapes of each unit, and the overlap area removed.
pub fn frame(admin: &[AdminUnit]) -> Result<(Vec<Vec<Shape>>, f64)> {
    let raw: Vec<Vec<Shape>> = admin
        .par_iter()
        .map(|u| overlay::union(&overlay::shapes_of(&u.geom)))
        .collect::<Result<_>>()?;
    let mut rank: Vec<usize> = (0..admin.len()).collect();
    rank.sort_by(|&a, &b| (&admin[a].code, admin[a].fid).cmp(&(&admin[b].code, admin[b].fid)));
    let mut pos = vec![0; admin.len()];
    for (r, &i) in rank.iter().enumerate() {
        pos[i] = r;
    }
    let tree = RTree::bulk_load(
        raw.iter()
            .enumerate()
            .filter_map(|(i, s)| shapes_rect(s).map(|r| GeomWithData::new(rect_to_rtree(&r), i)))
            .collect::<Vec<_>>(),
    );
    let cleaned: Vec<(Vec<Shape>, f64)> = (0..admin.len())
        .into_par_iter()
        .map(|i| {
            let Some(r) = shapes_rect(&raw[i]) else {
                return Ok((Vec::new(), 0.0));
            };
            let mut before: Vec<usize> = tree
                .locate_in_envelope_intersecting(&rect_to_aabb(&r))
                .map(|g| g.data)
                .filter(|&j| pos[j] < pos[i])
                .collect();
            before.sort_unstable();
            if before.is_empty() {
                return Ok((raw[i].clone(), 0.0));
            }
            let others: Vec<Shape> = before
                .iter()
                .flat_map(|&j| raw[j].iter().cloned())
                .collect();
            let kept = overlay::difference(&raw[i], &others)?;
            let lost = area_of(&raw[i]) - area_of(&kept);
            Ok((kept, lost.max(0.0)))
        })
        .collect::<Result<_>>()?;
    let overlap = cleaned.iter().map(|c| c.1).sum();
    // Parts of a unit under the minimum feature area (crumbs that removing
    // an overlap leaves where two agencies' lines nearly agree) would be
    // features below it: they are dropped (not added to `overlap`).
    Ok((
        cleaned
            .into_iter()
            .map(|(shapes, _)| {
                shapes
                    .into_iter()
                    .filter(|s| overlay::shape_area(s) >= crate::method::pieces::MIN_FEATURE_AREA)
                    .collect()
            })
            .collect(),
        overlap,
    ))
}

fn area_of(shapes: &[Shape]) -> f64 {
    shapes.iter().map(overlay::shape_area).sum()
}

/// Which unit each building falls in (`None`: outside every unit).
pub fn assign_buildings(buildings: &[Coord], units: &[Vec<Shape>]) -> Vec<Option<usize>> {
    let (owner, shapes): (Vec<usize>, Vec<&Shape>) = units
        .iter()
        .enumerate()
        .flat_map(|(i, u)| u.iter().map(move |s| (i, s)))
        .unzip();
    let index = ShapeIndex::new(&shapes);
    // Shapes are in unit order: the first that holds a building is of the
    // lowest unit.
    buildings
        .par_iter()
        .map(|c| index.first_containing([c.x, c.y]).map(|k| owner[k]))
        .collect()
}

/// The study area when no admin layer is given: the buildings' convex hull
/// grown by twice `eps`, as one unit.
pub fn study_area(buildings: &[Building], eps: f64) -> Option<AdminUnit> {
    let mp = MultiPoint(buildings.iter().map(|b| Point(b.pt)).collect());
    if mp.0.is_empty() {
        return None;
    }
    let hull = mp.convex_hull();
    Some(AdminUnit {
        fid: 0,
        code: "study_area".into(),
        name: "buildings' buffered hull".into(),
        geom: hull.buffer(2.0 * eps),
    })
}

/// Nodes the boundaries that units share. `all` holds the features grouped
/// by unit. Within a unit the features share their edges exactly, so only
/// the unit's open edges (its outline) can meet another unit: the index
/// holds their end points only, not every vertex of the country.
pub fn node_between_units(all: &mut [(usize, Vec<Shape>)]) {
    let tol = node_tolerance();
    let mut groups: Vec<&mut [(usize, Vec<Shape>)]> = Vec::new();
    let mut rest = all;
    while !rest.is_empty() {
        let u = rest[0].0;
        let n = rest.iter().take_while(|f| f.0 == u).count();
        let (g, r) = rest.split_at_mut(n);
        groups.push(g);
        rest = r;
    }
    let parts = |g: &[(usize, Vec<Shape>)]| -> Vec<(usize, usize, usize)> {
        // (feature in group, unit, shape index)
        g.iter()
            .enumerate()
            .flat_map(|(f, (u, shapes))| (0..shapes.len()).map(move |k| (f, *u, k)))
            .collect()
    };
    let open: Vec<Vec<bool>> = groups
        .par_iter()
        .map(|g| {
            let ps = parts(g);
            coverage::open_edges(ps.iter().map(|&(f, _, k)| (f, &g[f].1[k])))
        })
        .collect();
    let pts: Vec<GeomWithData<[f64; 2], usize>> = groups
        .par_iter()
        .zip(&open)
        .flat_map_iter(|(g, o)| {
            let ps = parts(g);
            coverage::open_vertices(ps.iter().map(|&(f, u, k)| (u, &g[f].1[k])), o)
        })
        .collect();
    let tree = RTree::bulk_load(pts);
    groups.into_par_iter().zip(&open).for_each(|(g, o)| {
        let mut k = 0;
        for (u, shapes) in g.iter_mut() {
            for ring in shapes.iter_mut().flat_map(|s| s.iter_mut()) {
                let mask = &o[k..k + ring.len()];
                k += ring.len();
                if mask.iter().any(|&x| x) {
                    *ring = coverage::node_ring_where(ring, *u, &tree, tol, |e| mask[e]);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn unit(code: &str, x: f64) -> AdminUnit {
        AdminUnit {
            fid: 0,
            code: code.into(),
            name: code.into(),
            geom: geo::MultiPolygon(vec![
                polygon![(x: x, y: 0.0), (x: x + 100.0, y: 0.0), (x: x + 100.0, y: 100.0), (x: x, y: 100.0)],
            ]),
        }
    }

    #[test]
    fn overlapping_units_give_the_overlap_to_the_first_code() {
        let (units, overlap) = frame(&[unit("B", 50.0), unit("A", 0.0)]).unwrap();
        assert!((overlap - 5000.0).abs() < 1e-6, "{overlap}");
        assert!((area_of(&units[1]) - 10_000.0).abs() < 1e-6);
        assert!((area_of(&units[0]) - 5_000.0).abs() < 1e-6);
    }
}
