//! geo-types → OGR: the one way back from dongne's geometries that every
//! writer (GDAL formats, GeoParquet) and the GEOS check use. Below reading
//! and writing, so neither imports the other for it.

use gdal::vector::Geometry;

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
