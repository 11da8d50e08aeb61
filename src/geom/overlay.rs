//! Polygon overlay on one fixed grid.
//!
//! Every boolean operation and every slice goes through i_overlay, which works
//! on integers: floats are scaled, rounded, processed and scaled back. If each
//! operation chose its own scale and offset (i_overlay's default), the same
//! vertex would land on slightly different floats in two operations, and two
//! neighborhoods computed separately would overlap or leave gaps by a few
//! micrometres. So the whole run uses one grid: a power-of-two cell size and
//! adapter offsets that are multiples of it. A coordinate on the grid passes
//! through any operation unchanged, and every result lands on the same grid.

use geo::{Coord, LineString, MultiPolygon, Polygon, Rect};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::ShapeType;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use i_overlay::float::string_overlay::FloatStringOverlay;
use i_overlay::i_float::adapter::FloatPointAdapter;
use i_overlay::i_float::float::rect::FloatRect;
use i_overlay::string::rule::StringRule;

use crate::error::{Error, Result};
use crate::geom::contains::PreparedShape;
use crate::geom::shape::{bounds, Ring, Shape};

/// Grid cell exponent: cell size is `2^-GRID_EXP` metres (≈ 3.7 nm).
///
/// Fine on purpose: where a line crosses a polygon edge, the crossing is
/// rounded to the grid, a fraction of a cell off the edge, and the piece on
/// that side bulges by a sliver of half a cell times the edge's length. At
/// 3.7 nm that sliver stays below 1e-9 of any neighborhood's area, the
/// method's tolerance for overlaps. A float holds such a coordinate exactly
/// up to 2^(53-28) m = 33,554 km from the origin, any projected CRS.
pub const GRID_EXP: i32 = 28;
/// Largest distance from an operation's centre that i64 coordinates can hold
/// at this cell size with i_overlay's conservative 61-bit budget.
pub const MAX_RADIUS_M: f64 = (1u64 << (61 - GRID_EXP)) as f64;

/// The grid cell size in metres.
pub fn cell() -> f64 {
    (-(GRID_EXP as f64)).exp2()
}

/// Precision of every input and output coordinate: 2^-20 m (≈ 1 µm). The
/// overlays work 256 times finer (see [`GRID_EXP`]) so the crossings they
/// create stay close to the lines; at the end [`crate::geom::coverage::clean`]
/// rounds those back to this precision. An input vertex is thus never moved
/// after it is read, and the admin units' edges stay where they were.
pub const COORD_EXP: i32 = 20;

/// Rounds a coordinate to [`COORD_EXP`]. Exact: the scale is a power of two,
/// and the result is on the overlay grid too.
pub fn snap(c: Coord) -> Coord {
    let s = (COORD_EXP as f64).exp2();
    Coord {
        x: (c.x * s).round() / s,
        y: (c.y * s).round() / s,
    }
}

pub fn snap_pt(p: [f64; 2]) -> [f64; 2] {
    let c = snap(Coord { x: p[0], y: p[1] });
    [c.x, c.y]
}

/// An adapter for an operation whose input lies in `rect`: same scale for
/// every operation, offset on the grid.
fn adapter(rect: &Rect) -> Result<FloatPointAdapter<[f64; 2], i64>> {
    // Bounds on multiples of two cells put the centre (the offset) on the grid.
    let two = 2.0 * cell();
    let (min, max) = (rect.min(), rect.max());
    let fr = FloatRect::new(
        (min.x / two).floor() * two - two,
        (max.x / two).ceil() * two + two,
        (min.y / two).floor() * two - two,
        (max.y / two).ceil() * two + two,
    )
    .map_err(|_| Error::internal("overlay: invalid bounds"))?;
    if fr.width().max(fr.height()) / 2.0 > MAX_RADIUS_M {
        return Err(Error::input(format!(
            "an admin unit spans {:.0} km, more than the {:.0} km one unit may span",
            fr.width().max(fr.height()) / 1000.0,
            2.0 * MAX_RADIUS_M / 1000.0
        ))
        .hint("give smaller admin units (--admin), or a working CRS in metres (--crs)"));
    }
    FloatPointAdapter::try_with_scale_conservative(fr, (GRID_EXP as f64).exp2())
        .map_err(|e| Error::internal(format!("overlay: grid adapter: {e:?}")))
}

