//! Which neighborhood is this point in? The question dongne's output exists
//! for, answered fast enough for a daily batch of millions of points.
//!
//! [`read_neighborhoods`] reads a neighborhood layer back (any GDAL format
//! `dongne generate` writes, or any polygon layer with an `nbhd_id` field);
//! [`Index`] answers point queries on it:
//!
//! - an R-tree over the bounding box of every polygon part picks the few
//!   candidate parts;
//! - each part is *prepared*: its edges are binned by y, so the ray-crossing
//!   test of a point reads only the edges of one horizontal band instead of
//!   all of them. geo 0.33's `PreparedGeometry` prepares for DE-9IM `relate`,
//!   which answers a point query through a full intersection matrix, far
//!   slower than a crossing count over a handful of edges.
//!
//! The answer is exact: an edge whose x-range holds the point is decided by
//! the robust orientation predicate, so a point exactly on an edge is seen as
//! on it. **Edge rule:** of all features whose closed polygon (interior or
//! boundary) holds the point, the one with the smallest `nbhd_id` wins (ties:
//! the smallest feature id). A point on the edge two neighborhoods share thus
//! always gets the same single answer, whatever the order of the file. A
//! point in no feature is outside.

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::LayerAccess;
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo_types::{Coord, Geometry, LineString, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::error::{Error, Result};
use crate::io::config::LayerConfig;
use crate::io::read;
use crate::io::reproject::{self, Transformer};
use crate::model::Source;

// ---------------------------------------------------------------------------
// The neighborhood layer

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
}

impl NeighborhoodLayer {
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
/// field (`kind`, `admin_code` and `admin_name` are read when present).
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
    let name_field = opened.find_field(&["admin_name"]);
    let srs = opened.srs.clone();
    let crs_label = opened.crs_label();
    let crs_wkt = match &srs {
        Some(s) => Some(
            s.to_wkt()
                .map_err(|e| opened.error(format!("cannot read the layer's CRS: {e}")))?,
        ),
        None => None,
    };
    let mut rows: Vec<(FeatureInfo, MultiPolygon<f64>)> = Vec::new();
    read::take_gdal_errors();
    let source = opened.source.clone();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = f.fid().map(|v| v as i64).unwrap_or(position as i64);
        let err = |msg: String| {
            Error::input(msg)
                .file(source.file.clone())
                .layer(source.layer.clone())
                .feature(fid)
        };
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
            admin_name: text(name_field),
        };
        rows.push((info, mp));
    }
    let failures = read::take_gdal_errors();
    if !failures.is_empty() {
        return Err(opened
            .error(format!("reading failed: {}", failures.join("; ")))
            .hint("the file may be truncated or damaged; write it again"));
    }
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
    })
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
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

// ---------------------------------------------------------------------------
// The index

/// Where a point fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Index of the feature in the slice the [`Index`] was built from.
    pub feature: usize,
    /// The point lies on the feature's boundary (an edge shared with a
    /// neighbour, or the outer edge), not in its interior.
    pub on_edge: bool,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// One polygon (exterior and holes) with its edges binned by y.
