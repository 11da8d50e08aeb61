//! Faces that tile an area, treated as a coverage: noding, shared edges,
//! adjacency, and the final clean-up of a feature's rings.
//!
//! Faces computed in separate overlay operations meet with T-junctions: a
//! vertex on one side of a shared boundary that the other side lacks, a
//! fraction of a grid cell off the line. [`node`] inserts each such vertex
//! into the other side, after which every shared boundary is the same vertex
//! sequence on both sides. From then on everything is exact: two faces are
//! neighbours when one holds edge `a→b` and the other `b→a`, and a union of
//! faces is the set of their edges minus the pairs that cancel
//! ([`crate::geom::dissolve`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use crate::geom::contains::contains;
use crate::geom::overlay::ring_area;
use crate::geom::shape::{Ring, Shape};

pub(crate) type P = [f64; 2];
/// A directed edge by the bit patterns of its end points.
pub type EdgeKey = ((u64, u64), (u64, u64));

/// A fast hasher for the coordinate keys of this module (bit patterns of
/// floats on the grid): FxHash's word step, then a 128-bit folded multiply
/// so the low bits, which pick the bucket, depend on every input bit (grid
/// coordinates end in zero bits). std's SipHash was a tenth of the dissolve
/// stage. Nothing here iterates a map, so the hasher never shows in output.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, w: usize) {
        self.write_u64(w as u64);
    }
    fn finish(&self) -> u64 {
        let m = (self.0 as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A point as a hashable key (`-0.0` folded into `0.0`).
pub fn key(p: P) -> (u64, u64) {
    ((p[0] + 0.0).to_bits(), (p[1] + 0.0).to_bits())
}

/// Inserts into every edge the vertices of other shapes that lie on it (within
/// `tol`), so shapes that share a boundary share its vertices.
///
/// An edge whose reverse another shape holds is shared exactly already: the
/// two faces on its sides are the only ground there, so no vertex of a third
/// shape lies on it. Only the other edges (T-junctions, the outline) are
/// looked at, against the end points of such edges: a vertex whose edges are
/// all shared lies where faces already meet exactly. Most edges of a unit are
/// shared, so the index holds a fraction of the vertices.
pub fn node(shapes: &mut [Shape], tol: f64) {
    let open = open_edges(shapes.iter().enumerate());
    let tree = RTree::bulk_load(open_vertices(shapes.iter().enumerate(), &open));
    let mut k = 0;
    for (i, s) in shapes.iter_mut().enumerate() {
        for ring in s.iter_mut() {
            let mask = &open[k..k + ring.len()];
            k += ring.len();
            if mask.iter().any(|&o| o) {
                *ring = node_ring_where(ring, i, &tree, tol, |e| mask[e]);
            }
        }
    }
}

/// For the rings of `shapes` (tagged with their owner), in order, edge by
/// edge: whether the edge is open, i.e. no shape of another owner holds it
/// reversed.
pub fn open_edges<'a>(shapes: impl Iterator<Item = (usize, &'a Shape)> + Clone) -> Vec<bool> {
    let n = edge_count(shapes.clone().map(|(_, s)| s));
    let mut held: FastMap<EdgeKey, usize> =
        FastMap::with_capacity_and_hasher(n, Default::default());
    for (i, s) in shapes.clone() {
        for_each_edge(s, |a, b| {
            held.entry((key(a), key(b))).or_insert(i);
        });
    }
    let mut open = Vec::new();
    for (i, s) in shapes {
        for_each_edge(s, |a, b| {
            let shared = held.get(&(key(b), key(a))).is_some_and(|&o| o != i);
            open.push(!shared);
        });
    }
    open
}

/// The end points of the open edges (see [`open_edges`]), tagged with their
/// owner.
pub fn open_vertices<'a>(
    shapes: impl Iterator<Item = (usize, &'a Shape)>,
    open: &[bool],
) -> Vec<GeomWithData<P, usize>> {
    let mut out = Vec::new();
    let mut k = 0;
    for (i, s) in shapes {
        for r in s {
            let n = r.len();
            for e in 0..n {
                if open[k + e] || open[k + (e + n - 1) % n] {
                    out.push(GeomWithData::new(r[e], i));
                }
            }
            k += n;
        }
    }
    out
}

/// `ring` with the vertices of `tree` that lie on its edges inserted, except
/// those tagged `owner` (the ring's own shape).
pub fn node_ring(
    ring: &Ring,
    owner: usize,
    tree: &RTree<GeomWithData<P, usize>>,
    tol: f64,
) -> Ring {
    node_ring_where(ring, owner, tree, tol, |_| true)
}

