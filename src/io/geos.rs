//! Validity as GEOS judges it, through GDAL (`OGR_G_IsValid`): the judge
//! that QGIS, PostGIS's `ST_IsValid` and shapely share. geo's validation
//! (and [`crate::geom::validity`], which follows it) accepts a hole that
//! touches its shell at two points, which disconnects the interior, and
//! decides a vertex lying a rounding error off an edge differently; an
//! output that GEOS rejects is one the user cannot load.

use geo_types::MultiPolygon;

use crate::io::wkb::multi_polygon_to_gdal;

/// Whether GEOS finds `mp` valid (OGC simple features). Thread-safe: GDAL
/// makes a GEOS context per call.
///
/// ```
/// use geo_types::{polygon, MultiPolygon};
/// let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
/// assert!(dongne::io::geos::is_valid(&MultiPolygon(vec![square])));
/// let bowtie = polygon![(x: 0., y: 0.), (x: 4., y: 4.), (x: 4., y: 0.), (x: 0., y: 4.)];
/// assert!(!dongne::io::geos::is_valid(&MultiPolygon(vec![bowtie])));
/// ```
pub fn is_valid(mp: &MultiPolygon<f64>) -> bool {
    if mp.0.is_empty() {
        return true;
    }
    match multi_polygon_to_gdal(mp) {
        Ok(g) => g.is_valid(),
        Err(_) => false,
    }
}
