//! GeoParquet 1.1, read and written without GDAL (Debian's GDAL 3.6 has no
//! Parquet driver): the `geo` file metadata, WKB geometries, the CRS as
//! PROJJSON and a `bbox` covering column.
//!
//! Reading turns the file into an in-memory GDAL dataset (GDAL's Memory
//! driver), so that every check, repair and message of [`crate::io::read`]
//! applies to GeoParquet as to any other format. The file may also be a
//! GDAL in-memory file (`/vsimem/…`): that is how the Python package hands
//! GeoDataFrames over without touching the disk.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type};
use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int64Array, RecordBatch, StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use bytes::Bytes;
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{
    Feature, FieldDefn, Geometry as GdalGeometry, LayerAccess, LayerOptions, OGRFieldType,
    OGRwkbGeometryType,
};
use gdal::{Dataset, DriverManager};
use geo::BoundingRect;
use geo_types::MultiPolygon;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::io::gdal_errors::gdal_reason;
use crate::io::wkb::multi_polygon_wkb;

/// The name of the geometry column dongne writes.
pub const GEOMETRY_COLUMN: &str = "geometry";

/// Whether a path names a GeoParquet file, by its extension.
pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("geoparquet"))
}

// ---------------------------------------------------------------------------
// Writing

/// One attribute column to write.
#[derive(Debug, Clone)]
pub enum Column {
    Text(&'static str, Vec<String>),
    /// Text that may be NULL.
    OptionalText(&'static str, Vec<Option<String>>),
    Real(&'static str, Vec<f64>),
    Integer(&'static str, Vec<i64>),
}

/// The Arrow fields and arrays of attribute columns, in order.
fn arrays_of(columns: Vec<Column>) -> (Vec<Field>, Vec<ArrayRef>) {
    let mut fields: Vec<Field> = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for c in columns {
        match c {
            Column::Text(name, v) => {
                fields.push(Field::new(name, DataType::Utf8, false));
                arrays.push(Arc::new(StringArray::from(v)));
            }
            Column::OptionalText(name, v) => {
                fields.push(Field::new(name, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from(v)));
            }
            Column::Real(name, v) => {
                fields.push(Field::new(name, DataType::Float64, false));
                arrays.push(Arc::new(Float64Array::from(v)));
            }
            Column::Integer(name, v) => {
                fields.push(Field::new(name, DataType::Int64, false));
                arrays.push(Arc::new(Int64Array::from(v)));
            }
        }
    }
    (fields, arrays)
}

/// Encodes a table without geometry as plain Parquet (the neighbour table
/// beside a GeoParquet layer). The same input gives the same bytes.
pub fn encode_table(columns: Vec<Column>) -> Result<Vec<u8>> {
    let internal = |e: String| Error::internal(format!("Parquet table: {e}"));
    let (fields, arrays) = arrays_of(columns);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| internal(e.to_string()))?;
    let mut out = Vec::new();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(Default::default()))
        .build();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
        .map_err(|e| internal(e.to_string()))?;
    w.write(&batch).map_err(|e| internal(e.to_string()))?;
    w.close().map_err(|e| internal(e.to_string()))?;
    Ok(out)
}

/// Encodes a layer of multipolygons as GeoParquet 1.1: the attribute
/// columns in order, `geometry` (WKB), `bbox` (xmin, ymin, xmax, ymax) and
/// the `geo` metadata with the CRS as PROJJSON. The same input gives the
/// same bytes.
pub fn encode(
    columns: Vec<Column>,
    geoms: &[MultiPolygon<f64>],
    srs: &SpatialRef,
) -> Result<Vec<u8>> {
    let internal = |what: &str, e: String| Error::internal(format!("GeoParquet {what}: {e}"));
    let (mut fields, mut arrays) = arrays_of(columns);
    let mut wkb: Vec<Vec<u8>> = Vec::with_capacity(geoms.len());
    let mut boxes: [Vec<f64>; 4] = Default::default();
    let mut total = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for g in geoms {
        wkb.push(multi_polygon_wkb(g));
        let r = g.bounding_rect();
        let b = r.map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        for (k, v) in b.iter().enumerate() {
            boxes[k].push(*v);
        }
        if r.is_some() {
            total = [
                total[0].min(b[0]),
                total[1].min(b[1]),
                total[2].max(b[2]),
                total[3].max(b[3]),
            ];
        }
    }
    fields.push(Field::new(GEOMETRY_COLUMN, DataType::Binary, false));
    arrays.push(Arc::new(BinaryArray::from_iter_values(wkb.iter())));
    let box_fields: Fields = ["xmin", "ymin", "xmax", "ymax"]
        .iter()
        .map(|n| Field::new(*n, DataType::Float64, false))
        .collect();
    let box_arrays: Vec<ArrayRef> = boxes
        .into_iter()
        .map(|v| Arc::new(Float64Array::from(v)) as ArrayRef)
        .collect();
    fields.push(Field::new(
        "bbox",
        DataType::Struct(box_fields.clone()),
        false,
    ));
    arrays.push(Arc::new(StructArray::new(box_fields, box_arrays, None)));

    let projjson: Value = srs
        .to_projjson()
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| internal("CRS", "no PROJJSON for the working CRS".into()))?;
    let bbox = if geoms.is_empty() {
        json!([])
    } else {
        json!(total)
    };
    let geo = json!({
        "version": "1.1.0",
        "primary_column": GEOMETRY_COLUMN,
        "columns": {
            GEOMETRY_COLUMN: {
                "encoding": "WKB",
                "geometry_types": ["MultiPolygon"],
                "crs": projjson,
                "edges": "planar",
                "bbox": bbox,
                "covering": {"bbox": {
                    "xmin": ["bbox", "xmin"], "ymin": ["bbox", "ymin"],
                    "xmax": ["bbox", "xmax"], "ymax": ["bbox", "ymax"],
                }},
            }
        }
    });
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| internal("columns", e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(Default::default()))
        .set_key_value_metadata(Some(vec![parquet::file::metadata::KeyValue::new(
            "geo".to_string(),
            geo.to_string(),
        )]))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema, Some(props))
        .map_err(|e| internal("writer", e.to_string()))?;
    w.write(&batch)
        .map_err(|e| internal("write", e.to_string()))?;
    w.close().map_err(|e| internal("close", e.to_string()))?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Reading

/// Reads a GeoParquet file (or `/vsimem/` file) into an in-memory GDAL
/// dataset of one layer named after the file. Called by
/// [`crate::io::read::open_dataset`], which has checked that it exists.
pub fn open(path: &Path) -> Result<Dataset> {
    let file = path.display().to_string();
    let err = |msg: String| {
        Error::input(msg).file(file.clone()).hint(
            "dongne reads GeoParquet 1.0/1.1 with WKB geometries (geopandas to_parquet, DuckDB COPY … (FORMAT parquet), GDAL ≥ 3.8)",
        )
    };
    let bytes = if path.starts_with("/vsimem") {
        // Copied, not seized: the caller owns the file, and a layer may be
        // opened twice (see `io::inputs`).
        gdal::vsi::call_on_mem_file_bytes(path, |b| b.to_vec())
            .map_err(|e| Error::input(format!("in-memory file missing: {e}")).file(file.clone()))?
    } else {
        std::fs::read(path)
            .map_err(|e| Error::input(format!("cannot read: {e}")).file(file.clone()))?
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes))
        .map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let geo = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.clone())
        .ok_or_else(|| err("not a GeoParquet file: it has no 'geo' metadata".into()))?;
    let geo: Value = serde_json::from_str(&geo)
        .map_err(|e| err(format!("its 'geo' metadata is not JSON: {e}")))?;
    let primary = geo["primary_column"]
        .as_str()
        .ok_or_else(|| err("its 'geo' metadata names no primary_column".into()))?
        .to_string();
    let meta = &geo["columns"][&primary];
    let encoding = meta["encoding"].as_str().unwrap_or("");
    if !encoding.eq_ignore_ascii_case("WKB") {
        return Err(err(format!(
            "geometry column '{primary}' is encoded as '{encoding}'; dongne reads WKB"
        ))
        .hint("write it with WKB geometries, e.g. geopandas: gdf.to_parquet(path, geometry_encoding='WKB')"));
    }
    let srs = match meta.get("crs") {
        // GeoParquet: a missing crs means OGC:CRS84 (lon/lat).
        None => Some(crs84()?),
        Some(Value::Null) => None,
        Some(v) => {
            let text = if let Some(s) = v.as_str() {
                s.to_string()
            } else {
                v.to_string()
            };
            Some(
                SpatialRef::from_definition(&text)
                    .map_err(|e| err(format!("its CRS cannot be read: {}", gdal_reason(e))))?,
            )
        }
    };
    let schema = builder.schema().clone();
    let geom_index = schema
        .index_of(&primary)
        .map_err(|_| err(format!("the primary column '{primary}' is not in the file")))?;
    if !matches!(
        schema.field(geom_index).data_type(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    ) {
        return Err(err(format!(
            "geometry column '{primary}' is of type {}, not binary WKB",
            schema.field(geom_index).data_type()
        )));
    }
    // Covering columns (the bbox struct) are metadata, not attributes.
    let covering: Vec<String> = meta["covering"]["bbox"]
        .as_object()
        .map(|o| {
            o.values()
                .filter_map(|v| v[0].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let attrs: Vec<(usize, String, OGRFieldType::Type)> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(i, f)| *i != geom_index && !covering.contains(f.name()))
        .filter_map(|(i, f)| ogr_type(f.data_type()).map(|t| (i, f.name().clone(), t)))
        .collect();

    let reader = builder
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| err(format!("cannot read: {e}")))?;
    let gdal_err = |what: &str, e: gdal::errors::GdalError| {
        Error::internal(format!("{what}: {}", gdal_reason(e))).file(file.clone())
    };
    let driver = DriverManager::get_driver_by_name("Memory")
        .map_err(|e| gdal_err("GDAL Memory driver", e))?;
    let mut ds = driver
        .create_vector_only("")
        .map_err(|e| gdal_err("in-memory dataset", e))?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("layer")
        .to_string();
    let layer = ds
        .create_layer(LayerOptions {
            name: &name,
            srs: srs.as_ref(),
            ty: OGRwkbGeometryType::wkbUnknown,
            options: None,
        })
        .map_err(|e| gdal_err("in-memory layer", e))?;
    for (_, n, t) in &attrs {
        FieldDefn::new(n, *t)
            .and_then(|d| d.add_to_layer(&layer))
            .map_err(|e| gdal_err("field", e))?;
    }
    let mut row: i64 = 0;
    for batch in reader {
        let batch = batch.map_err(|e| err(format!("cannot read: {e}")))?;
        let geoms = batch.column(geom_index);
        for r in 0..batch.num_rows() {
            let mut f = Feature::new(layer.defn()).map_err(|e| gdal_err("feature", e))?;
            for (k, (i, _, _)) in attrs.iter().enumerate() {
                set_field(&mut f, k, batch.column(*i).as_ref(), r)
                    .map_err(|e| gdal_err("field value", e))?;
            }
            if let Some(wkb) = binary_value(geoms.as_ref(), r) {
                let g = GdalGeometry::from_wkb(wkb).map_err(|e| {
                    Error::input(format!("unreadable WKB geometry: {}", gdal_reason(e)))
                        .file(file.clone())
                        .layer(name.clone())
                        .feature(row)
                        .hint("check the file with geopandas.read_parquet; drop or repair the feature")
                })?;
                f.set_geometry(g).map_err(|e| gdal_err("geometry", e))?;
            }
            f.create(&layer).map_err(|e| gdal_err("feature", e))?;
            row += 1;
        }
    }
    Ok(ds)
}

fn crs84() -> Result<SpatialRef> {
    let mut s = SpatialRef::from_epsg(4326).map_err(|e| Error::internal(e.to_string()))?;
    s.set_axis_mapping_strategy(gdal::spatial_ref::AxisMappingStrategy::TraditionalGisOrder);
    Ok(s)
}

/// The OGR field type an Arrow column becomes; `None`: not carried (lists,
/// structs, binary).
fn ogr_type(t: &DataType) -> Option<OGRFieldType::Type> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(OGRFieldType::OFTString),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            Some(OGRFieldType::OFTInteger64)
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => Some(OGRFieldType::OFTInteger64),
        DataType::Float32 | DataType::Float64 => Some(OGRFieldType::OFTReal),
        DataType::Boolean => Some(OGRFieldType::OFTInteger),
        _ => None,
    }
}

