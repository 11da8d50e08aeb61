//! `dongne._dongne`: the native half of the Python package.
//!
//! Layers cross as GeoParquet bytes (what `GeoDataFrame.to_parquet` writes
//! into a buffer): each is put in GDAL's in-memory file system
//! (`/vsimem/…`), read there by dongne's own reader as a file would be,
//! and removed when the call ends. The result comes back as GeoParquet
//! bytes, the same encoding as `dongne generate -o out.parquet`. Nothing
//! touches the disk. The Python side (`dongne/__init__.py`) builds the
//! GeoDataFrames and the config.
//!
//! Every dongne error becomes `dongne.DongneError` carrying the CLI's
//! message; the GIL is released while the method runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use dongne::error::Error;
use dongne::io::config::{Config, LayerConfig};
use dongne::products::{evaluate, job, locate};

create_exception!(_dongne, DongneError, PyException, "An error of dongne: bad input, an unwritable output, or a failed step; the message names the layer, the feature and what to do.");

fn py_err(e: Error) -> PyErr {
    DongneError::new_err(e.to_string())
}

/// In-memory files for the length of a call, removed when dropped.
struct MemFiles(Vec<PathBuf>);

impl MemFiles {
    fn new(files: BTreeMap<String, Vec<u8>>) -> PyResult<MemFiles> {
        let mut made = MemFiles(Vec::new());
        for (name, bytes) in files {
            if !name.starts_with("/vsimem/") {
                return Err(DongneError::new_err(format!(
                    "in-memory layer name must start with /vsimem/: {name}"
                )));
            }
            gdal::vsi::create_mem_file(&name, bytes)
                .map_err(|e| DongneError::new_err(format!("{name}: {e}")))?;
            made.0.push(PathBuf::from(name));
        }
        Ok(made)
    }
}

impl Drop for MemFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = gdal::vsi::unlink_mem_file(p);
        }
    }
}

/// The run's config: the TOML file when given, with the JSON object laid
/// over it key by key (layers, fields, params).
fn config(config_json: &str, config_file: Option<&str>) -> Result<Config, Error> {
    let overrides: serde_json::Value = serde_json::from_str(config_json)
        .map_err(|e| Error::input(format!("invalid settings: {e}")))?;
    let mut base = match config_file {
        Some(f) => serde_json::to_value(Config::from_file(Path::new(f))?)
            .map_err(|e| Error::internal(e.to_string()))?,
        None => serde_json::json!({}),
    };
    merge(&mut base, overrides);
    serde_json::from_value(base).map_err(|e| {
        Error::input(format!("invalid settings: {e}"))
            .hint("parameters are named as the flags of dongne generate, with _ for - (eps, min_buildings, walk_minutes, …)")
    })
}

fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// Runs the generate job: returns the neighborhoods as GeoParquet bytes,
/// the run's warnings, and with `neighbours` the neighbour table as CSV
/// (every level; `dongne generate --neighbours`).
#[pyfunction]
#[pyo3(signature = (config_json, config_file, files, neighbours=false))]
fn generate<'py>(
    py: Python<'py>,
    config_json: &str,
    config_file: Option<&str>,
    files: BTreeMap<String, Vec<u8>>,
    neighbours: bool,
) -> PyResult<(Bound<'py, PyBytes>, Vec<String>, Option<String>)> {
    let _mem = MemFiles::new(files)?;
    type Made = (Vec<u8>, Vec<String>, Option<String>);
    let result = py.detach(|| -> Result<Made, Error> {
        let cfg = config(config_json, config_file)?;
        let g = job::generate(&cfg)?;
        let bytes = dongne::io::write::encode_geoparquet(&g.output.features, &g.loaded.crs)?;
        let table = if neighbours {
            let hard = dongne::products::levels::LevelSpec::of(&cfg).hard;
            let rows = dongne::products::neighbours::neighbours(
                &g.output.features,
                &g.loaded.inputs.lines,
                &hard,
            );
            let csv = dongne::products::neighbours::as_table(&rows).csv()?;
            Some(String::from_utf8(csv).map_err(|e| Error::internal(e.to_string()))?)
        } else {
            None
        };
        Ok((bytes, g.warnings, table))
    });
    let (bytes, warnings, table) = result.map_err(py_err)?;
    Ok((PyBytes::new(py, &bytes), warnings, table))
}

