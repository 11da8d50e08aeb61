//! The output as GEOS judges it (invariant 1): every feature checked with
//! GEOS after the final rounding, the few it rejects repaired, and their
//! neighbours noded to them so that the repair leaves no overlap.

use geo::{BoundingRect, Intersects};
use geo_types::MultiPolygon;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::geom::coverage::node_ring;
use crate::geom::overlay;
use crate::geom::shape::{shapes_rect, Shape};
use crate::io::geos::is_valid;

/// Square metres: a part of a repaired feature smaller than this is a
/// rounding artefact, a million times below the smallest feature drawn
/// ([`crate::method::pieces::MIN_FEATURE_AREA`]).
const ARTEFACT_AREA: f64 = 1e-3;

/// A cleaned feature as GEOS will judge it: valid as it is, or repaired by
/// a union of its own rings on the overlay grid, and whether it is valid
/// then. The rounding to the output grid can bring a hole's vertex onto its
/// shell's edge a micrometre away, so that the hole touches the shell at
/// two points and cuts the interior in two (Liechtenstein: a 13 m² sliver
/// of open ground against a forest's edge). geo accepts that; GEOS, QGIS
/// and PostGIS do not. The union makes the hole a notch of the shell, as it
/// is on the ground, and drops what the touch pinched off: a part of a
/// square micrometre between the hole's edge and the shell's (below
/// [`ARTEFACT_AREA`]); the area changes by no more.
pub(crate) fn valid_or_repaired(shapes: Vec<Shape>) -> (MultiPolygon, Validity) {
    let geom = overlay::multipolygon_of(&shapes);
    if is_valid(&geom) {
        return (geom, Validity::Valid);
    }
    match overlay::union(&shapes) {
        Ok(mut u) => {
            u.retain(|s| overlay::shape_area(s) >= ARTEFACT_AREA);
            let repaired = overlay::multipolygon_of(&u);
            if is_valid(&repaired) {
                (repaired, Validity::Repaired)
            } else {
                (geom, Validity::Invalid)
            }
        }
        Err(_) => (geom, Validity::Invalid),
    }
}

/// How a feature came through [`valid_or_repaired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validity {
    Valid,
    Repaired,
    /// GEOS rejects it even after repair: the run must not write it.
    Invalid,
}

/// Puts the vertices of repaired features on the edges of their
/// neighbours that pass within a cell and a half of the output grid. The
/// touch a repair resolves came from a vertex rounded across an edge: the
/// sliver in LI-03-054's notch had its corner 77 nm inside the next
/// municipality's LI-02-042 (an overlap of 4.9e-7 m²). With the corner on
/// LI-02-042's edge the two meet exactly. Repairs are rare, so this runs on
/// a handful of features; neighbours it changes are checked again.
pub(crate) fn node_around_repairs(features: &mut [(MultiPolygon, Validity)]) {
    let tol = 1.5 * (-overlay::COORD_EXP as f64).exp2();
    let repaired: Vec<usize> = (0..features.len())
        .filter(|&i| features[i].1 == Validity::Repaired)
        .collect();
    if repaired.is_empty() {
        return;
    }
    let mut pts = Vec::new();
    let mut boxes = Vec::new();
    for &i in &repaired {
        let shapes = overlay::shapes_of(&features[i].0);
        for ring in shapes.iter().flatten() {
            pts.extend(ring.iter().map(|&p| GeomWithData::new(p, i)));
        }
        boxes.extend(shapes_rect(&shapes).map(|r| overlay::grow(&r, tol)));
    }
    let tree = RTree::bulk_load(pts);
    let near = |mp: &MultiPolygon| {
        mp.bounding_rect()
            .is_some_and(|r| boxes.iter().any(|b| r.intersects(b)))
    };
    features
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, (geom, v))| {
            if *v == Validity::Invalid || !near(geom) {
                return;
            }
            let shapes = overlay::shapes_of(geom);
            let noded: Vec<Shape> = shapes
                .iter()
                .map(|s| s.iter().map(|r| node_ring(r, i, &tree, tol)).collect())
                .collect();
            if noded != shapes {
                let (g, again) = valid_or_repaired(noded);
                *geom = g;
                if again == Validity::Invalid {
                    *v = Validity::Invalid;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;

    /// Liechtenstein's LI-03-054 in small: a forest's shell (three of its
    /// vertices and one more) with the hole of a 13 m² sliver of open
    /// ground, whose vertex 1 lies on the shell's edge and vertex 2 is the
    /// shell's vertex: GEOS finds a self-intersection.
    #[test]
    fn a_hole_touching_its_shell_twice_is_made_a_notch() {
        let shell = vec![
            [541599.3333778381, 5227655.607040405],
            [541551.694688797, 5227585.409676552],
            [541532.387301445, 5227556.95953083],
            [541600.0, 5227560.0],
        ];
        let hole = vec![
            [541546.8077135086, 5227575.4251356125],
            [541544.4291229248, 5227574.703598022],
            [541551.694688797, 5227585.409676552],
            [541551.6550178528, 5227584.156332016],
        ];
        let shapes = vec![vec![shell, hole]];
        let before = overlay::multipolygon_of(&shapes);
        assert!(!crate::io::geos::is_valid(&before), "GEOS does not");
        let (after, valid) = valid_or_repaired(shapes);
        assert_eq!(valid, Validity::Repaired);
        assert!(crate::io::geos::is_valid(&after));
        assert_eq!(after.0.len(), 1);
        assert!(after.0[0].interiors().is_empty(), "the hole is a notch");
        let lost = before.unsigned_area() - after.unsigned_area();
        assert!(lost.abs() < 1e-6, "area changed by {lost}");
    }
}
