//! Polygon validity, fast: the checks of OGC simple features that the
//! geometry stages need, without geo's general (slower) validation.

use geo::algorithm::validation::{
    CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole,
};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, PreparedGeometry, Relate};
use geo_types::{LineString, MultiPolygon, Polygon, Rect};

// ---------------------------------------------------------------------------
// Validity, fast

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
pub fn ring_self_intersects(ring: &LineString<f64>) -> bool {
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
