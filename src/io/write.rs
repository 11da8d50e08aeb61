//! Writing the neighborhoods, atomically and byte-for-byte reproducibly.
//!
//! The format follows the extension: GeoJSON is written directly (RFC 7946,
//! lon/lat; GDAL's GeoJSON driver is some 30 times slower), GeoPackage,
//! FlatGeobuf and Shapefile go through GDAL in the working CRS. Everything is
//! written to a temporary file beside the target, synced, then renamed over
//! it, so a failed run never leaves a half-written file where the last good
//! one was. Dates GDAL would stamp into the files are fixed, so the same
//! neighborhoods give the same bytes.
//!
//! A run that is killed (SIGKILL, OOM killer, a pod evicted) cannot remove its
//! temporary file. Temporary names carry the writer's pid and start time, and
//! the next write beside the same target removes those of processes that are
//! gone, so stale files never pile up. They are hidden (`.{stem}.dongne-tmp-…`)
//! and never match the target's name, so nothing reads them by mistake.
//!
//! Several files of one run (the neighborhoods, the change report, the
//! summary) can be written as [`Staged`] files and renamed together at the
//! end with [`commit_all`]: a run that fails leaves none of them half-updated.
//!
//! Fields, in this order:
//!
//! | field | type | Shapefile name |
//! |---|---|---|
//! | `nbhd_id` | text | `nbhd_id` |
//! | `kind` | text | `kind` |
//! | `admin_code` | text | `admin_code` |
//! | `admin_name` | text | `admin_name` |
//! | `area_m2` | real, 2 decimals | `area_m2` |
//! | `perimeter_m` | real, 2 decimals | `perim_m` |
//! | `buildings` | integer | `buildings` |
//! | `compactness` | real, 4 decimals | `compact` |
//! | `bounded_by` | text | `bounded_by` |
//!
//! (Shapefile field names have at most 10 characters.) No field is called
//! `id`: GDAL would take it as the feature id.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{
    FieldDefn, Geometry as GdalGeometry, LayerAccess, LayerOptions, OGRFieldType,
    OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DriverManager};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};

use crate::error::{Error, Result};
use crate::io::read::{capture_gdal_errors, gdal_reason, take_gdal_errors};
use crate::io::reproject::{Transformer, WorkingCrs};
use crate::model::{DebugLayers, Neighborhood};

/// Extensions `write` knows, for messages.
pub const SUPPORTED: &str = ".geojson, .json, .gpkg, .fgb, .shp";

/// Name of the neighborhoods layer in GeoPackage and FlatGeobuf output.
pub const LAYER_NAME: &str = "neighborhoods";

/// Date written where GDAL would write today's (GeoPackage `last_change`,
/// the DBF header), so that output depends only on input.
pub const FIXED_DATE: &str = "2000-01-01";

/// Decimals of lon/lat in GeoJSON: 1 cm on the ground.
const LONLAT_DECIMALS: i32 = 7;

/// Output formats, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    GeoPackage,
    FlatGeobuf,
    Shapefile,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "geojson" | "json" => Ok(Format::GeoJson),
            "gpkg" => Ok(Format::GeoPackage),
            "fgb" => Ok(Format::FlatGeobuf),
            "shp" => Ok(Format::Shapefile),
            _ => Err(Error::input(format!(
                "unknown output format '.{ext}'; supported: {SUPPORTED}"
            ))
            .file(path.display().to_string())
            .hint("name the output with one of these extensions")),
        }
    }

    fn driver(self) -> &'static str {
        match self {
            Format::GeoJson => "GeoJSON",
            Format::GeoPackage => "GPKG",
            Format::FlatGeobuf => "FlatGeobuf",
            Format::Shapefile => "ESRI Shapefile",
        }
    }
}

/// Writes the neighborhoods (and, into a GeoPackage, the debug layers) to
/// `path`, replacing it atomically.
pub fn write(
    path: &Path,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
) -> Result<()> {
    write_staged(path, features, crs, debug)?.commit()
}

