//! GeoParquet 1.1 output (`-o out.parquet`), in the working CRS, with the
//! fields and rounding of every other format; encoded by
//! [`crate::io::geoparquet`].

use super::atomic::Target;
use super::Row;
use crate::error::Result;
use crate::io::geoparquet::{self, Column};
use crate::io::reproject::WorkingCrs;
use crate::model::Neighborhood;

pub(super) fn write_parquet(
    target: &Target,
    features: &[Neighborhood],
    crs: &WorkingCrs,
) -> Result<()> {
    target.write_bytes(&encode(features, crs)?)
}

/// The neighborhoods as GeoParquet bytes (the Python package returns these).
pub fn encode(features: &[Neighborhood], crs: &WorkingCrs) -> Result<Vec<u8>> {
    let rows: Vec<Row> = features.iter().map(Row::of).collect();
    let columns = vec![
        Column::Text("nbhd_id", rows.iter().map(|r| r.nbhd_id.into()).collect()),
        Column::Text("kind", rows.iter().map(|r| r.kind.into()).collect()),
        Column::Text(
            "admin_code",
            rows.iter().map(|r| r.admin_code.into()).collect(),
        ),
        Column::Text(
            "admin_name",
            rows.iter().map(|r| r.admin_name.into()).collect(),
        ),
        Column::OptionalText(
            "name",
            rows.iter().map(|r| r.name.map(Into::into)).collect(),
        ),
        Column::OptionalText(
            "name_en",
            rows.iter().map(|r| r.name_en.map(Into::into)).collect(),
        ),
        Column::OptionalText(
            "name_source",
            rows.iter().map(|r| r.name_source.map(Into::into)).collect(),
        ),
        Column::Real("area_m2", rows.iter().map(|r| r.area_m2).collect()),
        Column::Real("perimeter_m", rows.iter().map(|r| r.perimeter_m).collect()),
        Column::Integer("buildings", rows.iter().map(|r| r.buildings).collect()),
        Column::Real("compactness", rows.iter().map(|r| r.compactness).collect()),
        Column::Text(
            "bounded_by",
            rows.iter().map(|r| r.bounded_by.into()).collect(),
        ),
        Column::Integer("level", rows.iter().map(|r| r.level).collect()),
        Column::OptionalText(
            "parent_id",
            rows.iter().map(|r| r.parent_id.map(Into::into)).collect(),
        ),
    ];
    let geoms: Vec<_> = features.iter().map(|n| n.geom.clone()).collect();
    geoparquet::encode(columns, &geoms, &crs.spatial_ref()?)
}