/// [`node_ring`] on the edges `k` (edge `k` runs from vertex `k`) for which
/// `look(k)` holds; the others are kept as they are.
pub fn node_ring_where(
    ring: &Ring,
    owner: usize,
    tree: &RTree<GeomWithData<P, usize>>,
    tol: f64,
    look: impl Fn(usize) -> bool,
) -> Ring {
    let n = ring.len();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        out.push(a);
        if !look(k) {
            continue;
        }
        let env = AABB::from_corners(
            [a[0].min(b[0]) - tol, a[1].min(b[1]) - tol],
            [a[0].max(b[0]) + tol, a[1].max(b[1]) + tol],
        );
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = dx * dx + dy * dy;
        if len2 == 0.0 {
            continue;
        }
        let mut on: Vec<(f64, P)> = tree
            .locate_in_envelope(&env)
            .filter(|g| g.data != owner)
            .filter_map(|g| {
                let p = *g.geom();
                if p == a || p == b {
                    return None;
                }
                let t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
                if t <= 0.0 || t >= 1.0 {
                    return None;
                }
                let (qx, qy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
                (qx * qx + qy * qy <= tol * tol).then_some((t, p))
            })
            .collect();
        on.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1[0].total_cmp(&y.1[0])));
        on.dedup_by(|x, y| x.1 == y.1);
        out.extend(on.into_iter().map(|(_, p)| p));
    }
    out.dedup();
    out
}

/// Directed edge → the face that holds it.
pub struct EdgeIndex {
    edges: FastMap<EdgeKey, usize>,
}

impl EdgeIndex {
    pub fn new(faces: &[Shape]) -> Self {
        // Sized up front: growing the table was a tenth of the dissolve stage.
        let mut edges = FastMap::with_capacity_and_hasher(edge_count(faces), Default::default());
        for (i, f) in faces.iter().enumerate() {
            for_each_edge(f, |a, b| {
                edges.insert((key(a), key(b)), i);
            });
        }
        EdgeIndex { edges }
    }

    /// The face on the other side of `a→b`, if any.
    pub fn across(&self, a: P, b: P) -> Option<usize> {
        self.edges.get(&(key(b), key(a))).copied()
    }

    /// [`adjacency`] of the `faces` this index was built from.
    pub fn adjacency(&self, faces: &[Shape]) -> Vec<Vec<(usize, f64)>> {
        faces
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut m: std::collections::BTreeMap<usize, f64> = Default::default();
                for_each_edge(f, |a, b| {
                    if let Some(j) = self.across(a, b) {
                        if j != i {
                            *m.entry(j).or_default() += dist(a, b);
                        }
                    }
                });
                m.into_iter().collect()
            })
            .collect()
    }
}

/// The number of edges of `shapes` (a ring of n vertices has n).
pub(crate) fn edge_count<'a>(shapes: impl IntoIterator<Item = &'a Shape>) -> usize {
    shapes.into_iter().flatten().map(|r| r.len()).sum()
}

pub fn for_each_edge(f: &Shape, mut g: impl FnMut(P, P)) {
    for r in f {
        let n = r.len();
        for k in 0..n {
            g(r[k], r[(k + 1) % n]);
        }
    }
}

/// For each face, its neighbours and the length of the border shared with
/// each, sorted by neighbour.
pub fn adjacency(faces: &[Shape]) -> Vec<Vec<(usize, f64)>> {
    EdgeIndex::new(faces).adjacency(faces)
}

