//! Open ground: the part of an admin unit farther than `reach` from every
//! building (fields, slopes, land the data leaves unmapped). The method makes
//! it a feature of its own kind, `open`, like water or forest, instead of
//! letting a handful of buildings claim kilometres of empty land in the
//! straight-edged strips of their Voronoi cells.
//!
//! Built from the buildings' Voronoi diagram (voronoice), not from a union of
//! one disk per building. A point's nearest building is the site of the cell
//! it lies in, so the point is open exactly when it lies in a cell but outside
//! that cell's disk of radius `reach`. A cell whose vertices all lie within
//! `reach` of its site has no open ground: in a town that is almost every cell,
//! and only the few frontier cells (at the edge of a settlement, or around a
//! lone farmstead) go through the overlay, as `frontier cells − frontier
//! disks`, instead of a union of one disk per building of the unit.

use geo::Coord;
use voronoice::{BoundingBox, Point as VPoint, VoronoiBuilder};

use crate::error::Result;
use crate::geom::overlay;
use crate::geom::shape::Shape;
use crate::geom::validity;

/// Sides of the polygon that stands for a disk. It is drawn around the
/// circle (its edges touch it), so everything within `reach` of a building is
/// covered: the open ground never comes closer than `reach`.
const DISK_SIDES: usize = 32;