#[derive(Debug, Clone)]
struct Part {
    feature: usize,
    ymin: f64,
    /// Bins per unit of y.
    scale: f64,
    nbins: usize,
    /// Start of this part's bin offsets in [`Index::offsets`].
    first: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pos {
    Outside,
    Inside,
    Boundary,
}

/// Point-in-polygon index over a set of (multi)polygons; see the module
/// documentation for the structure and the edge rule.
#[derive(Debug, Clone)]
pub struct Index {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    parts: Vec<Part>,
    /// Per part, `nbins + 1` offsets into `edges` (CSR layout: one flat
    /// array keeps the bins of a part next to each other in memory).
    offsets: Vec<usize>,
    edges: Vec<Edge>,
    features: usize,
}

/// Edges per bin aimed at: a band then holds the edges that cross it plus
/// about this many more.
const EDGES_PER_BIN: usize = 2;
/// Bins per part at most, so one huge polygon does not blow up memory.
const MAX_BINS: usize = 1 << 15;

impl Index {
    /// Builds the index. `geoms[i]` is feature `i`; when several features
    /// hold a point (on a shared edge), the smallest index wins, so sort the
    /// features by id first (as [`read_neighborhoods`] does).
    pub fn new(geoms: &[MultiPolygon<f64>]) -> Index {
        let mut parts = Vec::new();
        let mut offsets = Vec::new();
        let mut edges = Vec::new();
        let mut boxes = Vec::new();
        let mut part_edges: Vec<Edge> = Vec::new();
        for (feature, mp) in geoms.iter().enumerate() {
            for poly in &mp.0 {
                part_edges.clear();
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    ring_edges(ring, &mut part_edges);
                }
                if part_edges.is_empty() {
                    continue;
                }
                let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for e in &part_edges {
                    x0 = x0.min(e.x0.min(e.x1));
                    x1 = x1.max(e.x0.max(e.x1));
                    y0 = y0.min(e.y0.min(e.y1));
                    y1 = y1.max(e.y0.max(e.y1));
                }
                let height = y1 - y0;
                let nbins = if height > 0.0 {
                    (part_edges.len() / EDGES_PER_BIN).clamp(1, MAX_BINS)
                } else {
                    1
                };
                let scale = if height > 0.0 {
                    nbins as f64 / height
                } else {
                    0.0
                };
                let bin = |y: f64| (((y - y0) * scale) as usize).min(nbins - 1);
                // Count, then fill (CSR).
                let mut count = vec![0usize; nbins + 1];
                for e in &part_edges {
                    let (lo, hi) = (bin(e.y0.min(e.y1)), bin(e.y0.max(e.y1)));
                    for c in &mut count[lo..=hi] {
                        *c += 1;
                    }
                }
                let first = offsets.len();
                let base = edges.len();
                let mut start = Vec::with_capacity(nbins + 1);
                let mut acc = base;
                for c in &count[..nbins] {
                    start.push(acc);
                    acc += c;
                }
                start.push(acc);
                offsets.extend_from_slice(&start);
                edges.resize(
                    acc,
                    Edge {
                        x0: 0.0,
                        y0: 0.0,
                        x1: 0.0,
                        y1: 0.0,
                    },
                );
                let mut fill = start;
                for e in &part_edges {
                    let (lo, hi) = (bin(e.y0.min(e.y1)), bin(e.y0.max(e.y1)));
                    for f in &mut fill[lo..=hi] {
                        edges[*f] = *e;
                        *f += 1;
                    }
                }
                boxes.push(GeomWithData::new(
                    Rectangle::from_corners([x0, y0], [x1, y1]),
                    parts.len(),
                ));
                parts.push(Part {
                    feature,
                    ymin: y0,
                    scale,
                    nbins,
                    first,
                });
            }
        }
        Index {
            tree: RTree::bulk_load(boxes),
            parts,
            offsets,
            edges,
            features: geoms.len(),
        }
    }

    /// Number of features the index was built from.
    pub fn len(&self) -> usize {
        self.features
    }

    pub fn is_empty(&self) -> bool {
        self.features == 0
    }

