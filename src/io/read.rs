//! Reading the input layers through GDAL into [`Inputs`] in the working CRS.
//!
//! Each layer is opened, checked (file, layer, CRS, fields, geometry types),
//! filtered (`where`, `--bbox`), read in FID order into a [`Stage`] in its own
//! CRS, and only then reprojected in batches once the working CRS is known (the
//! automatic UTM zone depends on what was read). Polygons are validated and
//! repaired in the working CRS, where the geometry stages need them valid.
//! Every problem the user can fix is an [`Error`] naming file, layer and feature.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Once;

use gdal::errors::CplErrType;
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{geometry_type_flatten, Feature, Geometry, LayerAccess, OwnedLayer};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::algorithm::validation::{
    CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole,
};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{
    Area, BooleanOps, BoundingRect, MakeValid, PreparedGeometry, Relate, RemoveRepeatedPoints,
};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::config::{Config, LayerConfig, Params};
use crate::io::osm_tags;
use crate::io::reproject::{self, Coords, Transformer, WorkingCrs};
use crate::model::{
    AdminUnit, AreaBarrier, BarrierKind, Building, Inputs, LanduseArea, LineBarrier, Source,
};

/// How many invalid features a report names (the count is always complete).
const MAX_INVALID_EXAMPLES: usize = 10;

/// What was read from one layer, for logs and for `dongne check`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    /// `buildings`, `admin`, `water`, `roads`, `rail`, `mountains`, `parks`, `landuse`.
    pub role: String,
    #[serde(serialize_with = "serialize_source")]
    pub source: Source,
    /// GDAL driver short name (`GPKG`, `ESRI Shapefile`, `GeoJSON`, `OSM`, …).
    pub driver: String,
    /// The layer's CRS (`EPSG:4326 (WGS 84)`), `assumed` when it came from
    /// `--assume-crs`.
    pub crs: String,
    /// Geometry types met, sorted (`MultiPolygon`, `Polygon`).
    pub geometry_types: Vec<String>,
    /// Features read after the `where` and `--bbox` filters (for an OSM
    /// preset role: features whose tags give them that role).
    pub features_read: usize,
    /// Features that gave at least one input (the rest are in `dropped`).
    pub features_used: usize,
    /// Invalid polygons that were repaired.
    pub invalid_repaired: usize,
    /// The first invalid features, with the reason.
    pub invalid_examples: Vec<InvalidFeature>,
    /// Features (or parts) left out, by reason.
    pub dropped: BTreeMap<String, usize>,
    /// `[min_lon, min_lat, max_lon, max_lat]` of the features read.
    pub extent_lonlat: Option<[f64; 4]>,
    /// Attribute fields of the layer.
    pub fields: Vec<String>,
    /// Barrier lines (roads, rail, water): culverts kept, covered stretches
    /// dropped and line ends snapped ([`crate::io::network`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::io::network::NetworkCounts>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvalidFeature {
    pub fid: i64,
    pub reason: String,
}

fn serialize_source<S: serde::Serializer>(
    s: &Source,
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = ser.serialize_struct("Source", 2)?;
    st.serialize_field("file", &s.file)?;
    st.serialize_field("layer", &s.layer)?;
    st.end()
}

/// What a layer is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Buildings,
    Admin,
    Water,
    Roads,
    Rail,
    Mountains,
    Parks,
    Landuse,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Buildings,
        Role::Admin,
        Role::Water,
        Role::Roads,
        Role::Rail,
        Role::Mountains,
        Role::Parks,
        Role::Landuse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Buildings => "buildings",
            Role::Admin => "admin",
            Role::Water => "water",
            Role::Roads => "roads",
            Role::Rail => "rail",
            Role::Mountains => "mountains",
            Role::Parks => "parks",
            Role::Landuse => "landuse",
        }
    }

    /// The geometry a feature of this role must have, for messages.
    fn expected(self) -> &'static str {
        match self {
            Role::Buildings => "a point or a polygon (footprint)",
            Role::Water => "a polygon or a line",
            Role::Roads | Role::Rail => "a line",
            Role::Admin | Role::Mountains | Role::Parks | Role::Landuse => "a polygon",
        }
    }

    fn barrier_kind(self) -> BarrierKind {
        match self {
            Role::Rail => BarrierKind::Rail,
            Role::Mountains => BarrierKind::Mountain,
            Role::Parks => BarrierKind::Park,
            Role::Water => BarrierKind::Water,
            _ => BarrierKind::Road,
        }
    }

    /// The OSM key that holds the class of a line of this role, also the
    /// first field looked for in other formats (OSM-derived GeoPackages).
    pub(crate) fn osm_class_key(self) -> Option<&'static str> {
        match self {
            Role::Roads => Some("highway"),
            Role::Rail => Some("railway"),
            Role::Water => Some("waterway"),
            Role::Landuse => Some("landuse"),
            _ => None,
        }
    }
}

/// Reads one layer for `role` as [`load`](crate::io::inputs::load) would (filters, CRS, fields,
/// geometry types, repairs) and returns only its report: the building block
/// of `dongne check`. The working CRS is `cfg.crs` or the UTM zone of this
/// layer.
pub fn check_layer(role: Role, spec: &LayerConfig, cfg: &Config) -> Result<LayerReport> {
    capture_gdal_errors();
    let given_crs = cfg.crs.as_deref().map(WorkingCrs::from_user).transpose()?;
    let opts = ReadOptions::from_config(cfg)?;
    let mut stage = read_layer(role, spec, &opts)?;
    stage.report.extent_lonlat = stage.extent_lonlat()?;
    let crs = match (given_crs, stage.report.extent_lonlat) {
        (Some(c), _) => c,
        (None, Some(e)) => WorkingCrs::auto(((e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0))?,
        (None, None) => return Ok(stage.report),
    };
    stage.finish(&crs, &cfg.params, &mut Inputs::default(), &mut [0.0; 2])
}

/// What every layer read needs besides its own spec.
pub(crate) struct ReadOptions {
    pub bbox: Option<[f64; 4]>,
    pub assume_crs: Option<SpatialRef>,
    pub params: Params,
    pub admin_code: Option<String>,
    pub admin_name: Option<String>,
}

impl ReadOptions {
    pub(crate) fn from_config(cfg: &Config) -> Result<ReadOptions> {
        Ok(ReadOptions {
            bbox: cfg.bbox.map(check_bbox).transpose()?,
            assume_crs: cfg
                .assume_crs
                .as_deref()
                .map(reproject::assumed_srs)
                .transpose()?,
            params: cfg.params.clone(),
            admin_code: cfg.admin_code.clone(),
            admin_name: cfg.admin_name.clone(),
        })
    }
}

fn check_bbox(b: [f64; 4]) -> Result<[f64; 4]> {
    let [w, s, e, n] = b;
    let finite = b.iter().all(|v| v.is_finite());
    let in_range = (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&s)
        && (-90.0..=90.0).contains(&n);
    if !(finite && in_range && w < e && s < n) {
        return Err(Error::input(format!(
            "invalid bbox {b:?}: expected [min_lon, min_lat, max_lon, max_lat] in degrees"
        ))
        .hint("for example --bbox 9.47,47.04,9.64,47.28"));
    }
    Ok(b)
}

// ---------------------------------------------------------------------------
// Opening

/// One layer, open and checked, ready to be filtered and read.
pub struct OpenedLayer {
    pub layer: OwnedLayer,
    pub source: Source,
    pub driver: String,
    /// The CRS the layer declares; `None` when it has none.
    pub srs: Option<SpatialRef>,
    pub fields: Vec<String>,
}

impl std::fmt::Debug for OpenedLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpenedLayer({}:{}, {})",
            self.source.file, self.source.layer, self.driver
        )
    }
}

