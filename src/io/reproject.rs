//! The working CRS and the coordinate transformations into and out of it.
//!
//! Every layer is reprojected into one metric CRS before any geometry work, and
//! the GeoJSON writer reprojects back to lon/lat. All transformations go through
//! GDAL's OSR with the traditional GIS axis order (x = lon/easting, y =
//! lat/northing) on both sides: the EPSG axis order of EPSG:4326 (lat, lon) or
//! EPSG:5179 (northing, easting) would swap coordinates silently.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::Source;

/// EPSG code of WGS 84 lon/lat, the CRS of GeoJSON (RFC 7946) and of OSM.
pub const LONLAT_EPSG: u32 = 4326;

/// Coordinates transformed per call to PROJ: large enough that the per-call
/// overhead vanishes, small enough that the scratch buffers stay small.
const BATCH_COORDS: usize = 1 << 16;

/// The metric CRS every stage works in.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct WorkingCrs {
    /// WKT2 of the CRS, so it can be rebuilt on any thread (a `SpatialRef` is
    /// not `Send`).
    pub wkt: String,
    pub epsg: Option<u32>,
    /// For people: `EPSG:32652 (WGS 84 / UTM zone 52N)`.
    pub label: String,
}

impl WorkingCrs {
    /// `EPSG:NNNN` as given to `--crs`; a geographic or non-metric CRS is refused
    /// because every distance and area parameter is in metres.
    pub fn from_user(s: &str) -> Result<WorkingCrs> {
        let code = parse_epsg(s).map_err(|e| {
            e.hint("for example --crs EPSG:5179 (Korea) or EPSG:32652 (UTM zone 52N); leave --crs out to use the UTM zone of the data")
        })?;
        let crs = WorkingCrs::from_epsg(code)?;
        let srs = crs.spatial_ref()?;
        ensure_metric(&srs, &crs.label)?;
        Ok(crs)
    }

    /// The UTM zone of a lon/lat point (the data's centre).
    pub fn auto(lon_lat_centre: (f64, f64)) -> Result<WorkingCrs> {
        let (lon, lat) = lon_lat_centre;
        if !(lon.is_finite() && lat.is_finite()) {
            return Err(Error::internal(format!(
                "cannot choose a UTM zone for the centre ({lon}, {lat})"
            )));
        }
        WorkingCrs::from_epsg(utm_epsg(lon, lat))
    }

    pub fn from_epsg(code: u32) -> Result<WorkingCrs> {
        let srs = epsg_srs(code)?;
        let wkt = srs
            .to_wkt()
            .map_err(|e| Error::internal(format!("cannot export EPSG:{code} as WKT: {e}")))?;
        Ok(WorkingCrs {
            wkt,
            epsg: Some(code),
            label: srs_label(&srs),
        })
    }

    /// A fresh `SpatialRef` in traditional GIS axis order.
    pub fn spatial_ref(&self) -> Result<SpatialRef> {
        let srs = match self.epsg {
            // From the code, so writers store the authority (GPKG's
            // gpkg_spatial_ref_sys, the .prj) and not only a WKT.
            Some(code) => SpatialRef::from_epsg(code),
            None => SpatialRef::from_wkt(&self.wkt),
        }
        .map_err(|e| Error::internal(format!("cannot rebuild CRS {}: {e}", self.label)))?;
        Ok(gis_order(srs))
    }
}

/// EPSG code of the UTM zone holding a lon/lat point: 326zz north of the
/// equator, 327zz south. The Norway and Svalbard exceptions are ignored: any
/// zone is metric, the one next door only distorts slightly more.
pub fn utm_epsg(lon: f64, lat: f64) -> u32 {
    let lon = if lon.is_finite() {
        lon.clamp(-180.0, 180.0)
    } else {
        0.0
    };
    let zone = (((lon + 180.0) / 6.0).floor() as i64 + 1).clamp(1, 60) as u32;
    if lat < 0.0 {
        32700 + zone
    } else {
        32600 + zone
    }
}

/// Parses `EPSG:NNNN` (any case, spaces around allowed).
pub fn parse_epsg(s: &str) -> Result<u32> {
    let t = s.trim();
    let code = t
        .split_once(':')
        .filter(|(auth, _)| auth.trim().eq_ignore_ascii_case("EPSG"))
        .and_then(|(_, code)| code.trim().parse::<u32>().ok())
        .filter(|&c| c > 0);
    code.ok_or_else(|| Error::input(format!("invalid CRS '{t}': expected EPSG:NNNN")))
}

