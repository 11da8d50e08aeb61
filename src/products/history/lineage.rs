//! The lineage of a run: where each id of the change report went, with the
//! share of its area and of its buildings each new feature took.

use std::collections::HashMap;

use geo::{BoundingRect, Intersects};
use geo_types::{Coord, MultiPolygon, Point};
use rstar::{RTree, AABB};

use super::{Date, LineageRow, Version, SHARE_DECIMALS};
use crate::geom::overlay;
use crate::model::Neighborhood;
use crate::products::ids::{ChangeKind, ChangeReport, Overlap};

fn share(x: f64) -> f64 {
    let f = 10f64.powi(SHARE_DECIMALS);
    let r = (x * f).round() / f;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// The lineage of a run, entry by entry of the change report (in its
/// order): a split gives a row per piece, a merge a row per merged feature,
/// a reshape or a rename one row, an added feature a row without an old id,
/// a removed one a row per feature of its group that took some of its
/// ground (or one without a new id).
pub(super) fn lineage(
    report: &ChangeReport,
    overlaps: &[Overlap],
    current: &HashMap<&str, &Version>,
    today: &[Neighborhood],
    new_version: &HashMap<&str, i64>,
    buildings: &[Coord<f64>],
    date: Date,
) -> Vec<LineageRow> {
    let area: HashMap<(&str, &str), f64> = overlaps
        .iter()
        .map(|o| {
            let share = if o.previous_area > 0.0 {
                o.area / o.previous_area
            } else {
                0.0
            };
            ((o.previous.as_str(), o.current.as_str()), share)
        })
        .collect();
    let new_geom: HashMap<&str, &MultiPolygon<f64>> =
        today.iter().map(|f| (f.id.as_str(), &f.geom)).collect();
    let points = RTree::bulk_load(buildings.iter().map(|c| Point(*c)).collect::<Vec<_>>());
    let mut on_old: HashMap<&str, Vec<Point<f64>>> = HashMap::new();
    let mut rows = Vec::new();
    let mut row = |old: Option<&str>, new: Option<&str>, change: ChangeKind, a: Option<f64>| {
        let a = a.or_else(|| match (old, new) {
            (Some(p), Some(c)) => area.get(&(p, c)).copied(),
            _ => None,
        });
        let old_v = old.and_then(|p| current.get(p));
        let building_share = match (old_v, new.and_then(|c| new_geom.get(c))) {
            (Some(v), Some(g)) => {
                let pts = on_old
                    .entry(v.feature.id.as_str())
                    .or_insert_with(|| points_on(&points, &v.feature.geom));
                let n = pts.iter().filter(|p| g.intersects(*p)).count();
                (!pts.is_empty()).then(|| share(n as f64 / pts.len() as f64))
            }
            _ => None,
        };
        rows.push(LineageRow {
            date,
            old_id: old.map(str::to_string),
            old_version: old_v.map(|v| v.version),
            new_id: new.map(str::to_string),
            new_version: new.and_then(|c| new_version.get(c)).copied(),
            building_share,
            area_share: a.map(share),
            change,
        });
    };
    for c in &report.changes {
        match c.kind {
            ChangeKind::Split => {
                for n in &c.current {
                    row(Some(&c.previous[0]), Some(n), c.kind, None);
                }
            }
            ChangeKind::Merged => {
                for p in &c.previous {
                    row(Some(p), Some(&c.current[0]), c.kind, None);
                }
            }
            ChangeKind::Reshaped | ChangeKind::Renamed => {
                row(Some(&c.previous[0]), Some(&c.current[0]), c.kind, None)
            }
            ChangeKind::Added => row(None, Some(&c.current[0]), c.kind, None),
            ChangeKind::Removed => {
                let p = c.previous[0].as_str();
                // Its ground may have gone to another unit (a unit split
                // or merged): looked for among all of today's features of
                // its kind.
                let took = match current.get(p) {
                    Some(v) => ground_taken(&v.feature, today),
                    None => Vec::new(),
                };
                if took.is_empty() {
                    row(Some(p), None, c.kind, None);
                }
                for (n, a) in took {
                    row(Some(p), Some(n), c.kind, Some(a));
                }
            }
        }
    }
    rows
}

/// Today's features of `old`'s kind, in any unit, that share ground with
/// it, by id, with the share of `old`'s area each took (on the overlay
/// grid, as the id matching measures).
fn ground_taken<'a>(old: &Neighborhood, today: &'a [Neighborhood]) -> Vec<(&'a str, f64)> {
    let Some(b) = old.geom.bounding_rect() else {
        return Vec::new();
    };
    let shapes = overlay::shapes_of(&old.geom);
    let total: f64 = shapes.iter().map(overlay::shape_area).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut out: Vec<(&str, f64)> = today
        .iter()
        .filter(|f| f.kind == old.kind)
        .filter(|f| {
            f.geom
                .bounding_rect()
                .is_some_and(|fb| geo::Intersects::intersects(&b, &fb))
        })
        .filter_map(|f| {
            let inter = overlay::intersection(&shapes, &overlay::shapes_of(&f.geom)).ok()?;
            let a: f64 = inter.iter().map(overlay::shape_area).sum();
            // A share that rounds to 0 is a sliver along a shared edge.
            (share(a / total) > 0.0).then_some((f.id.as_str(), a / total))
        })
        .collect();
    out.sort_by(|x, y| x.0.cmp(y.0));
    out
}

/// The building points on a feature's ground, its boundary included.
fn points_on(points: &RTree<Point<f64>>, g: &MultiPolygon<f64>) -> Vec<Point<f64>> {
    let Some(b) = g.bounding_rect() else {
        return Vec::new();
    };
    let env = AABB::from_corners(Point(b.min()), Point(b.max()));
    points
        .locate_in_envelope(&env)
        .filter(|p| g.intersects(*p))
        .copied()
        .collect()
}
