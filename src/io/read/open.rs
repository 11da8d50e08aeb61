//! Opening datasets and layers: files, PostGIS connections and GeoParquet,
//! with the checks a user can act on (file, layer, CRS, fields).

use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::LayerAccess;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};

use crate::error::{Error, Result};
use crate::io::config::LayerConfig;
use crate::io::gdal_errors::{capture_gdal_errors, gdal_reason, take_gdal_errors};
use crate::io::reproject::{self, Transformer};
use crate::model::Source;

use super::*;

/// Opens a vector dataset read-only; a missing or unreadable file is an input
/// error naming it.
pub fn open_dataset(path: &Path) -> Result<Dataset> {
    capture_gdal_errors();
    let file = path.display().to_string();
    if crate::io::postgis::is_connection(&file) {
        return crate::io::postgis::connect(&file, false, &[]);
    }
    // GDAL's in-memory files (the Python package's layers) are no paths.
    if !path.starts_with("/vsimem") && !path.exists() {
        return Err(Error::input("file not found").file(file).hint(
            "check the path (relative paths start from the current folder, or from the config file's folder)",
        ));
    }
    if crate::io::geoparquet::is_parquet(path) {
        return crate::io::geoparquet::open(path);
    }
    take_gdal_errors();
    // A shapefile's undeclared text encoding, detected (io::encoding).
    let encoding = match crate::io::encoding::dbf_text(path) {
        crate::io::encoding::DbfText::Detected(e) => {
            tracing::info!(file = %file, encoding = e, "no .cpg: the .dbf's text is read in the encoding it is written in");
            Some(format!("ENCODING={e}"))
        }
        // Decoded byte for byte: nothing turns into U+FFFD, so a wrong
        // guess can still be undone (and is warned of).
        crate::io::encoding::DbfText::Unknown => {
            tracing::warn!("{}", crate::io::encoding::unknown_message(path));
            Some("ENCODING=ISO-8859-1".to_string())
        }
        _ => None,
    };
    let open_options: Vec<&str> = encoding.iter().map(String::as_str).collect();
    let opts = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR
            | GdalOpenFlags::GDAL_OF_READONLY
            | GdalOpenFlags::GDAL_OF_VERBOSE_ERROR,
        open_options: (!open_options.is_empty()).then_some(&open_options[..]),
        ..Default::default()
    };
    Dataset::open_ex(path, opts).map_err(|e| {
        let why = gdal_reason(e);
        Error::input(format!("cannot open as a vector dataset: {why}"))
            .file(file)
            .hint("dongne reads GDAL vector formats (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF…); check that the file is complete")
    })
}

/// Names of the layers of a dataset, in the dataset's order.
pub fn layer_names(ds: &Dataset) -> Vec<String> {
    ds.layers().map(|l| l.name()).collect()
}

/// Opens the layer a [`LayerConfig`] names, or the file's only layer with
/// geometry (tables without, such as a GeoPackage's `layer_styles`, do not
/// count). A file of several such layers (an OSM extract, a GeoPackage of
/// provinces and districts) needs the name.
pub fn open_layer(spec: &LayerConfig) -> Result<OpenedLayer> {
    let ds = open_dataset(&spec.path)?;
    let file = spec.path.display().to_string();
    let driver = ds.driver().short_name();
    let names = layer_names(&ds);
    let spatial: Vec<usize> = ds
        .layers()
        .enumerate()
        .filter(|(_, l)| l.defn().geom_fields().count() > 0)
        .map(|(i, _)| i)
        .collect();
    let index = match &spec.layer {
        Some(name) => names.iter().position(|n| n == name).ok_or_else(|| {
            Error::input(format!(
                "layer '{name}' not found; the file has: {}",
                names.join(", ")
            ))
            .file(file.clone())
            .hint(format!("give the layer as {file}:LAYER"))
        })?,
        None if driver == "OSM" => {
            return Err(Error::input(format!(
                "an OSM file holds several layers; name one of: {}",
                names.join(", ")
            ))
            .file(file.clone())
            .hint(format!(
                "e.g. {file}:lines for roads, or use --osm {file} to take every layer from its tags"
            )))
        }
        None if names.is_empty() => return Err(Error::input("the file has no layers").file(file)),
        // Taking the first of several layers would read, say, provinces
        // where districts were meant, without a word.
        None if spatial.len() > 1 => {
            let spatial: Vec<&str> = spatial.iter().map(|&i| names[i].as_str()).collect();
            return Err(Error::input(format!(
                "the file holds {} layers; name one of: {}",
                spatial.len(),
                spatial.join(", ")
            ))
            .file(file.clone())
            .hint(format!(
                "give the layer as {file}:{} (or layer = \"…\" in the config)",
                spatial[0]
            )));
        }
        None => spatial.first().copied().unwrap_or(0),
    };
    let layer = ds
        .into_layer(index)
        .map_err(|e| Error::input(format!("cannot open layer {index}: {e}")).file(file.clone()))?;
    let fields = layer.defn().fields().map(|f| f.name()).collect();
    let srs = layer.spatial_ref();
    Ok(OpenedLayer {
        source: Source {
            file,
            layer: names[index].clone(),
        },
        driver,
        srs,
        fields,
        layer,
    })
}