/// A layer CRS given by the user (`--assume-crs EPSG:NNNN`); any CRS is fine
/// here, geographic ones included.
pub fn assumed_srs(s: &str) -> Result<SpatialRef> {
    let code = parse_epsg(s).map_err(|e| {
        e.hint("give the CRS the data is in, e.g. --assume-crs EPSG:4326 for lon/lat")
    })?;
    epsg_srs(code)
}

/// WGS 84 lon/lat in traditional GIS order.
pub fn lonlat_srs() -> Result<SpatialRef> {
    epsg_srs(LONLAT_EPSG)
}

/// `EPSG:5179 (Korea 2000 / Unified CS)`, or the CRS name when it has no code.
pub fn srs_label(srs: &SpatialRef) -> String {
    let name = srs.name().unwrap_or_else(|| "unnamed CRS".to_string());
    match srs_epsg(srs) {
        Some(code) => format!("EPSG:{code} ({name})"),
        None => name,
    }
}

/// The EPSG code of a CRS when it has one (also for a .prj that only carries a
/// name, through GDAL's identification).
pub fn srs_epsg(srs: &SpatialRef) -> Option<u32> {
    let direct = |s: &SpatialRef| match (s.auth_name().as_deref(), s.auth_code()) {
        (Some("EPSG"), Ok(code)) if code > 0 => Some(code as u32),
        _ => None,
    };
    direct(srs).or_else(|| {
        let mut probe = srs.clone();
        probe.auto_identify_epsg().ok()?;
        direct(&probe)
    })
}

fn epsg_srs(code: u32) -> Result<SpatialRef> {
    SpatialRef::from_epsg(code).map(gis_order).map_err(|_| {
        Error::input(format!("unknown CRS EPSG:{code}")).hint("check the code on https://epsg.io")
    })
}

fn gis_order(mut srs: SpatialRef) -> SpatialRef {
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    srs
}

fn ensure_metric(srs: &SpatialRef, label: &str) -> Result<()> {
    let hint = "use a projected CRS in metres, such as the data's UTM zone (EPSG:326NN north, EPSG:327NN south) or EPSG:5179 for Korea; or leave --crs out";
    if !srs.is_projected() {
        let what = if srs.is_geographic() {
            "a geographic CRS in degrees"
        } else {
            "not a projected CRS"
        };
        return Err(Error::input(format!(
            "{label} is {what}; the working CRS must be projected in metres"
        ))
        .hint(hint));
    }
    let unit = srs.linear_units();
    if (unit - 1.0).abs() > 1e-9 {
        let name = srs
            .linear_units_name()
            .unwrap_or_else(|| format!("{unit} m"));
        return Err(Error::input(format!(
            "{label} has units of '{name}'; the working CRS must be in metres"
        ))
        .hint(hint));
    }
    Ok(())
}

/// Anything whose coordinates can be visited in a fixed order: the two visits
/// must agree, because coordinates are gathered into flat buffers, transformed
/// in one call and written back by position.
pub trait Coords {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>));
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>));
}

impl Coords for Coord<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        f(*self)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        f(self)
    }
}

impl Coords for Point<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        f(self.0)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        f(&mut self.0)
    }
}

impl Coords for LineString<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.0.iter().for_each(|c| f(*c))
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.0.iter_mut().for_each(f)
    }
}

impl Coords for Polygon<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.exterior().visit(f);
        self.interiors().iter().for_each(|r| r.visit(f));
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.exterior_mut(|r| r.visit_mut(f));
        self.interiors_mut(|rs| rs.iter_mut().for_each(|r| r.visit_mut(f)));
    }
}

macro_rules! coords_of_collection {
    ($t:ty) => {
        impl Coords for $t {
            fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
                self.0.iter().for_each(|g| g.visit(f))
            }
            fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
                self.0.iter_mut().for_each(|g| g.visit_mut(f))
            }
        }
    };
}
coords_of_collection!(MultiPoint<f64>);
coords_of_collection!(MultiLineString<f64>);
coords_of_collection!(MultiPolygon<f64>);

