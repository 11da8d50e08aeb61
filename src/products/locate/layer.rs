//! A neighborhood layer read back: each feature's geometry and attributes,
//! from any file dongne writes or a PostGIS table.

use super::*;

/// The attributes of one feature of a neighborhood layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureInfo {
    /// Feature id in the file (GDAL FID).
    pub fid: i64,
    pub nbhd_id: String,
    /// `neighborhood`, or the barrier kind (`water`, `park`, `mountain`…);
    /// empty when the layer has no `kind` field.
    pub kind: String,
    pub admin_code: String,
    pub admin_name: String,
    /// The feature's name; empty when unnamed or the layer has no `name`.
    pub name: String,
    /// What gave the name (`place=village`, `fallback`…): `name_source`,
    /// or `name_src` in a Shapefile; empty when absent.
    pub name_source: String,
    /// 1 for the neighborhoods as drawn, 2, 3, … for coarser levels; 1 when
    /// the layer has no `level` field (written before levels).
    pub level: u32,
}

/// A neighborhood layer read back from a file, in its own CRS, features
/// sorted by `nbhd_id` (then feature id): the order the edge rule needs.
#[derive(Debug, Clone)]
pub struct NeighborhoodLayer {
    pub source: Source,
    /// WKT of the layer's CRS; `None` when it declares none. (A
    /// `SpatialRef` is not `Send`: rebuild one with [`Self::spatial_ref`].)
    pub crs_wkt: Option<String>,
    /// `EPSG:5179 (Korea 2000 / Unified CS)`, or `none`.
    pub crs_label: String,
    pub info: Vec<FeatureInfo>,
    pub geoms: Vec<MultiPolygon<f64>>,
    /// Whether the layer has a `name_source` field: a layer written before
    /// features had names has none, and nothing can be said of its names.
    pub has_name_source: bool,
}

impl NeighborhoodLayer {
    /// The levels the layer holds, in order.
    pub fn levels(&self) -> Vec<u32> {
        let set: std::collections::BTreeSet<u32> = self.info.iter().map(|i| i.level).collect();
        set.into_iter().collect()
    }

    /// The features of one level only: each level tiles the admin units,
    /// so a point or a measure takes one level at a time.
    pub fn at_level(mut self, level: u32) -> Result<NeighborhoodLayer> {
        let levels = self.levels();
        if !levels.contains(&level) {
            let have: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
            return Err(Error::input(format!(
                "no feature at level {level}; the layer has level {}",
                have.join(", ")
            ))
            .file(self.source.file.clone())
            .layer(self.source.layer.clone())
            .hint(
                "give a level the layer holds (dongne generate --levels writes levels 2, 3, …)",
            ));
        }
        let keep: Vec<bool> = self.info.iter().map(|i| i.level == level).collect();
        let mut k = keep.iter();
        self.info.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        self.geoms.retain(|_| *k.next().unwrap_or(&false));
        Ok(self)
    }

    /// The layer's CRS in traditional GIS axis order (x = lon/easting).
    pub fn spatial_ref(&self) -> Result<Option<SpatialRef>> {
        let Some(wkt) = &self.crs_wkt else {
            return Ok(None);
        };
        let mut srs = SpatialRef::from_wkt(wkt).map_err(|e| {
            Error::internal(format!("cannot rebuild the layer's CRS: {e}"))
                .file(self.source.file.clone())
        })?;
        srs.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
        Ok(Some(srs))
    }

    /// The CRS, or an error naming the file when the layer declares none.
    pub fn require_srs(&self) -> Result<SpatialRef> {
        self.spatial_ref()?.ok_or_else(|| {
            Error::input("the neighborhood layer has no CRS")
                .file(self.source.file.clone())
                .layer(self.source.layer.clone())
                .hint("write it again with dongne generate, or assign a CRS with ogr2ogr -a_srs")
        })
    }

    /// The geometries transformed into `to` (e.g. the working CRS of a run).
    pub fn geoms_in(&self, to: &SpatialRef) -> Result<Vec<MultiPolygon<f64>>> {
        let from = self.require_srs()?;
        let tr = Transformer::new(&from, to)?.with_source(self.source.clone());
        let mut out = self.geoms.clone();
        for (g, info) in out.iter_mut().zip(&self.info) {
            tr.transform_in_place(g, Some(info.fid))?;
        }
        Ok(out)
    }
}

