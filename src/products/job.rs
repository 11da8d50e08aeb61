//! The generate job as a library function, as GDAL's `GDALVectorTranslate`
//! is ogr2ogr's: read the layers, run the method, check what must hold. The
//! Python package calls it; `dongne generate` runs the same steps with its
//! progress and timings around them, and takes its warnings from here.

use crate::error::Result;
use crate::io::config::{Config, Params};
use crate::io::inputs::{self, Loaded};
use crate::method::pipeline::{self, Output, RunReport};
use crate::model::{Inputs, Neighborhood};
use crate::products::{checks, invariants};

/// What a job made: the inputs as read, the method's output, and what the
/// user should be told.
pub struct Generated {
    pub loaded: Loaded,
    pub output: Output,
    pub warnings: Vec<String>,
}

/// Reads the layers of `cfg` and draws the neighborhoods.
pub fn generate(cfg: &Config) -> Result<Generated> {
    cfg.validate()?;
    let loaded = inputs::load(cfg)?;
    checks::layers_overlap(&loaded.layers)?;
    let mut output = pipeline::run(&loaded.inputs, &cfg.params, cfg.debug_layers)?;
    let spec = crate::products::levels::LevelSpec::of(cfg);
    let features = std::mem::take(&mut output.features);
    output.features = crate::products::levels::with_levels_of(features, &loaded.inputs, &spec)?;
    let mut warnings = output.report.size_exceptions.clone();
    warnings.extend(invariant_warnings(
        &output.features,
        &loaded.inputs,
        &cfg.params,
    ));
    checks::buildings_inside_units(&output.report)?;
    warnings.extend(report_warnings(&output.report));
    Ok(Generated {
        loaded,
        output,
        warnings,
    })
}

/// The method's invariants that cost little, checked on every run (all
/// eleven are asserted on real data by the tests): one piece and no sliver
/// (9), walkable (11).
pub fn invariant_warnings(
    features: &[Neighborhood],
    inputs: &Inputs,
    params: &Params,
) -> Vec<String> {
    let pts: Vec<geo::Coord> = inputs
        .buildings
        .iter()
        .map(|b| crate::geom::overlay::snap(b.pt))
        .collect();
    let mut broken = invariants::one_piece(features);
    // The walk radius is level 1's; a coarser level keeps within its own
    // by construction (`products::levels`), and comes after level 1.
    let drawn = features.partition_point(|f| f.level == 1);
    broken.extend(invariants::walkable(&features[..drawn], &pts, params.walk_radius()).1);
    broken
        .iter()
        .map(|v| format!("invariant {} does not hold: {}", v.invariant, v.message))
        .collect()
}

/// What the run's report says the user should know: buildings outside
/// every unit, admin units that overlap.
pub fn report_warnings(report: &RunReport) -> Vec<String> {
    let mut w = Vec::new();
    if report.buildings_outside_admin > 0 {
        w.push(format!(
            "{} of {} buildings lie outside every admin unit and are in no neighborhood",
            report.buildings_outside_admin, report.buildings
        ));
    }
    if report.admin_overlap_m2 > 0.0 {
        w.push(format!(
            "admin units overlap by {:.1} m² in all; each overlap went to the unit first by code",
            report.admin_overlap_m2
        ));
    }
    w
}
