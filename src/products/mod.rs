//! What the subcommands make of a run: stable ids and the change report,
//! evaluation, point lookup, the neighbour graph, the preview picture,
//! input checks and the method's invariants. Imports any layer below.

pub mod checks;
pub mod evaluate;
pub mod history;
pub mod ids;
pub mod invariants;
pub mod job;
pub mod levels;
pub mod locate;
pub mod neighbours;
pub mod preview;
pub mod range;