/// Finds the neighborhood of each point: returns the columns (`nbhd_id`,
/// `kind`, `admin_code`, `admin_name`, `status`), one value per point in
/// input order.
#[pyfunction]
#[pyo3(signature = (neighborhoods, points, files))]
fn locate_points(
    py: Python<'_>,
    neighborhoods: &str,
    points: &str,
    files: BTreeMap<String, Vec<u8>>,
) -> PyResult<BTreeMap<&'static str, Vec<Option<String>>>> {
    let _mem = MemFiles::new(files)?;
    let result = py.detach(|| -> Result<_, Error> {
        let layer = locate::read_neighborhoods(&LayerConfig {
            path: neighborhoods.into(),
            ..Default::default()
        })?
        .at_level(1)?;
        let pts = locate::read_layer_points(&LayerConfig {
            path: points.into(),
            ..Default::default()
        })?;
        let srs = match &pts.crs_wkt {
            Some(wkt) => Some(
                gdal::spatial_ref::SpatialRef::from_wkt(wkt)
                    .map_err(|e| Error::internal(format!("the points' CRS: {e}")))?,
            ),
            None => None,
        };
        let (xs, ys) = locate::points_in(&pts, srs.as_ref(), &layer)?;
        let index = locate::Index::new(&layer.geoms);
        let mut cols: BTreeMap<&'static str, Vec<Option<String>>> = BTreeMap::new();
        for (x, y) in xs.iter().zip(&ys) {
            let found = index.locate(*x, *y);
            let info = found.as_ref().map(|f| &layer.info[f.feature]);
            let status = match &found {
                None => "outside",
                Some(f) if f.on_edge => "edge",
                Some(_) => "inside",
            };
            let mut push = |k: &'static str, v: Option<String>| cols.entry(k).or_default().push(v);
            push("nbhd_id", info.map(|i| i.nbhd_id.clone()));
            push("kind", info.map(|i| i.kind.clone()));
            push("admin_code", info.map(|i| i.admin_code.clone()));
            push("admin_name", info.map(|i| i.admin_name.clone()));
            push("status", Some(status.to_string()));
        }
        Ok(cols)
    });
    result.map_err(py_err)
}

/// Measures a neighborhood layer against H3 cells and the admin units on
/// the run's inputs: returns the CSV `dongne evaluate --csv` writes.
#[pyfunction]
#[pyo3(signature = (neighborhoods, config_json, config_file, files))]
fn evaluate_layer(
    py: Python<'_>,
    neighborhoods: &str,
    config_json: &str,
    config_file: Option<&str>,
    files: BTreeMap<String, Vec<u8>>,
) -> PyResult<String> {
    let _mem = MemFiles::new(files)?;
    let result = py.detach(|| -> Result<String, Error> {
        let cfg = config(config_json, config_file)?;
        cfg.validate()?;
        let layer = locate::read_neighborhoods(&LayerConfig {
            path: neighborhoods.into(),
            ..Default::default()
        })?
        .at_level(1)?;
        let loaded = dongne::io::inputs::load(&cfg)?;
        let geoms = layer.geoms_in(&loaded.crs.spatial_ref()?)?;
        let kinds: Vec<String> = layer.info.iter().map(|i| i.kind.clone()).collect();
        let mut e = evaluate::evaluate(&loaded.inputs, &cfg.params, &loaded.crs, &geoms, &kinds)?;
        e.naming = evaluate::naming(&layer);
        Ok(evaluate::csv(&e))
    });
    result.map_err(py_err)
}

#[pymodule]
fn _dongne(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DongneError", m.py().get_type::<DongneError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(locate_points, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_layer, m)?)?;
    Ok(())
}