fn options() -> OverlayOptions<f64, i64> {
    let mut o = OverlayOptions::ogc();
    // Keep every vertex the input had: dropping a collinear vertex on one side
    // of a shared edge and not on the other would break the shared edge.
    o.preserve_input_collinear = true;
    o.preserve_output_collinear = true;
    o
}

/// Boolean operation of `subj` and `clip` (each a set of shapes) on the grid.
pub fn boolean(subj: &[Shape], clip: &[Shape], rule: OverlayRule) -> Result<Vec<Shape>> {
    let Some(rect) = bounds(subj.iter().chain(clip.iter()).flatten()) else {
        return Ok(Vec::new());
    };
    let n: usize = subj.iter().chain(clip).flatten().map(|r| r.len()).sum();
    let mut ov = FloatOverlay::<[f64; 2], i64>::new_custom(
        adapter(&rect)?,
        options(),
        Default::default(),
        n,
    );
    for s in subj {
        for r in s {
            ov = ov.unsafe_add_contour(r, ShapeType::Subject);
        }
    }
    for s in clip {
        for r in s {
            ov = ov.unsafe_add_contour(r, ShapeType::Clip);
        }
    }
    Ok(ov.overlay(rule, FillRule::NonZero))
}

pub fn union(shapes: &[Shape]) -> Result<Vec<Shape>> {
    boolean(shapes, &[], OverlayRule::Subject)
}

pub fn intersection(a: &[Shape], b: &[Shape]) -> Result<Vec<Shape>> {
    if a.is_empty() || b.is_empty() {
        return Ok(Vec::new());
    }
    boolean(a, b, OverlayRule::Intersect)
}

pub fn difference(a: &[Shape], b: &[Shape]) -> Result<Vec<Shape>> {
    if b.is_empty() {
        return union(a);
    }
    boolean(a, b, OverlayRule::Difference)
}

/// Splits `shapes` along `lines` into faces. Lines that end inside a shape
/// without cutting it off (dead ends) leave it whole; lines outside are
/// ignored. All faces come from one operation, so neighbouring faces share
/// their edges vertex for vertex.
pub fn slice(shapes: &[Shape], lines: &[Vec<[f64; 2]>]) -> Result<Vec<Shape>> {
    let Some(rect) = bounds(shapes.iter().flatten()) else {
        return Ok(Vec::new());
    };
    if lines.is_empty() {
        return union(shapes);
    }
    // Lines reaching beyond the shapes are cut to the adapter's frame first.
    let frame = grow(&rect, 1e-3);
    let n: usize = shapes.iter().flatten().map(|r| r.len()).sum::<usize>()
        + lines.iter().map(|l| l.len()).sum::<usize>();
    let mut ov = FloatStringOverlay::<[f64; 2], i64>::with_adapter(adapter(&frame)?, n);
    for s in shapes {
        for r in s {
            ov = ov.unsafe_add_shape_contour(r);
        }
    }
    let segments: usize = lines.iter().map(|l| l.len().saturating_sub(1)).sum();
    let mask = (segments >= MASK_FROM_SEGMENTS).then(|| Mask::new(shapes, &frame));
    for l in lines {
        let runs: Vec<&[[f64; 2]]> = match &mask {
            Some(m) => m.runs(l),
            None => vec![l.as_slice()],
        };
        for run in runs {
            for piece in clip_polyline(run, &frame) {
                if piece.len() >= 2 {
                    ov = ov.unsafe_add_string_line(&piece);
                }
            }
        }
    }
    Ok(ov
        .build_graph_view(FillRule::NonZero)
        .map(|g| g.extract_shapes_custom(StringRule::Slice, options()))
        .unwrap_or_default())
}

/// Lines with fewer segments go to the overlay whole.
const MASK_FROM_SEGMENTS: usize = 512;

