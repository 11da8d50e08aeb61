//! A history store in PostGIS: the tables `NAME` (versions), `NAME_lineage`
//! and `NAME_runs`, read through GDAL like the GeoPackage's layers, and
//! written by SQL that runs in the transaction swapping the layer's table
//! in, so that the layer and its history commit together. The versions
//! table carries `EXCLUDE USING gist (nbhd_id WITH =, daterange(valid_from,
//! valid_to) WITH &&)` (btree_gist): two versions of one id never hold on
//! the same day.

use super::store::{
    lineage_of, read_rows, run_of, version_of, HISTORY_FIELDS, LINEAGE_FIELDS, RUNS_FIELDS,
};
use super::{History, Plan};
use crate::error::{Error, Result};
use crate::io::postgis::{self, TableName};
use crate::io::read;
use crate::io::wkb::multi_polygon_wkb;

/// The lineage table of a versions table `NAME`: `NAME_lineage`.
pub fn lineage_table(t: &TableName) -> TableName {
    t.with_suffix("_lineage")
}

/// The runs table of a versions table `NAME`: `NAME_runs`.
pub fn runs_table(t: &TableName) -> TableName {
    t.with_suffix("_runs")
}

const HINT: &str =
    "give --history-table the table dongne generate --history wrote, or a new name to start one";

impl History {
    /// Reads a store in PostGIS; when none of its tables exists, a new one.
    pub fn open_pg(conn: &str, table: &TableName) -> Result<History> {
        let shown = format!("{table} in {}", postgis::display(conn));
        let (l, r) = (lineage_table(table), runs_table(table));
        let ds = postgis::connect(conn, false, &[table, &l, &r])?;
        let names = read::layer_names(&ds);
        // GDAL lists a table named in TABLES= whether or not it exists.
        let exists = |t: &TableName| {
            let sql = format!("SELECT to_regclass({})::text", q(&t.sql()));
            postgis::query_value(&ds, &sql)
                .map(|v| v.is_some_and(|v| !v.is_empty()))
                .map_err(|e| {
                    Error::input(format!("cannot query the database: {e}")).file(shown.clone())
                })
        };
        let find = |t: &TableName| -> Result<Option<String>> {
            if !exists(t)? {
                return Ok(None);
            }
            Ok(names
                .iter()
                .find(|n| **n == t.layer() || (t.schema == "public" && **n == t.name))
                .cloned())
        };
        let found = [find(table)?, find(&l)?, find(&r)?];
        let mut h = History {
            path: shown.clone(),
            exists: false,
            pg: Some((conn.to_string(), table.clone())),
            versions: Vec::new(),
            lineage: Vec::new(),
            runs: Vec::new(),
        };
        if found.iter().all(Option::is_none) {
            return Ok(h);
        }
        let [Some(v), Some(lt), Some(rt)] = found else {
            let missing: Vec<String> = [table, &l, &r]
                .iter()
                .zip(&found)
                .filter(|(_, f)| f.is_none())
                .map(|(t, _)| t.to_string())
                .collect();
            return Err(Error::input(format!(
                "not a dongne history: table {} missing",
                missing.join(", ")
            ))
            .file(shown)
            .hint(HINT));
        };
        h.exists = true;
        h.runs = read_rows(&ds, &shown, &rt, RUNS_FIELDS, run_of)?;
        h.runs.sort_by_key(|r| r.as_of);
        h.versions = read_rows(&ds, &shown, &v, HISTORY_FIELDS, version_of)?;
        h.lineage = read_rows(&ds, &shown, &lt, LINEAGE_FIELDS, lineage_of)?;
        Ok(h)
    }
}

/// A text literal.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt<T: ToString>(v: Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map_or_else(|| "NULL".to_string(), f)
}