impl Coords for Geometry<f64> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        match self {
            Geometry::Point(g) => g.visit(f),
            Geometry::Line(l) => {
                f(l.start);
                f(l.end)
            }
            Geometry::LineString(g) => g.visit(f),
            Geometry::Polygon(g) => g.visit(f),
            Geometry::MultiPoint(g) => g.visit(f),
            Geometry::MultiLineString(g) => g.visit(f),
            Geometry::MultiPolygon(g) => g.visit(f),
            Geometry::GeometryCollection(gc) => gc.0.iter().for_each(|g| g.visit(f)),
            Geometry::Rect(r) => {
                f(r.min());
                f(r.max())
            }
            Geometry::Triangle(t) => t.to_array().iter().for_each(|c| f(*c)),
        }
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        match self {
            Geometry::Point(g) => g.visit_mut(f),
            Geometry::Line(l) => {
                f(&mut l.start);
                f(&mut l.end)
            }
            Geometry::LineString(g) => g.visit_mut(f),
            Geometry::Polygon(g) => g.visit_mut(f),
            Geometry::MultiPoint(g) => g.visit_mut(f),
            Geometry::MultiLineString(g) => g.visit_mut(f),
            Geometry::MultiPolygon(g) => g.visit_mut(f),
            Geometry::GeometryCollection(gc) => gc.0.iter_mut().for_each(|g| g.visit_mut(f)),
            // A rectangle stays a rectangle only under an affine map: make it a
            // polygon so that its corners are transformed honestly.
            Geometry::Rect(r) => {
                let mut p = r.to_polygon();
                p.visit_mut(f);
                *self = Geometry::Polygon(p);
            }
            Geometry::Triangle(t) => {
                let mut p = t.to_polygon();
                p.visit_mut(f);
                *self = Geometry::Polygon(p);
            }
        }
    }
}

/// A coordinate transformation between two CRSs, in traditional GIS axis
/// order, that refuses to produce non-finite coordinates.
pub struct Transformer {
    ct: CoordTransform,
    from: String,
    to: String,
    source: Option<Source>,
}

impl std::fmt::Debug for Transformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Transformer({} -> {})", self.from, self.to)
    }
}

impl Transformer {
    /// Both CRSs are copied and switched to traditional GIS order, whatever
    /// the caller's copies say.
    pub fn new(from: &SpatialRef, to: &SpatialRef) -> Result<Transformer> {
        let from = gis_order(from.clone());
        let to = gis_order(to.clone());
        let (from_label, to_label) = (srs_label(&from), srs_label(&to));
        let ct = CoordTransform::new(&from, &to).map_err(|e| {
            Error::input(format!(
                "no coordinate transformation from {from_label} to {to_label}: {e}"
            ))
        })?;
        Ok(Transformer {
            ct,
            from: from_label,
            to: to_label,
            source: None,
        })
    }

    /// From a layer's CRS into the working CRS.
    pub fn to_working(from: &SpatialRef, crs: &WorkingCrs) -> Result<Transformer> {
        Transformer::new(from, &crs.spatial_ref()?)
    }

    /// From the working CRS to WGS 84 lon/lat (GeoJSON output).
    pub fn to_lonlat(crs: &WorkingCrs) -> Result<Transformer> {
        Transformer::new(&crs.spatial_ref()?, &lonlat_srs()?)
    }

    /// From WGS 84 lon/lat into some CRS (a `--bbox` into a layer's CRS).
    pub fn from_lonlat(to: &SpatialRef) -> Result<Transformer> {
        Transformer::new(&lonlat_srs()?, to)
    }

    /// Errors name this file and layer.
    pub fn with_source(mut self, source: Source) -> Transformer {
        self.source = Some(source);
        self
    }

    pub fn from_label(&self) -> &str {
        &self.from
    }

    pub fn to_label(&self) -> &str {
        &self.to
    }

    /// Transforms one geometry in place; `fid` names it in errors.
    pub fn transform_in_place<G: Coords>(&self, g: &mut G, fid: Option<i64>) -> Result<()> {
        self.transform_all(std::slice::from_mut(g), |_| fid)
    }

    /// A transformed copy of one geometry.
    pub fn transform<G: Coords + Clone>(&self, g: &G, fid: Option<i64>) -> Result<G> {
        let mut out = g.clone();
        self.transform_in_place(&mut out, fid)?;
        Ok(out)
    }

    pub fn point(&self, p: Point<f64>, fid: Option<i64>) -> Result<Point<f64>> {
        self.transform(&p, fid)
    }

    pub fn line_string(&self, g: &LineString<f64>, fid: Option<i64>) -> Result<LineString<f64>> {
        self.transform(g, fid)
    }

    pub fn polygon(&self, g: &Polygon<f64>, fid: Option<i64>) -> Result<Polygon<f64>> {
        self.transform(g, fid)
    }

    pub fn multi_polygon(
        &self,
        g: &MultiPolygon<f64>,
        fid: Option<i64>,
    ) -> Result<MultiPolygon<f64>> {
        self.transform(g, fid)
    }

    pub fn geometry(&self, g: &Geometry<f64>, fid: Option<i64>) -> Result<Geometry<f64>> {
        self.transform(g, fid)
    }

