//! The neighborhoods into a PostGIS table, swapped in atomically.
//!
//! The rows go into a staging table beside the target (`{table}_dongne_new`);
//! its spatial index and primary key (`nbhd_id`) are built there. Commit is
//! one transaction: drop yesterday's table, rename the staging table and its
//! indexes into its place, replace the layer's default QGIS style in
//! `layer_styles`. Readers see yesterday's table until that transaction
//! commits; a run killed before it leaves the table as it was (the next run
//! drops the stale staging table first).

use gdal::Dataset;

use super::gdal_formats::write_neighborhoods;
use super::{Format, Pending};
use crate::error::{Error, Result};
use crate::io::postgis::{check_writable, connect, display, execute, TableName};
use crate::io::reproject::WorkingCrs;
use crate::io::style;
use crate::model::Neighborhood;

/// Suffix of the staging table.
const STAGING: &str = "_dongne_new";

/// A complete staging table waiting to be swapped in.
pub(super) struct PendingTable {
    ds: Dataset,
    conn: String,
    table: TableName,
    staging: TableName,
    /// The tables written beside it: (target, staging).
    tables: Vec<(TableName, TableName)>,
    style_sql: String,
    /// Run in the swap's transaction, after it (the history's rows).
    extra_sql: String,
}

/// Writes the features into the staging table, with its index and key.
pub(super) fn stage(
    conn: &str,
    table: &TableName,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    tables: &[super::Table],
    extra_sql: &str,
) -> Result<PendingTable> {
    let shown = display(conn);
    let mut ds = connect(conn, true, &[])?;
    check_writable(&ds, conn, table)?;
    let staging = table.with_suffix(STAGING);
    let fail = |what: &str, why: String| {
        Error::output(format!("{what} {staging}: {why}"))
            .file(shown.clone())
            .hint("check the role's rights on the schema and the server's log")
    };
    let beside: Vec<(TableName, TableName)> = tables
        .iter()
        .map(|t| {
            let target = table.with_suffix(&format!("_{}", t.name));
            let staged = target.with_suffix(STAGING);
            (target, staged)
        })
        .collect();
    for s in std::iter::once(&staging).chain(beside.iter().map(|(_, s)| s)) {
        execute(&ds, &format!("DROP TABLE IF EXISTS {}", s.sql()))
            .map_err(|e| fail("cannot drop the stale staging table", e))?;
    }
    let srs = crs.spatial_ref()?;
    {
        let mut txn = ds
            .start_transaction()
            .map_err(|e| fail("cannot start a transaction on", e.to_string()))?;
        write_neighborhoods(&mut txn, &staging.layer(), Format::PostGis, features, &srs)
            .map_err(|e| fail("cannot write", crate::io::gdal_errors::gdal_reason(e)))?;
        let staged_name = |t: &super::Table| {
            let k = tables.iter().position(|x| x.name == t.name).unwrap_or(0);
            beside[k].1.layer()
        };
        super::tables::add_to_dataset(&mut txn, tables, staged_name).map_err(|e| {
            fail(
                "cannot write a table beside",
                crate::io::gdal_errors::gdal_reason(e),
            )
        })?;
        txn.commit()
            .map_err(|e| fail("cannot commit", crate::io::gdal_errors::gdal_reason(e)))?;
    }
    let s = staging.sql();
    let n = &staging.name;
    let prepare = format!(
        "ALTER TABLE {s} DROP COLUMN IF EXISTS ogc_fid; \
         ALTER TABLE {s} ADD CONSTRAINT \"{n}_pkey\" PRIMARY KEY (nbhd_id); \
         CREATE INDEX \"{n}_geom_idx\" ON {s} USING GIST (geom); \
         ANALYZE {s}"
    );
    execute(&ds, &prepare).map_err(|e| fail("cannot index", e))?;
    let style_sql = style_sql(table, features);
    Ok(PendingTable {
        ds,
        conn: conn.to_string(),
        table: table.clone(),
        staging,
        tables: beside,
        style_sql,
        extra_sql: extra_sql.to_string(),
    })
}

/// QGIS's `layer_styles` table (created as QGIS creates it when missing)
/// with this layer's default style replaced.
fn style_sql(table: &TableName, features: &[Neighborhood]) -> String {
    // Dollar quoting: the QML holds quotes of both kinds.
    let q = |s: &str| format!("$dongne${s}$dongne$");
    format!(
        "CREATE TABLE IF NOT EXISTS public.layer_styles (id SERIAL PRIMARY KEY, \
         f_table_catalog varchar, f_table_schema varchar, f_table_name varchar, \
         f_geometry_column varchar, stylename text, styleqml xml, stylesld xml, \
         useasdefault boolean, description text, owner varchar(63) DEFAULT CURRENT_USER, \
         ui xml, update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar); \
         DELETE FROM public.layer_styles WHERE f_table_schema = '{schema}' \
         AND f_table_name = '{name}' AND stylename = {style_name}; \
         INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, f_table_name, \
         f_geometry_column, stylename, styleqml, stylesld, useasdefault, description, type) \
         VALUES (current_database(), '{schema}', '{name}', 'geom', {style_name}, \
         XMLPARSE(DOCUMENT {qml}), XMLPARSE(DOCUMENT {sld}), true, {description}, 'MultiPolygon')",
        schema = table.schema,
        name = table.name,
        style_name = q(style::STYLE_NAME),
        qml = q(&style::qml(features)),
        sld = q(&style::sld(&table.name)),
        description = q(style::DESCRIPTION),
    )
}

impl Pending for PendingTable {
    fn commit(&self) -> Result<()> {
        let (t, s) = (&self.table, &self.staging);
        let (tn, sn, schema) = (&t.name, &s.name, &t.schema);
        let swap = format!(
            "DROP TABLE IF EXISTS {t_sql}; \
             ALTER TABLE {s_sql} RENAME TO \"{tn}\"; \
             ALTER INDEX \"{schema}\".\"{sn}_pkey\" RENAME TO \"{tn}_pkey\"; \
             ALTER INDEX \"{schema}\".\"{sn}_geom_idx\" RENAME TO \"{tn}_geom_idx\"; \
             {beside}{style}{extra}",
            t_sql = t.sql(),
            s_sql = s.sql(),
            beside = self
                .tables
                .iter()
                .map(|(bt, bs)| format!(
                    "DROP TABLE IF EXISTS {}; ALTER TABLE {} RENAME TO \"{}\"; ",
                    bt.sql(),
                    bs.sql(),
                    bt.name
                ))
                .collect::<String>(),
            style = self.style_sql,
            extra = if self.extra_sql.is_empty() {
                String::new()
            } else {
                format!("; {}", self.extra_sql)
            },
        );
        execute(&self.ds, &swap).map_err(|why| {
            Error::output(format!("cannot swap {s} in for {t}: {why}"))
                .file(display(&self.conn))
                .hint(format!(
                    "{t} is as it was; a view or foreign key that depends on it stops the swap: drop it or point it elsewhere"
                ))
        })
    }

    fn cleanup(&self) {
        for s in std::iter::once(&self.staging).chain(self.tables.iter().map(|(_, s)| s)) {
            let _ = execute(&self.ds, &format!("DROP TABLE IF EXISTS {}", s.sql()));
        }
    }
}
