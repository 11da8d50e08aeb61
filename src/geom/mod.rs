//! The geometry kernel: shapes as plain rings ([`shape`]), point in polygon
//! ([`contains`]), the fixed-grid overlay ([`overlay`]) and coverage
//! operations (node, adjacency: [`coverage`]), dissolving faces without a
//! union ([`dissolve`]), perimeter and
//! compactness ([`measure`]), polygon validity as OGC defines it, fast
//! ([`validity`]), closing the gaps
//! of a line network ([`snap`]), and lon/lat polygons cut at 180°
//! ([`antimeridian`]). Depends on nothing
//! of dongne's but [`crate::error`]; within it, each file imports only those
//! listed before it.

pub mod shape;

pub mod contains;

pub mod overlay;

pub mod coverage;

pub mod dissolve;

pub mod measure;

pub mod validity;

pub mod snap;

pub mod antimeridian;