    /// The feature holding `(x, y)` (in the CRS of the geometries), by the
    /// edge rule; `None` outside every feature or for a non-finite point.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> Option<Found> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let mut best: Option<Found> = None;
        for g in self.tree.locate_all_at_point(&[x, y]) {
            let part = &self.parts[g.data];
            if let Some(b) = best {
                // Only a smaller feature, or the same one seen from its
                // interior, can change the answer.
                if part.feature > b.feature || (part.feature == b.feature && !b.on_edge) {
                    continue;
                }
            }
            match self.classify(part, x, y) {
                Pos::Outside => {}
                Pos::Inside => {
                    best = Some(Found {
                        feature: part.feature,
                        on_edge: false,
                    })
                }
                Pos::Boundary => {
                    if best.is_none_or(|b| part.feature < b.feature) {
                        best = Some(Found {
                            feature: part.feature,
                            on_edge: true,
                        });
                    }
                }
            }
        }
        best
    }

    /// Ray-crossing test (ray towards +x) over the edges of the point's band.
    #[inline]
    fn classify(&self, part: &Part, x: f64, y: f64) -> Pos {
        let b = (((y - part.ymin) * part.scale) as usize).min(part.nbins - 1);
        let lo = self.offsets[part.first + b];
        let hi = self.offsets[part.first + b + 1];
        let mut inside = false;
        let p = Coord { x, y };
        for e in &self.edges[lo..hi] {
            let (xmin, xmax) = if e.x0 <= e.x1 {
                (e.x0, e.x1)
            } else {
                (e.x1, e.x0)
            };
            let straddles = (e.y0 > y) != (e.y1 > y);
            if straddles {
                if x < xmin {
                    inside = !inside;
                    continue;
                }
                if x > xmax {
                    continue;
                }
                // Within the edge's x-range: decide the side exactly.
                let o = RobustKernel::orient2d(
                    Coord { x: e.x0, y: e.y0 },
                    Coord { x: e.x1, y: e.y1 },
                    p,
                );
                match o {
                    Orientation::Collinear => return Pos::Boundary,
                    // Left of an upward edge, or right of a downward one:
                    // the ray to +x crosses it.
                    o => {
                        if (o == Orientation::CounterClockwise) == (e.y1 > e.y0) {
                            inside = !inside;
                        }
                    }
                }
            } else if x >= xmin
                && x <= xmax
                && y >= e.y0.min(e.y1)
                && y <= e.y0.max(e.y1)
                && RobustKernel::orient2d(Coord { x: e.x0, y: e.y0 }, Coord { x: e.x1, y: e.y1 }, p)
                    == Orientation::Collinear
            {
                // A horizontal edge or a vertex at the point's height.
                return Pos::Boundary;
            }
        }
        if inside {
            Pos::Inside
        } else {
            Pos::Outside
        }
    }
}

fn ring_edges(ring: &LineString<f64>, out: &mut Vec<Edge>) {
    let pts = &ring.0;
    if pts.len() < 2 {
        return;
    }
    for w in pts.windows(2) {
        if w[0] != w[1] {
            out.push(Edge {
                x0: w[0].x,
                y0: w[0].y,
                x1: w[1].x,
                y1: w[1].y,
            });
        }
    }
    // An unclosed ring is closed here; a closed one adds nothing.
    let (f, l) = (pts[0], pts[pts.len() - 1]);
    if f != l {
        out.push(Edge {
            x0: l.x,
            y0: l.y,
            x1: f.x,
            y1: f.y,
        });
    }
}

// ---------------------------------------------------------------------------
// Points to look up

/// Points to look up, with the id each keeps in the output.
#[derive(Debug, Clone, Default)]
pub struct Points {
    /// From the CSV's `id` column, the layer's FID, or the row number.
    pub ids: Vec<String>,
    /// As given (lon/lat or the layer's coordinates).
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// Names of the coordinate columns in the output: `lon`/`lat` for
    /// geographic input, `x`/`y` otherwise.
    pub axis_names: (String, String),
    /// The CRS of the points (WKT); `None`: WGS 84 lon/lat.
    pub crs_wkt: Option<String>,
}

const LON_NAMES: [&str; 5] = ["lon", "lng", "long", "longitude", "x"];
const LAT_NAMES: [&str; 3] = ["lat", "latitude", "y"];

/// What is wrong with a lon/lat pair in degrees, if anything.
pub fn lonlat_out_of_range(lon: f64, lat: f64) -> Option<String> {
    if !(-180.0..=180.0).contains(&lon) {
        Some(format!("longitude {lon} is outside -180..180"))
    } else if !(-90.0..=90.0).contains(&lat) {
        Some(format!("latitude {lat} is outside -90..90"))
    } else {
        None
    }
}