/// Opens a vector dataset read-only; a missing or unreadable file is an input
/// error naming it.
pub fn open_dataset(path: &Path) -> Result<Dataset> {
    capture_gdal_errors();
    let file = path.display().to_string();
    if crate::io::postgis::is_connection(&file) {
        return crate::io::postgis::connect(&file, false, &[]);
    }
    if crate::io::geoparquet::is_parquet(path) {
        return crate::io::geoparquet::open(path);
    }
    if !path.exists() {
        return Err(Error::input("file not found").file(file).hint(
            "check the path (relative paths start from the current folder, or from the config file's folder)",
        ));
    }
    take_gdal_errors();
    // A shapefile's undeclared text encoding, detected (io::encoding).
    let encoding = match crate::io::encoding::dbf_text(path) {
        crate::io::encoding::DbfText::Detected(e) => {
            tracing::info!(file = %file, encoding = e, "no .cpg: the .dbf's text is read in the encoding it is written in");
            Some(format!("ENCODING={e}"))
        }
        // Decoded byte for byte: nothing turns into U+FFFD, so a wrong
        // guess can still be undone (and is warned of).
        crate::io::encoding::DbfText::Unknown => {
            tracing::warn!("{}", crate::io::encoding::unknown_message(path));
            Some("ENCODING=ISO-8859-1".to_string())
        }
        _ => None,
    };
    let open_options: Vec<&str> = encoding.iter().map(String::as_str).collect();
    let opts = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR
            | GdalOpenFlags::GDAL_OF_READONLY
            | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        open_options: (!open_options.is_empty()).then_some(&open_options[..]),
        ..Default::default()
    };
    Dataset::open_ex(path, opts).map_err(|e| {
        let why = gdal_reason(e);
        Error::input(format!("cannot open as a vector dataset: {why}"))
            .file(file)
            .hint("dongne reads GDAL vector formats (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF…); check that the file is complete")
    })
}

/// Names of the layers of a dataset, in the dataset's order.
pub fn layer_names(ds: &Dataset) -> Vec<String> {
    ds.layers().map(|l| l.name()).collect()
}

/// Opens the layer a [`LayerConfig`] names, or the file's only layer with
/// geometry (tables without, such as a GeoPackage's `layer_styles`, do not
/// count). A file of several such layers (an OSM extract, a GeoPackage of
/// provinces and districts) needs the name.
pub fn open_layer(spec: &LayerConfig) -> Result<OpenedLayer> {
    let ds = open_dataset(&spec.path)?;
    let file = spec.path.display().to_string();
    let driver = ds.driver().short_name();
    let names = layer_names(&ds);
    let spatial: Vec<usize> = ds
        .layers()
        .enumerate()
        .filter(|(_, l)| l.defn().geom_fields().count() > 0)
        .map(|(i, _)| i)
        .collect();
    let index = match &spec.layer {
        Some(name) => names.iter().position(|n| n == name).ok_or_else(|| {
            Error::input(format!(
                "layer '{name}' not found; the file has: {}",
                names.join(", ")
            ))
            .file(file.clone())
            .hint(format!("give the layer as {file}:LAYER"))
        })?,
        None if driver == "OSM" => {
            return Err(Error::input(format!(
                "an OSM file holds several layers; name one of: {}",
                names.join(", ")
            ))
            .file(file.clone())
            .hint(format!(
                "e.g. {file}:lines for roads, or use --osm {file} to take every layer from its tags"
            )))
        }
        None if names.is_empty() => return Err(Error::input("the file has no layers").file(file)),
        // Taking the first of several layers would read, say, provinces
        // where districts were meant, without a word.
        None if spatial.len() > 1 => {
            let spatial: Vec<&str> = spatial.iter().map(|&i| names[i].as_str()).collect();
            return Err(Error::input(format!(
                "the file holds {} layers; name one of: {}",
                spatial.len(),
                spatial.join(", ")
            ))
            .file(file.clone())
            .hint(format!(
                "give the layer as {file}:{} (or layer = \"…\" in the config)",
                spatial[0]
            )));
        }
        None => spatial.first().copied().unwrap_or(0),
    };
    let layer = ds
        .into_layer(index)
        .map_err(|e| Error::input(format!("cannot open layer {index}: {e}")).file(file.clone()))?;
    let fields = layer.defn().fields().map(|f| f.name()).collect();
    let srs = layer.spatial_ref();
    Ok(OpenedLayer {
        source: Source {
            file,
            layer: names[index].clone(),
        },
        driver,
        srs,
        fields,
        layer,
    })
}

impl OpenedLayer {
    /// `EPSG:4326 (WGS 84)`, or `none` when the layer declares no CRS.
    pub fn crs_label(&self) -> String {
        self.srs
            .as_ref()
            .map(reproject::srs_label)
            .unwrap_or_else(|| "none".to_string())
    }

    /// The layer's CRS, or the assumed one when it declares none.
    pub fn srs_or_assumed(&self, assumed: Option<&SpatialRef>) -> Result<(SpatialRef, String)> {
        match (&self.srs, assumed) {
            (Some(srs), _) => Ok((srs.clone(), reproject::srs_label(srs))),
            (None, Some(a)) => Ok((a.clone(), format!("{} (assumed)", reproject::srs_label(a)))),
            (None, None) => {
                // A .prj that is there but says nothing GDAL understands is
                // another fault than a missing one.
                let prj = Path::new(&self.source.file).with_extension("prj");
                if prj.exists() {
                    return Err(self
                        .error(format!("{} is not a CRS GDAL can read", prj.display()))
                        .hint("replace the .prj with a valid one (e.g. from epsg.io), or delete it and pass --assume-crs EPSG:NNNN"));
                }
                Err(self
                    .error(
                        "no CRS: the layer does not say which coordinate reference system it is in",
                    )
                    .hint("add a .prj or pass --assume-crs EPSG:NNNN"))
            }
        }
    }

    /// Index of a field the configuration names; a missing one lists the
    /// fields there are.
    pub fn field_index(&self, name: &str, what: &str) -> Result<usize> {
        self.layer.defn().field_index(name).map_err(|_| {
            if self.fields.is_empty() {
                return self
                    .error(format!("field '{name}' ({what}) not found: the layer has no attribute fields"))
                    .hint("a shapefile keeps its fields in the .dbf beside the .shp: check that it is there");
            }
            self.error(format!(
                "field '{name}' ({what}) not found; the layer has: {}",
                self.fields.join(", ")
            ))
            .hint("field names are those listed; check the spelling in the config or flags")
        })
    }

    /// The first of `candidates` the layer has, matched case-insensitively.
    pub fn find_field(&self, candidates: &[&str]) -> Option<usize> {
        candidates
            .iter()
            .find_map(|c| self.fields.iter().position(|f| f.eq_ignore_ascii_case(c)))
    }

    /// Applies an OGR SQL `where`, as ogr2ogr's `-where`.
    pub fn set_where(&mut self, sql: &str) -> Result<()> {
        take_gdal_errors();
        self.layer.set_attribute_filter(sql).map_err(|e| {
            let why = gdal_reason(e);
            self.error(format!("invalid where filter `{sql}`: {why}"))
                .hint("the filter is OGR SQL, as in ogr2ogr -where; quote text with single quotes: highway = 'primary'")
        })
    }

    /// Reads only features whose envelope meets the lon/lat box.
    pub fn set_bbox(&mut self, bbox_lonlat: [f64; 4], srs: &SpatialRef) -> Result<()> {
        let b = Transformer::from_lonlat(srs)?
            .with_source(self.source.clone())
            .bounds(bbox_lonlat)?;
        self.layer.set_spatial_filter_rect(b[0], b[1], b[2], b[3]);
        Ok(())
    }

    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::input(message)
            .file(self.source.file.clone())
            .layer(self.source.layer.clone())
    }
}

