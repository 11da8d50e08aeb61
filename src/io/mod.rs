//! Data in and out: the config, GDAL reading (and the OSM preset),
//! PostGIS connections, reprojection into the working CRS, atomic writing
//! and layer styles.
//! Imports only the base types and [`crate::geom`].

pub mod cache;
pub mod config;
pub mod encoding;
pub mod gdal_errors;
pub mod geoparquet;
pub mod geos;
pub mod inputs;
pub mod network;
pub mod osm;
pub mod osm_tags;
pub mod palette;
pub mod postgis;
pub mod read;
pub mod reproject;
pub mod style;
pub mod wkb;
pub mod write;
