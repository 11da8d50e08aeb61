//! Figures of a polygon that the output carries and evaluate compares:
//! perimeter and compactness. One implementation, so the attribute written
//! and the figure evaluated are the same number.

use geo::{Euclidean, Length, MultiPolygon};

/// The length of every ring of the polygons, holes included.
///
/// ```
/// use dongne::geom::measure::perimeter;
/// use geo::{polygon, MultiPolygon};
///
/// let square = polygon![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)];
/// assert_eq!(perimeter(&MultiPolygon(vec![square])), 40.0);
/// ```
pub fn perimeter(m: &MultiPolygon) -> f64 {
    m.0.iter()
        .map(|p| {
            Euclidean.length(p.exterior())
                + p.interiors()
                    .iter()
                    .map(|r| Euclidean.length(r))
                    .sum::<f64>()
        })
        .sum()
}

/// Polsby–Popper compactness, 4πA / P²: 1 for a disc, near 0 for a strip;
/// 0 when there is no perimeter.
///
/// ```
/// use dongne::geom::measure::compactness;
///
/// assert!((compactness(100.0, 40.0) - std::f64::consts::PI / 4.0).abs() < 1e-12);
/// assert_eq!(compactness(0.0, 0.0), 0.0);
/// ```
pub fn compactness(area: f64, perimeter: f64) -> f64 {
    if perimeter > 0.0 {
        4.0 * std::f64::consts::PI * area / (perimeter * perimeter)
    } else {
        0.0
    }
}