// ---------------------------------------------------------------------------
// GDAL messages

thread_local! {
    /// GDAL failures raised on this thread since the last `take_gdal_errors`.
    static GDAL_ERRORS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Routes GDAL's messages to `tracing` instead of stderr, and keeps failures
/// per thread so that a read that fails half-way (a truncated file) is an
/// error, not silently fewer features. Idempotent.
pub fn capture_gdal_errors() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        gdal::config::set_error_handler(|class, num, msg| match class {
            CplErrType::Failure | CplErrType::Fatal => {
                tracing::debug!(target: "gdal", code = num, "{msg}");
                GDAL_ERRORS.with(|e| e.borrow_mut().push(msg.to_string()));
            }
            CplErrType::Warning => tracing::debug!(target: "gdal", code = num, "warning: {msg}"),
            _ => tracing::trace!(target: "gdal", "{msg}"),
        });
    });
}

/// Why a GDAL call failed: the messages GDAL raised on the way (most
/// specific first), or the binding's own error when there were none.
pub fn gdal_reason(e: gdal::errors::GdalError) -> String {
    // SQLite (GeoPackage) messages quote the whole statement, kilobytes of
    // SQL; what matters is the end ("database or disk is full"). The first
    // few failures say it; the rest follow from them.
    const SHOWN: usize = 3;
    let mut msgs: Vec<String> = take_gdal_errors().into_iter().map(without_sql).collect();
    msgs.dedup();
    match msgs.len() {
        0 => e.to_string(),
        n if n > SHOWN => format!(
            "{} (and {} more GDAL messages)",
            msgs[..SHOWN].join("; "),
            n - SHOWN
        ),
        _ => msgs.join("; "),
    }
}

/// `sqlite3_exec(<statement>) failed: why` → `sqlite3_exec(…) failed: why`.
fn without_sql(m: String) -> String {
    match (
        m.starts_with("sqlite3_"),
        m.find('('),
        m.rfind(") failed: "),
    ) {
        (true, Some(open), Some(close)) if open < close => {
            format!("{}(…){}", &m[..open], &m[close + 1..])
        }
        _ => m,
    }
}

/// The GDAL failures of this thread since the last call.
pub fn take_gdal_errors() -> Vec<String> {
    GDAL_ERRORS.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

// ---------------------------------------------------------------------------
// OGR geometry → geo-types

/// The parts of one OGR geometry by dimension; collections are flattened.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    pub points: Vec<Coord<f64>>,
    pub lines: Vec<LineString<f64>>,
    pub polygons: Vec<Polygon<f64>>,
}

impl Shapes {
    fn clear(&mut self) {
        self.points.clear();
        self.lines.clear();
        self.polygons.clear();
    }

    fn all_finite(&self) -> bool {
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
fn ogr_shapes(g: &Geometry, out: &mut Shapes) -> std::result::Result<(), String> {
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

fn ogr_line(g: &Geometry) -> LineString<f64> {
    let n = g.point_count();
    let mut coords = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y, _) = g.get_point(i as i32);
        coords.push(Coord { x, y });
    }
    LineString(coords)
}

// ---------------------------------------------------------------------------
// Staging: features of one layer and role, in the layer's CRS

/// What a feature brings besides its geometry; the role decides which parts
/// matter.
#[derive(Debug, Default, Clone)]
pub(crate) struct Attrs {
    pub code: String,
    pub name: String,
    pub class: String,
    /// Full width of a line barrier in metres.
    pub width: f64,
    /// A waterway piece in a culvert or covered (roads and rail in a tunnel
    /// are dropped instead).
    pub covered: bool,
}

/// An input with the ordinal of the feature it came from, to count the
/// features used even when several inputs share one FID.
#[derive(Debug, Clone)]
struct Tagged<T> {
    ord: usize,
    item: T,
}

impl<T: Coords> Coords for Tagged<T> {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.item.visit(f)
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.item.visit_mut(f)
    }
}

macro_rules! coords_via {
    ($t:ty, $field:ident) => {
        impl Coords for $t {
            fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
                self.$field.visit(f)
            }
            fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
                self.$field.visit_mut(f)
            }
        }
    };
}
impl Coords for Building {
    fn visit(&self, f: &mut impl FnMut(Coord<f64>)) {
        self.pt.visit(f);
        self.outline.iter().for_each(|c| f(*c));
    }
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut Coord<f64>)) {
        self.pt.visit_mut(f);
        self.outline.iter_mut().for_each(f);
    }
}
coords_via!(AdminUnit, geom);
coords_via!(LineBarrier, geom);
coords_via!(AreaBarrier, geom);
coords_via!(LanduseArea, geom);

/// The features of one layer for one role, in the layer's own CRS.
pub(crate) struct Stage {
    pub role: Role,
    pub report: LayerReport,
    srs: SpatialRef,
    /// Lines narrower than this are not barriers (`min_barrier_width`).
    min_width: f64,
    geometry_types: BTreeSet<String>,
    shapes: Shapes,
    /// Scratch for `point_on_surface`.
    scan: Vec<f64>,
    buildings: Vec<Tagged<Building>>,
    admin: Vec<Tagged<AdminUnit>>,
    lines: Vec<Tagged<LineBarrier>>,
    areas: Vec<Tagged<AreaBarrier>>,
    landuse: Vec<Tagged<LanduseArea>>,
    /// The first features without a geometry (skipped, and named in a warning).
    no_geometry: Vec<i64>,
}

impl Stage {
    pub(crate) fn new(
        role: Role,
        source: Source,
        driver: String,
        srs: SpatialRef,
        crs_label: String,
        fields: Vec<String>,
        min_width: f64,
    ) -> Stage {
        Stage {
            role,
            report: LayerReport {
                role: role.as_str().to_string(),
                source,
                driver,
                crs: crs_label,
                geometry_types: Vec::new(),
                features_read: 0,
                features_used: 0,
                invalid_repaired: 0,
                invalid_examples: Vec::new(),
                dropped: BTreeMap::new(),
                extent_lonlat: None,
                fields,
                network: None,
            },
            srs,
            min_width,
            geometry_types: BTreeSet::new(),
            shapes: Shapes::default(),
            scan: Vec::new(),
            buildings: Vec::new(),
            admin: Vec::new(),
            lines: Vec::new(),
            areas: Vec::new(),
            landuse: Vec::new(),
            no_geometry: Vec::new(),
        }
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::input(message)
            .file(self.report.source.file.clone())
            .layer(self.report.source.layer.clone())
    }

    /// Counts a feature that is read but not used, under `reason`.
    pub(crate) fn drop_feature(&mut self, reason: &str) {
        self.report.features_read += 1;
        self.count_dropped(reason);
    }

    fn count_dropped(&mut self, reason: &str) {
        *self.report.dropped.entry(reason.to_string()).or_insert(0) += 1;
    }

    /// Adds one feature; a geometry of the wrong kind for the role is an
    /// error naming the feature.
    pub(crate) fn push(&mut self, fid: i64, geom: Option<&Geometry>, attrs: Attrs) -> Result<()> {
        let ord = self.report.features_read;
        self.report.features_read += 1;
        // A NULL geometry (common in real shapefiles) comes as a geometry
        // with a null handle, which GDAL refuses to ask anything.
        // SAFETY: the handle is only compared with null, never dereferenced.
        let present = |g: &&Geometry| !unsafe { g.c_geometry() }.is_null() && !g.is_empty();
        let Some(g) = geom.filter(present) else {
            self.count_dropped("no geometry");
            if self.no_geometry.len() < MAX_INVALID_EXAMPLES {
                self.no_geometry.push(fid);
            }
            return Ok(());
        };
        // The scratch shapes keep their capacity from one feature to the next.
        let mut shapes = std::mem::take(&mut self.shapes);
        shapes.clear();
        let pushed = self.push_geometry(ord, fid, g, &mut shapes, &attrs);
        self.shapes = shapes;
        pushed
    }

