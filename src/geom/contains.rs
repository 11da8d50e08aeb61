//! Point in polygon: even-odd on one ring, a shape (exterior, no hole), and
//! a shape prepared for many tests.

use crate::geom::shape::{Ring, Shape};

type P = [f64; 2];

/// A shape ready for many point-in-shape tests: its edges sorted into
/// horizontal strips, so a test looks only at the edges of the point's strip
/// (a few, where the plain test walks every edge). The answer is
/// [`shape_contains`] to the bit: every edge that can cross the point's
/// horizontal is in its strip, and the crossing test is the same, on the same
/// end points in the same roles. Small shapes are tested directly.
///
/// Strips, not an R-tree of edges as before: no tree walk per point, and no
/// sort to build; on the Korea 7 M frame the point tests of the frame and of
/// the walk check went from a fifth of a rerun to a twentieth.
pub struct PreparedShape<'a> {
    shape: &'a Shape,
    strips: Option<Strips>,
    max_x: f64,
}

/// Edges by horizontal strip, in ring order within a strip (CSR layout).
struct Strips {
    y0: f64,
    /// Strips per metre.
    scale: f64,
    count: usize,
    /// `edges[start[s]..start[s + 1]]` meet strip `s`.
    start: Vec<u32>,
    /// Ring, then the edge's two end points as [`contains`] takes them.
    edges: Vec<(u32, P, P)>,
}

impl Strips {
    fn strip(&self, y: f64) -> usize {
        // Saturating float → integer cast: below the first strip is 0.
        (((y - self.y0) * self.scale) as usize).min(self.count - 1)
    }

    fn new(shape: &Shape, n: usize) -> Option<Strips> {
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in shape.iter().flatten() {
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        if !(y1 > y0 && (y1 - y0).is_finite()) {
            return None;
        }
        // About one strip per edge; fewer if long edges would fill many.
        let mut count = n;
        let each_edge = |count: usize, f: &mut dyn FnMut(u32, P, P, usize, usize)| {
            let scale = count as f64 / (y1 - y0);
            let at = |y: f64| (((y - y0) * scale) as usize).min(count - 1);
            for (k, r) in shape.iter().enumerate() {
                let m = r.len();
                for i in 0..m {
                    let (a, b) = (r[i], r[(i + m - 1) % m]);
                    f(k as u32, a, b, at(a[1].min(b[1])), at(a[1].max(b[1])));
                }
            }
        };
        loop {
            let mut total = 0usize;
            each_edge(count, &mut |_, _, _, s0, s1| total += s1 - s0 + 1);
            if total <= 8 * n || count <= 16 {
                break;
            }
            count = (count / 4).max(16);
        }
        let mut start = vec![0u32; count + 1];
        each_edge(count, &mut |_, _, _, s0, s1| {
            for s in s0..=s1 {
                start[s + 1] += 1;
            }
        });
        for s in 0..count {
            start[s + 1] += start[s];
        }
        let mut next: Vec<u32> = start[..count].to_vec();
        let mut edges = vec![(0u32, [0.0; 2], [0.0; 2]); start[count] as usize];
        each_edge(count, &mut |k, a, b, s0, s1| {
            for s in s0..=s1 {
                edges[next[s] as usize] = (k, a, b);
                next[s] += 1;
            }
        });
        Some(Strips {
            y0,
            scale: count as f64 / (y1 - y0),
            count,
            start,
            edges,
        })
    }
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
        let strips = (n >= PREPARE_FROM).then(|| Strips::new(shape, n)).flatten();
        PreparedShape {
            shape,
            strips,
            max_x,
        }
    }

    /// Inside the exterior and in no hole.
    pub fn contains(&self, p: P) -> bool {
        let Some(st) = &self.strips else {
            return shape_contains(self.shape, p);
        };
        // NaN compares false: a NaN point is outside too. East of every
        // vertex, or outside the strips' span, no edge can be crossed.
        if p[0].partial_cmp(&self.max_x).is_none_or(|o| o.is_gt())
            || p[1].partial_cmp(&st.y0).is_none_or(|o| o.is_lt())
        {
            return false;
        }
        let s = st.strip(p[1]);
        // Edges come ring by ring: each ring's parity is known when the next
        // ring starts.
        let (mut ring, mut odd) = (0u32, false);
        let (mut in_exterior, mut in_hole) = (false, false);
        let mut close = |ring: u32, odd: bool| {
            if odd {
                if ring == 0 {
                    in_exterior = true;
                } else {
                    in_hole = true;
                }
            }
        };
        for &(k, a, b) in &st.edges[st.start[s] as usize..st.start[s + 1] as usize] {
            if k != ring {
                close(ring, odd);
                (ring, odd) = (k, false);
            }
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
            {
                odd = !odd;
            }
        }
        close(ring, odd);
        in_exterior && !in_hole
    }
}