    /// Transforms many items in place with one PROJ call per batch of
    /// coordinates instead of one per item. `fid_of` names the item at fault
    /// when a coordinate is not finite, before or after the transformation.
    pub fn transform_all<T: Coords>(
        &self,
        items: &mut [T],
        fid_of: impl Fn(&T) -> Option<i64>,
    ) -> Result<()> {
        let mut xs = Vec::with_capacity(BATCH_COORDS);
        let mut ys = Vec::with_capacity(BATCH_COORDS);
        let mut start = 0;
        while start < items.len() {
            xs.clear();
            ys.clear();
            // Whole items per batch: a batch ends after the item that fills it.
            let mut end = start;
            while end < items.len() && xs.len() < BATCH_COORDS {
                items[end].visit(&mut |c| {
                    xs.push(c.x);
                    ys.push(c.y);
                });
                end += 1;
            }
            let batch = &mut items[start..end];
            if let Some(i) = first_non_finite(&xs, &ys) {
                let fid = fid_of(&batch[owner_of(batch, i)]);
                return Err(self.non_finite_input(fid));
            }
            let ok = self.ct.transform_coords(&mut xs, &mut ys, &mut []).is_ok();
            if let Some(i) = first_non_finite(&xs, &ys).or(if ok { None } else { Some(0) }) {
                let fid = fid_of(&batch[owner_of(batch, i)]);
                return Err(self.failed(fid));
            }
            let mut k = 0;
            for item in batch.iter_mut() {
                item.visit_mut(&mut |c| {
                    c.x = xs[k];
                    c.y = ys[k];
                    k += 1;
                });
            }
            start = end;
        }
        Ok(())
    }

    /// Transforms parallel coordinate slices in place (points already split
    /// into x and y). `fid_of(i)` names the feature of coordinate `i`.
    pub fn transform_xy(
        &self,
        xs: &mut [f64],
        ys: &mut [f64],
        fid_of: impl Fn(usize) -> Option<i64>,
    ) -> Result<()> {
        if xs.len() != ys.len() {
            return Err(Error::internal("transform_xy: x and y differ in length"));
        }
        let chunks = xs.chunks_mut(BATCH_COORDS).zip(ys.chunks_mut(BATCH_COORDS));
        for (k, (cx, cy)) in chunks.enumerate() {
            let offset = k * BATCH_COORDS;
            if let Some(i) = first_non_finite(cx, cy) {
                return Err(self.non_finite_input(fid_of(offset + i)));
            }
            let ok = self.ct.transform_coords(cx, cy, &mut []).is_ok();
            if let Some(i) = first_non_finite(cx, cy).or(if ok { None } else { Some(0) }) {
                return Err(self.failed(fid_of(offset + i)));
            }
        }
        Ok(())
    }

    /// Bounds `[min_x, min_y, max_x, max_y]`, edges densified so that a curved
    /// edge in the target CRS is still inside.
    pub fn bounds(&self, b: [f64; 4]) -> Result<[f64; 4]> {
        self.ct.transform_bounds(&b, 21).map_err(|e| {
            self.context(Error::input(format!(
                "cannot transform the box {b:?} from {} to {}: {e}",
                self.from, self.to
            )))
        })
    }

    fn non_finite_input(&self, fid: Option<i64>) -> Error {
        self.context(with_fid(non_finite_error(), fid))
    }

    fn failed(&self, fid: Option<i64>) -> Error {
        let e = Error::input(format!(
            "coordinates cannot be transformed from {} to {} (result not finite)",
            self.from, self.to
        ))
        .hint("check that the layer's CRS is right (a .prj or --assume-crs that does not match the coordinates gives this)");
        self.context(with_fid(e, fid))
    }

    fn context(&self, e: Error) -> Error {
        match &self.source {
            Some(s) => e.file(s.file.clone()).layer(s.layer.clone()),
            None => e,
        }
    }
}

/// A NaN or infinite coordinate in the input (without file context).
pub fn non_finite_error() -> Error {
    Error::input("non-finite coordinate (NaN or infinite)")
        .hint("repair or drop this feature, e.g. with ogr2ogr -where or QGIS")
}

fn with_fid(e: Error, fid: Option<i64>) -> Error {
    match fid {
        Some(f) => e.feature(f),
        None => e,
    }
}

fn first_non_finite(xs: &[f64], ys: &[f64]) -> Option<usize> {
    xs.iter()
        .zip(ys)
        .position(|(x, y)| !(x.is_finite() && y.is_finite()))
}

