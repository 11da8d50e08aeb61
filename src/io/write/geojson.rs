//! GeoJSON as RFC 7946 wants it (lon/lat, 7 decimals, counter-clockwise
//! exteriors, cut at the antimeridian), one feature a line, properties in the
//! documented field order. The geometry is the `geojson` crate's, each
//! feature one serde value; streamed, not through GDAL's GeoJSON driver,
//! which is some 30 times slower.

use std::fs::File;
use std::io::{BufWriter, Write};

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use super::atomic::{output_error, Target};
use super::{round_to, Row, LONLAT_DECIMALS};
use crate::error::{Error, Result};
use crate::io::reproject::{Transformer, WorkingCrs};
use crate::model::Neighborhood;

pub(super) fn write_geojson(
    target: &Target,
    features: &[Neighborhood],
    crs: &WorkingCrs,
) -> Result<()> {
    let to_lonlat = Transformer::to_lonlat(crs)?;
    let io = |e: std::io::Error| output_error(&target.path, e);
    let file = File::create(&target.tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
        .map_err(io)?;
    for (i, n) in features.iter().enumerate() {
        let lonlat = to_lonlat
            .multi_polygon(&n.geom, None)
            .map_err(|e| Error::internal(format!("neighborhood {}: {}", n.id, e.message)))?;
        // RFC 7946: a polygon across 180° is cut there.
        let lonlat = crate::geom::antimeridian::split_at_antimeridian(lonlat);
        if i > 0 {
            w.write_all(b",\n").map_err(io)?;
        }
        write_feature(&mut w, &Row::of(n), &lonlat).map_err(io)?;
    }
    w.write_all(b"\n]}\n").map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

/// A GeoJSON feature, keys in the order RFC 7946 lists them.
#[derive(serde::Serialize)]
struct Feature<'a> {
    r#type: &'static str,
    properties: &'a Row<'a>,
    geometry: geojson::GeometryValue,
}

/// One feature on one line.
fn write_feature(w: &mut impl Write, r: &Row, lonlat: &MultiPolygon<f64>) -> std::io::Result<()> {
    let rings = MultiPolygon(lonlat.0.iter().filter_map(rfc7946_polygon).collect());
    let feature = Feature {
        r#type: "Feature",
        properties: r,
        geometry: geojson::GeometryValue::from(&rings),
    };
    serde_json::to_writer(w, &feature).map_err(std::io::Error::from)
}

/// A lon/lat polygon as RFC 7946 wants it: rounded to 7 decimals, without
/// consecutive duplicates, exterior counter-clockwise, holes clockwise. Rings
/// that collapse under rounding are dropped; `None` when the exterior does.
fn rfc7946_polygon(p: &Polygon<f64>) -> Option<Polygon<f64>> {
    let exterior = rounded_ring(p.exterior(), true)?;
    let holes = p.interiors().iter().filter_map(|r| rounded_ring(r, false));
    Some(Polygon::new(exterior, holes.collect()))
}

fn rounded_ring(ring: &LineString<f64>, ccw: bool) -> Option<LineString<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for c in &ring.0 {
        let r = Coord {
            x: round_to(c.x, LONLAT_DECIMALS),
            y: round_to(c.y, LONLAT_DECIMALS),
        };
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    // A ring needs three distinct corners and some area.
    let area = signed_area(&out);
    if out.len() < 3 || area == 0.0 {
        return None;
    }
    if (area > 0.0) != ccw {
        // Reversed, keeping the first corner first.
        out[1..].reverse();
    }
    out.push(out[0]);
    Some(LineString(out))
}

/// Shoelace area of an open ring: positive when counter-clockwise.
fn signed_area(open: &[Coord<f64>]) -> f64 {
    let n = open.len();
    (0..n)
        .map(|i| {
            let (a, b) = (open[i], open[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{coord, polygon};

    #[test]
    fn rings_are_rounded_deduplicated_and_oriented() {
        // Clockwise exterior with a point that rounds onto its neighbour,
        // counter-clockwise hole.
        let p = polygon!(
            exterior: [
                (x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.00000001, y: 1.00000001),
                (x: 1.0, y: 1.0), (x: 1.0, y: 0.0),
            ],
            interiors: [[(x: 0.2, y: 0.2), (x: 0.4, y: 0.2), (x: 0.4, y: 0.4)]],
        );
        let q = rfc7946_polygon(&p).unwrap();
        assert_eq!(
            q.exterior().0,
            vec![
                coord! {x: 0.0, y: 0.0},
                coord! {x: 1.0, y: 0.0},
                coord! {x: 1.0, y: 1.0},
                coord! {x: 0.0, y: 1.0},
                coord! {x: 0.0, y: 0.0},
            ]
        );
        assert!(signed_area(&q.exterior().0[..4]) > 0.0);
        assert!(signed_area(&q.interiors()[0].0[..3]) < 0.0);
        // A ring smaller than the rounding step disappears.
        let tiny = polygon![(x: 5.0, y: 5.0), (x: 5.00000001, y: 5.0), (x: 5.0, y: 5.00000001)];
        assert_eq!(rfc7946_polygon(&tiny), None);
    }

    #[test]
    fn rounding_has_no_negative_zero() {
        assert_eq!(round_to(-0.000000001, 7).to_string(), "0");
        assert_eq!(round_to(126.97800004, 7), 126.978);
        assert_eq!(round_to(1.005, 2), 1.0);
    }
}
