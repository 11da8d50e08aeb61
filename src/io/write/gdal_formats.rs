//! GeoPackage, FlatGeobuf and Shapefile through GDAL, in the working CRS,
//! with the dates GDAL would stamp fixed so the same features give the same
//! bytes. A GeoPackage also gets the QGIS style and, on request, the debug
//! layers.

use gdal::spatial_ref::SpatialRef;
use gdal::vector::{
    FieldDefn, Geometry as GdalGeometry, LayerAccess, LayerOptions, OGRFieldType,
    OGRwkbGeometryType, ToGdal,
};
use gdal::{Dataset, DriverManager};

use super::atomic::Target;
use super::{Format, Row, FIELDS, FIXED_DATE, LAYER_NAME, SHAPEFILE_TEXT_WIDTH};
use crate::error::{Error, Result};
use crate::io::gdal_errors::{gdal_reason, take_gdal_errors};
use crate::io::reproject::WorkingCrs;
use crate::io::wkb::multi_polygon_to_gdal;
use crate::model::{DebugLayers, Neighborhood};

pub(super) fn write_gdal(
    target: &Target,
    format: Format,
    features: &[Neighborhood],
    crs: &WorkingCrs,
    debug: Option<&DebugLayers>,
    tables: &[super::Table],
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
        // The style's colours (neighbours differ: a sort of every vertex) are
        // worked out beside the inserts, which GDAL makes on one core: a
        // tenth of a national layer's write.
        let (written, qml) = std::thread::scope(|s| {
            let qml = s.spawn(|| crate::io::style::qml(features));
            let written = write_neighborhoods(&mut txn, LAYER_NAME, format, features, &srs);
            (written, qml.join())
        });
        written.map_err(|e| gdal_err("cannot write", e))?;
        let qml = qml.map_err(|_| Error::internal("the layer style stopped"))?;
        crate::io::style::write_gpkg_style(&mut txn, LAYER_NAME, &qml)
            .map_err(|e| gdal_err("cannot write the QGIS style", e))?;
        if let Some(d) = debug {
            write_debug(&mut txn, d, &srs).map_err(|e| gdal_err("cannot write debug layers", e))?;
        }
        super::tables::add_to_dataset(&mut txn, tables, |t| t.name.to_string())
            .map_err(|e| gdal_err("cannot write a table", e))?;
        txn.commit().map_err(|e| gdal_err("cannot commit", e))?;
    } else {
        write_neighborhoods(&mut ds, LAYER_NAME, format, features, &srs)
            .map_err(|e| gdal_err("cannot write", e))?;
    }
    ds.close().map_err(|e| gdal_err("cannot close", e))?;
    Ok(())
}

/// Creates the neighborhoods layer `name` and writes its features.
pub(super) fn write_neighborhoods(
    ds: &mut Dataset,
    name: &str,
    format: Format,
    features: &[Neighborhood],
    srs: &SpatialRef,
) -> gdal::errors::Result<()> {
    let dbf_date = format!("DBF_DATE_LAST_UPDATE={FIXED_DATE}");
    let options: Vec<&str> = match format {
        Format::Shapefile => vec!["ENCODING=UTF-8", "SHPT=POLYGON", &dbf_date],
        Format::FlatGeobuf => vec!["SPATIAL_INDEX=YES"],
        // The index and the primary key are made once the rows are in.
        Format::PostGis => vec!["GEOMETRY_NAME=geom", "SPATIAL_INDEX=NONE", "LAUNDER=NO"],
        _ => vec![],
    };
    let layer = ds.create_layer(LayerOptions {
        name,
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
        // Unset fields are NULL: a barrier feature has no name.
        for (k, v) in [(4, r.name), (5, r.name_en), (6, r.name_source)] {
            if let Some(v) = v {
                feature.set_field_string(k, v)?;
            }
        }
        feature.set_field_double(7, r.area_m2)?;
        feature.set_field_double(8, r.perimeter_m)?;
        feature.set_field_integer64(9, r.buildings)?;
        feature.set_field_double(10, r.compactness)?;
        feature.set_field_string(11, r.bounded_by)?;
        feature.set_field_integer64(12, r.level)?;
        if let Some(p) = r.parent_id {
            feature.set_field_string(13, p)?;
        }
        feature.set_geometry(multi_polygon_to_gdal(&n.geom)?)?;
        feature.create(&layer)?;
    }
    Ok(())
}

/// A debug layer: its name, geometry type and fields.
type LayerSpec = (
    &'static str,
    OGRwkbGeometryType::Type,
    &'static [(&'static str, OGRFieldType::Type)],
);

