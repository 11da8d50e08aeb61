//! Polygons across the antimeridian, split for GeoJSON (RFC 7946 §3.1.9):
//! reprojected to lon/lat, a neighborhood on both sides of 180° comes out
//! with vertices near +180 and near −180, and a reader draws it across the
//! whole globe. Each such polygon is made continuous (longitudes unwrapped
//! past ±180) and cut at 180° into an eastern and a western part.

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect};

/// The polygons of `mp`, each cut at the antimeridian where it spans it.
/// Polygons that do not (their longitudes span less than 180°) are kept as
/// they are.
///
/// ```
/// use geo::{polygon, MultiPolygon};
/// use dongne::geom::antimeridian::split_at_antimeridian;
/// // 179.5°E to 179.5°W: one degree wide, across 180°.
/// let p = polygon![(x: 179.5, y: -17.0), (x: -179.5, y: -17.0), (x: -179.5, y: -16.0), (x: 179.5, y: -16.0)];
/// let out = split_at_antimeridian(MultiPolygon(vec![p]));
/// assert_eq!(out.0.len(), 2);
/// for part in &out.0 {
///     let xs: Vec<f64> = part.exterior().0.iter().map(|c| c.x).collect();
///     let span = xs.iter().cloned().fold(f64::MIN, f64::max) - xs.iter().cloned().fold(f64::MAX, f64::min);
///     assert!(span <= 0.5 + 1e-9);
/// }
/// ```
pub fn split_at_antimeridian(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let mut out = Vec::with_capacity(mp.0.len());
    for p in mp.0 {
        if lon_span(&p) <= 180.0 {
            out.push(p);
            continue;
        }
        let Some(origin) = p.exterior().0.first().map(|c| c.x) else {
            continue;
        };
        let unwrap = |r: &LineString<f64>| {
            let mut prev = origin;
            LineString(
                r.0.iter()
                    .map(|c| {
                        let x = c.x + 360.0 * ((prev - c.x) / 360.0).round();
                        prev = x;
                        Coord { x, y: c.y }
                    })
                    .collect(),
            )
        };
        let cont = Polygon::new(
            unwrap(p.exterior()),
            p.interiors().iter().map(unwrap).collect(),
        );
        // Continuous now, somewhere in -540..540: the parts west and east
        // of each meridian ±180 and back into -180..180.
        for (lo, hi, shift) in [
            (-540.0, -180.0, 360.0),
            (-180.0, 180.0, 0.0),
            (180.0, 540.0, -360.0),
        ] {
            let band = Rect::new(Coord { x: lo, y: -90.0 }, Coord { x: hi, y: 90.0 }).to_polygon();
            for part in cont.intersection(&band).0 {
                out.push(shifted(part, shift));
            }
        }
    }
    MultiPolygon(out)
}

fn lon_span(p: &Polygon<f64>) -> f64 {
    let xs = p.exterior().0.iter().map(|c| c.x);
    let (lo, hi) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    hi - lo
}

fn shifted(p: Polygon<f64>, dx: f64) -> Polygon<f64> {
    if dx == 0.0 {
        return p;
    }
    let mv = |r: &LineString<f64>| {
        LineString(
            r.0.iter()
                .map(|c| Coord {
                    x: c.x + dx,
                    y: c.y,
                })
                .collect(),
        )
    };
    Polygon::new(mv(p.exterior()), p.interiors().iter().map(mv).collect())
}

/// A lon/lat box `[west, south, east, north]`; `west > east` when it spans
/// 180° (as GDAL and RFC 7946 write such boxes). Its longitudes as one
/// interval, `east` past 180 when it spans the antimeridian.
fn lon_interval(b: [f64; 4]) -> (f64, f64) {
    if b[0] > b[2] {
        (b[0], b[2] + 360.0)
    } else {
        (b[0], b[2])
    }
}

/// The box back from an interval, wrapped into -180..180.
fn from_interval(lo: f64, hi: f64, s: f64, n: f64) -> [f64; 4] {
    if hi - lo >= 360.0 {
        return [-180.0, s, 180.0, n];
    }
    let wrap = |x: f64| {
        if x > 180.0 {
            x - 360.0
        } else if x < -180.0 {
            x + 360.0
        } else {
            x
        }
    };
    [wrap(lo), s, wrap(hi), n]
}

/// The smaller box holding both boxes, across 180° when that is smaller.
///
/// ```
/// use dongne::geom::antimeridian::box_union;
/// let fiji = box_union([179.9, -17.0, 180.0, -16.9], [-180.0, -17.0, -179.9, -16.9]);
/// assert_eq!(fiji, [179.9, -17.0, -179.9, -16.9]);
/// ```
pub fn box_union(a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    let (s, n) = (a[1].min(b[1]), a[3].max(b[3]));
    let (alo, ahi) = lon_interval(a);
    let (blo, bhi) = lon_interval(b);
    let best = [-360.0, 0.0, 360.0]
        .iter()
        .map(|d| (alo.min(blo + d), ahi.max(bhi + d)))
        .min_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
        .unwrap_or((alo, ahi));
    from_interval(best.0, best.1, s, n)
}

/// Whether two boxes overlap (touching counts), across 180° too.
pub fn boxes_overlap(a: [f64; 4], b: [f64; 4]) -> bool {
    let (alo, ahi) = lon_interval(a);
    let (blo, bhi) = lon_interval(b);
    let lon = [-360.0, 0.0, 360.0]
        .iter()
        .any(|d| alo <= bhi + d && blo + d <= ahi);
    lon && a[1] <= b[3] && b[1] <= a[3]
}

/// The centre of a box, across 180° too, in -180..180.
pub fn box_centre(b: [f64; 4]) -> (f64, f64) {
    let (lo, hi) = lon_interval(b);
    let mut x = (lo + hi) / 2.0;
    if x > 180.0 {
        x -= 360.0;
    }
    (x, (b[1] + b[3]) / 2.0)
}
