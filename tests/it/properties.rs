//! Properties of the geometry stages on random inputs: whatever the points
//! and labels, the tessellation of an enclosure is a coverage of it, and the
//! dissolve of any set of its faces keeps the area.

use dongne::geom::coverage;
use dongne::geom::dissolve;
use dongne::geom::overlay::{self, shape_area};
use dongne::geom::shape::Shape;
use dongne::method::tessellation::tessellate;
use geo::{Coord, Validation};
use proptest::prelude::*;

fn l_shape() -> Shape {
    // An L-shaped enclosure with a hole: concave and not simply connected.
    vec![
        vec![
            [0.0, 0.0],
            [400.0, 0.0],
            [400.0, 150.0],
            [150.0, 150.0],
            [150.0, 400.0],
            [0.0, 400.0],
        ],
        vec![[40.0, 40.0], [40.0, 90.0], [90.0, 90.0], [90.0, 40.0]],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tessellation_covers_the_enclosure_exactly(
        pts in prop::collection::vec((0.0f64..150.0, 0.0f64..400.0, 0usize..4), 2..60)
    ) {
        let enclosure = l_shape();
        let sites: Vec<Coord> = pts.iter().map(|p| overlay::snap(Coord { x: p.0, y: p.1 })).collect();
        let labels: Vec<usize> = pts.iter().map(|p| p.2).collect();
        let faces = tessellate(&enclosure, &sites, &labels).unwrap();
        let total: f64 = faces.iter().map(|f| shape_area(&f.shape)).sum();
        let want = shape_area(&enclosure);
        prop_assert!((total - want).abs() <= 1e-6 * want, "faces cover {total}, enclosure {want}");
        // No two faces overlap.
        for i in 0..faces.len() {
            for j in i + 1..faces.len() {
                let shared: f64 = overlay::intersection(std::slice::from_ref(&faces[i].shape), std::slice::from_ref(&faces[j].shape))
                    .unwrap()
                    .iter()
                    .map(shape_area)
                    .sum();
                prop_assert!(shared <= 1e-9 * want, "faces {i} and {j} overlap by {shared}");
            }
        }
        // Each label's faces dissolve into valid polygons of the same area.
        let mut shapes: Vec<Shape> = faces.iter().map(|f| f.shape.clone()).collect();
        coverage::node(&mut shapes, 1e-6);
        for label in 0..4 {
            let mine: Vec<&Shape> = shapes.iter().zip(&faces).filter(|(_, f)| f.label == label).map(|(s, _)| s).collect();
            let area: f64 = mine.iter().map(|s| shape_area(s)).sum();
            let merged = coverage::clean(dissolve::dissolve(mine.iter().copied()));
            let merged_area: f64 = merged.iter().map(shape_area).sum();
            prop_assert!((area - merged_area).abs() <= 1e-6 * want.max(1.0), "label {label}: {area} vs {merged_area}");
            for s in &merged {
                prop_assert!(overlay::polygon_of(s).is_valid(), "label {label}: invalid {s:?}");
            }
        }
    }
}