    fn push_geometry(
        &mut self,
        ord: usize,
        fid: i64,
        g: &Geometry,
        s: &mut Shapes,
        a: &Attrs,
    ) -> Result<()> {
        if let Err(t) = ogr_shapes(g, s) {
            return Err(self
                .error(format!("geometry is a {t}, which dongne does not read"))
                .feature(fid)
                .hint("convert curves to lines first: ogr2ogr -nlt CONVERT_TO_LINEAR OUT IN"));
        }
        let type_name = geometry_type_name(g);
        if !self.accepts(s) {
            return Err(self
                .error(format!(
                    "geometry is a {type_name}, expected {}",
                    self.role.expected()
                ))
                .feature(fid)
                .hint(format!(
                    "pass a layer of {} to --{}, or pick another layer with PATH:LAYER",
                    plural_of(self.role.expected()),
                    self.role.as_str()
                )));
        }
        if !s.all_finite() {
            let e = reproject::non_finite_error().feature(fid);
            return Err(e
                .file(self.report.source.file.clone())
                .layer(self.report.source.layer.clone()));
        }
        if !self.geometry_types.contains(&type_name) {
            self.geometry_types.insert(type_name);
        }
        self.take_shapes(ord, fid, s, a);
        Ok(())
    }

    /// Whether the shapes hold something this role can use.
    fn accepts(&self, s: &Shapes) -> bool {
        let (points, lines, polygons) = (
            !s.points.is_empty(),
            !s.lines.is_empty(),
            !s.polygons.is_empty(),
        );
        match self.role {
            Role::Buildings => points || polygons,
            Role::Admin | Role::Mountains | Role::Parks | Role::Landuse => polygons,
            Role::Roads | Role::Rail => lines,
            Role::Water => lines || polygons,
        }
    }

    /// Moves the shapes into the inputs of the role (no copies).
    fn take_shapes(&mut self, ord: usize, fid: i64, s: &mut Shapes, a: &Attrs) {
        match self.role {
            Role::Buildings => self.take_building(ord, fid, s),
            Role::Admin => {
                let item = AdminUnit {
                    fid,
                    code: a.code.clone(),
                    name: a.name.clone(),
                    geom: MultiPolygon(std::mem::take(&mut s.polygons)),
                };
                self.admin.push(Tagged { ord, item });
            }
            Role::Roads | Role::Rail => self.take_lines(ord, fid, &mut s.lines, a),
            Role::Water => {
                self.take_lines(ord, fid, &mut s.lines, a);
                self.take_areas(ord, fid, &mut s.polygons);
            }
            Role::Mountains | Role::Parks => self.take_areas(ord, fid, &mut s.polygons),
            Role::Landuse => {
                self.landuse.extend(s.polygons.drain(..).map(|geom| Tagged {
                    ord,
                    item: LanduseArea {
                        fid,
                        class: a.class.clone(),
                        geom,
                    },
                }));
            }
        }
    }

    /// Footprints become their point on surface here, in the layer's CRS:
    /// the point is inside the footprint whatever the CRS, and keeping only
    /// points keeps memory flat for millions of buildings.
    fn take_building(&mut self, ord: usize, fid: i64, s: &mut Shapes) {
        if s.polygons.is_empty() {
            self.buildings.extend(s.points.iter().map(|&pt| Tagged {
                ord,
                item: Building {
                    fid,
                    pt,
                    outline: Vec::new(),
                },
            }));
            return;
        }
        match point_on_surface(&s.polygons, &mut self.scan) {
            Some(pt) => {
                let largest = s
                    .polygons
                    .iter()
                    .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
                let mut outline: Vec<Coord<f64>> =
                    largest.map_or_else(Vec::new, |p| p.exterior().0.clone());
                outline.pop(); // the closing point
                self.buildings.push(Tagged {
                    ord,
                    item: Building { fid, pt, outline },
                })
            }
            None => self.count_dropped("footprint without area"),
        }
    }

    fn take_lines(&mut self, ord: usize, fid: i64, lines: &mut Vec<LineString<f64>>, a: &Attrs) {
        if lines.is_empty() {
            return;
        }
        if a.width.is_nan() || a.width <= 0.0 {
            self.count_dropped("no width for its class");
            return;
        }
        if a.width < self.min_width {
            self.count_dropped("narrower than min_barrier_width");
            return;
        }
        let kind = self.role.barrier_kind();
        for geom in lines.drain(..).filter(|l| l.0.len() >= 2) {
            let item = LineBarrier {
                fid,
                kind,
                class: a.class.clone(),
                width_m: a.width,
                geom,
                covered: a.covered,
            };
            self.lines.push(Tagged { ord, item });
        }
    }

    fn take_areas(&mut self, ord: usize, fid: i64, polygons: &mut Vec<Polygon<f64>>) {
        let kind = self.role.barrier_kind();
        self.areas.extend(polygons.drain(..).map(|geom| Tagged {
            ord,
            item: AreaBarrier { fid, kind, geom },
        }));
    }

    fn is_empty(&self) -> bool {
        self.buildings.is_empty()
            && self.admin.is_empty()
            && self.lines.is_empty()
            && self.areas.is_empty()
            && self.landuse.is_empty()
    }

    /// Envelope of everything staged, in the layer's CRS.
    fn envelope(&self) -> Option<Rect<f64>> {
        let mut acc: Option<(Coord<f64>, Coord<f64>)> = None;
        let mut add = |c: Coord<f64>| {
            acc = Some(match acc {
                None => (c, c),
                Some((lo, hi)) => (
                    Coord {
                        x: lo.x.min(c.x),
                        y: lo.y.min(c.y),
                    },
                    Coord {
                        x: hi.x.max(c.x),
                        y: hi.y.max(c.y),
                    },
                ),
            })
        };
        self.buildings.iter().for_each(|t| add(t.item.pt));
        self.admin.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.lines.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.areas.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.landuse
            .iter()
            .for_each(|t| t.item.geom.visit(&mut add));
        acc.filter(|(lo, hi)| {
            lo.x.is_finite() && lo.y.is_finite() && hi.x.is_finite() && hi.y.is_finite()
        })
        .map(|(lo, hi)| Rect::new(lo, hi))
    }

    pub(crate) fn extent_lonlat(&self) -> Result<Option<[f64; 4]>> {
        let Some(r) = self.envelope() else {
            return Ok(None);
        };
        let t = Transformer::new(&self.srs, &reproject::lonlat_srs()?)?
            .with_source(self.report.source.clone());
        let b = t.bounds([r.min().x, r.min().y, r.max().x, r.max().y])?;
        Ok(Some(b))
    }

