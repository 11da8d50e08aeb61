//! The data every stage passes along: inputs already in the metric working CRS,
//! and the neighborhoods that come out. Readers fill these; the geometry stages
//! never see a file, a driver or a CRS.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};

/// Where a value came from, so errors and warnings can name the file, layer and
/// feature at fault.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Source {
    pub file: String,
    pub layer: String,
}

impl Source {
    /// An input error naming this file and layer.
    pub fn error(&self, message: impl Into<String>) -> crate::error::Error {
        crate::error::Error::input(message)
            .file(self.file.clone())
            .layer(self.layer.clone())
    }
}

/// One building: a point (footprints: their point on surface), and for a
/// footprint its outline, whose points become Voronoi generators so that the
/// boundaries between hot spots pass between buildings, not through them.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Feature id in the source layer (GDAL FID), for messages and tests.
    pub fid: i64,
    pub pt: Coord<f64>,
    /// The exterior ring of the footprint (of its largest part), without the
    /// closing point; empty for a building given as a point.
    pub outline: Vec<Coord<f64>>,
}

/// One administrative unit: the frame a neighborhood never crosses.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminUnit {
    pub fid: i64,
    pub code: String,
    pub name: String,
    pub geom: MultiPolygon<f64>,
}

/// The kinds of barrier the method knows. The order is the priority when two
/// area barriers overlap (water wins over mountain wins over park).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum BarrierKind {
    Water,
    Mountain,
    Park,
    /// Ground farther than a walk from every building (computed, not read).
    Open,
    Rail,
    Road,
}

impl BarrierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierKind::Water => "water",
            BarrierKind::Mountain => "mountain",
            BarrierKind::Park => "park",
            BarrierKind::Open => "open",
            BarrierKind::Rail => "rail",
            BarrierKind::Road => "road",
        }
    }
}

/// A barrier drawn as a line: a road, a railway, a stream. `width_m` is the
/// full width on the ground; a line with width 0 is not a barrier.
#[derive(Debug, Clone, PartialEq)]
pub struct LineBarrier {
    pub fid: i64,
    pub kind: BarrierKind,
    /// Road class (`primary`, `residential`, …) or waterway/railway value.
    pub class: String,
    pub width_m: f64,
    pub geom: LineString<f64>,
    /// A waterway piece the data marks as passing underground (a culvert,
    /// a covered stretch). Kept while its covered stretch is short: the water
    /// still separates its banks where a road crosses it
    /// ([`crate::io::network`]).
    pub covered: bool,
}

/// A barrier drawn as an area: water, forest/mountain, a large park.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaBarrier {
    pub fid: i64,
    pub kind: BarrierKind,
    pub geom: Polygon<f64>,
}

/// A land-use area with its class, for the optional soft split.
#[derive(Debug, Clone, PartialEq)]
pub struct LanduseArea {
    pub fid: i64,
    pub class: String,
    pub geom: Polygon<f64>,
}

/// A name people use for a place, where it stands and how specific it is
/// (method step 8): an OSM place, a named residential area or building, a
/// finer admin unit, a station, or a feature of the user's own layer.
#[derive(Debug, Clone, PartialEq)]
pub struct NamePlace {
    pub fid: i64,
    pub name: String,
    pub name_en: Option<String>,
    /// What gave the name: a tag (`place=village`, `landuse=residential`,
    /// `building`, `railway=station`, `admin_level=10`) or `names` (the
    /// user's layer).
    pub source: String,
    pub tier: NameTier,
    /// How specific, as Nominatim's address rank: 16 a city, 19 a village,
    /// 20 a suburb or hamlet, 22 a neighbourhood, 24 a residential area,
    /// 30 a single building. Higher is more specific.
    pub rank: u8,
    /// A point, or the area it names (a polygon names the buildings in it).
    pub geom: geo_types::Geometry<f64>,
}

/// The cascade of name sources, in the order they are tried for a
/// neighborhood (docs/design.md, "Names").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum NameTier {
    /// The user's own layer (`--names`).
    User,
    /// A named residential area or apartment complex (buildings sharing a
    /// complex name).
    Complex,
    /// An OSM place finer than a town: suburb, quarter, neighbourhood,
    /// village, hamlet, locality.
    Place,
    /// An admin unit finer than the frame.
    Admin,
    /// A railway or subway station.
    Station,
    /// One named building (a church, a school).
    Landmark,
    /// A town or city.
    Town,
}

/// Everything `generate` works on, in the working CRS (metres).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub buildings: Vec<Building>,
    pub admin: Vec<AdminUnit>,
    pub lines: Vec<LineBarrier>,
    pub areas: Vec<AreaBarrier>,
    pub landuse: Vec<LanduseArea>,
    /// Name sources (method step 8).
    pub names: Vec<NamePlace>,
}

/// What an output feature is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum FeatureKind {
    Neighborhood,
    /// Buildings too few (or ground too small) for a neighborhood, with no
    /// neighborhood to join: an alpine hut or a farm among forests and open
    /// ground. Kept apart so that every `neighborhood` meets the size rules.
    Hamlet,
    Barrier(BarrierKind),
}

impl FeatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Neighborhood => "neighborhood",
            FeatureKind::Hamlet => "hamlet",
            FeatureKind::Barrier(b) => b.as_str(),
        }
    }

    /// Ground people live on: a neighborhood or a hamlet. The invariants
    /// on buildings (one piece, walkable, no barrier inside, whole
    /// footprints) hold for both.
    pub fn is_settled(self) -> bool {
        matches!(self, FeatureKind::Neighborhood | FeatureKind::Hamlet)
    }
}

/// One output feature, in the working CRS.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighborhood {
    pub id: String,
    pub kind: FeatureKind,
    pub admin_code: String,
    pub admin_name: String,
    pub geom: MultiPolygon<f64>,
    pub area_m2: f64,
    pub perimeter_m: f64,
    pub buildings: usize,
    /// Polsby–Popper: 4πA / P².
    pub compactness: f64,
    /// Barrier kinds that bound this feature, comma-separated (`road,water`).
    pub bounded_by: String,
    /// The name people use for it (neighborhoods and hamlets; none for
    /// barrier features).
    pub name: Option<FeatureName>,
    /// 1 for the neighborhoods as drawn; 2, 3, … for the coarser levels
    /// built by merging them (method step 9, `products::levels`).
    pub level: u32,
    /// The feature of the next coarser level that holds this one; `None`
    /// at the top level (and when no levels were asked for).
    pub parent_id: Option<String>,
}

/// A neighborhood's name, what gave it, and its Latin form where the
/// source has one (method step 8).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FeatureName {
    pub name: String,
    pub name_en: Option<String>,
    /// The layer or tag that gave the name (`place=village`,
    /// `landuse=residential`, `building`, `names`), or `fallback`.
    pub source: String,
}

/// Layers written beside the neighborhoods for inspection, in the working CRS.
/// Only a GeoPackage holds them.
#[derive(Debug, Clone, Default)]
pub struct DebugLayers {
    /// Hot spot id, its shape, its building count.
    pub hotspots: Vec<(String, geo_types::Geometry<f64>, usize)>,
    /// Enclosure id and polygon.
    pub enclosures: Vec<(String, geo_types::Polygon<f64>)>,
    /// Barrier kind, class, geometry.
    pub barriers: Vec<(String, String, geo_types::Geometry<f64>)>,
}
