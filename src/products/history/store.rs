//! The store on disk: a GeoPackage with the layers `history`, `lineage`
//! and `runs`, read whole into a [`History`] and changed by a [`Plan`] on a
//! copy beside it, which the run's commit renames over it.

use std::fs;
use std::path::Path;

use gdal::vector::{
    sql::Dialect, Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use geo_types::{Geometry, MultiPolygon};

use super::{Date, History, LineageRow, Plan, Run, Version};
use crate::error::{Error, Result};
use crate::io::gdal_errors::{capture_gdal_errors, gdal_reason, take_gdal_errors};
use crate::io::postgis;
use crate::io::read;
use crate::io::reproject::WorkingCrs;
use crate::io::wkb::multi_polygon_to_gdal;
use crate::io::write::{self, Format, Staged};
use crate::model::{BarrierKind, FeatureKind, FeatureName, Neighborhood};
use crate::products::ids::ChangeKind;

/// The versions layer.
pub const HISTORY_LAYER: &str = "history";
/// Where each changed id went.
pub const LINEAGE_LAYER: &str = "lineage";
/// One row per run.
pub const RUNS_LAYER: &str = "runs";

use OGRFieldType::{OFTInteger64 as INT, OFTReal as REAL, OFTString as TEXT};

pub(super) type Fields = &'static [(&'static str, OGRFieldType::Type)];

/// The `history` layer's fields, in order: the version, then the output
/// layer's fields after `nbhd_id` (io::write), then nothing else.
pub(super) const HISTORY_FIELDS: Fields = &[
    ("nbhd_id", TEXT),
    ("version", INT),
    ("valid_from", TEXT),
    ("valid_to", TEXT),
    ("kind", TEXT),
    ("admin_code", TEXT),
    ("admin_name", TEXT),
    ("name", TEXT),
    ("name_en", TEXT),
    ("name_source", TEXT),
    ("area_m2", REAL),
    ("perimeter_m", REAL),
    ("buildings", INT),
    ("compactness", REAL),
    ("bounded_by", TEXT),
    ("level", INT),
    ("parent_id", TEXT),
];

pub(super) const LINEAGE_FIELDS: Fields = &[
    ("date", TEXT),
    ("old_id", TEXT),
    ("old_version", INT),
    ("new_id", TEXT),
    ("new_version", INT),
    ("building_share", REAL),
    ("area_share", REAL),
    ("change", TEXT),
];

pub(super) const RUNS_FIELDS: Fields = &[
    ("as_of", TEXT),
    ("features", INT),
    ("ids", TEXT),
    ("working_crs", TEXT),
    ("dongne_version", TEXT),
];

pub(super) const HINT: &str = "give --history a store that dongne generate --history wrote, or the name of a new .gpkg file to start one";

/// Refuses a store that is not named as a GeoPackage file.
pub fn check_path(path: &Path) -> Result<()> {
    let shown = path.display().to_string();
    if postgis::is_connection(&shown) {
        return Err(Error::input("a history in PostGIS is not supported yet")
            .file(postgis::display(&shown))
            .hint("give --history a .gpkg file"));
    }
    if Format::from_path(path).ok() != Some(Format::GeoPackage) {
        return Err(
            Error::input("a history store is a GeoPackage: the name must end in .gpkg")
                .file(shown)
                .hint(HINT),
        );
    }
    write::check_writable(path)
}