/// Reads points from a CSV file with a header: columns `lon`,`lat` (also
/// `lng`, `longitude`, `latitude`) or `x`,`y`, any case, and an optional `id`.
pub fn read_csv_points(path: &Path) -> Result<Points> {
    let file = path.display().to_string();
    if !path.exists() {
        return Err(Error::input("file not found")
            .file(file)
            .hint("check the path given to --points"));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::input(format!("cannot read CSV: {e}")).file(file.clone()))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(format!("cannot read the CSV header: {e}")).file(file.clone()))?
        .clone();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    };
    let (Some(xi), Some(yi)) = (find(&LON_NAMES), find(&LAT_NAMES)) else {
        return Err(Error::input(format!(
            "no coordinate columns; the header has: {}",
            headers.iter().collect::<Vec<_>>().join(", ")
        ))
        .file(file)
        .hint("name the columns lon,lat (WGS 84) or x,y (with --points-crs)"));
    };
    let id_col = find(&["id"]);
    let axis = (headers[xi].to_lowercase(), headers[yi].to_lowercase());
    let mut pts = Points {
        axis_names: axis,
        ..Default::default()
    };
    for (row, rec) in rdr.records().enumerate() {
        // Row 1 is the header: data rows start at line 2.
        let line = row as i64 + 2;
        let rec = rec.map_err(|e| {
            Error::input(format!("invalid CSV: {e}"))
                .file(file.clone())
                .feature(line)
        })?;
        let num = |i: usize, what: &str| -> Result<f64> {
            let s = rec.get(i).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::input(format!("line {line}: {what} '{s}' is not a number"))
                        .file(file.clone())
                        .hint("every row needs finite numbers in the coordinate columns")
                })
        };
        let (x, y) = (num(xi, &headers[xi])?, num(yi, &headers[yi])?);
        // lon/lat columns hold degrees: 95° north is a typo, not a point
        // outside every neighborhood.
        if pts.axis_names.0 != "x" {
            if let Some(e) = lonlat_out_of_range(x, y) {
                return Err(Error::input(format!("line {line}: {e}"))
                    .file(file.clone())
                    .hint("lon/lat columns hold WGS 84 degrees; for projected x,y name the columns x,y and give --points-crs"));
            }
        }
        pts.xs.push(x);
        pts.ys.push(y);
        pts.ids.push(match id_col {
            Some(c) => rec.get(c).unwrap_or("").to_string(),
            None => (row + 1).to_string(),
        });
    }
    Ok(pts)
}

/// Reads points from any GDAL point layer; ids are the FIDs. The layer's CRS
/// is kept (lon/lat when it declares none).
pub fn read_layer_points(spec: &LayerConfig) -> Result<Points> {
    let mut opened = read::open_layer(spec)?;
    let crs_wkt = match &opened.srs {
        Some(s) => Some(
            s.to_wkt()
                .map_err(|e| opened.error(format!("cannot read the layer's CRS: {e}")))?,
        ),
        None => None,
    };
    let geographic = opened.srs.as_ref().is_none_or(|s| s.is_geographic());
    let source = opened.source.clone();
    let mut pts = Points {
        axis_names: if geographic {
            ("lon".into(), "lat".into())
        } else {
            ("x".into(), "y".into())
        },
        crs_wkt,
        ..Default::default()
    };
    read::take_gdal_errors();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = f.fid().map(|v| v as i64).unwrap_or(position as i64);
        let err = |msg: String| {
            Error::input(msg)
                .file(source.file.clone())
                .layer(source.layer.clone())
                .feature(fid)
        };
        let Some(g) = f.geometry() else {
            return Err(err("feature without geometry".into())
                .hint("every feature of --points needs a point"));
        };
        let name = read::geometry_type_name(g);
        if name != "Point" || g.point_count() == 0 {
            return Err(err(format!("geometry is a {name}, expected a point"))
                .hint("give a point layer, or a CSV with lon,lat columns"));
        }
        let (x, y, _) = g.get_point(0);
        if !(x.is_finite() && y.is_finite()) {
            return Err(err("non-finite coordinate (NaN or infinite)".into()));
        }
        pts.xs.push(x);
        pts.ys.push(y);
        pts.ids.push(fid.to_string());
    }
    let failures = read::take_gdal_errors();
    if !failures.is_empty() {
        return Err(opened
            .error(format!("reading failed: {}", failures.join("; ")))
            .hint("the file may be truncated or damaged"));
    }
    Ok(pts)
}

