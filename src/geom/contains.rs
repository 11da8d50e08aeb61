//! Point in polygon: even-odd on one ring, a shape (exterior, no hole), and
//! a shape prepared for many tests.

use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use crate::geom::shape::{Ring, Shape};

type P = [f64; 2];
type EdgeTree = RTree<GeomWithData<rstar::primitives::Rectangle<P>, (u32, u32)>>;

/// A shape ready for many point-in-shape tests: its edges in an R-tree, so a
/// test looks only at the edges a ray from the point can cross (O(log n)
/// instead of every edge). The answer is [`contains`] on the exterior and no
/// hole, to the bit: the same crossing test on the same edges, with the same
/// end points in the same roles. Small shapes are tested directly.
pub struct PreparedShape<'a> {
    shape: &'a Shape,
    /// Edge `(ring, i)` runs from vertex `i - 1` to vertex `i`, as in
    /// [`contains`]; `None` for a small shape.
    edges: Option<EdgeTree>,
    max_x: f64,
}

/// Shapes with fewer vertices are tested edge by edge.
const PREPARE_FROM: usize = 48;

impl<'a> PreparedShape<'a> {
    pub fn new(shape: &'a Shape) -> Self {
        let n: usize = shape.iter().map(|r| r.len()).sum();
        let max_x = shape
            .iter()
            .flatten()
            .map(|p| p[0])
            .fold(f64::NEG_INFINITY, f64::max);
        let edges = (n >= PREPARE_FROM).then(|| {
            RTree::bulk_load(
                shape
                    .iter()
                    .enumerate()
                    .flat_map(|(k, r)| {
                        let m = r.len();
                        (0..m).map(move |i| {
                            let (a, b) = (r[i], r[(i + m - 1) % m]);
                            GeomWithData::new(
                                rstar::primitives::Rectangle::from_corners(a, b),
                                (k as u32, i as u32),
                            )
                        })
                    })
                    .collect(),
            )
        });
        PreparedShape {
            shape,
            edges,
            max_x,
        }
    }

    /// Inside the exterior and in no hole.
    pub fn contains(&self, p: P) -> bool {
        let Some(tree) = &self.edges else {
            return shape_contains(self.shape, p);
        };
        // NaN compares false: a NaN point is outside too.
        if self.shape.is_empty() || p[0].partial_cmp(&self.max_x).is_none_or(|o| o.is_gt()) {
            return false;
        }
        // Every edge the ray to the east can cross has its box on the ray
        // (a little to the west too: the crossing's x is rounded).
        let slack = 1e-9 + p[0].abs() * 1e-12;
        let env = AABB::from_corners([p[0] - slack, p[1]], [self.max_x, p[1]]);
        // The rings crossed, with their parity: few, so a small list kept on
        // the stack (no allocation per point).
        let mut odd: [(u32, bool); 16] = [(0, false); 16];
        let mut n = 0;
        let mut more: Vec<(u32, bool)> = Vec::new();
        for g in tree.locate_in_envelope_intersecting(&env) {
            let (k, i) = g.data;
            let r = &self.shape[k as usize];
            let m = r.len();
            let (a, b) = (r[i as usize], r[(i as usize + m - 1) % m]);
            let crosses = (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0];
            if !crosses {
                continue;
            }
            if let Some(e) = odd[..n]
                .iter_mut()
                .chain(more.iter_mut())
                .find(|e| e.0 == k)
            {
                e.1 = !e.1;
            } else if n < odd.len() {
                odd[n] = (k, true);
                n += 1;
            } else {
                more.push((k, true));
            }
        }
        // Odd crossings of the exterior, even of every hole.
        let rings = || odd[..n].iter().chain(more.iter());
        rings().any(|&(k, o)| k == 0 && o) && !rings().any(|&(k, o)| k != 0 && o)
    }
}

/// Even-odd point in ring.
pub fn contains(r: &Ring, p: P) -> bool {
    let mut inside = false;
    let n = r.len();
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (r[i], r[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Point in a shape (exterior, not in a hole).
pub fn shape_contains(s: &Shape, p: [f64; 2]) -> bool {
    !s.is_empty() && contains(&s[0], p) && !s[1..].iter().any(|h| contains(h, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_shape_answers_as_the_plain_test() {
        // A jagged ring (many vertices) with a jagged hole.
        let ring = |cx: f64, cy: f64, r0: f64, n: usize, ccw: bool| -> Ring {
            let mut v: Ring = (0..n)
                .map(|i| {
                    let t = i as f64 / n as f64 * std::f64::consts::TAU;
                    let r = r0 * (1.0 + 0.3 * (7.0 * t).sin());
                    [cx + r * t.cos(), cy + r * t.sin()]
                })
                .collect();
            if !ccw {
                v.reverse();
            }
            v
        };
        let shape: Shape = vec![
            ring(1000.0, 2000.0, 100.0, 300, true),
            ring(1010.0, 2005.0, 30.0, 120, false),
        ];
        let prep = PreparedShape::new(&shape);
        assert!(prep.edges.is_some());
        let mut hits = 0;
        for i in 0..200 {
            for j in 0..200 {
                let p = [860.0 + i as f64 * 1.4, 1860.0 + j as f64 * 1.4];
                let want = shape_contains(&shape, p);
                assert_eq!(prep.contains(p), want, "{p:?}");
                hits += want as usize;
            }
        }
        assert!(hits > 1000);
        // On vertices and edges too.
        for r in &shape {
            for (k, &v) in r.iter().enumerate() {
                let w = r[(k + 1) % r.len()];
                for p in [v, [(v[0] + w[0]) / 2.0, (v[1] + w[1]) / 2.0]] {
                    assert_eq!(prep.contains(p), shape_contains(&shape, p));
                }
            }
        }
    }
}
