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

mod coords;
mod transform;

pub use coords::Coords;
pub use transform::{non_finite_error, Transformer};

/// EPSG code of WGS 84 lon/lat, the CRS of GeoJSON (RFC 7946) and of OSM.
pub const LONLAT_EPSG: u32 = 4326;

/// Coordinates transformed per call to PROJ: large enough that the per-call
/// overhead vanishes, small enough that the scratch buffers stay small.
pub(super) const BATCH_COORDS: usize = 1 << 16;

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

/// A CRS as a definition another thread can rebuild it from (GDAL's
/// `SpatialRef` is not `Send`): PROJJSON with the data axis mapping, which
/// PROJJSON does not carry (without it, every lon/lat or northing-first layer
/// failed the round trip and was reprojected on one core).
#[derive(Debug, Clone)]
pub struct SrsDefinition {
    projjson: String,
    axes: AxisMappingStrategy,
}

impl SrsDefinition {
    /// The definition of `srs`, only when the CRS rebuilt from it is the same.
    pub fn of(srs: &SpatialRef) -> Option<SrsDefinition> {
        let def = SrsDefinition {
            projjson: srs.to_projjson().ok()?,
            axes: srs.axis_mapping_strategy(),
        };
        (def.rebuild().ok()? == *srs).then_some(def)
    }

    /// The CRS again, on this thread.
    pub fn rebuild(&self) -> Result<SpatialRef> {
        let mut srs = SpatialRef::from_definition(&self.projjson)
            .map_err(|e| Error::internal(format!("cannot rebuild a layer CRS: {e}")))?;
        srs.set_axis_mapping_strategy(self.axes);
        Ok(srs)
    }
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