/// Reads a neighborhood layer: polygons or multipolygons with an `nbhd_id`
/// field (`kind`, `admin_code`, `admin_name`, `name` and `name_source` are
/// read when present).
/// Features without a geometry are left out; any other geometry type, a
/// missing `nbhd_id` field or an empty layer is an input error naming the
/// file, layer and feature.
pub fn read_neighborhoods(spec: &LayerConfig) -> Result<NeighborhoodLayer> {
    // A GeoPackage written by dongne also holds `layer_styles` (and maybe
    // debug layers): without a layer name, take `neighborhoods`.
    let mut spec = spec.clone();
    if spec.layer.is_none() && spec.path.exists() {
        let ds = read::open_dataset(&spec.path)?;
        if read::layer_names(&ds).len() > 1
            && read::layer_names(&ds)
                .iter()
                .any(|n| n == crate::io::write::LAYER_NAME)
        {
            spec.layer = Some(crate::io::write::LAYER_NAME.to_string());
        }
    }
    let mut opened = read::open_layer(&spec)?;
    let Some(id_field) = opened.find_field(&["nbhd_id"]) else {
        return Err(opened
            .error(format!(
                "no field 'nbhd_id'; the layer has: {}",
                opened.fields.join(", ")
            ))
            .hint(
                "give the layer written by `dongne generate` (GeoPackage layer 'neighborhoods')",
            ));
    };
    let kind_field = opened.find_field(&["kind"]);
    let code_field = opened.find_field(&["admin_code"]);
    let admin_name_field = opened.find_field(&["admin_name"]);
    let name_field = opened.find_field(&["name"]);
    // A Shapefile's field names stop at 10 characters.
    let source_field = opened.find_field(&["name_source", "name_src"]);
    let level_field = opened.find_field(&["level"]);
    let crs_label = opened.crs_label();
    let crs_wkt = opened.crs_wkt()?;
    let mut rows: Vec<(FeatureInfo, MultiPolygon<f64>)> = Vec::new();
    gdal_errors::take_gdal_errors();
    let source = opened.source.clone();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = read::feature_id(&f, position);
        let err = |msg: String| source.error(msg).feature(fid);
        let text = |idx: Option<usize>| -> String {
            idx.and_then(|i| f.field_as_string(i).ok().flatten())
                .unwrap_or_default()
        };
        let Some(g) = f.geometry() else {
            tracing::debug!(fid, "feature without geometry left out");
            continue;
        };
        let geom = g
            .to_geo()
            .map_err(|e| err(format!("unreadable geometry: {e}")))?;
        let mp = match geom {
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            Geometry::MultiPolygon(mp) => mp,
            other => {
                return Err(err(format!(
                    "geometry is a {}, expected a polygon",
                    geometry_name(&other)
                ))
                .hint("give a polygon layer of neighborhoods (the output of dongne generate)"))
            }
        };
        let mut finite = true;
        for p in &mp.0 {
            for c in std::iter::once(p.exterior())
                .chain(p.interiors())
                .flat_map(|r| r.0.iter())
            {
                finite &= c.x.is_finite() && c.y.is_finite();
            }
        }
        if !finite {
            return Err(err("non-finite coordinate (NaN or infinite)".into())
                .hint("repair or drop this feature, e.g. with ogr2ogr -where or QGIS"));
        }
        let info = FeatureInfo {
            fid,
            nbhd_id: text(Some(id_field)),
            kind: text(kind_field),
            admin_code: text(code_field),
            admin_name: text(admin_name_field),
            name: text(name_field),
            name_source: text(source_field),
            level: level_field
                .and_then(|i| f.field_as_integer(i).ok().flatten())
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(1),
        };
        rows.push((info, mp));
    }
    gdal_errors::check_read_errors(&source)?;
    if rows.is_empty() {
        return Err(opened
            .error("the layer has no polygon feature")
            .hint("give the layer written by `dongne generate`"));
    }
    rows.sort_by(|a, b| (&a.0.nbhd_id, a.0.fid).cmp(&(&b.0.nbhd_id, b.0.fid)));
    let (info, geoms) = rows.into_iter().unzip();
    Ok(NeighborhoodLayer {
        source: opened.source.clone(),
        crs_wkt,
        crs_label,
        info,
        geoms,
        has_name_source: source_field.is_some(),
    })
}

pub(super) fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}
