//! Enclosures: an admin unit cut by its barriers into the pieces of land that
//! can be reached without crossing one.
//!
//! One slice of the unit by every barrier line and every area-barrier outline
//! gives all faces at once, sharing their edges. A face inside an area barrier
//! belongs to that barrier; every other face is an enclosure. A line that
//! ends inside the unit without closing anything off (a dead-end road) cuts
//! nothing, as the method wants.

use geo::{BoundingRect, Contains, Coord, Distance, Euclidean, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{PointDistance, RTree};

use crate::error::Result;
use crate::geom::contains::PreparedShape;
use crate::geom::overlay;
use crate::geom::shape::{box_tree, shapes_rect, Indexed, Shape};
use crate::model::{AreaBarrier, BarrierKind};

/// A face of the split unit and what it is.
#[derive(Debug, Clone)]
pub struct Piece {
    pub shape: Shape,
    /// `None` for an enclosure, the barrier kind for area-barrier ground.
    pub barrier: Option<BarrierKind>,
}

/// Splits `unit` by barrier `lines` (centre lines on the grid) and by the
/// outlines of `areas`.
pub fn split(
    unit: &[Shape],
    lines: &[Vec<[f64; 2]>],
    areas: &[&AreaBarrier],
) -> Result<Vec<Piece>> {
    let mut cuts: Vec<Vec<[f64; 2]>> = lines.to_vec();
    for a in areas {
        cuts.extend(crate::method::barriers::outlines(a));
    }
    let faces = overlay::slice(unit, &cuts)?;
    // Faces are cut along every outline, so each lies wholly inside or
    // outside each area: one point inside the face decides. Areas are looked
    // up by their boxes first (an R-tree: a unit may hold thousands).
    let tree = RTree::bulk_load(
        areas
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                a.geom.bounding_rect().map(|r| {
                    GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i,
                    )
                })
            })
            .collect(),
    );
    Ok(faces
        .into_iter()
        .map(|shape| {
            let barrier = overlay::interior_point(&shape).and_then(|p| kind_at(p, areas, &tree));
            Piece { shape, barrier }
        })
        .collect())
}

/// The area-barrier kind at `p`, by priority (water over mountain over park).
fn kind_at(
    p: [f64; 2],
    areas: &[&AreaBarrier],
    tree: &RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
) -> Option<BarrierKind> {
    let pt = Point::new(p[0], p[1]);
    let here: Vec<&AreaBarrier> = tree
        .locate_all_at_point(&p)
        .map(|g| areas[g.data])
        .collect();
    crate::method::barriers::AREA_PRIORITY
        .into_iter()
        .find(|k| here.iter().any(|a| a.kind == *k && a.geom.contains(&pt)))
}

/// The piece of the split unit each building stands in. A building on a
/// shared edge goes to the first piece; one a hair outside every piece (grid
/// rounding at the unit's edge) to the nearest. The pipeline and evaluate's
/// ground both place buildings with this.
pub fn building_pieces(bids: &[usize], pts: &[Coord], pieces: &[Piece]) -> Vec<usize> {
    let tree = box_tree(
        pieces
            .iter()
            .map(|p| shapes_rect(std::slice::from_ref(&p.shape))),
    );
    // Pieces are prepared when first met: most are small or meet few points.
    let prepared: Vec<std::cell::OnceCell<PreparedShape>> = (0..pieces.len())
        .map(|_| std::cell::OnceCell::new())
        .collect();
    let contains = |i: usize, p: [f64; 2]| {
        prepared[i]
            .get_or_init(|| PreparedShape::new(&pieces[i].shape))
            .contains(p)
    };
    bids.iter()
        .map(|&b| {
            let p = [pts[b].x, pts[b].y];
            let inside = tree
                .locate_all_at_point(&p)
                .filter(|g| contains(g.data, p))
                .map(|g| g.data)
                .min();
            inside.unwrap_or_else(|| nearest_piece(p, pieces, &tree))
        })
        .collect()
}

/// The piece nearest to `p` (the first by index among equals). Pieces are
/// taken by the distance of their boxes, nearest first, until a box lies
/// farther than the best piece found: O(log n) instead of every piece.
fn nearest_piece(p: [f64; 2], pieces: &[Piece], tree: &RTree<Indexed>) -> usize {
    let pt = Point::new(p[0], p[1]);
    let mut best: Option<(f64, usize)> = None;
    for g in tree.nearest_neighbor_iter(&p) {
        let box_d = g.geom().distance_2(&p).sqrt();
        if best.is_some_and(|(d, _)| box_d > d) {
            break;
        }
        let d = Euclidean.distance(&overlay::polygon_of(&pieces[g.data].shape), &pt);
        if best.is_none_or(|(bd, bi)| d < bd || (d == bd && g.data < bi)) {
            best = Some((d, g.data));
        }
    }
    best.map_or(0, |b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::overlay::shape_area;
    use crate::geom::shape::square;
    use geo::polygon;

    #[test]
    fn a_river_through_a_unit_leaves_two_enclosures_and_the_water() {
        let river = AreaBarrier {
            fid: 1,
            kind: BarrierKind::Water,
            geom: polygon![(x: 40.0, y: -10.0), (x: 60.0, y: -10.0), (x: 60.0, y: 110.0), (x: 40.0, y: 110.0)],
        };
        let pieces = split(&[square(0.0, 0.0, 100.0)], &[], &[&river]).unwrap();
        let land: Vec<_> = pieces.iter().filter(|p| p.barrier.is_none()).collect();
        let water: Vec<_> = pieces
            .iter()
            .filter(|p| p.barrier == Some(BarrierKind::Water))
            .collect();
        assert_eq!(land.len(), 2);
        assert_eq!(water.len(), 1);
        assert!((shape_area(&water[0].shape) - 2000.0).abs() < 1e-6);
    }

    #[test]
    fn a_park_in_the_middle_is_a_hole_in_one_enclosure() {
        let park = AreaBarrier {
            fid: 2,
            kind: BarrierKind::Park,
            geom: polygon![(x: 40.0, y: 40.0), (x: 60.0, y: 40.0), (x: 60.0, y: 60.0), (x: 40.0, y: 60.0)],
        };
        let pieces = split(&[square(0.0, 0.0, 100.0)], &[], &[&park]).unwrap();
        let land: Vec<_> = pieces.iter().filter(|p| p.barrier.is_none()).collect();
        assert_eq!(land.len(), 1);
        assert_eq!(land[0].shape.len(), 2, "shell and the park's hole");
        assert_eq!(pieces.len(), 2);
    }

    #[test]
    fn a_road_across_cuts_and_a_dead_end_does_not() {
        let across = vec![[-5.0, 50.0], [105.0, 50.0]];
        let dead_end = vec![[50.0, -5.0], [50.0, 30.0]];
        let pieces = split(&[square(0.0, 0.0, 100.0)], &[across, dead_end], &[]).unwrap();
        assert_eq!(pieces.len(), 2);
        assert!(pieces
            .iter()
            .all(|p| (shape_area(&p.shape) - 5000.0).abs() < 1e-6));
    }
}
