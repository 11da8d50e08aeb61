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

/// An open ring (no repeated closing point). Exterior rings run
/// counter-clockwise, holes clockwise, so the interior is always on the left.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: exterior ring first, then holes.
pub type Shape = Vec<Ring>;

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
/// create stay close to the lines; at the end [`crate::coverage::clean`]
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

fn bounds<'a>(rings: impl Iterator<Item = &'a Ring>) -> Option<Rect> {
    let mut it = rings.flat_map(|r| r.iter());
    let first = it.next()?;
    let (mut x0, mut y0, mut x1, mut y1) = (first[0], first[1], first[0], first[1]);
    for p in it {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    Some(Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 }))
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
    for l in lines {
        for piece in clip_polyline(l, &frame) {
            if piece.len() >= 2 {
                ov = ov.unsafe_add_string_line(&piece);
            }
        }
    }
    Ok(ov
        .build_graph_view(FillRule::NonZero)
        .map(|g| g.extract_shapes_custom(StringRule::Slice, options()))
        .unwrap_or_default())
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

    fn square(x: f64, y: f64, w: f64) -> Shape {
        vec![vec![[x, y], [x + w, y], [x + w, y + w], [x, y + w]]]
    }

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
    fn difference_leaves_a_hole() {
        let d = difference(&[square(0.0, 0.0, 10.0)], &[square(4.0, 4.0, 2.0)]).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2);
        assert!((shape_area(&d[0]) - 96.0).abs() < 1e-9);
        assert!(ring_area(&d[0][0]) > 0.0 && ring_area(&d[0][1]) < 0.0);
    }
}
