//! Which neighborhood is this point in? The question dongne's output exists
//! for, answered fast enough for a daily batch of millions of points.
//!
//! [`read_neighborhoods`] reads a neighborhood layer back (any GDAL format
//! `dongne generate` writes, or any polygon layer with an `nbhd_id` field);
//! [`Index`] answers point queries on it:
//!
//! - an R-tree over the bounding box of every polygon part picks the few
//!   candidate parts;
//! - each part is *prepared*: its edges are binned by y, so the ray-crossing
//!   test of a point reads only the edges of one horizontal band instead of
//!   all of them. geo 0.33's `PreparedGeometry` prepares for DE-9IM `relate`,
//!   which answers a point query through a full intersection matrix, far
//!   slower than a crossing count over a handful of edges.
//!
//! The answer is exact: an edge whose x-range holds the point is decided by
//! the robust orientation predicate, so a point exactly on an edge is seen as
//! on it. **Edge rule:** of all features whose closed polygon (interior or
//! boundary) holds the point, the one with the smallest `nbhd_id` wins (ties:
//! the smallest feature id). A point on the edge two neighborhoods share thus
//! always gets the same single answer, whatever the order of the file. A
//! point in no feature is outside.

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::LayerAccess;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::{Coord, Geometry, LineString, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::error::{Error, Result};
use crate::io::config::LayerConfig;
use crate::io::gdal_errors;
use crate::io::read;
use crate::io::reproject::{self, Transformer};
use crate::model::Source;

mod index;
mod layer;
mod points;

pub use index::{Found, Index};
pub use layer::{read_neighborhoods, FeatureInfo, NeighborhoodLayer};
pub use points::{lonlat_out_of_range, points_in, read_csv_points, read_layer_points, Points};

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x: f64, y: f64, w: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + w, y: y), (x: x + w, y: y + w), (x: x, y: y + w), (x: x, y: y)
        ]])
    }

    #[test]
    fn inside_edge_vertex_and_outside() {
        // Two squares sharing the edge x = 10.
        let idx = Index::new(&[square(0.0, 0.0, 10.0), square(10.0, 0.0, 10.0)]);
        let f = |x, y| idx.locate(x, y);
        assert_eq!(
            f(5.0, 5.0),
            Some(Found {
                feature: 0,
                on_edge: false
            })
        );
        assert_eq!(
            f(15.0, 5.0),
            Some(Found {
                feature: 1,
                on_edge: false
            })
        );
        // On the shared edge and on the shared vertex: the smaller index.
        let edge = Some(Found {
            feature: 0,
            on_edge: true,
        });
        assert_eq!(f(10.0, 5.0), edge);
        assert_eq!(f(10.0, 10.0), edge);
        assert_eq!(f(10.0, 0.0), edge);
        // On a horizontal outer edge of the second square only.
        assert_eq!(
            f(15.0, 10.0),
            Some(Found {
                feature: 1,
                on_edge: true
            })
        );
        assert_eq!(f(25.0, 5.0), None);
        assert_eq!(f(5.0, 10.000001), None);
        assert_eq!(f(f64::NAN, 1.0), None);
    }

    #[test]
    fn holes_are_outside_and_their_edges_are_edges() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        );
        let idx = Index::new(&[MultiPolygon(vec![p])]);
        assert_eq!(idx.locate(5.0, 5.0), None);
        assert_eq!(idx.locate(2.0, 5.0).map(|f| f.on_edge), Some(false));
        assert_eq!(idx.locate(4.0, 5.0).map(|f| f.on_edge), Some(true));
    }

    #[test]
    fn agrees_with_geo_on_a_jagged_polygon() {
        use geo::{Contains, Intersects, Point};
        // A star with 40 points: many edges per band.
        let n = 80;
        let ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 100.0 } else { 37.0 };
                (r * a.cos() + 0.123, r * a.sin() - 0.456)
            })
            .collect();
        let poly = geo_types::Polygon::new(LineString::from(ring), vec![]);
        let idx = Index::new(&[MultiPolygon(vec![poly.clone()])]);
        let mut s: u64 = 42;
        for _ in 0..20_000 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = ((s >> 11) as f64 / (1u64 << 53) as f64) * 240.0 - 120.0;
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let y = ((s >> 11) as f64 / (1u64 << 53) as f64) * 240.0 - 120.0;
            let pt = Point::new(x, y);
            let want = if poly.contains(&pt) {
                Some(false)
            } else if poly.intersects(&pt) {
                Some(true)
            } else {
                None
            };
            assert_eq!(idx.locate(x, y).map(|f| f.on_edge), want, "({x}, {y})");
        }
        // Every vertex is on the boundary.
        for c in poly.exterior().0.iter() {
            assert_eq!(idx.locate(c.x, c.y).map(|f| f.on_edge), Some(true));
        }
    }
}
