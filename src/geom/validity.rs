//! Polygon validity, fast: the checks of OGC simple features that the
//! geometry stages need, without geo's general (slower) validation.

use geo::algorithm::validation::{
    CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole,
};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, PreparedGeometry, Relate};
use geo_types::{LineString, MultiPolygon, Polygon, Rect};

/// geo's `Polygon::check_validation`: the same checks in the same order, so
/// the same first error, but a ring's self-intersection test looks only at
/// segment pairs whose boxes meet (an R-tree), where geo tries every pair of
/// segments. geo's test was quadratic in the ring's vertices: half the
/// reading time of the Liechtenstein forests, minutes for a national frame.
pub fn polygon_validation(p: &Polygon<f64>) -> std::result::Result<(), InvalidPolygon> {
    if p.exterior().0.is_empty() {
        return Ok(());
    }
    for (k, ring) in std::iter::once(p.exterior())
        .chain(p.interiors())
        .enumerate()
    {
        if ring.0.is_empty() {
            continue;
        }
        let role = if k == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(k - 1)
        };
        // geo's `remove_repeated_points().0.len()`, without the copy.
        let distinct = 1 + ring.0.windows(2).filter(|w| w[0] != w[1]).count();
        if distinct < 4 {
            return Err(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_self_intersects(ring) {
            return Err(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(i) = ring
            .0
            .iter()
            .position(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            return Err(InvalidPolygon::NonFiniteCoord(role, CoordIndex(i)));
        }
    }
    if p.interiors().iter().all(|r| r.0.is_empty()) {
        return Ok(());
    }
    // As geo: the holes against the shell and against each other.
    let shell = Polygon::new(p.exterior().clone(), vec![]);
    let shell = PreparedGeometry::from(&shell);
    for (i, h1) in p.interiors().iter().enumerate() {
        if h1.0.is_empty() {
            continue;
        }
        let h1_poly = Polygon::new(h1.clone(), vec![]);
        let h1_prep = PreparedGeometry::from(&h1_poly);
        let m = shell.relate(&h1_prep);
        if !m.is_contains() {
            return Err(InvalidPolygon::InteriorRingNotContainedInExteriorRing(
                RingRole::Interior(i),
            ));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Err(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                RingRole::Interior(i),
            ));
        }
        for (j, h2) in p.interiors().iter().enumerate().skip(i + 1) {
            if h2.0.is_empty() {
                continue;
            }
            let m = h1_prep.relate(&Polygon::new(h2.clone(), vec![]));
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnAnArea(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnALine(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
        }
    }
    Ok(())
}

/// geo's `MultiPolygon::check_validation` (first error, same order), with
/// the pairwise `relate` of parts skipped where their boxes do not meet (no
/// overlap and no shared line is then possible).
pub fn multipolygon_validation(
    mp: &MultiPolygon<f64>,
) -> std::result::Result<(), InvalidMultiPolygon> {
    let boxes: Vec<Option<Rect<f64>>> = mp.0.iter().map(|p| p.bounding_rect()).collect();
    let meet = |a: Option<Rect<f64>>, b: Option<Rect<f64>>| match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    };
    for (i, p) in mp.0.iter().enumerate() {
        polygon_validation(p)
            .map_err(|e| InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e))?;
        for (j, q) in mp.0.iter().enumerate().skip(i + 1) {
            if !meet(boxes[i], boxes[j]) {
                continue;
            }
            let m = p.relate(q);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    Ok(())
}

/// geo's ring test: two distinct segments that meet, other than where one
/// ends and the other starts. Only pairs whose boxes meet can meet: a sweep
/// along the ring's longer side visits those (an R-tree did the same, at
/// three times the cost on the tiled 1 M set's forests).
fn ring_self_intersects(ring: &LineString<f64>) -> bool {
    use geo::Intersects;
    let lines: Vec<geo::Line<f64>> = ring.lines().collect();
    if lines.len() < 2 {
        return false;
    }
    let pair = |a: &geo::Line<f64>, b: &geo::Line<f64>| {
        a.intersects(b) && a.start != b.end && a.end != b.start
    };
    if !ring.0.iter().all(|c| c.x.is_finite() && c.y.is_finite()) {
        // No boxes for non-finite coordinates: every pair, as geo.
        return lines
            .iter()
            .enumerate()
            .any(|(i, a)| lines.iter().enumerate().any(|(j, b)| i != j && pair(a, b)));
    }
    let Some(bbox) = ring.bounding_rect() else {
        return false;
    };
    // Each segment's extent along the sweep axis (u) and across it (v).
    let along_x = bbox.width() >= bbox.height();
    let span = |l: &geo::Line<f64>| {
        let (u0, u1, v0, v1) = if along_x {
            (l.start.x, l.end.x, l.start.y, l.end.y)
        } else {
            (l.start.y, l.end.y, l.start.x, l.end.x)
        };
        [u0.min(u1), u0.max(u1), v0.min(v1), v0.max(v1)]
    };
    let mut boxes: Vec<([f64; 4], usize)> = lines.iter().map(span).zip(0..).collect();
    boxes.sort_unstable_by(|a, b| a.0[0].total_cmp(&b.0[0]));
    boxes.iter().enumerate().any(|(k, (a, i))| {
        boxes[k + 1..]
            .iter()
            .take_while(|(b, _)| b[0] <= a[1])
            .any(|(b, j)| b[2] <= a[3] && a[2] <= b[3] && pair(&lines[*i], &lines[*j]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, Coord};

    #[test]
    fn fast_validation_gives_geo_s_first_error() {
        use geo::Validation;
        use geo_types::{coord, LineString};
        let sq = |x: f64, y: f64, w: f64| {
            LineString::from(vec![(x, y), (x + w, y), (x + w, y + w), (x, y + w), (x, y)])
        };
        let polys = vec![
            polygon![(x: 0., y: 0.), (x: 10., y: 10.), (x: 10., y: 0.), (x: 0., y: 10.)],
            polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            // A spike back along an edge.
            polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 5., y: 0.), (x: 5., y: 5.)],
            // A ring through one vertex twice.
            polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 2., y: 2.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 2., y: 2.)],
            // Repeated points only.
            polygon![(x: 0., y: 0.), (x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 0.)],
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(3., 3., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(6., 6., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(8., 8., 4.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(0., 2., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(4., 2., 2.)]),
            Polygon::new(LineString(vec![]), vec![]),
        ];
        for p in &polys {
            assert_eq!(polygon_validation(p), p.check_validation(), "{p:?}");
        }
        // A long zigzag that crosses itself once, far from its start.
        let mut zig: Vec<Coord<f64>> = (0..400)
            .map(|i| coord! { x: i as f64, y: if i % 2 == 0 { 0.0 } else { 3.0 } })
            .collect();
        zig.extend([
            coord! { x: 399.0, y: 10.0 },
            coord! { x: 200.5, y: -1.0 },
            coord! { x: 0.0, y: 10.0 },
        ]);
        let p = Polygon::new(LineString(zig.clone()), vec![]);
        assert_eq!(polygon_validation(&p), p.check_validation());
        zig.truncate(400);
        zig.extend([coord! { x: 399.0, y: 10.0 }, coord! { x: 0.0, y: 10.0 }]);
        let p = Polygon::new(LineString(zig), vec![]);
        assert_eq!(polygon_validation(&p), Ok(()));
        assert_eq!(p.check_validation(), Ok(()));
        for (a, b) in [(0, 1), (1, 1), (1, 6), (6, 7), (0, 10)] {
            let mp = MultiPolygon(vec![polys[a].clone(), polys[b].clone()]);
            assert_eq!(
                multipolygon_validation(&mp),
                mp.check_validation(),
                "{mp:?}"
            );
        }
        let apart = MultiPolygon(vec![
            Polygon::new(sq(0., 0., 1.), vec![]),
            Polygon::new(sq(1., 0., 1.), vec![]),
            Polygon::new(sq(5., 5., 1.), vec![]),
        ]);
        assert_eq!(multipolygon_validation(&apart), apart.check_validation());
    }
}
