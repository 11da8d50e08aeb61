//! Attribute tables written with the neighborhoods (the neighbour table):
//! inside a GeoPackage as a table without geometry (QGIS lists it beside
//! the layer, and can join it), as a Parquet file beside a GeoParquet
//! layer, as a CSV beside every other file format. Staged with the layer
//! and committed with it.

use std::path::{Path, PathBuf};

use gdal::vector::{FieldDefn, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::Dataset;

use super::{stage_bytes, Format, Staged};
use crate::error::{Error, Result};
use crate::io::geoparquet::{self, Column};

/// A table: its name (a GeoPackage table, or the middle of the file name
/// beside the layer: `out.neighbours.csv`) and its columns.
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<Column>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| match c {
            Column::Text(_, v) => v.len(),
            Column::OptionalText(_, v) => v.len(),
            Column::Real(_, v) => v.len(),
            Column::Integer(_, v) => v.len(),
        })
    }

    fn names(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Text(n, _)
                | Column::OptionalText(n, _)
                | Column::Real(n, _)
                | Column::Integer(n, _) => *n,
            })
            .collect()
    }

    /// Row `r` as text, as a CSV holds it (NULL is empty).
    fn text_row(&self, r: usize) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Text(_, v) => v[r].clone(),
                Column::OptionalText(_, v) => v[r].clone().unwrap_or_default(),
                Column::Real(_, v) => v[r].to_string(),
                Column::Integer(_, v) => v[r].to_string(),
            })
            .collect()
    }

    /// The table as CSV: a header, then a row per row.
    pub fn csv(&self) -> Result<Vec<u8>> {
        let err = |e: csv::Error| Error::internal(format!("{} table: {e}", self.name));
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.names()).map_err(err)?;
        for r in 0..self.rows() {
            w.write_record(self.text_row(r)).map_err(err)?;
        }
        w.into_inner()
            .map_err(|e| Error::internal(format!("{} table: {e}", self.name)))
    }
}

/// Where a table goes beside a file layer that cannot hold it:
/// `out.geojson` → `out.neighbours.csv`, `out.parquet` →
/// `out.neighbours.parquet`. `None` for a GeoPackage, which holds it.
pub fn beside(layer: &Path, name: &str) -> Result<Option<PathBuf>> {
    let ext = match Format::from_path(layer)? {
        Format::GeoPackage => return Ok(None),
        Format::GeoParquet => "parquet",
        _ => "csv",
    };
    let stem = layer
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    Ok(Some(layer.with_file_name(format!("{stem}.{name}.{ext}"))))
}

/// Stages the tables that go beside a file layer (none for a GeoPackage:
/// [`add_to_dataset`] puts them inside).
pub fn stage_beside(layer: &Path, tables: &[Table]) -> Result<Vec<Staged>> {
    let mut out = Vec::new();
    for t in tables {
        let Some(path) = beside(layer, t.name)? else {
            continue;
        };
        let bytes = if geoparquet::is_parquet(&path) {
            geoparquet::encode_table(t.columns.clone())?
        } else {
            t.csv()?
        };
        out.push(stage_bytes(&path, &bytes)?);
    }
    Ok(out)
}

/// Adds the tables to a GDAL dataset (a GeoPackage, a PostGIS database) as
/// tables without geometry, each under the name `name_of` gives it.
pub(super) fn add_to_dataset(
    ds: &mut Dataset,
    tables: &[Table],
    name_of: impl Fn(&Table) -> String,
) -> gdal::errors::Result<()> {
    for t in tables {
        let name = name_of(t);
        let layer = ds.create_layer(LayerOptions {
            name: &name,
            ty: OGRwkbGeometryType::wkbNone,
            options: Some(&["LAUNDER=NO"]),
            ..Default::default()
        })?;
        for c in &t.columns {
            let (name, ty) = match c {
                Column::Text(n, _) | Column::OptionalText(n, _) => (*n, OGRFieldType::OFTString),
                Column::Real(n, _) => (*n, OGRFieldType::OFTReal),
                Column::Integer(n, _) => (*n, OGRFieldType::OFTInteger64),
            };
            FieldDefn::new(name, ty)?.add_to_layer(&layer)?;
        }
        for r in 0..t.rows() {
            let mut f = gdal::vector::Feature::new(layer.defn())?;
            for (k, c) in t.columns.iter().enumerate() {
                match c {
                    Column::Text(_, v) => f.set_field_string(k, &v[r])?,
                    Column::OptionalText(_, v) => {
                        if let Some(s) = &v[r] {
                            f.set_field_string(k, s)?
                        }
                    }
                    Column::Real(_, v) => f.set_field_double(k, v[r])?,
                    Column::Integer(_, v) => f.set_field_integer64(k, v[r])?,
                }
            }
            f.create(&layer)?;
        }
    }
    Ok(())
}
