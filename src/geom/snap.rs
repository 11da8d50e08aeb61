//! Closing the gaps of a line network: a line that ends a few metres short of
//! another line, of a polygon's outline or of a boundary ring (a digitising
//! gap, two data sets that do not quite meet) is extended to meet it.
//!
//! Only dangling ends move: an end that already touches another line or a
//! ring, or lies inside one of the polygons, is connected. A dangling end is
//! extended to the nearest point within the snap distance that lies ahead of
//! it or beside it (never back along the line: an end that overshoots a
//! crossing is left alone), a little past that point, so that the overlay,
//! which rounds to its grid, sees the two cross.

use geo::{BoundingRect, Coord, Intersects, LineString, Point, Polygon};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Line as RLine};
use rstar::{PointDistance, RTree};

use crate::geom::overlay;
use crate::geom::shape::{box_tree, rect_to_aabb};

/// An end closer than this to another line is connected (1 cm).
pub const TOUCH: f64 = 0.01;
/// An extension runs this far past the point it meets (10 cm).
pub const OVERSHOOT: f64 = 0.1;

/// The new first and last vertex of a line: `None` where its end stays.
pub type Extension = [Option<Coord>; 2];

/// For each line, where its dangling ends are extended to: the nearest point
/// within `snap` of another line, of a ring in `rings` (polygon outlines,
/// admin boundaries) or of a polygon in `areas`. An end inside one of `areas`
/// is connected. Each line is taken alone against the others as given, so
/// the result does not depend on the order of the work.
///
/// ```
/// use geo::{line_string, Coord};
/// use dongne::geom::snap::close_gaps;
/// // A river stops 5 m short of a unit's edge at x = 100.
/// let river = line_string![(x: 0.0, y: 50.0), (x: 95.0, y: 50.0)];
/// let edge = line_string![(x: 100.0, y: 0.0), (x: 100.0, y: 100.0)];
/// let ext = close_gaps(&[&river], &[&edge], &[], 15.0);
/// let end = ext[0][1].unwrap();
/// assert!((end.x - 100.1).abs() < 1e-9 && (end.y - 50.0).abs() < 1e-9);
/// assert!(ext[0][0].is_none()); // its source is 95 m away from anything
/// ```
pub fn close_gaps(
    lines: &[&LineString<f64>],
    rings: &[&LineString<f64>],
    areas: &[&Polygon<f64>],
    snap: f64,
) -> Vec<Extension> {
    if snap <= 0.0 {
        return vec![[None, None]; lines.len()];
    }
    // Only segments within reach of a line's end can be met or touched: the
    // rest (most of a forest's or a unit's outline) never enter the tree.
    // On the tiled 1 M set this drops the tree from millions of segments to
    // the few near an end, and the work from a second of one core.
    let reach = snap.max(TOUCH);
    let ends: RTree<[f64; 2]> = RTree::bulk_load(
        lines
            .iter()
            .flat_map(|l| [l.0.first(), l.0.last()])
            .flatten()
            .map(|c| [c.x, c.y])
            .collect(),
    );
    let near_an_end = |s: &geo::Line<f64>| {
        let env = rect_to_aabb(&overlay::grow(&s.bounding_rect(), reach));
        ends.locate_in_envelope_intersecting(&env).next().is_some()
    };
    // Every such segment, tagged with its line (`Some`) or ring (`None`).
    let segment = |s: geo::Line<f64>, owner: Option<usize>| {
        GeomWithData::new(
            RLine::new([s.start.x, s.start.y], [s.end.x, s.end.y]),
            owner,
        )
    };
    let mut segs: Vec<GeomWithData<RLine<[f64; 2]>, Option<usize>>> = lines
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, l)| {
            l.lines()
                .filter(|s| near_an_end(s))
                .map(move |s| segment(s, Some(i)))
        })
        .collect();
    let outlines: Vec<&LineString<f64>> = rings
        .iter()
        .copied()
        .chain(
            areas
                .iter()
                .flat_map(|a| std::iter::once(a.exterior()).chain(a.interiors())),
        )
        .collect();
    segs.par_extend(outlines.par_iter().flat_map_iter(|r| {
        r.lines()
            .filter(|s| near_an_end(s))
            .map(|s| segment(s, None))
    }));
    let tree = RTree::bulk_load(segs);
    let area_tree = box_tree(areas.iter().map(|a| a.bounding_rect()));
    let inside_area = |p: Coord| {
        let env = rect_to_aabb(&geo::Rect::new(p, p));
        area_tree
            .locate_in_envelope_intersecting(&env)
            .any(|g| areas[g.data].intersects(&Point(p)))
    };
    let touch2 = TOUCH * TOUCH;
    let snap2 = snap * snap;
    let extend = |i: usize, end: Coord, behind: Coord| -> Option<Coord> {
        let q = [end.x, end.y];
        let others = |g: &&GeomWithData<RLine<[f64; 2]>, Option<usize>>| g.data != Some(i);
        if tree.locate_within_distance(q, touch2).any(|g| others(&g)) || inside_area(end) {
            return None;
        }
        let ahead = [end.x - behind.x, end.y - behind.y];
        for (g, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
            if d2 > snap2 {
                break;
            }
            if !others(&g) {
                continue;
            }
            let p = g.geom().nearest_point(&q);
            let to = [p[0] - q[0], p[1] - q[1]];
            if to[0] * ahead[0] + to[1] * ahead[1] < 0.0 {
                continue;
            }
            let len = g.distance_2(&q).sqrt();
            let k = (len + OVERSHOOT) / len;
            return Some(Coord {
                x: q[0] + to[0] * k,
                y: q[1] + to[1] * k,
            });
        }
        None
    };
    lines
        .par_iter()
        .enumerate()
        .map(|(i, l)| {
            let c = &l.0;
            let (Some(&first), Some(&last)) = (c.first(), c.last()) else {
                return [None, None];
            };
            if c.len() < 2 || first == last {
                return [None, None];
            }
            // The neighbour of each end that is not the end itself.
            let after_first = c.iter().copied().find(|&p| p != first).unwrap_or(first);
            let before_last = c.iter().rev().copied().find(|&p| p != last).unwrap_or(last);
            [extend(i, first, after_first), extend(i, last, before_last)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn seg(a: (f64, f64), b: (f64, f64)) -> LineString {
        LineString::from(vec![a, b])
    }

    /// The extensions of `lines` with the default snap distance, 15 m.
    fn gaps(lines: &[LineString], rings: &[LineString], areas: &[Polygon]) -> Vec<Extension> {
        let lines: Vec<&LineString> = lines.iter().collect();
        let rings: Vec<&LineString> = rings.iter().collect();
        let areas: Vec<&Polygon> = areas.iter().collect();
        close_gaps(&lines, &rings, &areas, 15.0)
    }

    #[test]
    fn an_end_that_touches_another_line_stays() {
        let (a, b) = (seg((0., 0.), (10., 0.)), seg((10., -5.), (10., 5.)));
        let ext = gaps(&[a, b], &[], &[]);
        assert_eq!(ext[0][1], None);
        // b's ends are 5 m from a, but back along b: they stay.
        assert_eq!(ext[1], [None, None]);
    }

    #[test]
    fn an_end_meets_the_nearest_line_ahead_not_the_one_behind() {
        // A road overshoots a crossing road by 10 m: its end stays.
        let road = seg((0., 0.), (110., 0.));
        let cross = seg((100., -50.), (100., 50.));
        assert_eq!(gaps(&[road, cross], &[], &[])[0][1], None);
    }

    fn lake() -> Polygon {
        polygon![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 100.0), (x: 0.0, y: 100.0)]
    }

    #[test]
    fn an_end_inside_a_lake_is_connected() {
        let ext = gaps(&[seg((-50., 50.), (40., 50.))], &[], &[lake()]);
        assert_eq!(ext[0], [None, None]);
    }

    #[test]
    fn a_stream_short_of_a_lake_meets_its_shore() {
        let ext = gaps(&[seg((-50., 50.), (-8., 50.))], &[], &[lake()]);
        let e = ext[0][1].unwrap();
        assert!((e.x - OVERSHOOT).abs() < 1e-9 && e.y == 50.0, "{e:?}");
    }

    #[test]
    fn a_gap_wider_than_the_snap_distance_stays_open() {
        let river = seg((0., 50.), (80., 50.));
        let edge = seg((100., 0.), (100., 100.));
        assert_eq!(gaps(&[river], &[edge], &[])[0], [None, None]);
    }
}
