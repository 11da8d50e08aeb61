//! Barriers near an admin unit, ready for the enclosure stage.
//!
//! Line barriers (roads, rail, streams) are kept as their centre lines: the
//! enclosure stage cuts along them, so the ground a road covers is shared
//! along its middle between the two sides, exactly what buffering by the
//! width and then splitting the buffer down its middle would give, without
//! buffering a whole network. The width still decides which lines are
//! barriers (the reader drops the narrow ones) and draws the `barriers` debug
//! layer. Area barriers (water, forest, large parks) are cut out as features
//! of their own kind.

use geo::{BoundingRect, Buffer, Geometry, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Line as RLine};
use rstar::{RTree, AABB};

use crate::geom::overlay;
use crate::geom::shape::{box_tree, Indexed};
use crate::model::{AreaBarrier, BarrierKind, LineBarrier};

/// Every segment of every barrier line, with its kind and line index.
pub type SegmentTree = RTree<GeomWithData<RLine<[f64; 2]>, (BarrierKind, usize)>>;

/// Every segment of `lines`, tagged with its line's kind and index.
pub fn segment_tree(lines: &[LineBarrier]) -> SegmentTree {
    RTree::bulk_load(
        lines
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, l)| {
                l.geom.lines().map(move |s| {
                    GeomWithData::new(
                        RLine::new([s.start.x, s.start.y], [s.end.x, s.end.y]),
                        (l.kind, i),
                    )
                })
            })
            .collect(),
    )
}

/// Metres: a point this close to a barrier line lies on it. Far more than
/// the grid's rounding of a point on a line, less than the width of the
/// narrowest barrier.
pub const ON_LINE: f64 = 0.5;

/// The kind of the barrier line `p` lies on (within [`ON_LINE`]), among the
/// lines `keep` takes: the nearest segment, and among segments at the same
/// distance the first kind (water before rail before road). `None` off
/// every line.
pub fn kind_on_line(
    tree: &SegmentTree,
    p: [f64; 2],
    keep: impl Fn(usize) -> bool,
) -> Option<BarrierKind> {
    use rstar::PointDistance;
    let mut best: Option<(f64, BarrierKind)> = None;
    for g in tree.locate_within_distance(p, ON_LINE * ON_LINE) {
        let (kind, line) = g.data;
        if !keep(line) {
            continue;
        }
        let d2 = g.distance_2(&p);
        if best.is_none_or(|(bd, bk)| d2 < bd || (d2 == bd && kind < bk)) {
            best = Some((d2, kind));
        }
    }
    best.map(|b| b.1)
}

/// Spatial index over every barrier of the run.
pub struct BarrierIndex<'a> {
    pub lines: &'a [LineBarrier],
    pub areas: &'a [AreaBarrier],
    line_tree: RTree<Indexed>,
    area_tree: RTree<Indexed>,
    segments: SegmentTree,
}

impl<'a> BarrierIndex<'a> {
    pub fn new(lines: &'a [LineBarrier], areas: &'a [AreaBarrier]) -> Self {
        // Three independent indexes, built side by side.
        let line_tree = || box_tree(lines.iter().map(|l| l.geom.bounding_rect()));
        let area_tree = || box_tree(areas.iter().map(|a| a.geom.bounding_rect()));
        let segments = || segment_tree(lines);
        let ((line_tree, area_tree), segments) =
            rayon::join(|| rayon::join(line_tree, area_tree), segments);
        BarrierIndex {
            lines,
            areas,
            line_tree,
            area_tree,
            segments,
        }
    }

    /// Every segment of every line barrier, for nearest-line queries.
    pub fn segments(&self) -> &SegmentTree {
        &self.segments
    }

    fn query(tree: &RTree<Indexed>, r: &Rect) -> Vec<usize> {
        let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let mut v: Vec<usize> = tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .collect();
        v.sort_unstable();
        v
    }

    /// Indices of the line barriers whose bounds meet `r`, in input order.
    pub fn lines_in(&self, r: &Rect) -> Vec<usize> {
        Self::query(&self.line_tree, r)
    }

    /// Indices of the area barriers whose bounds meet `r`, in input order.
    pub fn areas_in(&self, r: &Rect) -> Vec<usize> {
        Self::query(&self.area_tree, r)
    }

    /// The barriers whose bounds meet `r`, as the enclosure stage takes
    /// them: the lines as grid polylines, the areas as they are.
    pub fn near(&self, r: &Rect) -> Near<'a> {
        let line_ids = self.lines_in(r);
        let lines = line_ids.iter().map(|&i| polyline(&self.lines[i])).collect();
        let areas = self
            .areas_in(r)
            .into_iter()
            .map(|i| &self.areas[i])
            .collect();
        Near {
            line_ids,
            lines,
            areas,
        }
    }
}

/// The barriers near one admin unit ([`BarrierIndex::near`]).
pub struct Near<'a> {
    /// Indices of the line barriers, in input order.
    pub line_ids: Vec<usize>,
    /// Those lines as grid polylines, in the same order.
    pub lines: Vec<Vec<[f64; 2]>>,
    pub areas: Vec<&'a AreaBarrier>,
}

/// A line barrier as a polyline on the grid.
pub fn polyline(l: &LineBarrier) -> Vec<[f64; 2]> {
    let mut v: Vec<[f64; 2]> = l
        .geom
        .0
        .iter()
        .map(|c| overlay::snap_pt([c.x, c.y]))
        .collect();
    v.dedup();
    v
}

/// The outline rings of an area barrier as closed polylines: the enclosure
/// stage cuts along them.
pub fn outlines(a: &AreaBarrier) -> Vec<Vec<[f64; 2]>> {
    overlay::shape_of(&a.geom)
        .into_iter()
        .map(|mut r| {
            if let Some(&f) = r.first() {
                r.push(f);
            }
            r
        })
        .collect()
}

/// The ground a line barrier covers: its centre line buffered by half its
/// width. Only for the `barriers` debug layer.
pub fn footprint(l: &LineBarrier) -> Geometry {
    Geometry::MultiPolygon(l.geom.buffer(l.width_m / 2.0))
}

/// Which kind wins where area barriers overlap: the first in this order.
/// Open ground comes last: a lake or forest far from houses stays what it
/// is. (Left out of this list, open ground was taken for an enclosure
/// without buildings and went to the neighborhoods around it.)
pub const AREA_PRIORITY: [BarrierKind; 4] = [
    BarrierKind::Water,
    BarrierKind::Mountain,
    BarrierKind::Park,
    BarrierKind::Open,
];