/// Writes the neighborhoods to a temporary file beside `path` and returns it
/// staged: [`Staged::commit`] (or [`commit_all`]) renames it over `path`;
/// dropped uncommitted, it is removed.
pub fn write_staged(
    path: &Path,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
) -> Result<Staged> {
    capture_gdal_errors();
    let format = check_format(path, debug.is_some())?;
    let target = Target::prepare(path, format == Format::Shapefile)?;
    let written = match format {
        Format::GeoJson => write_geojson(&target, features, crs),
        _ => write_gdal(&target, format, features, crs, debug),
    };
    target.staged(written)
}

/// Checks, before a long run, that `write` will accept the path: a known
/// extension, debug layers only into a GeoPackage, an existing writable
/// folder.
pub fn check_target(path: &Path, debug_layers: bool) -> Result<()> {
    check_format(path, debug_layers)?;
    check_writable(path)
}

/// Checks, before a long run, that a file of any kind (a summary, a report)
/// can be written at `path`: an existing, writable folder.
pub fn check_writable(path: &Path) -> Result<()> {
    Target::prepare(path, false).map(|_| ())
}

/// Writes bytes (a JSON summary, a report) atomically: temporary file,
/// sync, rename.
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    stage_bytes(path, bytes)?.commit()
}

/// Writes bytes to a temporary file beside `path`, staged for
/// [`commit_all`].
pub fn stage_bytes(path: &Path, bytes: &[u8]) -> Result<Staged> {
    let target = Target::prepare(path, false)?;
    let written = File::create(&target.tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| output_error(&target.path, e));
    target.staged(written)
}

/// A complete file waiting under its temporary name to be renamed over its
/// target. Dropped without a commit (the run failed after writing it), the
/// temporary file is removed and the target left as it was.
#[must_use = "a staged file is removed unless committed"]
pub struct Staged {
    target: Option<Target>,
}

impl Staged {
    /// Renames the file over its target.
    pub fn commit(self) -> Result<()> {
        commit_all(vec![self])
    }

    /// The target this file will replace.
    pub fn path(&self) -> Option<&Path> {
        self.target.as_ref().map(|t| t.path.as_path())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(t) = self.target.take() {
            t.cleanup();
        }
    }
}

/// Renames staged files over their targets, in the order given (put the
/// file others refer to last: a reader that finds it finds the rest). Each
/// file is already complete and synced, so what is left to fail is a rename
/// within one folder; the files not yet renamed are then removed.
pub fn commit_all(staged: Vec<Staged>) -> Result<()> {
    test_pause_before_rename();
    for mut s in staged {
        if let Some(t) = s.target.take() {
            if let Err(e) = t.commit() {
                t.cleanup();
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Test hook, read in every build: with `DONGNE_TEST_PAUSE_BEFORE_RENAME_MS`
/// set, the run sleeps that long once every temporary file is complete and
/// before any is renamed, so that a test can kill it (SIGKILL) at exactly the
/// moment that matters and show the old target intact. A build flag would not
/// do: the tests run the release binary (`cargo test --release`), the same one
/// that ships. Unset (always, in production) it costs one environment lookup
/// per run; set by mistake it only slows the run down. Documented in
/// docs/operations.md.
fn test_pause_before_rename() {
    let ms = std::env::var("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(ms) = ms {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

fn check_format(path: &Path, debug_layers: bool) -> Result<Format> {
    let format = Format::from_path(path)?;
    if debug_layers && format != Format::GeoPackage {
        return Err(Error::input("--debug-layers needs a .gpkg output")
            .file(path.display().to_string())
            .hint("write to a .gpkg file, or leave --debug-layers out"));
    }
    Ok(format)
}

// ---------------------------------------------------------------------------
// Atomic replacement

/// What every temporary file name starts with, after the target's stem.
const TMP_TAG: &str = "dongne-tmp-";

/// Tells this process apart from an earlier one that had the same pid (a
/// container restarted, pids reused): its start time in nanoseconds, hex.
fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{nanos:x}")
    })
}

/// Whether a process with this pid runs on this machine. Without `/proc`
/// (not Linux) it cannot tell and says yes, so nothing is removed.
fn pid_alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return true;
    }
    proc_dir.join(pid.to_string()).exists()
}

/// Removes temporary files that an earlier run, now dead, left beside
/// `path` (same folder, same stem): `.{stem}.dongne-tmp-{pid}-{token}-…`
/// whose pid runs no process here, or is this process's pid with another
/// start token (a killed run in an earlier container). Files of a live
/// process are kept: it may be writing them.
fn remove_stale_temp_files(dir: &Path, stem: &str) {
    let lead = format!(".{stem}.{TMP_TAG}");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&lead)) else {
            continue;
        };
        let mut parts = rest.splitn(3, '-');
        let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let token = parts.next().unwrap_or("");
        let stale = if pid == me {
            token != process_token()
        } else {
            !pid_alive(pid)
        };
        if stale && fs::remove_file(e.path()).is_ok() {
            tracing::info!(file = %e.path().display(), "removed a temporary file left by a killed run");
        }
    }
}