    /// Reprojects into the working CRS, repairs invalid polygons, applies the
    /// area thresholds, sorts by FID and appends to `out`. Adds the seconds
    /// spent reprojecting and validating to `seconds`.
    pub(crate) fn finish(
        mut self,
        crs: &WorkingCrs,
        params: &Params,
        out: &mut Inputs,
        seconds: &mut [f64; 2],
    ) -> Result<LayerReport> {
        let t = std::time::Instant::now();
        if !self.is_empty() {
            let p = ParTransform::new(&self.srs, crs, &self.report.source)?;
            p.run(&mut self.buildings, |x| Some(x.item.fid))?;
            p.run(&mut self.admin, |x| Some(x.item.fid))?;
            p.run(&mut self.lines, |x| Some(x.item.fid))?;
            p.run(&mut self.areas, |x| Some(x.item.fid))?;
            p.run(&mut self.landuse, |x| Some(x.item.fid))?;
        }
        seconds[0] += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        self.repair_admin()?;
        self.repair_areas()?;
        self.repair_landuse()?;
        seconds[1] += t.elapsed().as_secs_f64();
        self.apply_area_thresholds(params);
        self.report.geometry_types = self.geometry_types.iter().cloned().collect();
        self.report.features_used = self.count_used();
        let mut report = self.report;
        out.buildings.extend(by_fid(self.buildings, |b| b.fid));
        out.admin.extend(by_fid(self.admin, |a| a.fid));
        out.lines.extend(by_fid(self.lines, |l| l.fid));
        out.areas.extend(by_fid(self.areas, |a| a.fid));
        out.landuse.extend(by_fid(self.landuse, |l| l.fid));
        if report.invalid_repaired > 0 {
            let first = report
                .invalid_examples
                .first()
                .map(|x| format!("feature {}: {}", x.fid, x.reason))
                .unwrap_or_default();
            tracing::warn!(
                file = %report.source.file,
                layer = %report.source.layer,
                repaired = report.invalid_repaired,
                first = %first,
                "invalid polygons repaired"
            );
        }
        if let Some(&n) = report.dropped.get("no geometry") {
            let ids: Vec<String> = self.no_geometry.iter().map(|f| f.to_string()).collect();
            tracing::warn!(
                file = %report.source.file,
                layer = %report.source.layer,
                "{n} feature{} without geometry skipped (feature {}{})",
                if n == 1 { "" } else { "s" },
                ids.join(", "),
                if n > ids.len() { ", …" } else { "" }
            );
        }
        report.invalid_examples.truncate(MAX_INVALID_EXAMPLES);
        Ok(report)
    }

    fn note_invalid(&mut self, fid: i64, reason: String) {
        self.report.invalid_repaired += 1;
        if self.report.invalid_examples.len() < MAX_INVALID_EXAMPLES {
            self.report
                .invalid_examples
                .push(InvalidFeature { fid, reason });
        }
    }

    fn repair_admin(&mut self) -> Result<()> {
        let mut admin = std::mem::take(&mut self.admin);
        // Checked on every thread, repaired in order.
        let checks: Vec<_> = admin
            .par_iter()
            .map(|t| multipolygon_validation(&t.item.geom))
            .collect();
        for (t, check) in admin.iter_mut().zip(checks) {
            if let Err(reason) = check {
                let fixed = repair(&t.item.geom.0)
                    .map_err(|why| self.unrepairable(t.item.fid, &reason.to_string(), &why))?;
                self.note_invalid(t.item.fid, reason.to_string());
                t.item.geom = fixed;
            }
        }
        admin.retain(|t| !t.item.geom.0.is_empty());
        self.admin = admin;
        Ok(())
    }

    fn repair_areas(&mut self) -> Result<()> {
        let areas = std::mem::take(&mut self.areas);
        self.areas = self.repair_polygons(
            areas,
            |a| (a.fid, &a.geom),
            |a, geom| AreaBarrier { geom, ..a.clone() },
        )?;
        Ok(())
    }

    fn repair_landuse(&mut self) -> Result<()> {
        let landuse = std::mem::take(&mut self.landuse);
        self.landuse = self.repair_polygons(
            landuse,
            |l| (l.fid, &l.geom),
            |l, geom| LanduseArea { geom, ..l.clone() },
        )?;
        Ok(())
    }

    /// Checks every polygon (in parallel) and repairs the invalid ones, each
    /// into as many items as the repair gives polygons, counted and named.
    fn repair_polygons<T: Sync>(
        &mut self,
        items: Vec<Tagged<T>>,
        geom: impl Fn(&T) -> (i64, &Polygon<f64>) + Sync,
        with: impl Fn(&T, Polygon<f64>) -> T,
    ) -> Result<Vec<Tagged<T>>> {
        let mut out = Vec::with_capacity(items.len());
        let checks: Vec<_> = items
            .par_iter()
            .map(|t| polygon_validation(geom(&t.item).1))
            .collect();
        for (t, check) in items.into_iter().zip(checks) {
            match check {
                Ok(()) => out.push(t),
                Err(reason) => {
                    let (fid, g) = geom(&t.item);
                    let fixed = repair(std::slice::from_ref(g))
                        .map_err(|why| self.unrepairable(fid, &reason.to_string(), &why))?;
                    self.note_invalid(fid, reason.to_string());
                    out.extend(fixed.0.into_iter().map(|g| Tagged {
                        ord: t.ord,
                        item: with(&t.item, g),
                    }));
                }
            }
        }
        Ok(out)
    }

    fn unrepairable(&self, fid: i64, reason: &str, why: &str) -> Error {
        self.error(format!("invalid polygon ({reason}) that cannot be repaired: {why}"))
            .feature(fid)
            .hint("fix it in QGIS (Vector ▸ Geometry Tools ▸ Fix Geometries) or drop it with a where filter")
    }

    fn apply_area_thresholds(&mut self, params: &Params) {
        let min_area = match self.role {
            Role::Water => params.min_water_area,
            Role::Mountains => params.min_mountain_area,
            Role::Parks => params.min_park_area,
            _ => return,
        };
        let before = self.areas.len();
        self.areas
            .retain(|t| t.item.geom.unsigned_area() >= min_area);
        let dropped = before - self.areas.len();
        if dropped > 0 {
            let reason = format!(
                "smaller than min_{}_area",
                self.role.barrier_kind().as_str()
            );
            *self.report.dropped.entry(reason).or_insert(0) += dropped;
        }
    }

    fn count_used(&self) -> usize {
        let mut used = vec![false; self.report.features_read];
        let mut mark = |ord: usize| {
            if let Some(u) = used.get_mut(ord) {
                *u = true;
            }
        };
        self.buildings.iter().for_each(|t| mark(t.ord));
        self.admin.iter().for_each(|t| mark(t.ord));
        self.lines.iter().for_each(|t| mark(t.ord));
        self.areas.iter().for_each(|t| mark(t.ord));
        self.landuse.iter().for_each(|t| mark(t.ord));
        used.iter().filter(|&&u| u).count()
    }
}

/// Reprojection on every thread: a GDAL transformation is neither `Send`
/// nor `Sync`, so each chunk of items gets its own, rebuilt from the layer
/// CRS as PROJJSON (only when that round trip gives the same CRS; otherwise,
/// and for small layers, one transformation in order). Each coordinate goes
/// through the same PROJ pipeline either way. An error names the first
/// failing item in input order, as one pass would.
struct ParTransform<'a> {
    one: Transformer,
    projjson: Option<String>,
    crs: &'a WorkingCrs,
    source: &'a Source,
}

impl<'a> ParTransform<'a> {
    fn new(srs: &SpatialRef, crs: &'a WorkingCrs, source: &'a Source) -> Result<ParTransform<'a>> {
        let one = Transformer::to_working(srs, crs)?.with_source(source.clone());
        let projjson = srs
            .to_projjson()
            .ok()
            .filter(|def| SpatialRef::from_definition(def).is_ok_and(|again| again == *srs));
        Ok(ParTransform {
            one,
            projjson,
            crs,
            source,
        })
    }

    fn run<T: Coords + Send>(
        &self,
        items: &mut [T],
        fid_of: impl Fn(&T) -> Option<i64> + Sync,
    ) -> Result<()> {
        const MIN_CHUNK: usize = 1 << 16;
        let threads = rayon::current_num_threads();
        let chunk = items.len().div_ceil(4 * threads).max(MIN_CHUNK);
        let Some(def) = self
            .projjson
            .as_deref()
            .filter(|_| threads > 1 && items.len() > chunk)
        else {
            return self.one.transform_all(items, fid_of);
        };
        let results: Vec<Result<()>> = items
            .par_chunks_mut(chunk)
            .map(|part| {
                let srs = SpatialRef::from_definition(def)
                    .map_err(|e| Error::internal(format!("cannot rebuild a layer CRS: {e}")))?;
                Transformer::to_working(&srs, self.crs)?
                    .with_source(self.source.clone())
                    .transform_all(part, &fid_of)
            })
            .collect();
        results.into_iter().collect()
    }
}