/// The ground of `unit` farther than `reach` from every point of `sites`,
/// without pieces smaller than `min_area`. Deterministic: the same sites in
/// the same order give the same shapes.
pub fn open_ground(
    unit: &[Shape],
    sites: &[Coord],
    reach: f64,
    min_area: f64,
) -> Result<Vec<Shape>> {
    if unit.is_empty() || reach.is_nan() || reach <= 0.0 {
        return Ok(Vec::new());
    }
    let Some(rect) = crate::geom::shape::shapes_rect(unit) else {
        return Ok(Vec::new());
    };
    if sites.is_empty() {
        return keep_large(unit.to_vec(), min_area);
    }
    let mut pts: Vec<Coord> = sites.to_vec();
    pts.sort_by(|a, b| {
        (a.x, a.y)
            .partial_cmp(&(b.x, b.y))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    pts.dedup();
    // A frame around the unit and every site, with room for the disks.
    let (mut x0, mut y0, mut x1, mut y1) = (rect.min().x, rect.min().y, rect.max().x, rect.max().y);
    for p in &pts {
        x0 = x0.min(p.x);
        y0 = y0.min(p.y);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
    }
    let pad = 2.0 * reach + 1.0;
    let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
    let centre = Coord {
        x: (x0 + x1) / 2.0,
        y: (y0 + y1) / 2.0,
    };
    let (cells, disks) = match frontier(&pts, centre, x1 - x0, y1 - y0, reach) {
        Some(f) => f,
        // Fewer than three sites, or all on one line: every site is on the
        // frontier and its cell is the whole frame; the disks alone decide.
        None => {
            let frame: Shape = vec![vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]];
            (vec![frame], pts.iter().map(|p| disk(*p, reach)).collect())
        }
    };
    if cells.is_empty() {
        return Ok(Vec::new());
    }
    let open = overlay::difference(&cells, &disks)?;
    let open = overlay::intersection(&open, unit)?;
    keep_large(open, min_area)
}

/// The pieces of at least `min_area`. A piece whose ring touches itself
/// (two lobes of open ground meeting at one Voronoi vertex) is left to the
/// neighborhoods: its outline would pinch the features around it.
fn keep_large(shapes: Vec<Shape>, min_area: f64) -> Result<Vec<Shape>> {
    Ok(shapes
        .into_iter()
        .filter(|s| {
            overlay::shape_area(s) >= min_area
                && validity::polygon_validation(&overlay::polygon_of(s)).is_ok()
        })
        .collect())
}

/// The Voronoi cells (within the frame) of the sites that have ground
/// farther than `reach` in their cell, and their disks. `None` when the
/// sites make no diagram (fewer than three, or collinear).
fn frontier(
    pts: &[Coord],
    centre: Coord,
    width: f64,
    height: f64,
    reach: f64,
) -> Option<(Vec<Shape>, Vec<Shape>)> {
    if pts.len() < 3 || collinear(pts) {
        return None;
    }
    // Local coordinates about the frame's centre keep the circumcentres
    // precise far from the CRS origin.
    let local: Vec<VPoint> = pts
        .iter()
        .map(|p| VPoint {
            x: p.x - centre.x,
            y: p.y - centre.y,
        })
        .collect();
    let v = VoronoiBuilder::default()
        .set_sites(local)
        .set_bounding_box(BoundingBox::new(VPoint { x: 0.0, y: 0.0 }, width, height))
        .build()?;
    let r2 = reach * reach;
    let (mut cells, mut disks) = (Vec::new(), Vec::new());
    for cell in v.iter_cells() {
        let s = cell.site_position();
        let far = cell
            .iter_vertices()
            .any(|q| (q.x - s.x).powi(2) + (q.y - s.y).powi(2) > r2);
        if !far {
            continue;
        }
        let ring: Vec<[f64; 2]> = cell
            .iter_vertices()
            .map(|q| [q.x + centre.x, q.y + centre.y])
            .collect();
        if ring.len() >= 3 {
            cells.push(vec![ring]);
            disks.push(disk(
                Coord {
                    x: s.x + centre.x,
                    y: s.y + centre.y,
                },
                reach,
            ));
        }
    }
    Some((cells, disks))
}

/// All sites within 1 m of one line. Sites nearly in a line (a row of houses
/// along a street, reprojected from lon/lat) make Voronoi cells of huge,
/// nearly parallel edges whose float errors leave slivers between the cells
/// (issue 13); their disks alone are exact and, for so few rows, as cheap.
fn collinear(pts: &[Coord]) -> bool {
    let a = pts[0];
    let far = |o: Coord| {
        pts.iter()
            .copied()
            .max_by(|p, q| {
                let d = |c: &Coord| (c.x - o.x).powi(2) + (c.y - o.y).powi(2);
                d(p).total_cmp(&d(q))
            })
            .unwrap_or(o)
    };
    let (a, b) = (far(a), far(far(a)));
    let len = (b.x - a.x).hypot(b.y - a.y);
    if len == 0.0 {
        return true;
    }
    pts.iter()
        .all(|p| ((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)).abs() / len <= 1.0)
}

/// A regular polygon around the circle of radius `r` about `c`,
/// counter-clockwise.
fn disk(c: Coord, r: f64) -> Shape {
    let rr = r / (std::f64::consts::PI / DISK_SIDES as f64).cos();
    vec![(0..DISK_SIDES)
        .map(|k| {
            let a = 2.0 * std::f64::consts::PI * k as f64 / DISK_SIDES as f64;
            [c.x + rr * a.cos(), c.y + rr * a.sin()]
        })
        .collect()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::shape::square;

    /// One house in the middle of a 2 km square.
    fn lone() -> [Coord; 1] {
        [Coord {
            x: 1000.0,
            y: 1000.0,
        }]
    }

    fn area(s: &[Shape]) -> f64 {
        s.iter().map(overlay::shape_area).sum()
    }

    #[test]
    fn a_hamlet_in_a_large_unit_leaves_the_rest_open() {
        // Six houses in the middle of a 3 km² unit (1732 m square).
        let w = 3_000_000f64.sqrt();
        let c = w / 2.0;
        let sites: Vec<Coord> = (0..6)
            .map(|i| Coord {
                x: c + 15.0 * (i % 3) as f64,
                y: c + 20.0 * (i / 3) as f64,
            })
            .collect();
        let open = open_ground(&[square(0.0, 0.0, w)], &sites, 400.0, 1.0).unwrap();
        let near = 3_000_000.0 - area(&open);
        // About a disk of 400 m around a 30 × 20 m hamlet.
        let expect = std::f64::consts::PI * 400.0 * 400.0 + 2.0 * 400.0 * 50.0 + 600.0;
        assert!(
            (near - expect).abs() / expect < 0.02,
            "near {near}, expected about {expect}"
        );
        // Nothing open within reach of a house.
        for shape in &open {
            for p in &shape[0] {
                let d = sites
                    .iter()
                    .map(|s| ((s.x - p[0]).powi(2) + (s.y - p[1]).powi(2)).sqrt())
                    .fold(f64::MAX, f64::min);
                assert!(d >= 400.0 - 1e-6, "open vertex {p:?} {d} m from a house");
            }
        }
    }

    #[test]
    fn a_dense_town_has_no_open_ground() {
        let sites: Vec<Coord> = (0..400)
            .map(|i| Coord {
                x: 10.0 + 25.0 * (i % 20) as f64,
                y: 10.0 + 25.0 * (i / 20) as f64,
            })
            .collect();
        let open = open_ground(&[square(0.0, 0.0, 500.0)], &sites, 200.0, 1.0).unwrap();
        assert!(open.is_empty());
    }

    #[test]
    fn collinear_and_lone_sites_use_their_disks() {
        let unit = [square(0.0, 0.0, 2000.0)];
        let one = open_ground(&unit, &lone(), 300.0, 1.0).unwrap();
        let expect = 4_000_000.0 - std::f64::consts::PI * 300.0 * 300.0;
        assert!((area(&one) - expect).abs() / expect < 0.01);
        let line: Vec<Coord> = (0..5)
            .map(|i| Coord {
                x: 800.0 + 100.0 * i as f64,
                y: 1000.0,
            })
            .collect();
        let open = open_ground(&unit, &line, 300.0, 1.0).unwrap();
        assert!(area(&open) < expect && area(&open) > 2_000_000.0);
    }

    #[test]
    fn small_pockets_stay_with_the_neighborhoods() {
        let unit = [square(0.0, 0.0, 2000.0)];
        let one = open_ground(&unit, &lone(), 300.0, 5_000_000.0).unwrap();
        assert!(one.is_empty());
    }
}
