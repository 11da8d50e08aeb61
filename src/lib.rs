//! dongne draws hyperlocal neighborhood boundaries: buildings are clustered into
//! hot spots, each administrative unit is split by natural barriers, and the gaps
//! are filled with a Voronoi diagram.
//!
//! The library is built in layers; each imports only the layers below it
//! (docs/design.md, "Code layout"):
//!
//! | layer | modules |
//! |---|---|
//! | base types | [`model`], [`error`] |
//! | [`geom`]: geometry kernel | [`geom::shape`], [`geom::contains`] (point in polygon), [`geom::overlay`], [`geom::coverage`] |
//! | [`io`]: files in and out | [`io::config`], [`io::read`] (OSM tags: [`io::osm_tags`]), [`io::osm`] (the OSM preset), [`io::inputs`] (all layers of a run), [`io::reproject`], [`io::write`], [`io::style`] and [`io::palette`] |
//! | [`method`]: the stages, in pipeline order | [`method::barriers`], [`method::open_ground`], [`method::enclosures`], [`method::clustering`], [`method::tessellation`], [`method::pieces`], [`method::size_rules`]; [`method::pipeline`] runs them per admin unit in parallel |
//! | [`products`]: what the subcommands make of a run | [`products::ids`], [`products::evaluate`], [`products::locate`], [`products::preview`], [`products::checks`], [`products::invariants`] |
//!
//! The subcommands themselves (argument parsing, progress bars) are in the
//! `dongne` binary, above all of these.

pub mod error;
pub mod geom;
pub mod io;
pub mod method;
pub mod model;
pub mod products;