impl OpenedLayer {
    /// `EPSG:4326 (WGS 84)`, or `none` when the layer declares no CRS.
    pub fn crs_label(&self) -> String {
        self.srs
            .as_ref()
            .map(reproject::srs_label)
            .unwrap_or_else(|| "none".to_string())
    }

    /// The layer's CRS, or the assumed one when it declares none.
    pub fn srs_or_assumed(&self, assumed: Option<&SpatialRef>) -> Result<(SpatialRef, String)> {
        match (&self.srs, assumed) {
            (Some(srs), _) => Ok((srs.clone(), reproject::srs_label(srs))),
            (None, Some(a)) => Ok((a.clone(), format!("{} (assumed)", reproject::srs_label(a)))),
            (None, None) => {
                // A .prj that is there but says nothing GDAL understands is
                // another fault than a missing one.
                let prj = Path::new(&self.source.file).with_extension("prj");
                if prj.exists() {
                    return Err(self
                        .error(format!("{} is not a CRS GDAL can read", prj.display()))
                        .hint("replace the .prj with a valid one (e.g. from epsg.io), or delete it and pass --assume-crs EPSG:NNNN"));
                }
                Err(self
                    .error(
                        "no CRS: the layer does not say which coordinate reference system it is in",
                    )
                    .hint("add a .prj or pass --assume-crs EPSG:NNNN"))
            }
        }
    }

    /// Index of a field the configuration names; a missing one lists the
    /// fields there are.
    pub fn field_index(&self, name: &str, what: &str) -> Result<usize> {
        self.layer.defn().field_index(name).map_err(|_| {
            if self.fields.is_empty() {
                return self
                    .error(format!("field '{name}' ({what}) not found: the layer has no attribute fields"))
                    .hint("a shapefile keeps its fields in the .dbf beside the .shp: check that it is there");
            }
            self.error(format!(
                "field '{name}' ({what}) not found; the layer has: {}",
                self.fields.join(", ")
            ))
            .hint("field names are those listed; check the spelling in the config or flags")
        })
    }

    /// The first of `candidates` the layer has, matched case-insensitively.
    pub fn find_field(&self, candidates: &[&str]) -> Option<usize> {
        candidates
            .iter()
            .find_map(|c| self.fields.iter().position(|f| f.eq_ignore_ascii_case(c)))
    }

    /// Applies an OGR SQL `where`, as ogr2ogr's `-where`.
    pub fn set_where(&mut self, sql: &str) -> Result<()> {
        take_gdal_errors();
        self.layer.set_attribute_filter(sql).map_err(|e| {
            let why = gdal_reason(e);
            self.error(format!("invalid where filter `{sql}`: {why}"))
                .hint("the filter is OGR SQL, as in ogr2ogr -where; quote text with single quotes: highway = 'primary'")
        })
    }

    /// Reads only features whose envelope meets the lon/lat box.
    pub fn set_bbox(&mut self, bbox_lonlat: [f64; 4], srs: &SpatialRef) -> Result<()> {
        let b = Transformer::from_lonlat(srs)?
            .with_source(self.source.clone())
            .bounds(bbox_lonlat)?;
        self.layer.set_spatial_filter_rect(b[0], b[1], b[2], b[3]);
        Ok(())
    }

    pub fn error(&self, message: impl Into<String>) -> Error {
        self.source.error(message)
    }

    /// The layer's CRS as WKT, `None` when it declares none.
    pub fn crs_wkt(&self) -> Result<Option<String>> {
        self.srs
            .as_ref()
            .map(|s| {
                s.to_wkt()
                    .map_err(|e| self.error(format!("cannot read the layer's CRS: {e}")))
            })
            .transpose()
    }
}
