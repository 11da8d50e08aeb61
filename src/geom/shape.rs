//! Shapes as the kernel holds them (plain rings of `[x, y]`, no closing
//! point) and their bounding boxes.

use geo::{Coord, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

/// An open ring (no repeated closing point). Exterior rings run
/// counter-clockwise, holes clockwise, so the interior is always on the left.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: exterior ring first, then holes.
pub type Shape = Vec<Ring>;

/// An axis-aligned square of side `w` with its lower left corner at `(x, y)`,
/// counter-clockwise: the shape most kernel and stage tests start from.
#[cfg(test)]
pub(crate) fn square(x: f64, y: f64, w: f64) -> Shape {
    vec![vec![[x, y], [x + w, y], [x + w, y + w], [x, y + w]]]
}

/// The bounding box of some rings (`None` when they have no vertex).
pub fn bounds<'a>(rings: impl Iterator<Item = &'a Ring>) -> Option<Rect> {
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

/// The box around every given box (`None` when there is none): the extent
/// of a layer from its features' boxes.
///
/// ```
/// use dongne::geom::shape::union_rect;
/// use geo::{coord, Rect};
///
/// let a = Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
/// let b = Rect::new(coord! { x: 2.0, y: -1.0 }, coord! { x: 3.0, y: 0.5 });
/// let u = union_rect([Some(a), None, Some(b)]).unwrap();
/// assert_eq!((u.min().x, u.min().y, u.max().x, u.max().y), (0.0, -1.0, 3.0, 1.0));
/// assert!(union_rect([None]).is_none());
/// ```
pub fn union_rect(rects: impl IntoIterator<Item = Option<Rect>>) -> Option<Rect> {
    rects.into_iter().flatten().reduce(|e, r| {
        Rect::new(
            Coord {
                x: e.min().x.min(r.min().x),
                y: e.min().y.min(r.min().y),
            },
            Coord {
                x: e.max().x.max(r.max().x),
                y: e.max().y.max(r.max().y),
            },
        )
    })
}

/// Bounding box of the shapes' vertices (`None` when there are none).
pub fn shapes_rect(shapes: &[Shape]) -> Option<Rect> {
    bounds(shapes.iter().flatten())
}

/// The box as an R-tree rectangle.
pub fn rect_to_rtree(r: &Rect) -> Rectangle<[f64; 2]> {
    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// The box as an R-tree envelope.
pub fn rect_to_aabb(r: &Rect) -> AABB<[f64; 2]> {
    AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
}

/// A box in an R-tree, tagged with the position of what it bounds.
pub type Indexed = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// An R-tree of boxes, each tagged with its position (`None`: no box).
pub fn box_tree(rects: impl Iterator<Item = Option<Rect>>) -> RTree<Indexed> {
    RTree::bulk_load(
        rects
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| GeomWithData::new(rect_to_rtree(&r), i)))
            .collect(),
    )
}