/// A point inside a (multi)polygon, the GEOS way: a horizontal line through
/// the middle of a polygon's height, moved off every vertex, crosses its
/// rings; between crossings 2k and 2k+1 it is inside, and the middle of the
/// widest such interval (over all parts) is the point. Linear in the number
/// of vertices; geo's `InteriorPoint` runs a full `relate` per polygon, which
/// dominated the reading of a million footprints. A polygon without area
/// gives its first vertex; `None` only without any vertex.
fn point_on_surface(polygons: &[Polygon<f64>], xs: &mut Vec<f64>) -> Option<Coord<f64>> {
    let mut best: Option<(f64, Coord<f64>)> = None;
    for p in polygons {
        if let Some((width, c)) = widest_scan_interval(p, xs) {
            let wider = match best {
                Some((w, _)) => width > w,
                None => true,
            };
            if wider {
                best = Some((width, c));
            }
        }
    }
    best.map(|(_, c)| c).or_else(|| {
        polygons
            .iter()
            .find_map(|p| p.exterior().0.first().copied())
    })
}

fn widest_scan_interval(p: &Polygon<f64>, xs: &mut Vec<f64>) -> Option<(f64, Coord<f64>)> {
    let ext = &p.exterior().0;
    let (lo, hi) = ext
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.y), hi.max(c.y))
        });
    if hi <= lo {
        return None;
    }
    // Halfway between the nearest vertex heights around the centre: no
    // vertex lies on the scan line, so every crossing is a proper one.
    let centre = (lo + hi) / 2.0;
    let (mut below, mut above) = (lo, hi);
    p.visit(&mut |c: Coord<f64>| {
        if c.y <= centre && c.y > below {
            below = c.y;
        }
        if c.y > centre && c.y < above {
            above = c.y;
        }
    });
    let y = (below + above) / 2.0;
    xs.clear();
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.y > y) != (b.y > y) {
                xs.push(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
            }
        }
    }
    xs.sort_by(f64::total_cmp);
    xs.chunks_exact(2)
        .map(|pair| {
            (
                pair[1] - pair[0],
                Coord {
                    x: (pair[0] + pair[1]) / 2.0,
                    y,
                },
            )
        })
        .filter(|(width, _)| *width > 0.0)
        .fold(None, |best: Option<(f64, Coord<f64>)>, cand| match best {
            Some(b) if b.0 >= cand.0 => Some(b),
            _ => Some(cand),
        })
}

fn plural_of(expected: &str) -> String {
    match expected {
        "a line" => "lines".into(),
        "a polygon" => "polygons".into(),
        "a polygon or a line" => "polygons or lines".into(),
        _ => "points or polygons".into(),
    }
}

/// Items in FID order; ties keep their read order, so the order never
/// depends on anything but the file.
fn by_fid<T>(mut v: Vec<Tagged<T>>, fid: impl Fn(&T) -> i64) -> impl Iterator<Item = T> {
    v.sort_by_key(|t| (fid(&t.item), t.ord));
    v.into_iter().map(|t| t.item)
}

/// Repairs polygons the GEOS "structure" way: each ring alone is made valid
/// (even-odd), shells are unioned and holes subtracted. Unlike even-odd on all
/// rings together, two overlapping parts of a multipolygon stay filled.
fn repair(polygons: &[Polygon<f64>]) -> std::result::Result<MultiPolygon<f64>, String> {
    let ring_area = |ring: &LineString<f64>| -> std::result::Result<MultiPolygon<f64>, String> {
        Polygon::new(ring.clone(), vec![])
            .make_valid()
            .map_err(|e| e.to_string())
    };
    let mut shells = MultiPolygon::<f64>(vec![]);
    let mut holes = MultiPolygon::<f64>(vec![]);
    for p in polygons {
        shells = shells.union(&ring_area(p.exterior())?);
        for h in p.interiors() {
            holes = holes.union(&ring_area(h)?);
        }
    }
    let fixed = if holes.0.is_empty() {
        shells
    } else {
        shells.difference(&holes)
    };
    Ok(fixed)
}

// ---------------------------------------------------------------------------
// Validity, fast

