//! OGR geometries to geo-types, flattened by dimension (the way back is
//! [`crate::io::wkb`]).

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