const HOTSPOTS: LayerSpec = (
    "hotspots",
    OGRwkbGeometryType::wkbUnknown,
    &[
        ("hotspot_id", OGRFieldType::OFTString),
        ("buildings", OGRFieldType::OFTInteger64),
    ],
);
const ENCLOSURES: LayerSpec = (
    "enclosures",
    OGRwkbGeometryType::wkbPolygon,
    &[("enclosure_id", OGRFieldType::OFTString)],
);
const BARRIERS: LayerSpec = (
    "barriers",
    OGRwkbGeometryType::wkbUnknown,
    &[
        ("kind", OGRFieldType::OFTString),
        ("class", OGRFieldType::OFTString),
    ],
);

fn write_debug(ds: &mut Dataset, d: &DebugLayers, srs: &SpatialRef) -> gdal::errors::Result<()> {
    use FieldValue::{Int, Text};
    let hotspots = d.hotspots.iter();
    let rows = hotspots.map(|(id, g, n)| (vec![Text(id), Int(*n as i64)], g.to_gdal()));
    debug_layer(ds, srs, HOTSPOTS, rows)?;
    let rows = d
        .enclosures
        .iter()
        .map(|(id, p)| (vec![Text(id)], p.to_gdal()));
    debug_layer(ds, srs, ENCLOSURES, rows)?;
    let barriers = d.barriers.iter();
    let rows = barriers.map(|(kind, class, g)| (vec![Text(kind), Text(class)], g.to_gdal()));
    debug_layer(ds, srs, BARRIERS, rows)
}

/// A field value of [`add_features`].
pub enum FieldValue<'a> {
    Text(&'a str),
    Int(i64),
    Real(f64),
}

/// Adds features to a GDAL layer: per feature its values in field order and
/// its geometry. Returns how many were added.
pub fn add_features<'a>(
    layer: &gdal::vector::Layer,
    rows: impl Iterator<Item = (Vec<FieldValue<'a>>, gdal::errors::Result<GdalGeometry>)>,
) -> gdal::errors::Result<usize> {
    let mut count = 0;
    for (values, geom) in rows {
        let mut f = gdal::vector::Feature::new(layer.defn())?;
        for (i, v) in values.iter().enumerate() {
            match v {
                FieldValue::Text(s) => f.set_field_string(i, s)?,
                FieldValue::Int(n) => f.set_field_integer64(i, *n)?,
                FieldValue::Real(x) => f.set_field_double(i, *x)?,
            }
        }
        f.set_geometry(geom?)?;
        f.create(layer)?;
        count += 1;
    }
    Ok(count)
}

fn debug_layer<'a>(
    ds: &mut Dataset,
    srs: &SpatialRef,
    (name, ty, fields): LayerSpec,
    rows: impl Iterator<Item = (Vec<FieldValue<'a>>, gdal::errors::Result<GdalGeometry>)>,
) -> gdal::errors::Result<()> {
    let layer = ds.create_layer(LayerOptions {
        name,
        srs: Some(srs),
        ty,
        options: None,
    })?;
    layer.create_defn_fields(fields)?;
    add_features(&layer, rows).map(|_| ())
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
