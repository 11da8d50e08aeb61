//! A coordinate transformation between two CRSs, in batches, refusing
//! non-finite results and naming the feature at fault.

use super::*;

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

pub(super) fn with_fid(e: Error, fid: Option<i64>) -> Error {
    match fid {
        Some(f) => e.feature(f),
        None => e,
    }
}

pub(super) fn first_non_finite(xs: &[f64], ys: &[f64]) -> Option<usize> {
    xs.iter()
        .zip(ys)
        .position(|(x, y)| !(x.is_finite() && y.is_finite()))
}

/// Index of the item that holds coordinate number `i` of a batch.
pub(super) fn owner_of<T: Coords>(items: &[T], i: usize) -> usize {
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