impl History {
    /// Reads the store at `path` whole; a file that does not exist is a new,
    /// empty store.
    pub fn open(path: &Path) -> Result<History> {
        check_path(path)?;
        let shown = path.display().to_string();
        if !path.exists() {
            return Ok(History {
                path: shown,
                exists: false,
                pg: None,
                versions: Vec::new(),
                lineage: Vec::new(),
                runs: Vec::new(),
            });
        }
        let ds = read::open_dataset(path).map_err(|e| e.hint(HINT))?;
        let names = read::layer_names(&ds);
        let not_history = |what: String| Error::input(format!("not a dongne history: {what}"));
        if ds.driver().short_name() != "GPKG" {
            return Err(not_history("the file is not a GeoPackage".into())
                .file(shown)
                .hint(HINT));
        }
        for want in [HISTORY_LAYER, LINEAGE_LAYER, RUNS_LAYER] {
            if !names.iter().any(|n| n == want) {
                return Err(not_history(format!(
                    "no layer '{want}' (the file has: {})",
                    if names.is_empty() {
                        "no layers".to_string()
                    } else {
                        names.join(", ")
                    }
                ))
                .file(shown)
                .hint(HINT));
            }
        }
        let mut h = History {
            path: shown,
            exists: true,
            pg: None,
            versions: Vec::new(),
            lineage: Vec::new(),
            runs: Vec::new(),
        };
        h.runs = read_rows(&ds, &h.path, RUNS_LAYER, RUNS_FIELDS, run_of)?;
        h.runs.sort_by_key(|r| r.as_of);
        h.versions = read_rows(&ds, &h.path, HISTORY_LAYER, HISTORY_FIELDS, version_of)?;
        h.lineage = read_rows(&ds, &h.path, LINEAGE_LAYER, LINEAGE_FIELDS, lineage_of)?;
        Ok(h)
    }
}

/// A row as read: its values by field (in the order of `Fields`) and its
/// geometry.
pub(super) struct RowIn<'a> {
    f: &'a Feature<'a>,
    idx: &'a [usize],
}

impl RowIn<'_> {
    fn text(&self, k: usize) -> Option<String> {
        self.f.field_as_string(self.idx[k]).ok().flatten()
    }
    fn int(&self, k: usize) -> Option<i64> {
        self.f.field_as_integer64(self.idx[k]).ok().flatten()
    }
    fn real(&self, k: usize) -> Option<f64> {
        self.f.field_as_double(self.idx[k]).ok().flatten()
    }
    fn date(&self, k: usize) -> std::result::Result<Option<Date>, String> {
        match self.text(k) {
            None => Ok(None),
            // A PostgreSQL date reads back as YYYY/MM/DD.
            Some(t) => Date::parse(&t.replace('/', "-"))
                .map(Some)
                .ok_or_else(|| format!("'{t}' is not a date")),
        }
    }
}

pub(super) fn read_rows<T>(
    ds: &Dataset,
    file: &str,
    layer_name: &str,
    fields: Fields,
    make: impl Fn(i64, &RowIn) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let err = |msg: String| {
        Error::input(msg)
            .file(file.to_string())
            .layer(layer_name.to_string())
    };
    let mut layer = ds
        .layer_by_name(layer_name)
        .map_err(|e| err(format!("cannot open the layer: {e}")))?;
    let mut idx = Vec::with_capacity(fields.len());
    for (name, _) in fields {
        let i = layer.defn().field_index(name).map_err(|_| {
            err(format!(
                "not a dongne history: field '{name}' is missing (written by another version of dongne, or not by dongne)"
            ))
            .hint(HINT)
        })?;
        idx.push(i);
    }
    take_gdal_errors();
    let mut out = Vec::new();
    for (i, f) in layer.features().enumerate() {
        let fid = read::feature_id(&f, i);
        let row = RowIn { f: &f, idx: &idx };
        let value = make(fid, &row).map_err(|m| {
            err(format!("not a dongne history: {m}"))
                .feature(fid)
                .hint(HINT)
        })?;
        out.push(value);
    }
    Ok(out)
}