/// Where the shapes are, coarsely: the cells of a grid over their frame that
/// hold a piece of them. A segment whose box meets none of these cells lies
/// outside every shape and cannot cut one, so it is left out of the slice.
///
/// A unit's box is much larger than the unit when the unit is long and
/// diagonal or has exclaves (Vaduz's box spans half of Liechtenstein), and the
/// barriers of all that box went through the overlay. Only whole segments are
/// dropped and lines are split only where a dropped segment was, outside
/// every shape: the segments that reach a shape are the same, vertex for
/// vertex.
struct Mask {
    x0: f64,
    y0: f64,
    cw: f64,
    ch: f64,
    k: usize,
    hit: Vec<bool>,
}

impl Mask {
    const K: usize = 64;

    fn new(shapes: &[Shape], frame: &Rect) -> Mask {
        let k = Self::K;
        let (cw, ch) = (frame.width() / k as f64, frame.height() / k as f64);
        let mut m = Mask {
            x0: frame.min().x,
            y0: frame.min().y,
            cw,
            ch,
            k,
            hit: vec![false; k * k],
        };
        // Cells along the rings: each edge in pieces no longer than a cell,
        // every cell of each piece's box (a little grown) marked.
        let mut boundary = vec![false; k * k];
        for r in shapes.iter().flatten() {
            let n = r.len();
            for i in 0..n {
                let (a, b) = (r[i], r[(i + 1) % n]);
                let steps = (((b[0] - a[0]).abs() / cw).max((b[1] - a[1]).abs() / ch)).ceil();
                let steps = (steps as usize).clamp(1, 4 * k);
                let mut prev = a;
                for s in 1..=steps {
                    let t = s as f64 / steps as f64;
                    let q = if s == steps {
                        b
                    } else {
                        [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
                    };
                    m.for_cells(prev, q, |c| boundary[c] = true);
                    prev = q;
                }
            }
        }
        // A cell no ring passes through is wholly inside or outside: its
        // centre tells.
        let prepared: Vec<PreparedShape> = shapes.iter().map(PreparedShape::new).collect();
        for j in 0..k {
            for i in 0..k {
                let c = j * k + i;
                m.hit[c] = boundary[c] || {
                    let p = [m.x0 + (i as f64 + 0.5) * cw, m.y0 + (j as f64 + 0.5) * ch];
                    prepared.iter().any(|s| s.contains(p))
                };
            }
        }
        m
    }

    /// Calls `f` with every cell the box of `a`-`b` (grown by a hair) meets.
    fn for_cells(&self, a: [f64; 2], b: [f64; 2], mut f: impl FnMut(usize)) {
        let eps = 1e-6 + 1e-12 * (a[0].abs() + a[1].abs());
        let col = |x: f64| (((x - self.x0) / self.cw).floor().max(0.0) as usize).min(self.k - 1);
        let row = |y: f64| (((y - self.y0) / self.ch).floor().max(0.0) as usize).min(self.k - 1);
        let (i0, i1) = (col(a[0].min(b[0]) - eps), col(a[0].max(b[0]) + eps));
        let (j0, j1) = (row(a[1].min(b[1]) - eps), row(a[1].max(b[1]) + eps));
        for j in j0..=j1 {
            for i in i0..=i1 {
                f(j * self.k + i);
            }
        }
    }

    fn keeps(&self, a: [f64; 2], b: [f64; 2]) -> bool {
        let mut any = false;
        self.for_cells(a, b, |c| any |= self.hit[c]);
        any
    }

    /// The runs of consecutive kept segments of a polyline.
    fn runs<'l>(&self, l: &'l [[f64; 2]]) -> Vec<&'l [[f64; 2]]> {
        let mut out = Vec::new();
        let mut start: Option<usize> = None;
        for i in 0..l.len().saturating_sub(1) {
            if self.keeps(l[i], l[i + 1]) {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                out.push(&l[s..=i]);
            }
        }
        if let Some(s) = start {
            out.push(&l[s..]);
        }
        out
    }
}

pub fn grow(r: &Rect, d: f64) -> Rect {
    Rect::new(
        Coord {
            x: r.min().x - d,
            y: r.min().y - d,
        },
        Coord {
            x: r.max().x + d,
            y: r.max().y + d,
        },
    )
}

