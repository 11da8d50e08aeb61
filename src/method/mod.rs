//! The method: one module per stage, in pipeline order, and [`pipeline`],
//! which runs them per admin unit. Imports only [`crate::geom`],
//! [`crate::io`] and the base types.

/// 0. The admin frame: units as one coverage, buildings to units, and the
/// noding of their shared boundaries after the per-unit stages.
pub mod frame;

/// 1. Barrier lines and areas, and their index.
pub mod barriers;

/// 1b. Open ground: land beyond reach of every building, an area barrier.
pub mod open_ground;

/// 2. Enclosures: each admin unit split by the barriers.
pub mod enclosures;

/// 3. Hot spots: buildings clustered per enclosure.
pub mod clustering;

/// 4. Voronoi gap fill between the hot spots: the generators, the
/// tessellation.
pub mod generators;
pub mod tessellation;

/// 4b. One piece: stray pieces of a hot spot's region go to a neighbour.
pub mod pieces;

/// 5. Size rules: merging small, splitting large.
pub mod size_rules;

/// 8. Names: the text a name may be, and the cascade that names each
/// neighborhood.
pub mod name_text;
pub mod names;

/// The output valid as GEOS judges it (invariant 1).
pub mod valid;

/// What a run reports: figures and stage times.
pub mod report;

/// A unit's ground as labelled faces; barrier ground filled.
pub mod faces;

/// What bounds each feature: the unit's edge, a barrier line or area.
pub mod bounded_by;

/// One admin unit's run of the stages above.
pub mod unit;

/// Unit results kept between runs, keyed by the unit's inputs.
pub mod unit_cache;

/// A run's units split among processes, and the part files merged.
pub mod shards;

/// The whole run: the frame, every unit in parallel, then the units put
/// together.
pub mod pipeline;
