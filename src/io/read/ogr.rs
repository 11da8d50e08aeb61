//! OGR geometries to geo-types, flattened by dimension; and the one way
//! back every writer uses.

use gdal::vector::{geometry_type_flatten, Geometry};
use geo_types::{Coord, LineString, Polygon};

use crate::io::reproject::Coords;

use super::*;

impl Shapes {
    pub(super) fn clear(&mut self) {
        self.points.clear();
        self.lines.clear();
        self.polygons.clear();
    }

    pub(super) fn all_finite(&self) -> bool {
        let mut ok = true;
        let mut check = |c: Coord<f64>| ok &= c.x.is_finite() && c.y.is_finite();
        self.points.iter().for_each(|c| check(*c));
        self.lines.iter().for_each(|l| l.visit(&mut check));
        self.polygons.iter().for_each(|p| p.visit(&mut check));
        ok
    }
}

/// Simple-feature name of an OGR geometry type, Z and M dropped.
pub fn geometry_type_name(g: &Geometry) -> String {
    let t = geometry_type_flatten(g.geometry_type());
    let name = match t {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        17 => "Triangle",
        101 => "LinearRing",
        _ => return format!("geometry type {t}"),
    };
    name.to_string()
}

/// Splits an OGR geometry into points, lines and polygons. Z/M are dropped;
/// curves are refused (by type name) rather than approximated silently.
pub(super) fn ogr_shapes(g: &Geometry, out: &mut Shapes) -> std::result::Result<(), String> {
    match geometry_type_flatten(g.geometry_type()) {
        1 => {
            if g.point_count() > 0 {
                let (x, y, _) = g.get_point(0);
                out.points.push(Coord { x, y });
            }
        }
        2 | 101 => {
            let ls = ogr_line(g);
            if !ls.0.is_empty() {
                out.lines.push(ls);
            }
        }
        3 => {
            let n = g.geometry_count();
            if n > 0 {
                let exterior = ogr_line(&g.get_geometry(0));
                let holes = (1..n).map(|i| ogr_line(&g.get_geometry(i))).collect();
                if !exterior.0.is_empty() {
                    out.polygons.push(Polygon::new(exterior, holes));
                }
            }
        }
        4..=7 => {
            for i in 0..g.geometry_count() {
                ogr_shapes(&g.get_geometry(i), out)?;
            }
        }
        _ => return Err(geometry_type_name(g)),
    }
    Ok(())
}

pub(super) fn ogr_line(g: &Geometry) -> LineString<f64> {
    let n = g.point_count();
    let mut coords = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y, _) = g.get_point(i as i32);
        coords.push(Coord { x, y });
    }
    LineString(coords)
}

/// geo-types → OGR, always a MultiPolygon (also when empty), as every
/// output format writes it. Through WKB: one call into GDAL per feature
/// instead of one per vertex (a third of the GeoPackage write on the tiled
/// 1 M set went to `setPoint`).
pub fn multi_polygon_to_gdal(mp: &geo_types::MultiPolygon<f64>) -> gdal::errors::Result<Geometry> {
    Geometry::from_wkb(&multi_polygon_wkb(mp))
}

/// ISO WKB (little-endian, 2D) of a MultiPolygon, as GDAL writes it; the
/// GeoParquet writer stores it as is.
pub fn multi_polygon_wkb(mp: &geo_types::MultiPolygon<f64>) -> Vec<u8> {
    let n: usize =
        mp.0.iter()
            .map(|p| {
                9 + std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| 4 + 16 * r.0.len())
                    .sum::<usize>()
            })
            .sum();
    let mut out = Vec::with_capacity(9 + n);
    let count = |out: &mut Vec<u8>, k: usize| out.extend_from_slice(&(k as u32).to_le_bytes());
    out.push(1);
    count(&mut out, 6);
    count(&mut out, mp.0.len());
    for p in &mp.0 {
        out.push(1);
        count(&mut out, 3);
        count(&mut out, 1 + p.interiors().len());
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            count(&mut out, r.0.len());
            for c in &r.0 {
                out.extend_from_slice(&c.x.to_le_bytes());
                out.extend_from_slice(&c.y.to_le_bytes());
            }
        }
    }
    out
}