pub fn dist(a: P, b: P) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// Points from `a` towards `b` at most `step` apart: `a` and the points
/// between, and `b` as well when `with_end`.
///
/// ```
/// use dongne::geom::coverage::points_along;
/// let p: Vec<_> = points_along([0.0, 0.0], [10.0, 0.0], 4.0, true).collect();
/// assert_eq!(p.len(), 4); // 0, 3.33, 6.67, 10
/// ```
pub fn points_along(a: P, b: P, step: f64, with_end: bool) -> impl Iterator<Item = P> {
    let n = (dist(a, b) / step).ceil().max(1.0) as usize;
    let last = if with_end { n } else { n - 1 };
    (0..=last).map(move |s| {
        let t = s as f64 / n as f64;
        [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
    })
}

/// The final clean-up of one feature: every vertex rounded to the output
/// precision (a deterministic function of the coordinate, so a boundary two
/// features share stays shared), then what the rounding collapsed removed —
/// repeated points, spikes, rings through a point twice — and the rings
/// sorted into shells and holes again.
///
/// The overlays work on a nanometre grid; where several operations meet,
/// vertices a few nanometres apart can zigzag, which GEOS and QGIS report as
/// self-intersections. No drawn feature is that small.
pub fn clean(shapes: Vec<Shape>) -> Vec<Shape> {
    let s = (crate::geom::overlay::COORD_EXP as f64).exp2();
    let mut rings = Vec::new();
    for ring in shapes.into_iter().flatten() {
        let mut r: Ring = ring
            .into_iter()
            .map(|p| [(p[0] * s).round() / s, (p[1] * s).round() / s])
            .collect();
        r.dedup();
        while r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        simple_loops(remove_spikes(r), &mut rings);
    }
    assemble(rings)
}

/// Width below which a back-and-forth run of a ring is a spike: the
/// rounding of crossings computed in separate overlays can leave an arm
/// micrometres wide and many metres long, which GEOS reports as a
/// self-intersection (4 µm and 5.4 µm on Jamsil and Gongdeok beside open
/// ground). A tenth of a millimetre is far below anything drawn on purpose;
/// the neighbour's matching notch turns back as well and goes with it.
const SPIKE_WIDTH: f64 = 1e-4;

/// Whether `b` is the tip of a spike between `a` and `c`: the ring turns
/// back at `b` and `b` lies within a spike's width of the line `a–c`.
fn is_spike(a: P, b: P, c: P) -> bool {
    let (ux, uy) = (a[0] - b[0], a[1] - b[1]);
    let (vx, vy) = (c[0] - b[0], c[1] - b[1]);
    let (lu, lv) = (ux.hypot(uy), vx.hypot(vy));
    if ux * vx + uy * vy <= 0.0 || lu == 0.0 || lv == 0.0 {
        return false;
    }
    let (wx, wy) = (c[0] - a[0], c[1] - a[1]);
    let lw = wx.hypot(wy);
    if lw == 0.0 {
        return true;
    }
    let dist = ((b[0] - a[0]) * wy - (b[1] - a[1]) * wx).abs() / lw;
    dist <= SPIKE_WIDTH
}

/// Removes back-and-forth vertices (`a → b → a` becomes `a`), and spikes
/// narrower than [`SPIKE_WIDTH`].
fn remove_spikes(r: Ring) -> Ring {
    let mut out: Ring = Vec::with_capacity(r.len());
    for p in r {
        if out.len() >= 2 && out[out.len() - 2] == p {
            out.pop();
            continue;
        }
        while out.len() >= 2 && is_spike(out[out.len() - 2], out[out.len() - 1], p) {
            out.pop();
        }
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    // The same across the closing point (a spike whose tip is the ring's
    // first or last vertex).
    loop {
        if out.len() >= 2 && out.first() == out.last() {
            out.pop();
            continue;
        }
        let n = out.len();
        if n < 3 {
            break;
        }
        if out[1] == out[n - 1] || is_spike(out[n - 1], out[0], out[1]) {
            out.remove(0);
        } else if out[0] == out[n - 2] || is_spike(out[n - 2], out[n - 1], out[0]) {
            out.pop();
        } else {
            break;
        }
    }
    out
}

/// Splits a ring that passes a vertex twice into simple rings. Where a hole
/// touches its shell at one point, the boundary walk runs shell and hole as
/// one ring through that point: OGC wants them apart (a shell may not touch
/// itself; a hole may touch its shell).
/// The loops of `ring` where it passes a vertex twice ([`split_at_repeats`]),
/// each added to `rings` unless it is degenerate (under three vertices, or
/// no area).
pub(crate) fn simple_loops(ring: Ring, rings: &mut Vec<Ring>) {
    for r in split_at_repeats(ring) {
        if r.len() >= 3 && ring_area(&r) != 0.0 {
            rings.push(r);
        }
    }
}

fn split_at_repeats(ring: Ring) -> Vec<Ring> {
    let mut out = Vec::new();
    let mut cur: Ring = Vec::with_capacity(ring.len());
    let mut pos: FastMap<(u64, u64), usize> =
        FastMap::with_capacity_and_hasher(ring.len(), Default::default());
    for p in ring {
        if let Some(&k) = pos.get(&key(p)) {
            let loop_part: Ring = cur.split_off(k + 1);
            let mut sub = vec![p];
            sub.extend(loop_part);
            for q in &sub[1..] {
                pos.remove(&key(*q));
            }
            out.push(sub);
        } else {
            pos.insert(key(p), cur.len());
            cur.push(p);
        }
    }
    out.push(cur);
    out
}

/// Shells (counter-clockwise) with the holes (clockwise) that lie in them.
pub(crate) fn assemble(rings: Vec<Ring>) -> Vec<Shape> {
    let (shells, holes): (Vec<Ring>, Vec<Ring>) =
        rings.into_iter().partition(|r| ring_area(r) > 0.0);
    let mut shapes: Vec<Shape> = shells.into_iter().map(|r| vec![r]).collect();
    for h in holes {
        let probe = [(h[0][0] + h[1][0]) / 2.0, (h[0][1] + h[1][1]) / 2.0];
        let owner = shapes
            .iter()
            .enumerate()
            .filter(|(_, s)| contains(&s[0], probe))
            .min_by(|a, b| ring_area(&a.1[0]).total_cmp(&ring_area(&b.1[0])))
            .map(|(i, _)| i);
        if let Some(i) = owner {
            shapes[i].push(h);
        }
    }
    shapes
}