/// The target and its temporary twin in the same folder (a rename is only
/// atomic within one file system).
struct Target {
    path: PathBuf,
    dir: PathBuf,
    /// `.{stem}.dongne-tmp-{pid}-{token}-{n}.`: every temporary file starts
    /// so (a shapefile is several files).
    prefix: String,
    tmp: PathBuf,
    /// A shapefile: several files share the temporary prefix.
    multi_file: bool,
}

impl Target {
    fn prepare(path: &Path, multi_file: bool) -> Result<Target> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let shown = path.display().to_string();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            let what = if dir.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(
                Error::output(format!("output folder {} {what}", dir.display()))
                    .file(shown)
                    .hint(format!(
                        "create it first (mkdir -p {}) or choose another output",
                        dir.display()
                    )),
            );
        }
        if path.is_dir() {
            return Err(Error::output("output path is a folder")
                .file(shown)
                .hint("give a file name, e.g. out/neighborhoods.gpkg"));
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("output");
        let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
        remove_stale_temp_files(&dir, stem);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix = format!(
            ".{stem}.{TMP_TAG}{}-{}-{n}.",
            std::process::id(),
            process_token()
        );
        let tmp = dir.join(format!("{prefix}{ext}"));
        // Fails early, with the OS's reason, when the folder is not writable.
        let probe = OpenOptions::new().write(true).create_new(true).open(&tmp);
        if let Err(e) = probe {
            return Err(
                Error::output(format!("cannot write in {}: {e}", dir.display()))
                    .file(shown)
                    .hint("check the folder's permissions, or choose another output"),
            );
        }
        let _ = fs::remove_file(&tmp);
        Ok(Target {
            path: path.to_path_buf(),
            dir,
            prefix,
            tmp,
            multi_file,
        })
    }

    /// The temporary files present, sorted, with the extension each gives
    /// the target (`shp`, `dbf`, …).
    fn temp_files(&self) -> Vec<(PathBuf, String)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<(PathBuf, String)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_str()?.to_string();
                let ext = name.strip_prefix(&self.prefix)?.to_string();
                Some((e.path(), ext))
            })
            .collect();
        out.sort();
        out
    }

    /// Syncs and renames the temporary file(s) over the target. For a
    /// shapefile the `.shp` goes last, so that a reader finding the new
    /// `.shp` also finds the new sidecars.
    fn commit(&self) -> Result<()> {
        let mut files = if self.multi_file {
            self.temp_files()
        } else {
            vec![(self.tmp.clone(), String::new())]
        };
        files.sort_by_key(|(_, ext)| ext.eq_ignore_ascii_case("shp"));
        for (tmp, _) in &files {
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| self.io_error("cannot sync", tmp, e))?;
        }
        if self.multi_file {
            self.remove_stale_indexes();
        }
        for (tmp, ext) in &files {
            let dest = if ext.is_empty() {
                self.path.clone()
            } else {
                self.path.with_extension(ext)
            };
            fs::rename(tmp, &dest).map_err(|e| self.io_error("cannot rename", tmp, e))?;
        }
        // The renames themselves are durable only once the folder is synced.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Spatial indexes of an older shapefile would describe the wrong shapes.
    fn remove_stale_indexes(&self) {
        for ext in ["qix", "sbn", "sbx"] {
            let _ = fs::remove_file(self.path.with_extension(ext));
        }
    }

    /// Stages a successful write; removes every temporary file otherwise.
    fn staged(self, written: Result<()>) -> Result<Staged> {
        match written {
            Ok(()) => Ok(Staged { target: Some(self) }),
            Err(e) => {
                self.cleanup();
                Err(e)
            }
        }
    }

    fn cleanup(&self) {
        for (tmp, _) in self.temp_files() {
            let _ = fs::remove_file(tmp);
        }
    }

    fn io_error(&self, what: &str, tmp: &Path, e: std::io::Error) -> Error {
        Error::output(format!("{what} {}: {e}", tmp.display()))
            .file(self.path.display().to_string())
            .hint("check free disk space and the folder's permissions")
    }
}