/// Many shapes prepared for point location: which of them hold a point.
/// Their boxes sit in a uniform grid of about two cells a shape, so a point
/// looks at the few boxes of its cell, then tests those shapes.
///
/// A grid rather than an R-tree of boxes: assigning each building to its
/// admin unit and to its neighborhood (the walk check) is a lookup per
/// building, and on the Korea 7 M frame the tree walks were most of both.
///
/// ```
/// use dongne::geom::contains::ShapeIndex;
/// let a = vec![vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]];
/// let b = vec![vec![[10.0, 0.0], [20.0, 0.0], [20.0, 10.0], [10.0, 10.0]]];
/// let index = ShapeIndex::new(&[&a, &b]);
/// assert_eq!(index.first_containing([15.0, 5.0]), Some(1));
/// assert_eq!(index.first_containing([25.0, 5.0]), None);
/// ```
pub struct ShapeIndex<'a> {
    prepared: Vec<PreparedShape<'a>>,
    grid: Option<BoxGrid>,
}

struct BoxGrid {
    min: P,
    max: P,
    /// Cells per metre.
    scale: f64,
    nx: usize,
    ny: usize,
    /// `items[start[c]..start[c + 1]]`: the shapes whose box meets cell `c`,
    /// in order.
    start: Vec<u32>,
    items: Vec<u32>,
}

impl BoxGrid {
    fn cell(&self, p: P) -> (usize, usize) {
        // Saturating casts; callers keep p inside [min, max].
        let ix = (((p[0] - self.min[0]) * self.scale) as usize).min(self.nx - 1);
        let iy = (((p[1] - self.min[1]) * self.scale) as usize).min(self.ny - 1);
        (ix, iy)
    }

    fn new(boxes: &[Option<[P; 2]>]) -> Option<BoxGrid> {
        let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for [a, b] in boxes.iter().flatten() {
            min = [min[0].min(a[0]), min[1].min(a[1])];
            max = [max[0].max(b[0]), max[1].max(b[1])];
        }
        let (w, h) = (max[0] - min[0], max[1] - min[1]);
        if !(w >= 0.0 && h >= 0.0 && (w + h).is_finite()) {
            return None;
        }
        let cells = (2 * boxes.len()).clamp(1, 1 << 22) as f64;
        let side = (w * h / cells).sqrt().max(w.max(h) / cells).max(1e-9);
        let scale = 1.0 / side;
        let nx = (w * scale) as usize + 1;
        let ny = (h * scale) as usize + 1;
        let mut grid = BoxGrid {
            min,
            max,
            scale,
            nx,
            ny,
            start: vec![0; nx * ny + 1],
            items: Vec::new(),
        };
        let spans: Vec<Option<[(usize, usize); 2]>> = boxes
            .iter()
            .map(|b| b.map(|[a, b]| [grid.cell(a), grid.cell(b)]))
            .collect();
        let each = |f: &mut dyn FnMut(usize, usize)| {
            for (i, span) in spans.iter().enumerate() {
                if let Some([(x0, y0), (x1, y1)]) = *span {
                    for iy in y0..=y1 {
                        for ix in x0..=x1 {
                            f(i, iy * nx + ix);
                        }
                    }
                }
            }
        };
        each(&mut |_, c| grid.start[c + 1] += 1);
        for c in 0..nx * ny {
            grid.start[c + 1] += grid.start[c];
        }
        let mut next: Vec<u32> = grid.start[..nx * ny].to_vec();
        grid.items = vec![0; grid.start[nx * ny] as usize];
        each(&mut |i, c| {
            grid.items[next[c] as usize] = i as u32;
            next[c] += 1;
        });
        Some(grid)
    }

    /// The shapes whose box may hold `p` (every one whose box does).
    fn near(&self, p: P) -> &[u32] {
        let inside = p[0] >= self.min[0]
            && p[0] <= self.max[0]
            && p[1] >= self.min[1]
            && p[1] <= self.max[1];
        if !inside {
            return &[];
        }
        let (ix, iy) = self.cell(p);
        let c = iy * self.nx + ix;
        &self.items[self.start[c] as usize..self.start[c + 1] as usize]
    }
}

impl<'a> ShapeIndex<'a> {
    pub fn new(shapes: &[&'a Shape]) -> Self {
        use rayon::prelude::*;
        let boxes: Vec<Option<[P; 2]>> = shapes
            .par_iter()
            .map(|s| {
                crate::geom::shape::bounds(s.iter())
                    .map(|r| [[r.min().x, r.min().y], [r.max().x, r.max().y]])
            })
            .collect();
        ShapeIndex {
            prepared: shapes.par_iter().map(|s| PreparedShape::new(s)).collect(),
            grid: BoxGrid::new(&boxes),
        }
    }

    /// The shapes that hold `p`, in the order given.
    pub fn containing(&self, p: P) -> impl Iterator<Item = usize> + '_ {
        self.grid
            .as_ref()
            .map_or(&[][..], |g| g.near(p))
            .iter()
            .map(|&i| i as usize)
            .filter(move |&i| self.prepared[i].contains(p))
    }

    /// The first shape that holds `p`.
    pub fn first_containing(&self, p: P) -> Option<usize> {
        self.containing(p).next()
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
        assert!(prep.strips.is_some());
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
