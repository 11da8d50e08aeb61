//! What a run reports: its figures and the seconds of each stage.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub const STAGES: [&str; 8] = [
    "frame",
    "barriers",
    "enclosures",
    "clustering",
    "tessellation",
    "size_rules",
    "dissolve",
    "names",
];

/// Seconds per stage, summed over threads.
#[derive(Default)]
pub struct Timings([AtomicU64; 8]);

impl Timings {
    pub(crate) fn time<T>(&self, stage: usize, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.0[stage].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        r
    }
    pub(crate) fn seconds(&self) -> Vec<(String, f64)> {
        STAGES
            .iter()
            .zip(&self.0)
            .map(|(s, n)| (s.to_string(), n.load(Ordering::Relaxed) as f64 / 1e9))
            .collect()
    }
}

/// Figures of one run, for the summary on stderr and `--summary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub admin_units: usize,
    pub buildings: usize,
    pub buildings_outside_admin: usize,
    pub enclosures: usize,
    pub hot_spots: usize,
    pub neighborhoods: usize,
    /// Settlements below the size rules with no neighborhood to join.
    #[serde(default)]
    pub hamlets: usize,
    pub barrier_features: usize,
    /// Area where input admin units overlapped, given to the first by code.
    pub admin_overlap_m2: f64,
    /// Ground the size rules could not merge (now a hamlet or open), with
    /// the reason.
    pub size_exceptions: Vec<String>,
    /// Seconds per stage, summed over threads.
    pub stage_seconds: Vec<(String, f64)>,
    /// Wall-clock seconds of the run's phases: `frame` (frame and buildings
    /// to units), `units` (every unit, in parallel), `between_units` (noding
    /// of shared unit boundaries), `assemble` (clean-up and attributes).
    pub wall_seconds: Vec<(String, f64)>,
}