/// Cuts a polyline to a rectangle (Liang–Barsky per segment); the pieces
/// inside, with their end points snapped to the grid.
pub fn clip_polyline(line: &[[f64; 2]], r: &Rect) -> Vec<Vec<[f64; 2]>> {
    let mut out: Vec<Vec<[f64; 2]>> = Vec::new();
    let mut cur: Vec<[f64; 2]> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], r) {
            Some((a, b)) => {
                let (a, b) = (snap_pt(a), snap_pt(b));
                if cur.last() != Some(&a) {
                    if cur.len() >= 2 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(a);
                }
                if a != b {
                    cur.push(b);
                }
            }
            None => {
                if cur.len() >= 2 {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() >= 2 {
        out.push(cur);
    }
    out
}

fn clip_segment(a: [f64; 2], b: [f64; 2], r: &Rect) -> Option<([f64; 2], [f64; 2])> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let checks = [
        (-dx, a[0] - r.min().x),
        (dx, r.max().x - a[0]),
        (-dy, a[1] - r.min().y),
        (dy, r.max().y - a[1]),
    ];
    for (p, q) in checks {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| [a[0] + t * dx, a[1] + t * dy];
    Some((at(t0), at(t1)))
}

// ---- conversions between geo types and shapes -------------------------------

fn open_ring(ls: &LineString) -> Ring {
    let mut r: Ring = ls.0.iter().map(|c| snap_pt([c.x, c.y])).collect();
    r.dedup();
    if r.len() > 1 && r.first() == r.last() {
        r.pop();
    }
    r
}

/// A polygon as a shape, snapped to the grid, exterior counter-clockwise and
/// holes clockwise: the non-zero fill rule of every operation reads a hole
/// wound like its exterior as more ground, not as a hole.
pub fn shape_of(p: &Polygon) -> Shape {
    let oriented = |ls: &LineString, ccw: bool| {
        let mut r = open_ring(ls);
        if (ring_area(&r) > 0.0) != ccw {
            r.reverse();
        }
        r
    };
    std::iter::once(oriented(p.exterior(), true))
        .chain(p.interiors().iter().map(|h| oriented(h, false)))
        .filter(|r| r.len() >= 3)
        .collect()
}

pub fn shapes_of(mp: &MultiPolygon) -> Vec<Shape> {
    mp.0.iter()
        .map(shape_of)
        .filter(|s| !s.is_empty())
        .collect()
}

fn closed(r: &Ring) -> LineString {
    let mut v: Vec<Coord> = r.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    if let Some(&f) = v.first() {
        v.push(f);
    }
    LineString(v)
}

pub fn polygon_of(s: &Shape) -> Polygon {
    let mut it = s.iter();
    let ext = it.next().map(closed).unwrap_or_else(|| LineString(vec![]));
    Polygon::new(ext, it.map(closed).collect())
}

pub fn multipolygon_of(shapes: &[Shape]) -> MultiPolygon {
    MultiPolygon(shapes.iter().map(polygon_of).collect())
}

/// A point inside a shape, the GEOS point-on-surface way: a horizontal line
/// through the middle of the exterior's height, moved off every vertex,
/// crosses the rings; between crossings 2k and 2k+1 it is inside, and the
/// middle of the widest such interval is the point. O(n log n) in the
/// vertices, where geo's `InteriorPoint` runs a `relate` per polygon (a
/// third of the time of the enclosure stage). A shape without area gives its
/// first vertex.
pub fn interior_point(s: &Shape) -> Option<[f64; 2]> {
    let ext = s.first()?;
    let first = *ext.first()?;
    let (lo, hi) = ext
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[1]), hi.max(p[1]))
        });
    if hi <= lo {
        return Some(first);
    }
    let centre = (lo + hi) / 2.0;
    let (mut below, mut above) = (lo, hi);
    for p in s.iter().flatten() {
        if p[1] <= centre && p[1] > below {
            below = p[1];
        }
        if p[1] > centre && p[1] < above {
            above = p[1];
        }
    }
    let y = (below + above) / 2.0;
    let mut xs: Vec<f64> = Vec::new();
    for r in s {
        let n = r.len();
        for k in 0..n {
            let (a, b) = (r[k], r[(k + 1) % n]);
            if (a[1] > y) != (b[1] > y) {
                xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
    }
    xs.sort_by(f64::total_cmp);
    let mut best: Option<(f64, [f64; 2])> = None;
    for pair in xs.chunks_exact(2) {
        let w = pair[1] - pair[0];
        if w > 0.0 && best.is_none_or(|(bw, _)| w > bw) {
            best = Some((w, [(pair[0] + pair[1]) / 2.0, y]));
        }
    }
    Some(best.map_or(first, |b| b.1))
}

/// Signed area of an open ring (positive when counter-clockwise). Taken
/// relative to the first vertex: projected coordinates run to millions of
/// metres, and the shoelace products of raw coordinates would lose the
/// area of a thin sliver to rounding.
pub fn ring_area(r: &Ring) -> f64 {
    let Some(&o) = r.first() else { return 0.0 };
    let n = r.len();
    let mut s = 0.0;
    for i in 0..n {
        let (a, b) = (r[i], r[(i + 1) % n]);
        s += (a[0] - o[0]) * (b[1] - o[1]) - (b[0] - o[0]) * (a[1] - o[1]);
    }
    s / 2.0
}

/// Area of a shape: exterior minus holes.
pub fn shape_area(s: &Shape) -> f64 {
    s.iter().map(ring_area).sum::<f64>().abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::shape::square;

    #[test]
    fn slice_by_a_line_gives_two_faces_sharing_their_edge() {
        let faces = slice(&[square(0.0, 0.0, 10.0)], &[vec![[5.0, -1.0], [5.0, 11.0]]]).unwrap();
        assert_eq!(faces.len(), 2);
        let total: f64 = faces.iter().map(shape_area).sum();
        assert!((total - 100.0).abs() < 1e-9);
        for f in &faces {
            assert!((shape_area(f) - 50.0).abs() < 1e-9);
        }
    }

    #[test]
    fn dead_end_line_does_not_cut() {
        let faces = slice(&[square(0.0, 0.0, 10.0)], &[vec![[5.0, -1.0], [5.0, 6.0]]]).unwrap();
        assert_eq!(faces.len(), 1);
    }

    #[test]
    fn grid_coordinates_survive_an_operation_unchanged() {
        let a = square(1000.125, 2000.5, 7.0);
        let u = union(std::slice::from_ref(&a)).unwrap();
        let mut got: Vec<_> = u[0][0].clone();
        let mut want = a[0].clone();
        got.sort_by(|p, q| p.partial_cmp(q).unwrap());
        want.sort_by(|p, q| p.partial_cmp(q).unwrap());
        assert_eq!(got, want);
    }

    #[test]
    fn a_hole_wound_like_its_exterior_is_still_a_hole() {
        use geo::polygon;
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        );
        let u = union(&[shape_of(&p)]).unwrap();
        assert!((shape_area(&u[0]) - 96.0).abs() < 1e-9);
    }

    #[test]
    fn interior_point_is_inside_and_off_holes() {
        let mut holed = square(0.0, 0.0, 10.0);
        holed.push(vec![[3.0, 3.0], [3.0, 7.0], [7.0, 7.0], [7.0, 3.0]]);
        let p = interior_point(&holed).unwrap();
        let inside = crate::geom::contains::contains(&holed[0], p)
            && !crate::geom::contains::contains(&holed[1], p);
        assert!(inside, "{p:?}");
        let l: Shape = vec![vec![
            [0.0, 0.0],
            [10.0, 0.0],
            [10.0, 1.0],
            [1.0, 1.0],
            [1.0, 10.0],
            [0.0, 10.0],
        ]];
        let p = interior_point(&l).unwrap();
        assert!(crate::geom::contains::contains(&l[0], p), "{p:?}");
        let flat: Shape = vec![vec![[0.0, 5.0], [4.0, 5.0], [2.0, 5.0]]];
        assert_eq!(interior_point(&flat), Some([0.0, 5.0]));
    }

    #[test]
    fn difference_leaves_a_hole() {
        let d = difference(&[square(0.0, 0.0, 10.0)], &[square(4.0, 4.0, 2.0)]).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2);
        assert!((shape_area(&d[0]) - 96.0).abs() < 1e-9);
        assert!(ring_area(&d[0][0]) > 0.0 && ring_area(&d[0][1]) < 0.0);
    }
}
