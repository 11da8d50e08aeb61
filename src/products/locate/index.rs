//! The point-location index over a neighborhood layer.

use super::*;

/// Where a point fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Index of the feature in the slice the [`Index`] was built from.
    pub feature: usize,
    /// The point lies on the feature's boundary (an edge shared with a
    /// neighbour, or the outer edge), not in its interior.
    pub on_edge: bool,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Edge {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// One polygon (exterior and holes) with its edges binned by y.
#[derive(Debug, Clone)]
pub(super) struct Part {
    feature: usize,
    ymin: f64,
    /// Bins per unit of y.
    scale: f64,
    nbins: usize,
    /// Start of this part's bin offsets in [`Index::offsets`].
    first: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pos {
    Outside,
    Inside,
    Boundary,
}

/// Point-in-polygon index over a set of (multi)polygons; see the module
/// documentation for the structure and the edge rule.
#[derive(Debug, Clone)]
pub struct Index {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    parts: Vec<Part>,
    /// Per part, `nbins + 1` offsets into `edges` (CSR layout: one flat
    /// array keeps the bins of a part next to each other in memory).
    offsets: Vec<usize>,
    edges: Vec<Edge>,
    features: usize,
}

/// Edges per bin aimed at: a band then holds the edges that cross it plus
/// about this many more.
pub(super) const EDGES_PER_BIN: usize = 2;
/// Bins per part at most, so one huge polygon does not blow up memory.
pub(super) const MAX_BINS: usize = 1 << 15;

impl Index {
    /// Builds the index. `geoms[i]` is feature `i`; when several features
    /// hold a point (on a shared edge), the smallest index wins, so sort the
    /// features by id first (as [`read_neighborhoods`] does).
    pub fn new(geoms: &[MultiPolygon<f64>]) -> Index {
        let mut parts = Vec::new();
        let mut offsets = Vec::new();
        let mut edges = Vec::new();
        let mut boxes = Vec::new();
        let mut part_edges: Vec<Edge> = Vec::new();
        for (feature, mp) in geoms.iter().enumerate() {
            for poly in &mp.0 {
                part_edges.clear();
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    ring_edges(ring, &mut part_edges);
                }
                if part_edges.is_empty() {
                    continue;
                }
                let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for e in &part_edges {
                    x0 = x0.min(e.x0.min(e.x1));
                    x1 = x1.max(e.x0.max(e.x1));
                    y0 = y0.min(e.y0.min(e.y1));
                    y1 = y1.max(e.y0.max(e.y1));
                }
                let height = y1 - y0;
                let nbins = if height > 0.0 {
                    (part_edges.len() / EDGES_PER_BIN).clamp(1, MAX_BINS)
                } else {
                    1
                };
                let scale = if height > 0.0 {
                    nbins as f64 / height
                } else {
                    0.0
                };
                let bin = |y: f64| (((y - y0) * scale) as usize).min(nbins - 1);
                // Count, then fill (CSR).
                let mut count = vec![0usize; nbins + 1];
                for e in &part_edges {
                    let (lo, hi) = (bin(e.y0.min(e.y1)), bin(e.y0.max(e.y1)));
                    for c in &mut count[lo..=hi] {
                        *c += 1;
                    }
                }
                let first = offsets.len();
                let base = edges.len();
                let mut start = Vec::with_capacity(nbins + 1);
                let mut acc = base;
                for c in &count[..nbins] {
                    start.push(acc);
                    acc += c;
                }
                start.push(acc);
                offsets.extend_from_slice(&start);
                edges.resize(
                    acc,
                    Edge {
                        x0: 0.0,
                        y0: 0.0,
                        x1: 0.0,
                        y1: 0.0,
                    },
                );
                let mut fill = start;
                for e in &part_edges {
                    let (lo, hi) = (bin(e.y0.min(e.y1)), bin(e.y0.max(e.y1)));
                    for f in &mut fill[lo..=hi] {
                        edges[*f] = *e;
                        *f += 1;
                    }
                }
                boxes.push(GeomWithData::new(
                    Rectangle::from_corners([x0, y0], [x1, y1]),
                    parts.len(),
                ));
                parts.push(Part {
                    feature,
                    ymin: y0,
                    scale,
                    nbins,
                    first,
                });
            }
        }
        Index {
            tree: RTree::bulk_load(boxes),
            parts,
            offsets,
            edges,
            features: geoms.len(),
        }
    }

    /// Number of features the index was built from.
    pub fn len(&self) -> usize {
        self.features
    }

    pub fn is_empty(&self) -> bool {
        self.features == 0
    }

    /// The feature holding `(x, y)` (in the CRS of the geometries), by the
    /// edge rule; `None` outside every feature or for a non-finite point.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<Found> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let mut best: Option<Found> = None;
        for g in self.tree.locate_all_at_point(&[x, y]) {
            let part = &self.parts[g.data];
            if let Some(b) = best {
                // Only a smaller feature, or the same one seen from its
                // interior, can change the answer.
                if part.feature > b.feature || (part.feature == b.feature && !b.on_edge) {
                    continue;
                }
            }
            match self.classify(part, x, y) {
                Pos::Outside => {}
                Pos::Inside => {
                    best = Some(Found {
                        feature: part.feature,
                        on_edge: false,
                    })
                }
                Pos::Boundary => {
                    if best.is_none_or(|b| part.feature < b.feature) {
                        best = Some(Found {
                            feature: part.feature,
                            on_edge: true,
                        });
                    }
                }
            }
        }
        best
    }

    /// Ray-crossing test (ray towards +x) over the edges of the point's band.
    #[inline]
    fn classify(&self, part: &Part, x: f64, y: f64) -> Pos {
        let b = (((y - part.ymin) * part.scale) as usize).min(part.nbins - 1);
        let lo = self.offsets[part.first + b];
        let hi = self.offsets[part.first + b + 1];
        let mut inside = false;
        let p = Coord { x, y };
        for e in &self.edges[lo..hi] {
            let (xmin, xmax) = if e.x0 <= e.x1 {
                (e.x0, e.x1)
            } else {
                (e.x1, e.x0)
            };
            let straddles = (e.y0 > y) != (e.y1 > y);
            if straddles {
                if x < xmin {
                    inside = !inside;
                    continue;
                }
                if x > xmax {
                    continue;
                }
                // Within the edge's x-range: decide the side exactly.
                let o = RobustKernel::orient2d(
                    Coord { x: e.x0, y: e.y0 },
                    Coord { x: e.x1, y: e.y1 },
                    p,
                );
                match o {
                    Orientation::Collinear => return Pos::Boundary,
                    // Left of an upward edge, or right of a downward one:
                    // the ray to +x crosses it.
                    o => {
                        if (o == Orientation::CounterClockwise) == (e.y1 > e.y0) {
                            inside = !inside;
                        }
                    }
                }
            } else if x >= xmin
                && x <= xmax
                && y >= e.y0.min(e.y1)
                && y <= e.y0.max(e.y1)
                && RobustKernel::orient2d(Coord { x: e.x0, y: e.y0 }, Coord { x: e.x1, y: e.y1 }, p)
                    == Orientation::Collinear
            {
                // A horizontal edge or a vertex at the point's height.
                return Pos::Boundary;
            }
        }
        if inside {
            Pos::Inside
        } else {
            Pos::Outside
        }
    }
}

pub(super) fn ring_edges(ring: &LineString<f64>, out: &mut Vec<Edge>) {
    let pts = &ring.0;
    if pts.len() < 2 {
        return;
    }
    for w in pts.windows(2) {
        if w[0] != w[1] {
            out.push(Edge {
                x0: w[0].x,
                y0: w[0].y,
                x1: w[1].x,
                y1: w[1].y,
            });
        }
    }
    // An unclosed ring is closed here; a closed one adds nothing.
    let (f, l) = (pts[0], pts[pts.len() - 1]);
    if f != l {
        out.push(Edge {
            x0: l.x,
            y0: l.y,
            x1: f.x,
            y1: f.y,
        });
    }
}