pub(super) fn version_of(fid: i64, r: &RowIn) -> std::result::Result<Version, String> {
    let req = |k: usize| {
        r.text(k)
            .ok_or_else(|| format!("{} is NULL", HISTORY_FIELDS[k].0))
    };
    let id = req(0)?;
    let kind_text = req(4)?;
    let kind = kind_of(&kind_text).ok_or_else(|| format!("unknown kind '{kind_text}'"))?;
    let (name, name_en, source) = (r.text(7), r.text(8), r.text(9));
    let name = (name.is_some() || source.is_some()).then(|| FeatureName {
        name: name.unwrap_or_default(),
        name_en,
        source: source.unwrap_or_default(),
    });
    let geom = match r.f.geometry().filter(|g| !g.is_empty()) {
        None => MultiPolygon(vec![]),
        Some(g) => match g.to_geo() {
            Ok(Geometry::MultiPolygon(mp)) => mp,
            Ok(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            _ => return Err("the geometry is not a polygon".into()),
        },
    };
    Ok(Version {
        fid,
        version: r.int(1).ok_or("version is NULL")?,
        valid_from: r.date(2)?.ok_or("valid_from is NULL")?,
        valid_to: r.date(3)?,
        feature: Neighborhood {
            id,
            kind,
            admin_code: req(5)?,
            admin_name: r.text(6).unwrap_or_default(),
            geom,
            area_m2: r.real(10).unwrap_or(0.0),
            perimeter_m: r.real(11).unwrap_or(0.0),
            buildings: usize::try_from(r.int(12).unwrap_or(0)).unwrap_or(0),
            compactness: r.real(13).unwrap_or(0.0),
            bounded_by: r.text(14).unwrap_or_default(),
            name,
            level: u32::try_from(r.int(15).ok_or("level is NULL")?)
                .map_err(|_| "level is negative")?,
            parent_id: r.text(16),
        },
    })
}

pub(super) fn lineage_of(_fid: i64, r: &RowIn) -> std::result::Result<LineageRow, String> {
    let change_text = r.text(7).unwrap_or_default();
    Ok(LineageRow {
        date: r.date(0)?.ok_or("date is NULL")?,
        old_id: r.text(1),
        old_version: r.int(2),
        new_id: r.text(3),
        new_version: r.int(4),
        building_share: r.real(5),
        area_share: r.real(6),
        change: change_of(&change_text).ok_or_else(|| format!("unknown change '{change_text}'"))?,
    })
}

pub(super) fn run_of(fid: i64, r: &RowIn) -> std::result::Result<Run, String> {
    let crs_text = r.text(3).ok_or("working_crs is NULL")?;
    let crs: WorkingCrs = serde_json::from_str(&crs_text)
        .map_err(|e| format!("working_crs is not a dongne CRS: {e}"))?;
    let ids = r.text(2).unwrap_or_default();
    Ok(Run {
        fid,
        as_of: r.date(0)?.ok_or("as_of is NULL")?,
        ids: ids.lines().map(str::to_string).collect(),
        crs,
        dongne_version: r.text(4).unwrap_or_default(),
    })
}

/// The kind as the output writes it, back.
pub(super) fn kind_of(s: &str) -> Option<FeatureKind> {
    use BarrierKind::*;
    let b = |k: BarrierKind| Some(FeatureKind::Barrier(k));
    match s {
        "neighborhood" => Some(FeatureKind::Neighborhood),
        "hamlet" => Some(FeatureKind::Hamlet),
        "water" => b(Water),
        "mountain" => b(Mountain),
        "park" => b(Park),
        "open" => b(Open),
        "rail" => b(Rail),
        "road" => b(Road),
        _ => None,
    }
}

pub(super) fn change_str(c: ChangeKind) -> &'static str {
    match c {
        ChangeKind::Split => "split",
        ChangeKind::Merged => "merged",
        ChangeKind::Reshaped => "reshaped",
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Renamed => "renamed",
    }
}

fn change_of(s: &str) -> Option<ChangeKind> {
    use ChangeKind::*;
    [Split, Merged, Reshaped, Added, Removed, Renamed]
        .into_iter()
        .find(|c| change_str(*c) == s)
}