/// Index of the item that holds coordinate number `i` of a batch.
fn owner_of<T: Coords>(items: &[T], i: usize) -> usize {
    let mut seen = 0;
    for (k, item) in items.iter().enumerate() {
        let mut n = 0;
        item.visit(&mut |_| n += 1);
        seen += n;
        if i < seen {
            return k;
        }
    }
    items.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{coord, polygon};

    #[test]
    fn seoul_city_hall_to_korea_unified_cs() {
        let crs = WorkingCrs::from_user("EPSG:5179").unwrap();
        let t = Transformer::new(&lonlat_srs().unwrap(), &crs.spatial_ref().unwrap()).unwrap();
        let p = t.point(Point::new(126.978, 37.5665), None).unwrap();
        assert!((p.x() - 953901.165).abs() < 0.01, "{p:?}");
        assert!((p.y() - 1952032.081).abs() < 0.01, "{p:?}");
        // And back.
        let back = Transformer::to_lonlat(&crs)
            .unwrap()
            .point(p, None)
            .unwrap();
        assert!((back.x() - 126.978).abs() < 1e-9 && (back.y() - 37.5665).abs() < 1e-9);
    }

    #[test]
    fn utm_zones() {
        assert_eq!(utm_epsg(126.978, 37.5665), 32652);
        assert_eq!(utm_epsg(9.52, 47.14), 32632);
        assert_eq!(utm_epsg(-58.4, -34.6), 32721);
        assert_eq!(utm_epsg(180.0, 10.0), 32660);
        assert_eq!(utm_epsg(-180.0, 10.0), 32601);
        let auto = WorkingCrs::auto((126.978, 37.5665)).unwrap();
        assert_eq!(auto.epsg, Some(32652));
        assert_eq!(auto.label, "EPSG:32652 (WGS 84 / UTM zone 52N)");
    }

    #[test]
    fn user_crs_must_be_epsg_and_metric() {
        let e = WorkingCrs::from_user("UTM52").unwrap_err();
        assert_eq!(e.message, "invalid CRS 'UTM52': expected EPSG:NNNN");
        assert!(e.hint.is_some());
        let e = WorkingCrs::from_user("EPSG:4326").unwrap_err();
        assert_eq!(
            e.message,
            "EPSG:4326 (WGS 84) is a geographic CRS in degrees; the working CRS must be projected in metres"
        );
        let e = WorkingCrs::from_user("EPSG:2263").unwrap_err();
        assert_eq!(
            e.message,
            "EPSG:2263 (NAD83 / New York Long Island (ftUS)) has units of 'US survey foot'; the working CRS must be in metres"
        );
        let e = WorkingCrs::from_user("epsg:999999").unwrap_err();
        assert_eq!(e.message, "unknown CRS EPSG:999999");
        assert_eq!(
            WorkingCrs::from_user(" epsg:5179 ").unwrap().epsg,
            Some(5179)
        );
    }

    #[test]
    fn batches_keep_item_order_and_name_the_bad_feature() {
        let t = Transformer::new(&lonlat_srs().unwrap(), &epsg_srs(32652).unwrap())
            .unwrap()
            .with_source(Source {
                file: "a.geojson".into(),
                layer: "a".into(),
            });
        let mut polys = vec![
            polygon![(x: 127.0, y: 37.0), (x: 127.001, y: 37.0), (x: 127.0, y: 37.001)],
            polygon![(x: 127.0, y: 37.5), (x: 127.001, y: 37.5), (x: 127.0, y: 37.501)],
        ];
        let expect: Vec<_> = polys.iter().map(|p| t.polygon(p, None).unwrap()).collect();
        t.transform_all(&mut polys, |_| None).unwrap();
        assert_eq!(polys, expect);

        let mut pts = vec![coord! {x: 127.0, y: 37.0}, coord! {x: 127.0, y: f64::NAN}];
        let e = t
            .transform_all(&mut pts, |c| Some(c.x as i64 + 1))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.geojson (layer 'a', feature 128): non-finite coordinate (NaN or infinite)\n  hint: repair or drop this feature, e.g. with ogr2ogr -where or QGIS"
        );
        // Latitude 95 does not exist: PROJ gives infinity, which is refused.
        let mut pts = vec![coord! {x: 127.0, y: 37.0}, coord! {x: 127.0, y: 95.0}];
        let e = t.transform_all(&mut pts, |_| Some(7)).unwrap_err();
        assert_eq!(e.feature, Some(7));
        assert_eq!(
            e.message,
            "coordinates cannot be transformed from EPSG:4326 (WGS 84) to EPSG:32652 (WGS 84 / UTM zone 52N) (result not finite)"
        );
    }
}
