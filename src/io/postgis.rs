//! PostgreSQL/PostGIS through GDAL's PostgreSQL driver: the connection
//! strings ogr2ogr takes (`PG:dbname=gis host=db user=etl`), the checks a
//! daily job wants before its long part (the server answers, PostGIS is
//! there, the role may create tables), and SQL run in one statement batch.
//!
//! Messages show the connection string with any password masked.

use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::error::{Error, Result};
use crate::io::gdal_errors::{capture_gdal_errors, gdal_reason, take_gdal_errors};

/// Whether `source` is a PostgreSQL connection string (`PG:…`), as GDAL
/// and ogr2ogr take it, rather than a file.
pub fn is_connection(source: &str) -> bool {
    source.len() > 3 && source[..3].eq_ignore_ascii_case("PG:")
}

/// The connection string as messages show it: `password=…` masked.
///
/// ```
/// use dongne::io::postgis::display;
/// assert_eq!(
///     display("PG:dbname=gis password=s3cret host=db"),
///     "PG:dbname=gis password=*** host=db"
/// );
/// ```
pub fn display(conn: &str) -> String {
    conn.split(' ')
        .map(|part| match part.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A table name as SQL takes it: `name` or `schema.name`, each part quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl TableName {
    /// `name` (in `public`) or `schema.name`; letters, digits and `_` only,
    /// so that the name needs no quoting in QGIS or in a reader's SQL.
    pub fn parse(s: &str) -> Result<TableName> {
        let (schema, name) = match s.split_once('.') {
            Some((sc, n)) => (sc, n),
            None => ("public", s),
        };
        let ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 50
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        };
        if !ok(schema) || !ok(name) {
            return Err(Error::input(format!("invalid table name '{s}'")).hint(
                "give --table as NAME or SCHEMA.NAME: lower-case letters, digits and _, at most 50 characters each",
            ));
        }
        Ok(TableName {
            schema: schema.to_string(),
            name: name.to_string(),
        })
    }

    /// `"schema"."name"`.
    pub fn sql(&self) -> String {
        format!("\"{}\".\"{}\"", self.schema, self.name)
    }

    /// The table beside this one with `suffix` appended, in the same schema.
    pub fn with_suffix(&self, suffix: &str) -> TableName {
        TableName {
            schema: self.schema.clone(),
            name: format!("{}{suffix}", self.name),
        }
    }

    /// `schema.name`, as GDAL names the layer.
    pub fn layer(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Opens a connection, read-only or for writing. Only the tables named are
/// listed (GDAL otherwise reads the catalogue of every table).
pub fn connect(conn: &str, update: bool, tables: &[&TableName]) -> Result<Dataset> {
    capture_gdal_errors();
    take_gdal_errors();
    let mut flags = GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR;
    if update {
        flags |= GdalOpenFlags::GDAL_OF_UPDATE;
    }
    let listed = tables
        .iter()
        .map(|t| t.layer())
        .collect::<Vec<_>>()
        .join(",");
    let tables_opt = format!("TABLES={listed}");
    let options: Vec<&str> = if tables.is_empty() {
        vec![]
    } else {
        vec![&tables_opt]
    };
    let opts = DatasetOptions {
        open_flags: flags,
        allowed_drivers: Some(&["PostgreSQL"]),
        open_options: (!options.is_empty()).then_some(&options[..]),
        ..Default::default()
    };
    Dataset::open_ex(conn, opts).map_err(|e| {
        let why = gdal_reason(e).split_whitespace().collect::<Vec<_>>().join(" ");
        Error::input(format!("cannot connect to PostgreSQL: {why}"))
            .file(display(conn))
            .hint("check the connection string (PG:dbname=… host=… user=…), that the server runs, and the role's password (PGPASSWORD or ~/.pgpass)")
    })
}

/// Runs SQL that returns no rows. Several statements separated by `;` run
/// as one implicit transaction: all or none.
pub fn execute(ds: &Dataset, sql: &str) -> std::result::Result<(), String> {
    take_gdal_errors();
    match ds.execute_sql(sql, None, gdal::vector::sql::Dialect::DEFAULT) {
        Ok(_) => {
            let errs = take_gdal_errors();
            if errs.is_empty() {
                Ok(())
            } else {
                Err(errs.join("; "))
            }
        }
        Err(e) => Err(gdal_reason(e)),
    }
}

/// The first column of the first row of a query, as text.
pub fn query_value(ds: &Dataset, sql: &str) -> std::result::Result<Option<String>, String> {
    take_gdal_errors();
    let set = ds
        .execute_sql(sql, None, gdal::vector::sql::Dialect::DEFAULT)
        .map_err(gdal_reason)?;
    let errs = take_gdal_errors();
    if !errs.is_empty() {
        return Err(errs.join("; "));
    }
    let Some(mut set) = set else {
        return Ok(None);
    };
    let value = set
        .features()
        .next()
        .and_then(|f| f.field_as_string(0).ok().flatten());
    Ok(value)
}

/// Checks, before a long run, that the database has PostGIS and that the
/// role may create tables in the table's schema.
pub fn check_writable(ds: &Dataset, conn: &str, table: &TableName) -> Result<()> {
    let shown = display(conn);
    if query_value(ds, "SELECT postgis_lib_version()").is_err() {
        return Err(Error::output(
            "the database has no PostGIS (postgis_lib_version() is unknown)",
        )
        .file(shown)
        .hint("run CREATE EXTENSION postgis; in this database, as its owner or a superuser"));
    }
    let schema = table.schema.replace('\'', "''");
    let may = query_value(
        ds,
        &format!(
            "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '{schema}') THEN 'none' \
             WHEN has_schema_privilege(current_user, '{schema}', 'CREATE') THEN 'yes' ELSE 'no' END"
        ),
    )
    .map_err(|e| Error::output(format!("cannot query the database: {e}")).file(shown.clone()))?;
    match may.as_deref() {
        Some("yes") => Ok(()),
        Some("none") => Err(
            Error::output(format!("schema '{}' does not exist", table.schema))
                .file(shown)
                .hint(format!(
                    "create it (CREATE SCHEMA {};) or give --table in an existing schema",
                    table.schema
                )),
        ),
        _ => {
            let role = query_value(ds, "SELECT current_user")
                .ok()
                .flatten()
                .unwrap_or_else(|| "this role".into());
            Err(Error::output(format!(
                "role {role} may not create tables in schema {}",
                table.schema
            ))
            .file(shown)
            .hint(format!(
                "GRANT CREATE ON SCHEMA {} TO {role}; or connect as a role that may",
                table.schema
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        let t = TableName::parse("nbhd").unwrap();
        assert_eq!(t.sql(), "\"public\".\"nbhd\"");
        assert_eq!(
            TableName::parse("gis.nbhd_2026").unwrap().to_string(),
            "gis.nbhd_2026"
        );
        let e = TableName::parse("Nbhd; drop").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid table name 'Nbhd; drop'\n  hint: give --table as NAME or SCHEMA.NAME: lower-case letters, digits and _, at most 50 characters each"
        );
        assert!(is_connection("pg:dbname=x"));
        assert!(!is_connection("out/pg.gpkg"));
    }
}
