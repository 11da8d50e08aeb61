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
//! | `name` | text, NULL for barrier features | `name` |
//! | `name_en` | text, NULL where the source has no Latin name | `name_en` |
//! | `name_source` | text: the layer or tag that gave the name, or `fallback` | `name_src` |
//! | `area_m2` | real, 2 decimals | `area_m2` |
//! | `perimeter_m` | real, 2 decimals | `perim_m` |
//! | `buildings` | integer | `buildings` |
//! | `compactness` | real, 4 decimals | `compact` |
//! | `bounded_by` | text | `bounded_by` |
//! | `level` | integer: 1 for the neighborhoods as drawn, 2, 3, … for the coarser levels | `level` |
//! | `parent_id` | text: the feature of the next level that holds this one, NULL at the top | `parent_id` |
//!
//! (Shapefile field names have at most 10 characters.) No field is called

mod atomic;
mod gdal_formats;
pub use gdal_formats::{add_features, FieldValue};
mod geojson;
mod parquet;
pub use parquet::encode as encode_geoparquet;
mod postgis;
mod tables;
pub use tables::{beside, stage_beside, Table};

use std::path::{Path, PathBuf};

use gdal::vector::OGRFieldType;

use crate::error::{Error, Result};
use crate::io::gdal_errors::capture_gdal_errors;
use crate::io::postgis::{is_connection, TableName};
use crate::io::reproject::WorkingCrs;
use crate::model::{DebugLayers, Neighborhood};

use atomic::Target;

/// Extensions `write` knows, for messages.
pub const SUPPORTED: &str = ".geojson, .json, .gpkg, .fgb, .shp, .parquet";

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
    /// GeoParquet 1.1 (`.parquet`), written without GDAL.
    GeoParquet,
    /// A table in PostgreSQL/PostGIS (`-o PG:… --table NAME`).
    PostGis,
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
            "parquet" | "geoparquet" => Ok(Format::GeoParquet),
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
            Format::PostGis => "PostgreSQL",
            Format::GeoParquet => "GeoParquet",
        }
    }
}

/// Where the neighborhoods go: a file (the format follows the extension)
/// or a PostGIS table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    File(PathBuf),
    Table { conn: String, table: TableName },
}

impl Destination {
    /// `-o` and `--table` as given: `-o PG:…` needs a table, a file takes
    /// none.
    pub fn new(output: &Path, table: Option<&str>) -> Result<Destination> {
        let text = output.to_string_lossy();
        match (is_connection(&text), table) {
            (true, Some(t)) => Ok(Destination::Table {
                conn: text.into_owned(),
                table: TableName::parse(t)?,
            }),
            (true, None) => Err(Error::input("a PostGIS output needs --table NAME")
                .file(crate::io::postgis::display(&text))
                .hint("add --table NAME (or SCHEMA.NAME): the neighborhoods are written to that table")),
            (false, Some(_)) => Err(Error::input("--table names a table of a PostGIS output, but -o is a file")
                .file(text.into_owned())
                .hint("leave --table out, or give -o as a connection string: -o \"PG:dbname=… host=…\"")),
            (false, None) => Ok(Destination::File(output.to_path_buf())),
        }
    }

