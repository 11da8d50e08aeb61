//! dongne draws hyperlocal neighborhood boundaries: buildings are clustered into
//! hot spots, each administrative unit is split by natural barriers, and the gaps
//! are filled with a Voronoi diagram. One module per stage of the pipeline:
//!
//! | stage | module |
//! |---|---|
//! | read layers through GDAL | [`read`] (OSM preset: [`osm`]) |
//! | reproject into a metric CRS | [`reproject`] |
//! | barrier lines and areas | [`barriers`] |
//! | enclosures | [`enclosures`] |
//! | hot spots | [`clustering`] |
//! | Voronoi gap fill | [`tessellation`] |
//! | size rules | [`size_rules`] |
//! | write | [`write`] |
//!
//! [`pipeline`] runs the stages per admin unit in parallel.

pub mod barriers;
pub mod checks;
pub mod clustering;
pub mod cmd;
pub mod config;
pub mod coverage;
pub mod enclosures;
pub mod error;
pub mod evaluate;
pub mod ids;
pub mod invariants;
pub mod locate;
pub mod model;
pub mod open_ground;
pub mod osm;
pub mod overlay;
pub mod pieces;
pub mod pipeline;
pub mod preview;
pub mod read;
pub mod reproject;
pub mod size_rules;
pub mod style;
pub mod tessellation;
pub mod write;