// ---------------------------------------------------------------------------
// Values shared by all formats

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    let r = (v * f).round() / f;
    // No "-0.0" in the output.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// The attribute values of a feature, rounded as written.
struct Row<'a> {
    nbhd_id: &'a str,
    kind: &'static str,
    admin_code: &'a str,
    admin_name: &'a str,
    area_m2: f64,
    perimeter_m: f64,
    buildings: i64,
    compactness: f64,
    bounded_by: &'a str,
}

impl<'a> Row<'a> {
    fn of(n: &'a Neighborhood) -> Row<'a> {
        Row {
            nbhd_id: &n.id,
            kind: n.kind.as_str(),
            admin_code: &n.admin_code,
            admin_name: &n.admin_name,
            area_m2: round_to(n.area_m2, 2),
            perimeter_m: round_to(n.perimeter_m, 2),
            buildings: i64::try_from(n.buildings).unwrap_or(i64::MAX),
            compactness: round_to(n.compactness, 4),
            bounded_by: &n.bounded_by,
        }
    }
}

// ---------------------------------------------------------------------------
// GeoJSON

fn write_geojson(target: &Target, features: &[Neighborhood], crs: &WorkingCrs) -> Result<()> {
    let to_lonlat = Transformer::to_lonlat(crs)?;
    let io = |e: std::io::Error| output_error(&target.path, e);
    let file = File::create(&target.tmp).map_err(io)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
        .map_err(io)?;
    for (i, n) in features.iter().enumerate() {
        let lonlat = to_lonlat
            .multi_polygon(&n.geom, None)
            .map_err(|e| Error::internal(format!("neighborhood {}: {}", n.id, e.message)))?;
        // RFC 7946: a polygon across 180° is cut there.
        let lonlat = crate::geom::antimeridian::split_at_antimeridian(lonlat);
        if i > 0 {
            w.write_all(b",\n").map_err(io)?;
        }
        write_feature(&mut w, &Row::of(n), &lonlat).map_err(io)?;
    }
    w.write_all(b"\n]}\n").map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

fn output_error(path: &Path, e: std::io::Error) -> Error {
    Error::output(format!("cannot write: {e}"))
        .file(path.display().to_string())
        .hint("check free disk space and the folder's permissions")
}

/// One feature on one line, properties in the documented order.
fn write_feature(w: &mut impl Write, r: &Row, lonlat: &MultiPolygon<f64>) -> std::io::Result<()> {
    w.write_all(b"{\"type\":\"Feature\",\"properties\":{")?;
    json_pair(w, "nbhd_id", &r.nbhd_id, false)?;
    json_pair(w, "kind", &r.kind, true)?;
    json_pair(w, "admin_code", &r.admin_code, true)?;
    json_pair(w, "admin_name", &r.admin_name, true)?;
    json_pair(w, "area_m2", &r.area_m2, true)?;
    json_pair(w, "perimeter_m", &r.perimeter_m, true)?;
    json_pair(w, "buildings", &r.buildings, true)?;
    json_pair(w, "compactness", &r.compactness, true)?;
    json_pair(w, "bounded_by", &r.bounded_by, true)?;
    w.write_all(b"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[")?;
    let mut first = true;
    for p in &lonlat.0 {
        let Some(rings) = rfc7946_rings(p) else {
            continue;
        };
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        write_rings(w, &rings)?;
    }
    w.write_all(b"]}}")
}

fn json_pair(
    w: &mut impl Write,
    key: &str,
    value: &impl serde::Serialize,
    comma: bool,
) -> std::io::Result<()> {
    if comma {
        w.write_all(b",")?;
    }
    serde_json::to_writer(&mut *w, key)?;
    w.write_all(b":")?;
    serde_json::to_writer(&mut *w, value)?;
    Ok(())
}

fn write_rings(w: &mut impl Write, rings: &[Vec<Coord<f64>>]) -> std::io::Result<()> {
    w.write_all(b"[")?;
    for (i, ring) in rings.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(b"[")?;
        for (j, c) in ring.iter().enumerate() {
            if j > 0 {
                w.write_all(b",")?;
            }
            w.write_all(b"[")?;
            serde_json::to_writer(&mut *w, &c.x)?;
            w.write_all(b",")?;
            serde_json::to_writer(&mut *w, &c.y)?;
            w.write_all(b"]")?;
        }
        w.write_all(b"]")?;
    }
    w.write_all(b"]")
}

/// Rings of a lon/lat polygon as RFC 7946 wants them: rounded to 7 decimals,
/// without consecutive duplicates, exterior counter-clockwise, holes
/// clockwise. Rings that collapse under rounding are dropped; `None` when the
/// exterior does.
fn rfc7946_rings(p: &Polygon<f64>) -> Option<Vec<Vec<Coord<f64>>>> {
    let mut rings = vec![rounded_ring(p.exterior(), true)?];
    rings.extend(p.interiors().iter().filter_map(|r| rounded_ring(r, false)));
    Some(rings)
}

fn rounded_ring(ring: &LineString<f64>, ccw: bool) -> Option<Vec<Coord<f64>>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for c in &ring.0 {
        let r = Coord {
            x: round_to(c.x, LONLAT_DECIMALS),
            y: round_to(c.y, LONLAT_DECIMALS),
        };
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    if out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    // A ring needs three distinct corners and some area.
    let area = signed_area(&out);
    if out.len() < 3 || area == 0.0 {
        return None;
    }
    if (area > 0.0) != ccw {
        // Reversed, keeping the first corner first.
        out[1..].reverse();
    }
    out.push(out[0]);
    Some(out)
}

/// Shoelace area of an open ring: positive when counter-clockwise.
fn signed_area(open: &[Coord<f64>]) -> f64 {
    let n = open.len();
    (0..n)
        .map(|i| {
            let (a, b) = (open[i], open[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum::<f64>()
        / 2.0
}

// ---------------------------------------------------------------------------
// GDAL formats

/// An output field: its name, its Shapefile name (10 characters at most),
/// its type.
struct FieldSpec {
    name: &'static str,
    short: &'static str,
    ty: OGRFieldType::Type,
}

const FIELDS: [FieldSpec; 9] = [
    FieldSpec {
        name: "nbhd_id",
        short: "nbhd_id",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "kind",
        short: "kind",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "admin_code",
        short: "admin_code",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "admin_name",
        short: "admin_name",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "area_m2",
        short: "area_m2",
        ty: OGRFieldType::OFTReal,
    },
    FieldSpec {
        name: "perimeter_m",
        short: "perim_m",
        ty: OGRFieldType::OFTReal,
    },
    FieldSpec {
        name: "buildings",
        short: "buildings",
        ty: OGRFieldType::OFTInteger64,
    },
    FieldSpec {
        name: "compactness",
        short: "compact",
        ty: OGRFieldType::OFTReal,
    },
    FieldSpec {
        name: "bounded_by",
        short: "bounded_by",
        ty: OGRFieldType::OFTString,
    },
];

/// The widest text a DBF field holds; admin names in Hangul take three bytes
/// a character.
const SHAPEFILE_TEXT_WIDTH: i32 = 254;

fn write_gdal(
    target: &Target,
    format: Format,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
) -> Result<()> {
    take_gdal_errors();
    let gdal_err = |what: &str, e: gdal::errors::GdalError| {
        let why = gdal_reason(e);
        Error::output(format!("{what}: {why}")).file(target.path.display().to_string())
    };
    // GeoPackage stamps `last_change` with the time unless told the date.
    let _date = ThreadConfig::set("OGR_CURRENT_DATE", &format!("{FIXED_DATE}T00:00:00.000Z"));
    let driver = DriverManager::get_driver_by_name(format.driver())
        .map_err(|e| gdal_err("GDAL driver missing", e))?;
    let mut ds = driver
        .create_vector_only(&target.tmp)
        .map_err(|e| gdal_err("cannot create", e))?;
    let srs = crs.spatial_ref()?;
    if format == Format::GeoPackage {
        // One transaction: GPKG commits per feature otherwise (10x slower).
        let mut txn = ds
            .start_transaction()
            .map_err(|e| gdal_err("cannot start a transaction", e))?;
        write_neighborhoods(&mut txn, format, features, &srs)
            .map_err(|e| gdal_err("cannot write", e))?;
        crate::io::style::write_gpkg_style(&mut txn, LAYER_NAME, features)
            .map_err(|e| gdal_err("cannot write the QGIS style", e))?;
        if let Some(d) = debug {
            write_debug(&mut txn, d, &srs).map_err(|e| gdal_err("cannot write debug layers", e))?;
        }
        txn.commit().map_err(|e| gdal_err("cannot commit", e))?;
    } else {
        write_neighborhoods(&mut ds, format, features, &srs)
            .map_err(|e| gdal_err("cannot write", e))?;
    }
    ds.close().map_err(|e| gdal_err("cannot close", e))?;
    Ok(())
}

fn write_neighborhoods(
    ds: &mut Dataset,
    format: Format,
    features: &[Neighborhood],
    srs: &SpatialRef,
) -> gdal::errors::Result<()> {
    let dbf_date = format!("DBF_DATE_LAST_UPDATE={FIXED_DATE}");
    let options: Vec<&str> = match format {
        Format::Shapefile => vec!["ENCODING=UTF-8", "SHPT=POLYGON", &dbf_date],
        Format::FlatGeobuf => vec!["SPATIAL_INDEX=YES"],
        _ => vec![],
    };
    let layer = ds.create_layer(LayerOptions {
        name: LAYER_NAME,
        srs: Some(srs),
        ty: OGRwkbGeometryType::wkbMultiPolygon,
        options: Some(&options),
    })?;
    let short = format == Format::Shapefile;
    for f in &FIELDS {
        let defn = FieldDefn::new(if short { f.short } else { f.name }, f.ty)?;
        if short && f.ty == OGRFieldType::OFTString {
            defn.set_width(SHAPEFILE_TEXT_WIDTH);
        }
        defn.add_to_layer(&layer)?;
    }
    for n in features {
        let r = Row::of(n);
        let mut feature = gdal::vector::Feature::new(layer.defn())?;
        feature.set_field_string(0, r.nbhd_id)?;
        feature.set_field_string(1, r.kind)?;
        feature.set_field_string(2, r.admin_code)?;
        feature.set_field_string(3, r.admin_name)?;
        feature.set_field_double(4, r.area_m2)?;
        feature.set_field_double(5, r.perimeter_m)?;
        feature.set_field_integer64(6, r.buildings)?;
        feature.set_field_double(7, r.compactness)?;
        feature.set_field_string(8, r.bounded_by)?;
        feature.set_geometry(multi_polygon_to_gdal(&n.geom)?)?;
        feature.create(&layer)?;
    }
    Ok(())
}

/// geo-types → OGR, always a MultiPolygon (also when empty).
fn multi_polygon_to_gdal(mp: &MultiPolygon<f64>) -> gdal::errors::Result<GdalGeometry> {
    if mp.0.is_empty() {
        return GdalGeometry::empty(OGRwkbGeometryType::wkbMultiPolygon);
    }
    mp.to_gdal()
}

fn write_debug(ds: &mut Dataset, d: &DebugLayers, srs: &SpatialRef) -> gdal::errors::Result<()> {
    let hotspots = d
        .hotspots
        .iter()
        .map(|(id, g, n)| (vec![Value::Text(id), Value::Int(*n as i64)], g.to_gdal()));
    debug_layer(
        ds,
        srs,
        "hotspots",
        OGRwkbGeometryType::wkbUnknown,
        &[
            ("hotspot_id", OGRFieldType::OFTString),
            ("buildings", OGRFieldType::OFTInteger64),
        ],
        hotspots,
    )?;
    let enclosures = d
        .enclosures
        .iter()
        .map(|(id, p)| (vec![Value::Text(id)], p.to_gdal()));
    debug_layer(
        ds,
        srs,
        "enclosures",
        OGRwkbGeometryType::wkbPolygon,
        &[("enclosure_id", OGRFieldType::OFTString)],
        enclosures,
    )?;
    let barriers = d
        .barriers
        .iter()
        .map(|(kind, class, g)| (vec![Value::Text(kind), Value::Text(class)], g.to_gdal()));
    debug_layer(
        ds,
        srs,
        "barriers",
        OGRwkbGeometryType::wkbUnknown,
        &[
            ("kind", OGRFieldType::OFTString),
            ("class", OGRFieldType::OFTString),
        ],
        barriers,
    )
}

enum Value<'a> {
    Text(&'a str),
    Int(i64),
}

fn debug_layer<'a>(
    ds: &mut Dataset,
    srs: &SpatialRef,
    name: &str,
    ty: OGRwkbGeometryType::Type,
    fields: &[(&str, OGRFieldType::Type)],
    rows: impl Iterator<Item = (Vec<Value<'a>>, gdal::errors::Result<GdalGeometry>)>,
) -> gdal::errors::Result<()> {
    let layer = ds.create_layer(LayerOptions {
        name,
        srs: Some(srs),
        ty,
        options: None,
    })?;
    layer.create_defn_fields(fields)?;
    for (values, geom) in rows {
        let mut f = gdal::vector::Feature::new(layer.defn())?;
        for (i, v) in values.iter().enumerate() {
            match v {
                Value::Text(s) => f.set_field_string(i, s)?,
                Value::Int(n) => f.set_field_integer64(i, *n)?,
            }
        }
        f.set_geometry(geom?)?;
        f.create(&layer)?;
    }
    Ok(())
}

/// A GDAL config option for this thread, cleared when dropped: other
/// threads (and later writes) keep GDAL's defaults.
struct ThreadConfig(&'static str);

impl ThreadConfig {
    fn set(key: &'static str, value: &str) -> Option<ThreadConfig> {
        gdal::config::set_thread_local_config_option(key, value)
            .ok()
            .map(|()| ThreadConfig(key))
    }
}

impl Drop for ThreadConfig {
    fn drop(&mut self) {
        let _ = gdal::config::clear_thread_local_config_option(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{coord, polygon};

    #[test]
    fn rings_are_rounded_deduplicated_and_oriented() {
        // Clockwise exterior with a point that rounds onto its neighbour,
        // counter-clockwise hole.
        let p = polygon!(
            exterior: [
                (x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.00000001, y: 1.00000001),
                (x: 1.0, y: 1.0), (x: 1.0, y: 0.0),
            ],
            interiors: [[(x: 0.2, y: 0.2), (x: 0.4, y: 0.2), (x: 0.4, y: 0.4)]],
        );
        let rings = rfc7946_rings(&p).unwrap();
        assert_eq!(
            rings[0],
            vec![
                coord! {x: 0.0, y: 0.0},
                coord! {x: 1.0, y: 0.0},
                coord! {x: 1.0, y: 1.0},
                coord! {x: 0.0, y: 1.0},
                coord! {x: 0.0, y: 0.0},
            ]
        );
        assert!(signed_area(&rings[0][..4]) > 0.0);
        assert!(signed_area(&rings[1][..3]) < 0.0);
        // A ring smaller than the rounding step disappears.
        let tiny = polygon![(x: 5.0, y: 5.0), (x: 5.00000001, y: 5.0), (x: 5.0, y: 5.00000001)];
        assert_eq!(rfc7946_rings(&tiny), None);
    }

    #[test]
    fn rounding_has_no_negative_zero() {
        assert_eq!(round_to(-0.000000001, 7).to_string(), "0");
        assert_eq!(round_to(126.97800004, 7), 126.978);
        assert_eq!(round_to(1.005, 2), 1.0);
    }

    #[test]
    fn unknown_extension_lists_the_supported_ones() {
        let e = Format::from_path(Path::new("out/n.kml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "out/n.kml: unknown output format '.kml'; supported: .geojson, .json, .gpkg, .fgb, .shp\n  hint: name the output with one of these extensions"
        );
        assert_eq!(
            Format::from_path(Path::new("a.GPKG")).unwrap(),
            Format::GeoPackage
        );
    }
}