fn set_field(f: &mut Feature, k: usize, a: &dyn Array, r: usize) -> gdal::errors::Result<()> {
    if a.is_null(r) {
        return f.set_field_null(k);
    }
    match a.data_type() {
        DataType::Utf8 => f.set_field_string(k, a.as_string::<i32>().value(r)),
        DataType::LargeUtf8 => f.set_field_string(k, a.as_string::<i64>().value(r)),
        DataType::Utf8View => f.set_field_string(k, a.as_string_view().value(r)),
        DataType::Int8 => f.set_field_integer64(k, a.as_primitive::<Int8Type>().value(r).into()),
        DataType::Int16 => f.set_field_integer64(k, a.as_primitive::<Int16Type>().value(r).into()),
        DataType::Int32 => f.set_field_integer64(k, a.as_primitive::<Int32Type>().value(r).into()),
        DataType::Int64 => f.set_field_integer64(k, a.as_primitive::<Int64Type>().value(r)),
        DataType::UInt8 => f.set_field_integer64(
            k,
            a.as_primitive::<arrow_array::types::UInt8Type>()
                .value(r)
                .into(),
        ),
        DataType::UInt16 => f.set_field_integer64(
            k,
            a.as_primitive::<arrow_array::types::UInt16Type>()
                .value(r)
                .into(),
        ),
        DataType::UInt32 => f.set_field_integer64(
            k,
            a.as_primitive::<arrow_array::types::UInt32Type>()
                .value(r)
                .into(),
        ),
        DataType::Float32 => f.set_field_double(k, a.as_primitive::<Float32Type>().value(r).into()),
        DataType::Float64 => f.set_field_double(k, a.as_primitive::<Float64Type>().value(r)),
        DataType::Boolean => f.set_field_integer(k, i32::from(a.as_boolean().value(r))),
        _ => Ok(()),
    }
}

/// The WKB of row `r`, `None` when null.
fn binary_value(a: &dyn Array, r: usize) -> Option<&[u8]> {
    if a.is_null(r) {
        return None;
    }
    match a.data_type() {
        DataType::Binary => Some(a.as_binary::<i32>().value(r)),
        DataType::LargeBinary => Some(a.as_binary::<i64>().value(r)),
        DataType::BinaryView => Some(a.as_binary_view().value(r)),
        _ => None,
    }
}