/// geo's `Polygon::check_validation`: the same checks in the same order, so
/// the same first error, but a ring's self-intersection test looks only at
/// segment pairs whose boxes meet (an R-tree), where geo tries every pair of
/// segments. geo's test was quadratic in the ring's vertices: half the
/// reading time of the Liechtenstein forests, minutes for a national frame.
fn polygon_validation(p: &Polygon<f64>) -> std::result::Result<(), InvalidPolygon> {
    if p.exterior().0.is_empty() {
        return Ok(());
    }
    for (k, ring) in std::iter::once(p.exterior())
        .chain(p.interiors())
        .enumerate()
    {
        if ring.0.is_empty() {
            continue;
        }
        let role = if k == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(k - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            return Err(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_self_intersects(ring) {
            return Err(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(i) = ring
            .0
            .iter()
            .position(|c| !(c.x.is_finite() && c.y.is_finite()))
        {
            return Err(InvalidPolygon::NonFiniteCoord(role, CoordIndex(i)));
        }
    }
    if p.interiors().iter().all(|r| r.0.is_empty()) {
        return Ok(());
    }
    // As geo: the holes against the shell and against each other.
    let shell = Polygon::new(p.exterior().clone(), vec![]);
    let shell = PreparedGeometry::from(&shell);
    for (i, h1) in p.interiors().iter().enumerate() {
        if h1.0.is_empty() {
            continue;
        }
        let h1_poly = Polygon::new(h1.clone(), vec![]);
        let h1_prep = PreparedGeometry::from(&h1_poly);
        let m = shell.relate(&h1_prep);
        if !m.is_contains() {
            return Err(InvalidPolygon::InteriorRingNotContainedInExteriorRing(
                RingRole::Interior(i),
            ));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Err(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                RingRole::Interior(i),
            ));
        }
        for (j, h2) in p.interiors().iter().enumerate().skip(i + 1) {
            if h2.0.is_empty() {
                continue;
            }
            let m = h1_prep.relate(&Polygon::new(h2.clone(), vec![]));
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnAnArea(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidPolygon::IntersectingRingsOnALine(
                    RingRole::Interior(i),
                    RingRole::Interior(j),
                ));
            }
        }
    }
    Ok(())
}

/// geo's `MultiPolygon::check_validation` (first error, same order), with
/// the pairwise `relate` of parts skipped where their boxes do not meet (no
/// overlap and no shared line is then possible).
fn multipolygon_validation(mp: &MultiPolygon<f64>) -> std::result::Result<(), InvalidMultiPolygon> {
    let boxes: Vec<Option<Rect<f64>>> = mp.0.iter().map(|p| p.bounding_rect()).collect();
    let meet = |a: Option<Rect<f64>>, b: Option<Rect<f64>>| match (a, b) {
        (Some(a), Some(b)) => {
            a.min().x <= b.max().x
                && b.min().x <= a.max().x
                && a.min().y <= b.max().y
                && b.min().y <= a.max().y
        }
        _ => false,
    };
    for (i, p) in mp.0.iter().enumerate() {
        polygon_validation(p)
            .map_err(|e| InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e))?;
        for (j, q) in mp.0.iter().enumerate().skip(i + 1) {
            if !meet(boxes[i], boxes[j]) {
                continue;
            }
            let m = p.relate(q);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                return Err(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                return Err(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    Ok(())
}

/// geo's ring test: two distinct segments that meet, other than where one
/// ends and the other starts. Only pairs with meeting boxes can meet.
fn ring_self_intersects(ring: &LineString<f64>) -> bool {
    use geo::Intersects;
    use rstar::primitives::{GeomWithData, Rectangle};
    let lines: Vec<geo::Line<f64>> = ring.lines().collect();
    if lines.len() < 2 {
        return false;
    }
    let pair = |a: &geo::Line<f64>, b: &geo::Line<f64>| {
        a.intersects(b) && a.start != b.end && a.end != b.start
    };
    if !ring.0.iter().all(|c| c.x.is_finite() && c.y.is_finite()) {
        // No boxes for non-finite coordinates: every pair, as geo.
        return lines
            .iter()
            .enumerate()
            .any(|(i, a)| lines.iter().enumerate().any(|(j, b)| i != j && pair(a, b)));
    }
    let tree = rstar::RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                GeomWithData::new(Rectangle::from_corners(l.start.into(), l.end.into()), i)
            })
            .collect::<Vec<GeomWithData<Rectangle<[f64; 2]>, usize>>>(),
    );
    lines.iter().enumerate().any(|(i, a)| {
        let env = rstar::AABB::from_corners(
            [a.start.x.min(a.end.x), a.start.y.min(a.end.y)],
            [a.start.x.max(a.end.x), a.start.y.max(a.end.y)],
        );
        tree.locate_in_envelope_intersecting(&env).any(|g| {
            let b = &lines[g.data];
            g.data > i && pair(a, b)
        })
    })
}

// ---------------------------------------------------------------------------
// Explicit layers

/// Which fields of a layer feed which attribute.
struct FieldPlan {
    code: Option<usize>,
    name: Option<usize>,
    class: Option<usize>,
    width: Option<usize>,
    /// Lines read from an OSM file as an explicit layer: their tunnels come
    /// from the tags.
    osm_tags: Option<osm_tags::TagReader>,
    /// The layer's `tunnel_field`: any value but empty, `0`, `no`, `false`
    /// marks a piece underground.
    tunnel: Option<usize>,
    /// A water lines layer with no class: treated as rivers (warned once).
    warned_no_class: bool,
}

impl FieldPlan {
    fn for_layer(
        role: Role,
        spec: &LayerConfig,
        l: &OpenedLayer,
        opts: &ReadOptions,
    ) -> Result<FieldPlan> {
        let named = |name: &Option<String>, what: &str| -> Result<Option<usize>> {
            name.as_deref().map(|n| l.field_index(n, what)).transpose()
        };
        let (code, name) = if role == Role::Admin {
            (
                named(&opts.admin_code, "admin code")?,
                named(&opts.admin_name, "admin name")?,
            )
        } else {
            (None, None)
        };
        let class = match &spec.class_field {
            Some(f) => Some(l.field_index(f, "class")?),
            None => default_class_field(role, l),
        };
        let width = named(&spec.width_field, "width")?;
        let tunnel = named(&spec.tunnel_field, "tunnel")?;
        if role == Role::Landuse && class.is_none() {
            return Err(l
                .error(format!(
                    "no class field for landuse; the layer has: {}",
                    l.fields.join(", ")
                ))
                .hint("set class_field to the field holding the land-use class"));
        }
        let osm_tags = (l.driver == "OSM"
            && matches!(role, Role::Roads | Role::Rail | Role::Water))
        .then(|| osm_tags::TagReader::new(&l.fields));
        Ok(FieldPlan {
            code,
            name,
            class,
            width,
            osm_tags,
            tunnel,
            warned_no_class: false,
        })
    }

    fn attrs(&mut self, role: Role, f: &Feature, fid: i64, params: &Params, src: &Source) -> Attrs {
        let text = |i: Option<usize>| i.and_then(|i| f.field_as_string(i).ok().flatten());
        let mut a = Attrs {
            code: match self.code {
                Some(i) => text(Some(i)).unwrap_or_default(),
                None => fid.to_string(),
            },
            name: text(self.name).unwrap_or_default(),
            class: text(self.class).unwrap_or_default(),
            width: 0.0,
            covered: false,
        };
        if matches!(role, Role::Roads | Role::Rail | Role::Water) {
            let given = self
                .width
                .and_then(|i| f.field_as_double(i).ok().flatten())
                .filter(|w| w.is_finite() && *w > 0.0);
            a.width = match given {
                Some(w) => w,
                None => self.class_width(role, &a.class, params, src),
            };
        }
        a
    }

    /// Width of a line from its class. A layer without a class field gets
    /// one width for all its lines: `default_road_width` for roads, the width
    /// of `rail` for rail and of `river` for water lines.
    fn class_width(&mut self, role: Role, class: &str, params: &Params, src: &Source) -> f64 {
        let table = match role {
            Role::Roads => &params.road_widths,
            Role::Rail => &params.rail_widths,
            _ => &params.waterway_widths,
        };
        if self.class.is_some() || self.width.is_some() {
            return table.get(class).copied().unwrap_or(0.0);
        }
        match role {
            Role::Roads => params.default_road_width,
            Role::Rail => table.get("rail").copied().unwrap_or(0.0),
            _ => {
                if !self.warned_no_class {
                    tracing::warn!(file = %src.file, layer = %src.layer, "water lines without class or width field: taken as rivers");
                    self.warned_no_class = true;
                }
                table.get("river").copied().unwrap_or(0.0)
            }
        }
    }

    fn is_tunnel(&self, f: &Feature) -> bool {
        let by_field = self.tunnel.is_some_and(|i| {
            f.field_as_string(i).ok().flatten().is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                !matches!(v.as_str(), "" | "0" | "no" | "false" | "n" | "f")
            })
        });
        by_field
            || self
                .osm_tags
                .as_ref()
                .is_some_and(|t| osm_tags::is_tunnel(&t.tags(f)))
    }
}

/// OSM-style layers (OSM itself, OSM-derived GeoPackages, Geofabrik
/// shapefiles with `fclass`) carry the class under a known name.
fn default_class_field(role: Role, l: &OpenedLayer) -> Option<usize> {
    l.find_field(&[role.osm_class_key()?, "fclass"])
}

/// Reads one explicit layer into a stage in its own CRS.
pub(crate) fn read_layer(role: Role, spec: &LayerConfig, opts: &ReadOptions) -> Result<Stage> {
    let mut l = open_layer(spec)?;
    let (srs, crs_label) = l.srs_or_assumed(opts.assume_crs.as_ref())?;
    let mut plan = FieldPlan::for_layer(role, spec, &l, opts)?;
    if let Some(sql) = &spec.where_sql {
        l.set_where(sql)?;
    }
    if let Some(b) = opts.bbox {
        l.set_bbox(b, &srs)?;
    }
    let mut stage = Stage::new(
        role,
        l.source.clone(),
        l.driver.clone(),
        srs,
        crs_label,
        l.fields.clone(),
        opts.params.min_barrier_width,
    );
    take_gdal_errors();
    let source = l.source.clone();
    for (i, f) in l.layer.features().enumerate() {
        let fid = feature_id(&f, i);
        let underground =
            matches!(role, Role::Roads | Role::Rail | Role::Water) && plan.is_tunnel(&f);
        if underground && role != Role::Water {
            stage.drop_feature("tunnel or covered");
            continue;
        }
        let mut attrs = plan.attrs(role, &f, fid, &opts.params, &source);
        attrs.covered = underground;
        stage.push(fid, f.geometry(), attrs)?;
    }
    check_read_errors(&stage)?;
    if stage.report.features_read == 0 {
        return Err(empty_layer_error(
            &stage,
            spec.where_sql.as_deref(),
            opts.bbox,
        ));
    }
    Ok(stage)
}