/// Writes the store with `plan` applied to a temporary copy beside it and
/// stages it for [`write::commit_all`]: until the commit, the store is as
/// it was, and a run that fails leaves it so.
pub fn stage(history: &History, plan: &Plan) -> Result<Staged> {
    let path = Path::new(&history.path);
    write::stage_with(path, |tmp| {
        capture_gdal_errors();
        apply(history, plan, tmp).map_err(|e| match e {
            Applied::Io(e) => Error::output(format!("cannot copy the store: {e}"))
                .file(history.path.clone())
                .hint("check free disk space and the folder's permissions"),
            Applied::Gdal(what, e) => {
                Error::output(format!("{what}: {}", gdal_reason(e))).file(history.path.clone())
            }
            Applied::Other(e) => e,
        })
    })
}

enum Applied {
    Io(std::io::Error),
    Gdal(&'static str, gdal::errors::GdalError),
    Other(Error),
}

fn apply(history: &History, plan: &Plan, tmp: &Path) -> std::result::Result<(), Applied> {
    let g = |what: &'static str| move |e| Applied::Gdal(what, e);
    let mut ds = if history.exists {
        fs::copy(&history.path, tmp).map_err(Applied::Io)?;
        Dataset::open_ex(
            tmp,
            DatasetOptions {
                open_flags: GdalOpenFlags::GDAL_OF_UPDATE | GdalOpenFlags::GDAL_OF_VECTOR,
                allowed_drivers: Some(&["GPKG"]),
                ..Default::default()
            },
        )
        .map_err(g("cannot open the store's copy"))?
    } else {
        let driver = DriverManager::get_driver_by_name("GPKG").map_err(g("GDAL driver missing"))?;
        let mut ds = driver
            .create_vector_only(tmp)
            .map_err(g("cannot create the store"))?;
        let srs = plan.run.crs.spatial_ref().map_err(Applied::Other)?;
        let layers = [
            (
                HISTORY_LAYER,
                Some(&srs),
                OGRwkbGeometryType::wkbMultiPolygon,
                HISTORY_FIELDS,
            ),
            (
                LINEAGE_LAYER,
                None,
                OGRwkbGeometryType::wkbNone,
                LINEAGE_FIELDS,
            ),
            (RUNS_LAYER, None, OGRwkbGeometryType::wkbNone, RUNS_FIELDS),
        ];
        for (name, srs, ty, fields) in layers {
            let layer = ds
                .create_layer(LayerOptions {
                    name,
                    srs,
                    ty,
                    options: None,
                })
                .map_err(g("cannot create a layer"))?;
            for (f, t) in fields {
                FieldDefn::new(f, *t)
                    .and_then(|d| d.add_to_layer(&layer))
                    .map_err(g("cannot create a field"))?;
            }
        }
        ds
    };
    let txn = ds
        .start_transaction()
        .map_err(g("cannot start a transaction"))?;
    let day = plan.as_of;
    let sql = |ds: &Dataset, q: &str| {
        ds.execute_sql(q, None, Dialect::DEFAULT)
            .map(|_| ())
            .map_err(g("cannot update the store"))
    };
    if plan.rerun {
        // The day's earlier run is replaced: its versions go, the versions
        // it closed are open again, its lineage and run row go.
        sql(
            &txn,
            &format!("DELETE FROM \"{HISTORY_LAYER}\" WHERE valid_from = '{day}'"),
        )?;
        sql(
            &txn,
            &format!("UPDATE \"{HISTORY_LAYER}\" SET valid_to = NULL WHERE valid_to = '{day}'"),
        )?;
        sql(
            &txn,
            &format!("DELETE FROM \"{LINEAGE_LAYER}\" WHERE date = '{day}'"),
        )?;
        sql(
            &txn,
            &format!("DELETE FROM \"{RUNS_LAYER}\" WHERE as_of = '{day}'"),
        )?;
    }
    for chunk in plan.close.chunks(500) {
        let fids: Vec<String> = chunk.iter().map(|f| f.to_string()).collect();
        sql(
            &txn,
            &format!(
                "UPDATE \"{HISTORY_LAYER}\" SET valid_to = '{day}' WHERE fid IN ({})",
                fids.join(",")
            ),
        )?;
    }
    write_rows(&txn, plan)?;
    txn.commit().map_err(g("cannot commit"))?;
    ds.close().map_err(g("cannot close"))?;
    Ok(())
}

/// Appends the plan's versions, lineage and run.
fn write_rows(ds: &Dataset, plan: &Plan) -> std::result::Result<(), Applied> {
    let g = |what: &'static str| move |e| Applied::Gdal(what, e);
    let layer = ds
        .layer_by_name(HISTORY_LAYER)
        .map_err(g("cannot open the history layer"))?;
    for v in &plan.add {
        let n = &v.feature;
        let mut f = Feature::new(layer.defn()).map_err(g("cannot add a version"))?;
        let texts = [
            (0, Some(n.id.as_str())),
            (2, Some(&*v.valid_from.to_string())),
            (4, Some(n.kind.as_str())),
            (5, Some(n.admin_code.as_str())),
            (6, Some(n.admin_name.as_str())),
            (7, n.name.as_ref().map(|x| x.name.as_str())),
            (8, n.name.as_ref().and_then(|x| x.name_en.as_deref())),
            (9, n.name.as_ref().map(|x| x.source.as_str())),
            (14, Some(n.bounded_by.as_str())),
            (16, n.parent_id.as_deref()),
        ];
        let set = |f: &mut Feature| -> gdal::errors::Result<()> {
            for (k, t) in texts {
                if let Some(t) = t {
                    f.set_field_string(k, t)?;
                }
            }
            f.set_field_integer64(1, v.version)?;
            f.set_field_double(10, n.area_m2)?;
            f.set_field_double(11, n.perimeter_m)?;
            f.set_field_integer64(12, i64::try_from(n.buildings).unwrap_or(i64::MAX))?;
            f.set_field_double(13, n.compactness)?;
            f.set_field_integer64(15, i64::from(n.level))?;
            f.set_geometry(multi_polygon_to_gdal(&n.geom)?)?;
            f.create(&layer)
        };
        set(&mut f).map_err(g("cannot add a version"))?;
    }
    let layer = ds
        .layer_by_name(LINEAGE_LAYER)
        .map_err(g("cannot open the lineage layer"))?;
    for l in &plan.lineage {
        let mut f = Feature::new(layer.defn()).map_err(g("cannot add a lineage row"))?;
        let set = |f: &mut Feature| -> gdal::errors::Result<()> {
            f.set_field_string(0, &l.date.to_string())?;
            if let Some(x) = &l.old_id {
                f.set_field_string(1, x)?;
            }
            if let Some(x) = l.old_version {
                f.set_field_integer64(2, x)?;
            }
            if let Some(x) = &l.new_id {
                f.set_field_string(3, x)?;
            }
            if let Some(x) = l.new_version {
                f.set_field_integer64(4, x)?;
            }
            if let Some(x) = l.building_share {
                f.set_field_double(5, x)?;
            }
            if let Some(x) = l.area_share {
                f.set_field_double(6, x)?;
            }
            f.set_field_string(7, change_str(l.change))?;
            f.create(&layer)
        };
        set(&mut f).map_err(g("cannot add a lineage row"))?;
    }
    let layer = ds
        .layer_by_name(RUNS_LAYER)
        .map_err(g("cannot open the runs layer"))?;
    let crs = serde_json::to_string(&plan.run.crs)
        .map_err(|e| Applied::Other(Error::internal(e.to_string())))?;
    let mut f = Feature::new(layer.defn()).map_err(g("cannot add the run"))?;
    let set = |f: &mut Feature| -> gdal::errors::Result<()> {
        f.set_field_string(0, &plan.as_of.to_string())?;
        f.set_field_integer64(1, plan.run.ids.len() as i64)?;
        f.set_field_string(2, &plan.run.ids.join("\n"))?;
        f.set_field_string(3, &crs)?;
        f.set_field_string(4, &plan.run.dongne_version)?;
        f.create(&layer)
    };
    set(&mut f).map_err(g("cannot add the run"))?;
    Ok(())
}
