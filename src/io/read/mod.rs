//! Reading the input layers through GDAL into [`Inputs`] in the working CRS.
//!
//! Each layer is opened, checked (file, layer, CRS, fields, geometry types),
//! filtered (`where`, `--bbox`), read in FID order into a [`Stage`] in its own
//! CRS, and only then reprojected in batches once the working CRS is known (the
//! automatic UTM zone depends on what was read). Polygons are validated and
//! repaired in the working CRS, where the geometry stages need them valid.
//! Every problem the user can fix is an [`Error`] naming file, layer and feature.

use std::collections::{BTreeMap, BTreeSet};

use gdal::spatial_ref::SpatialRef;
use gdal::vector::OwnedLayer;
use geo_types::{Coord, LineString, Polygon};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::config::{Config, LayerConfig, Params};
use crate::io::osm_tags;
use crate::io::reproject::{self, Coords, Transformer, WorkingCrs};
use crate::model::{
    AdminUnit, AreaBarrier, BarrierKind, Building, Inputs, LanduseArea, LineBarrier, NamePlace,
    Source,
};

mod explicit;
mod ogr;
mod open;
mod stage;
mod surface;

pub(crate) use self::explicit::*;
pub use self::ogr::*;
pub use self::open::*;
use self::surface::*;
use crate::geom::validity::*;

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
    /// Name sources: points or polygons with a name.
    Names,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Buildings,
        Role::Admin,
        Role::Water,
        Role::Roads,
        Role::Rail,
        Role::Mountains,
        Role::Parks,
        Role::Landuse,
        Role::Names,
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
            Role::Names => "names",
        }
    }

    /// The geometry a feature of this role must have, for messages.
    fn expected(self) -> &'static str {
        match self {
            Role::Buildings => "a point or a polygon (footprint)",
            Role::Names => "a point or a polygon",
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
    crate::io::gdal_errors::capture_gdal_errors();
    let given_crs = cfg.crs.as_deref().map(WorkingCrs::from_user).transpose()?;
    let opts = ReadOptions::from_config(cfg)?;
    let (mut stage, srs) = read_layer(role, spec, &opts)?;
    stage.report.extent_lonlat = stage.extent_lonlat(&srs)?;
    let crs = match (given_crs, stage.report.extent_lonlat) {
        (Some(c), _) => c,
        (None, Some(e)) => WorkingCrs::auto(((e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0))?,
        (None, None) => return Ok(stage.report),
    };
    stage.finish(
        &srs,
        &crs,
        &cfg.params,
        &mut Inputs::default(),
        &mut [0.0; 2],
    )
}

/// What every layer read needs besides its own spec.
pub(crate) struct ReadOptions {
    pub bbox: Option<[f64; 4]>,
    /// `--assume-crs` as given (checked): each reader builds its own
    /// `SpatialRef`, which cannot be shared between threads.
    pub assume_crs: Option<String>,
    pub params: Params,
    pub admin_code: Option<String>,
    pub admin_name: Option<String>,
}

impl ReadOptions {
    pub(crate) fn from_config(cfg: &Config) -> Result<ReadOptions> {
        Ok(ReadOptions {
            bbox: cfg.bbox.map(check_bbox).transpose()?,
            assume_crs: match cfg.assume_crs.as_deref() {
                Some(c) => reproject::assumed_srs(c).map(|_| Some(c.to_string()))?,
                None => None,
            },
            params: cfg.params.clone(),
            admin_code: cfg.admin_code.clone(),
            admin_name: cfg.admin_name.clone(),
        })
    }

    /// `--assume-crs` as a `SpatialRef` for this thread.
    pub(crate) fn assumed_srs(&self) -> Result<Option<SpatialRef>> {
        self.assume_crs
            .as_deref()
            .map(reproject::assumed_srs)
            .transpose()
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

// ---------------------------------------------------------------------------
// OGR geometry → geo-types

/// The parts of one OGR geometry by dimension; collections are flattened.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    pub points: Vec<Coord<f64>>,
    pub lines: Vec<LineString<f64>>,
    pub polygons: Vec<Polygon<f64>>,
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
    /// A name source's Latin name, tier and rank.
    pub name_en: Option<String>,
    pub tier: Option<crate::model::NameTier>,
    pub rank: u8,
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
coords_via!(NamePlace, geom);

/// The features of one layer for one role, in the layer's own CRS.
///
/// The layer's CRS travels beside it, not in it (GDAL's `SpatialRef` is not
/// `Send`, and layers are read on several threads).
pub(crate) struct Stage {
    pub role: Role,
    pub report: LayerReport,
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
    names: Vec<Tagged<NamePlace>>,
    /// The first features without a geometry (skipped, and named in a warning).
    no_geometry: Vec<i64>,
}

/// Reprojection on every thread: a GDAL transformation is neither `Send`
/// nor `Sync`, so each chunk of items gets its own, rebuilt from the layer
/// CRS as PROJJSON (only when that round trip gives the same CRS; otherwise,
/// and for small layers, one transformation in order). Each coordinate goes
/// through the same PROJ pipeline either way. An error names the first
/// failing item in input order, as one pass would.
struct ParTransform<'a> {
    one: Transformer,
    definition: Option<reproject::SrsDefinition>,
    crs: &'a WorkingCrs,
    source: &'a Source,
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
    /// A names layer's Latin name and rank fields.
    name_en: Option<usize>,
    rank: Option<usize>,
}
#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;
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
    fn bbox_is_checked() {
        assert!(check_bbox([9.47, 47.04, 9.64, 47.28]).is_ok());
        let e = check_bbox([47.04, 9.47, 47.28, 9.0]).unwrap_err();
        assert_eq!(
            e.message,
            "invalid bbox [47.04, 9.47, 47.28, 9.0]: expected [min_lon, min_lat, max_lon, max_lat] in degrees"
        );
    }
}