    /// As messages show it: the file, or `table in PG:…` (password masked).
    pub fn display(&self) -> String {
        match self {
            Destination::File(p) => p.display().to_string(),
            Destination::Table { conn, table } => {
                format!("{table} in {}", crate::io::postgis::display(conn))
            }
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
    write_staged(&Destination::File(path.into()), features, crs, debug, &[])?.commit()
}

/// Writes the neighborhoods to a temporary file beside the target (or a
/// staging table beside it) and returns it staged: [`Staged::commit`] (or
/// [`commit_all`]) puts it in the target's place; dropped uncommitted, it
/// is removed. `tables` go into a GeoPackage, or into PostGIS tables
/// `{table}_{name}` swapped in with it; beside other formats they are
/// files of their own ([`stage_beside`]).
pub fn write_staged(
    dest: &Destination,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
    tables: &[Table],
) -> Result<Staged> {
    write_staged_with_sql(dest, features, crs, debug, tables, "")
}

/// [`write_staged`], and into a PostGIS table `sql` run in the transaction
/// that swaps the table in (a history's rows, committed with the layer).
pub fn write_staged_with_sql(
    dest: &Destination,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
    tables: &[Table],
    sql: &str,
) -> Result<Staged> {
    capture_gdal_errors();
    let path = match dest {
        Destination::File(p) => p,
        Destination::Table { conn, table } => {
            if debug.is_some() {
                return Err(debug_layers_need_gpkg(&dest.display()));
            }
            let pending = postgis::stage(conn, table, features, crs, tables, sql)?;
            return Ok(Staged::new(Box::new(pending)));
        }
    };
    if !sql.is_empty() {
        return Err(Error::internal("SQL for a file output"));
    }
    let format = check_format(path, debug.is_some())?;
    let target = Target::prepare(path, format == Format::Shapefile)?;
    let written = match format {
        Format::GeoJson => geojson::write_geojson(&target, features, crs),
        Format::GeoParquet => parquet::write_parquet(&target, features, crs),
        _ => gdal_formats::write_gdal(&target, format, features, crs, debug, tables),
    };
    target.staged(written)
}

/// Checks, before a long run, that `write` will accept the destination: a
/// known extension, debug layers only into a GeoPackage, an existing
/// writable folder; or a database that answers, has PostGIS and lets the
/// role create the table.
pub fn check_target(dest: &Destination, debug_layers: bool) -> Result<()> {
    match dest {
        Destination::File(path) => {
            check_format(path, debug_layers)?;
            check_writable(path)
        }
        Destination::Table { conn, table } => {
            if debug_layers {
                return Err(debug_layers_need_gpkg(&dest.display()));
            }
            let ds = crate::io::postgis::connect(conn, true, &[])?;
            crate::io::postgis::check_writable(&ds, conn, table)
        }
    }
}

fn debug_layers_need_gpkg(shown: &str) -> Error {
    Error::input("--debug-layers needs a .gpkg output")
        .file(shown.to_string())
        .hint("write to a .gpkg file, or leave --debug-layers out")
}

/// A complete output waiting to take its target's place: a file under its
/// temporary name, or a staging table. Dropped without a commit (the run
/// failed after writing it), it is removed and the target left as it was.
#[must_use = "a staged output is removed unless committed"]
pub struct Staged {
    pending: Option<Box<dyn Pending>>,
}

/// What a staged output does when committed or abandoned.
pub(crate) trait Pending {
    /// Puts the output in the target's place.
    fn commit(&self) -> Result<()>;
    /// Removes the staged output.
    fn cleanup(&self);
}

impl Staged {
    pub(crate) fn new(pending: Box<dyn Pending>) -> Staged {
        Staged {
            pending: Some(pending),
        }
    }

    /// Puts the output in its target's place.
    pub fn commit(self) -> Result<()> {
        commit_all(vec![self])
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(t) = self.pending.take() {
            t.cleanup();
        }
    }
}

/// Commits staged outputs in the order given (put the one others refer to
/// last: a reader that finds it finds the rest). Each is already complete
/// and synced, so what is left to fail is a rename within one folder (or
/// one transaction); the outputs not yet committed are then removed.
pub fn commit_all(staged: Vec<Staged>) -> Result<()> {
    atomic::test_pause_before_rename();
    for mut s in staged {
        if let Some(t) = s.pending.take() {
            if let Err(e) = t.commit() {
                t.cleanup();
                return Err(e);
            }
        }
    }
    Ok(())
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
    let written = target.write_bytes(bytes);
    target.staged(written)
}

/// Stages a file that `make` writes at the temporary path it is given (a
/// copy of the target it edits, a file GDAL creates), for [`commit_all`]:
/// on error, whatever `make` left there is removed.
pub fn stage_with(path: &Path, make: impl FnOnce(&Path) -> Result<()>) -> Result<Staged> {
    let target = Target::prepare(path, false)?;
    let written = make(&target.tmp);
    target.staged(written)
}

fn check_format(path: &Path, debug_layers: bool) -> Result<Format> {
    let format = Format::from_path(path)?;
    if debug_layers && format != Format::GeoPackage {
        return Err(debug_layers_need_gpkg(&path.display().to_string()));
    }
    Ok(format)
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

/// The feature as every format writes it: area, perimeter and compactness
/// rounded to their written decimals (rounding again changes nothing), so
/// a copy kept elsewhere (the history store) writes the same bytes.
pub fn as_written(n: &Neighborhood) -> Neighborhood {
    let r = Row::of(n);
    Neighborhood {
        area_m2: r.area_m2,
        perimeter_m: r.perimeter_m,
        compactness: r.compactness,
        ..n.clone()
    }
}

/// The attribute values of a feature, rounded as written; serialised in
/// this order (the documented field order).
#[derive(serde::Serialize)]
struct Row<'a> {
    nbhd_id: &'a str,
    kind: &'static str,
    admin_code: &'a str,
    admin_name: &'a str,
    name: Option<&'a str>,
    name_en: Option<&'a str>,
    name_source: Option<&'a str>,
    area_m2: f64,
    perimeter_m: f64,
    buildings: i64,
    compactness: f64,
    bounded_by: &'a str,
    level: i64,
    parent_id: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn of(n: &'a Neighborhood) -> Row<'a> {
        Row {
            nbhd_id: &n.id,
            kind: n.kind.as_str(),
            admin_code: &n.admin_code,
            admin_name: &n.admin_name,
            name: n.name.as_ref().map(|x| x.name.as_str()),
            name_en: n.name.as_ref().and_then(|x| x.name_en.as_deref()),
            name_source: n.name.as_ref().map(|x| x.source.as_str()),
            area_m2: round_to(n.area_m2, 2),
            perimeter_m: round_to(n.perimeter_m, 2),
            buildings: i64::try_from(n.buildings).unwrap_or(i64::MAX),
            compactness: round_to(n.compactness, 4),
            bounded_by: &n.bounded_by,
            level: i64::from(n.level),
            parent_id: n.parent_id.as_deref(),
        }
    }
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

const FIELDS: [FieldSpec; 14] = [
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
        name: "name",
        short: "name",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "name_en",
        short: "name_en",
        ty: OGRFieldType::OFTString,
    },
    FieldSpec {
        name: "name_source",
        short: "name_src",
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
    FieldSpec {
        name: "level",
        short: "level",
        ty: OGRFieldType::OFTInteger64,
    },
    FieldSpec {
        name: "parent_id",
        short: "parent_id",
        ty: OGRFieldType::OFTString,
    },
];

/// The widest text a DBF field holds; admin names in Hangul take three bytes
/// a character.
const SHAPEFILE_TEXT_WIDTH: i32 = 254;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_extension_lists_the_supported_ones() {
        let e = Format::from_path(Path::new("out/n.kml")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "out/n.kml: unknown output format '.kml'; supported: .geojson, .json, .gpkg, .fgb, .shp, .parquet\n  hint: name the output with one of these extensions"
        );
        assert_eq!(
            Format::from_path(Path::new("a.GPKG")).unwrap(),
            Format::GeoPackage
        );
    }
}
