//! The method: one module per stage, in pipeline order, and [`pipeline`],
//! which runs them per admin unit. Imports only [`crate::geom`],
//! [`crate::io`] and the base types.

/// 1. Barrier lines and areas, and their index.
pub mod barriers;

/// 2. Enclosures: each admin unit split by the barriers.
pub mod enclosures;

/// 3. Hot spots: buildings clustered per enclosure.
pub mod clustering;

/// 4. Voronoi gap fill between the hot spots.
pub mod tessellation;

/// 5. Size rules: merging small, splitting large.
pub mod size_rules;

/// The per-unit run of the stages above, in parallel over units.
pub mod pipeline;