/// The SQL that creates the tables when missing and writes `plan`.
pub(super) fn sql(table: &TableName, plan: &Plan) -> Result<String> {
    let srid = plan.run.crs.epsg.ok_or_else(|| {
        Error::input(format!(
            "a history in PostGIS needs an EPSG working CRS, and this run works in {}",
            plan.run.crs.label
        ))
        .hint("give --crs EPSG:NNNN")
    })?;
    let (t, l, r) = (
        table.sql(),
        lineage_table(table).sql(),
        runs_table(table).sql(),
    );
    let n = &table.name;
    let day = q(&plan.as_of.to_string());
    let mut out = vec![
        "CREATE EXTENSION IF NOT EXISTS btree_gist".to_string(),
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (fid bigserial PRIMARY KEY, nbhd_id text NOT NULL, \
             version bigint NOT NULL, valid_from date NOT NULL, valid_to date, kind text NOT NULL, \
             admin_code text NOT NULL, admin_name text, name text, name_en text, name_source text, \
             area_m2 double precision, perimeter_m double precision, buildings bigint, \
             compactness double precision, bounded_by text, level bigint NOT NULL DEFAULT 1, parent_id text, \
             geom geometry(MultiPolygon, {srid}), \
             CONSTRAINT \"{n}_one_version_a_day\" EXCLUDE USING gist \
             (nbhd_id WITH =, daterange(valid_from, valid_to) WITH &&))"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {l} (fid bigserial PRIMARY KEY, date date NOT NULL, \
             old_id text, old_version bigint, new_id text, new_version bigint, \
             building_share double precision, area_share double precision, change text NOT NULL)"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS {r} (fid bigserial PRIMARY KEY, as_of date NOT NULL UNIQUE, \
             features bigint, ids text, working_crs text, dongne_version text)"
        ),
    ];
    if plan.rerun {
        out.push(format!("DELETE FROM {t} WHERE valid_from = {day}"));
        out.push(format!(
            "UPDATE {t} SET valid_to = NULL WHERE valid_to = {day}"
        ));
        out.push(format!("DELETE FROM {l} WHERE date = {day}"));
        out.push(format!("DELETE FROM {r} WHERE as_of = {day}"));
    }
    for chunk in plan.close.chunks(500) {
        let fids: Vec<String> = chunk.iter().map(|f| f.to_string()).collect();
        out.push(format!(
            "UPDATE {t} SET valid_to = {day} WHERE fid IN ({})",
            fids.join(",")
        ));
    }
    for chunk in plan.add.chunks(200) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|v| {
                let f = &v.feature;
                let name = f.name.as_ref();
                let hex: String = multi_polygon_wkb(&f.geom)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!(
                    "({}, {}, {day}, NULL, {}, {}, {}, {}, {}, {}, {:?}, {:?}, {}, {:?}, {}, {}, {}, \
                     ST_SetSRID(ST_GeomFromWKB(decode('{hex}', 'hex')), {srid}))",
                    q(&f.id),
                    v.version,
                    q(f.kind.as_str()),
                    q(&f.admin_code),
                    q(&f.admin_name),
                    opt(name.map(|x| x.name.clone()), |s| q(s)),
                    opt(name.and_then(|x| x.name_en.clone()), |s| q(s)),
                    opt(name.map(|x| x.source.clone()), |s| q(s)),
                    f.area_m2,
                    f.perimeter_m,
                    f.buildings,
                    f.compactness,
                    q(&f.bounded_by),
                    f.level,
                    opt(f.parent_id.clone(), |s| q(s)),
                )
            })
            .collect();
        out.push(format!(
            "INSERT INTO {t} (nbhd_id, version, valid_from, valid_to, kind, admin_code, \
             admin_name, name, name_en, name_source, area_m2, perimeter_m, buildings, \
             compactness, bounded_by, level, parent_id, geom) VALUES {}",
            rows.join(", ")
        ));
    }
    for chunk in plan.lineage.chunks(500) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|x| {
                format!(
                    "({day}, {}, {}, {}, {}, {}, {}, {})",
                    opt(x.old_id.clone(), |s| q(s)),
                    opt(x.old_version, |v| v.to_string()),
                    opt(x.new_id.clone(), |s| q(s)),
                    opt(x.new_version, |v| v.to_string()),
                    opt(x.building_share, |v| format!("{v:?}")),
                    opt(x.area_share, |v| format!("{v:?}")),
                    q(super::store::change_str(x.change)),
                )
            })
            .collect();
        out.push(format!(
            "INSERT INTO {l} (date, old_id, old_version, new_id, new_version, building_share, \
             area_share, change) VALUES {}",
            rows.join(", ")
        ));
    }
    let crs = serde_json::to_string(&plan.run.crs).map_err(|e| Error::internal(e.to_string()))?;
    out.push(format!(
        "INSERT INTO {r} (as_of, features, ids, working_crs, dongne_version) VALUES ({day}, {}, {}, {}, {})",
        plan.run.ids.len(),
        q(&plan.run.ids.join("\n")),
        q(&crs),
        q(&plan.run.dongne_version),
    ));
    Ok(out.join("; "))
}