/// The points' coordinates in the layer's CRS (`points_srs`: the points'
/// CRS; `None` for WGS 84 lon/lat).
pub fn points_in(
    pts: &Points,
    points_srs: Option<&SpatialRef>,
    layer: &NeighborhoodLayer,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut xs, mut ys) = (pts.xs.clone(), pts.ys.clone());
    let Some(to) = layer.spatial_ref()? else {
        // A layer without a CRS: the points are taken to be in its
        // coordinates, as GIS tools do.
        return Ok((xs, ys));
    };
    let from = match points_srs {
        Some(s) => s.clone(),
        None => reproject::lonlat_srs()?,
    };
    let tr = Transformer::new(&from, &to)?;
    tr.transform_xy(&mut xs, &mut ys, |i| i64::try_from(i + 1).ok())
        .map_err(|e| {
            let hint = "check that the points are lon/lat in degrees (or give --points-crs)";
            if e.hint.is_none() {
                e.hint(hint)
            } else {
                e
            }
        })?;
    Ok((xs, ys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn square(x: f64, y: f64, w: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + w, y: y), (x: x + w, y: y + w), (x: x, y: y + w), (x: x, y: y)
        ]])
    }

    #[test]
    fn inside_edge_vertex_and_outside() {
        // Two squares sharing the edge x = 10.
        let idx = Index::new(&[square(0.0, 0.0, 10.0), square(10.0, 0.0, 10.0)]);
        let f = |x, y| idx.locate(x, y);
        assert_eq!(
            f(5.0, 5.0),
            Some(Found {
                feature: 0,
                on_edge: false
            })
        );
        assert_eq!(
            f(15.0, 5.0),
            Some(Found {
                feature: 1,
                on_edge: false
            })
        );
        // On the shared edge and on the shared vertex: the smaller index.
        let edge = Some(Found {
            feature: 0,
            on_edge: true,
        });
        assert_eq!(f(10.0, 5.0), edge);
        assert_eq!(f(10.0, 10.0), edge);
        assert_eq!(f(10.0, 0.0), edge);
        // On a horizontal outer edge of the second square only.
        assert_eq!(
            f(15.0, 10.0),
            Some(Found {
                feature: 1,
                on_edge: true
            })
        );
        assert_eq!(f(25.0, 5.0), None);
        assert_eq!(f(5.0, 10.000001), None);
        assert_eq!(f(f64::NAN, 1.0), None);
    }

    #[test]
    fn holes_are_outside_and_their_edges_are_edges() {
        let p = polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0)]],
        );
        let idx = Index::new(&[MultiPolygon(vec![p])]);
        assert_eq!(idx.locate(5.0, 5.0), None);
        assert_eq!(idx.locate(2.0, 5.0).map(|f| f.on_edge), Some(false));
        assert_eq!(idx.locate(4.0, 5.0).map(|f| f.on_edge), Some(true));
    }

    #[test]
    fn agrees_with_geo_on_a_jagged_polygon() {
        use geo::{Contains, Intersects, Point};
        // A star with 40 points: many edges per band.
        let n = 80;
        let ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = if i % 2 == 0 { 100.0 } else { 37.0 };
                (r * a.cos() + 0.123, r * a.sin() - 0.456)
            })
            .collect();
        let poly = geo_types::Polygon::new(LineString::from(ring), vec![]);
        let idx = Index::new(&[MultiPolygon(vec![poly.clone()])]);
        let mut s: u64 = 42;
        for _ in 0..20_000 {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = ((s >> 11) as f64 / (1u64 << 53) as f64) * 240.0 - 120.0;
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let y = ((s >> 11) as f64 / (1u64 << 53) as f64) * 240.0 - 120.0;
            let pt = Point::new(x, y);
            let want = if poly.contains(&pt) {
                Some(false)
            } else if poly.intersects(&pt) {
                Some(true)
            } else {
                None
            };
            assert_eq!(idx.locate(x, y).map(|f| f.on_edge), want, "({x}, {y})");
        }
        // Every vertex is on the boundary.
        for c in poly.exterior().0.iter() {
            assert_eq!(idx.locate(c.x, c.y).map(|f| f.on_edge), Some(true));
        }
    }
}