/// The GDAL FID, or the read position for drivers without FIDs.
pub(crate) fn feature_id(f: &Feature, position: usize) -> i64 {
    f.fid()
        .and_then(|x| i64::try_from(x).ok())
        .unwrap_or(position as i64)
}

/// A failure GDAL raised while features were read (a truncated file stops
/// early but otherwise looks like a shorter one).
pub(crate) fn check_read_errors(stage: &Stage) -> Result<()> {
    match take_gdal_errors().into_iter().next() {
        Some(msg) => Err(stage
            .error(format!("read error: {msg}"))
            .hint("the file may be truncated or damaged; check it with ogrinfo -al -so")),
        None => Ok(()),
    }
}

pub(crate) fn empty_layer_error(
    stage: &Stage,
    where_sql: Option<&str>,
    bbox: Option<[f64; 4]>,
) -> Error {
    let e = match (where_sql, bbox) {
        (Some(w), _) => stage
            .error(format!("no feature matches the where filter `{w}`"))
            .hint("check the filter against the layer with ogrinfo -where"),
        (None, Some(b)) => stage
            .error(format!("no feature inside the bbox {b:?}"))
            .hint("check the bbox: [min_lon, min_lat, max_lon, max_lat] in degrees"),
        (None, None) => stage
            .error("the layer is empty")
            .hint("check that this is the right file and layer"),
    };
    e
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_statements_are_left_out_of_messages() {
        let m = "sqlite3_exec(INSERT INTO gpkg_contents (table_name) VALUES ('n')) failed: database or disk is full";
        assert_eq!(
            without_sql(m.into()),
            "sqlite3_exec(…) failed: database or disk is full"
        );
        assert_eq!(
            without_sql("not recognized (x)".into()),
            "not recognized (x)"
        );
    }

    use super::*;
    use geo_types::polygon;

    #[test]
    fn repair_bowtie_gives_two_triangles_and_keeps_overlaps_filled() {
        use geo::Validation;
        let bowtie = polygon![(x: 0., y: 0.), (x: 10., y: 10.), (x: 10., y: 0.), (x: 0., y: 10.)];
        assert!(!bowtie.is_valid());
        let fixed = repair(&[bowtie]).unwrap();
        assert!(fixed.is_valid());
        assert_eq!(fixed.0.len(), 2);
        assert!((fixed.unsigned_area() - 50.0).abs() < 1e-9);

        let a = polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)];
        let b = polygon![(x: 5., y: 0.), (x: 15., y: 0.), (x: 15., y: 10.), (x: 5., y: 10.)];
        let fixed = repair(&[a, b]).unwrap();
        assert!((fixed.unsigned_area() - 150.0).abs() < 1e-9);
    }

    #[test]
    fn point_on_surface_avoids_holes_and_picks_the_widest_part() {
        use geo::Contains;
        let mut xs = Vec::new();
        // A square with a square hole in the middle: the centre is not inside.
        let holed = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 3., y: 3.), (x: 7., y: 3.), (x: 7., y: 7.), (x: 3., y: 7.)]],
        );
        let c = point_on_surface(std::slice::from_ref(&holed), &mut xs).unwrap();
        assert!(holed.contains(&geo_types::Point(c)), "{c:?}");
        // An L: the centre of its box is outside.
        let l = polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 1.), (x: 1., y: 1.), (x: 1., y: 10.), (x: 0., y: 10.)];
        let c = point_on_surface(std::slice::from_ref(&l), &mut xs).unwrap();
        assert!(l.contains(&geo_types::Point(c)), "{c:?}");
        // Two parts: the point is in the wider one.
        let small = polygon![(x: 20., y: 0.), (x: 20.5, y: 0.), (x: 20.5, y: 1.), (x: 20., y: 1.)];
        let c = point_on_surface(&[small, l.clone()], &mut xs).unwrap();
        assert!(l.contains(&geo_types::Point(c)), "{c:?}");
        // A flat polygon gives its first vertex.
        let flat = polygon![(x: 0., y: 5.), (x: 4., y: 5.), (x: 2., y: 5.)];
        assert_eq!(
            point_on_surface(&[flat], &mut xs),
            Some(Coord { x: 0., y: 5. })
        );
        assert_eq!(point_on_surface(&[], &mut xs), None);
    }

    #[test]
    fn fast_validation_gives_geo_s_first_error() {
        use geo::Validation;
        use geo_types::{coord, LineString};
        let sq = |x: f64, y: f64, w: f64| {
            LineString::from(vec![(x, y), (x + w, y), (x + w, y + w), (x, y + w), (x, y)])
        };
        let polys = vec![
            polygon![(x: 0., y: 0.), (x: 10., y: 10.), (x: 10., y: 0.), (x: 0., y: 10.)],
            polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            // A spike back along an edge.
            polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 5., y: 0.), (x: 5., y: 5.)],
            // A ring through one vertex twice.
            polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 2., y: 2.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 2., y: 2.)],
            // Repeated points only.
            polygon![(x: 0., y: 0.), (x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 0.)],
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(3., 3., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(6., 6., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(8., 8., 4.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(0., 2., 2.)]),
            Polygon::new(sq(0., 0., 10.), vec![sq(2., 2., 2.), sq(4., 2., 2.)]),
            Polygon::new(LineString(vec![]), vec![]),
        ];
        for p in &polys {
            assert_eq!(polygon_validation(p), p.check_validation(), "{p:?}");
        }
        // A long zigzag that crosses itself once, far from its start.
        let mut zig: Vec<Coord<f64>> = (0..400)
            .map(|i| coord! { x: i as f64, y: if i % 2 == 0 { 0.0 } else { 3.0 } })
            .collect();
        zig.extend([
            coord! { x: 399.0, y: 10.0 },
            coord! { x: 200.5, y: -1.0 },
            coord! { x: 0.0, y: 10.0 },
        ]);
        let p = Polygon::new(LineString(zig.clone()), vec![]);
        assert_eq!(polygon_validation(&p), p.check_validation());
        zig.truncate(400);
        zig.extend([coord! { x: 399.0, y: 10.0 }, coord! { x: 0.0, y: 10.0 }]);
        let p = Polygon::new(LineString(zig), vec![]);
        assert_eq!(polygon_validation(&p), Ok(()));
        assert_eq!(p.check_validation(), Ok(()));
        for (a, b) in [(0, 1), (1, 1), (1, 6), (6, 7), (0, 10)] {
            let mp = MultiPolygon(vec![polys[a].clone(), polys[b].clone()]);
            assert_eq!(
                multipolygon_validation(&mp),
                mp.check_validation(),
                "{mp:?}"
            );
        }
        let apart = MultiPolygon(vec![
            Polygon::new(sq(0., 0., 1.), vec![]),
            Polygon::new(sq(1., 0., 1.), vec![]),
            Polygon::new(sq(5., 5., 1.), vec![]),
        ]);
        assert_eq!(multipolygon_validation(&apart), apart.check_validation());
    }

    #[test]
    fn bbox_is_checked() {
        assert!(check_bbox([9.47, 47.04, 9.64, 47.28]).is_ok());
        let e = check_bbox([47.04, 9.47, 47.28, 9.0]).unwrap_err();
        assert_eq!(
            e.message,
            "invalid bbox [47.04, 9.47, 47.28, 9.0]: expected [min_lon, min_lat, max_lon, max_lat] in degrees"
        );
    }
}
