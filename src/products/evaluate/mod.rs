//! `dongne evaluate`: dongne's neighborhoods against the two usual
//! alternatives, H3 cells and the official admin units, on the same inputs.
//!
//! Every partition is measured against the same ground truth, computed once
//! from the inputs with the pipeline's own stages:
//!
//! - **Separating barriers.** Each admin unit is cut by its barriers exactly
//!   as the enclosure stage does ([`enclosures::split`]). A barrier edge
//!   *separates* when the pieces on its two sides could each stand as a
//!   neighborhood of their own: an area barrier (water, forest, a large
//!   park, unless barriers are filled into neighborhoods), or an enclosure of
//!   at least `min_area` holding at least `min_buildings` buildings. A
//!   dead-end road cuts nothing and so separates nothing; a barrier around a
//!   traffic island or an empty field separates nothing either, since the
//!   method merges such a piece across its barrier (invariant 6 of
//!   docs/method.md). Edges between two area barriers (a river beside a
//!   forest) are left out: nobody lives on either side. A barrier running
//!   exactly along an admin boundary (shared OSM ways: rivers, streams)
//!   separates the pieces of the two units it divides, under the same rule.
//! - **Barrier inside a unit.** A separating barrier is sampled every
//!   [`SAMPLE_STEP_M`] metre or less; a sample lies inside a unit when it is
//!   in one and no unit boundary passes within [`ON_BOUNDARY_M`] of it. The
//!   share is that length over the whole separating length.
//! - **Hot spots** are recomputed per enclosure with the pipeline's
//!   clustering ([`clustering::hot_spots_by_class`]: same parameters, same
//!   building order, same land-use soft split): one is *split* when its
//!   buildings lie in two units or more.
//! - **Far buildings**: buildings farther than `walk_minutes × 80 m` from the
//!   area centroid of their unit (a building in no unit counts as far).
//! - **Area and compactness** (Polsby–Popper 4πA/P²) are per unit, in the
//!   working CRS: dongne's neighborhoods only (not its water, park and forest
//!   features), every H3 cell, every admin unit. Building membership and
//!   barrier boundaries use every feature of the layer, area barriers
//!   included: a person in a forest hut is in the forest's feature.
//! - **Names** (dongne only, when its layer has a `name_source` field): the
//!   share of neighborhoods and hamlets named from a real source (a place
//!   node, a land-use or building name, the user's names layer) and the
//!   share named by `fallback`. H3 cells and admin units have no such
//!   figure: it is a line under the table, not a column, and in the CSV
//!   two columns filled on dongne's row only.
//!
//! H3 cells are taken at the resolution whose cell area at the frame's
//! centre is closest, on a log scale (resolutions step by a factor of 7), to
//! the median area of dongne's neighborhoods. Every cell that covers part of the frame (the
//! union of the admin units; h3o's `Covers` mode) is clipped to the frame,
//! so the three partitions tile the same ground; cells along the edge of the
//! frame are therefore smaller and less compact than whole hexagons, as the
//! units a user would get by cutting a grid to the study area.

use std::collections::{BTreeSet, HashMap};

use geo::{Area, Coord, MultiPolygon, Point, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, Resolution};
use rayon::prelude::*;
use rstar::primitives::Line as RLine;
use rstar::RTree;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geom::contains::shape_contains;
use crate::geom::coverage;
use crate::geom::overlay;
use crate::geom::shape::{bounds, box_tree, rect_to_aabb, shapes_rect, Shape};
use crate::io::config::Params;
use crate::io::reproject::{Transformer, WorkingCrs};
use crate::method::barriers::{self, BarrierIndex};
use crate::method::clustering::{self, ClusterParams};
use crate::method::enclosures::{self, Piece};
use crate::method::pipeline;
use crate::model::{AdminUnit, Inputs};
use crate::products::locate::Index;

mod ground;
mod h3;
mod measure;
mod naming;
mod reference;
mod report;

pub use ground::ground;
pub use h3::{h3_partition, h3_resolution_for};
pub use measure::measure;
pub use naming::{naming, naming_line, Naming, FALLBACK};
pub use reference::{
    against_reference, edge_agreement, read_reference, reference_table, EdgeAgreement,
    DEFAULT_TOLERANCE_M,
};
pub use report::{csv, table};

use ground::*;
use h3::*;
use measure::*;

/// A barrier sample closer than this to a unit boundary lies on it, not
/// inside the unit (metres). Covers the rounding of a boundary written to
/// a file and read back, far below a road's width.
pub const ON_BOUNDARY_M: f64 = 1.0;
/// Largest spacing of the samples along a separating barrier (metres).
pub const SAMPLE_STEP_M: f64 = 1.0;
/// A unit-boundary edge lies on a barrier line when its ends and middle are
/// this close to one (metres): shared vertices, moved only by the grid.
pub(super) const ON_BARRIER_M: f64 = 1e-3;

/// One way of cutting the ground into units.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Column title: `dongne`, `H3 r9`, `admin`.
    pub name: String,
    /// The units, in the working CRS.
    pub geoms: Vec<MultiPolygon<f64>>,
    /// Which units the area and compactness figures count (dongne: its
    /// neighborhoods, not its barrier features).
    pub counted: Vec<bool>,
}

/// The figures of one partition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionStats {
    pub name: String,
    /// Units counted (dongne: neighborhoods).
    pub units: usize,
    /// Counted units holding at least one building.
    pub units_with_buildings: usize,
    pub median_area_m2: f64,
    pub p90_area_m2: f64,
    /// Mean Polsby–Popper compactness 4πA/P² of the counted units.
    pub mean_compactness: f64,
    /// Separating barrier length lying inside a unit (metres).
    pub barrier_inside_m: f64,
    /// `barrier_inside_m` over the whole separating length.
    pub barrier_inside_share: f64,
    /// Hot spots whose buildings lie in two units or more.
    pub hot_spots_split: usize,
    pub hot_spots_split_share: f64,
    /// Buildings farther than the walk radius from their unit's centroid.
    pub buildings_far: usize,
    pub buildings_far_share: f64,
    /// Counted units in more than one piece (invariant 9).
    pub units_in_pieces: usize,
    /// Footprints lying in two units or more, by more than 1 % of their
    /// area in each (invariant 10, without its barrier exception).
    pub footprints_cut: usize,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub working_crs: String,
    /// Buildings inside the frame.
    pub buildings: usize,
    pub hot_spots: usize,
    /// Length of separating barrier (metres).
    pub separating_barrier_m: f64,
    pub walk_radius_m: f64,
    pub h3_resolution: u8,
    /// Area of an H3 cell of that resolution at the frame's centre.
    pub h3_cell_area_m2: f64,
    pub partitions: Vec<PartitionStats>,
    /// Where dongne's names came from ([`naming`]); absent when the layer
    /// has no `name_source` field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub naming: Option<Naming>,
    /// With `--reference`: each level's edges, H3's and the admin units'
    /// against the official finer units ([`against_reference`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Vec<EdgeAgreement>>,
}

/// What every partition is measured against.
#[derive(Debug, Clone)]
pub struct Ground {
    /// Admin units as the pipeline frames them (input order).
    pub admin: Vec<AdminUnit>,
    pub frame: Vec<Vec<Shape>>,
    /// Building points on the grid, as the pipeline uses them.
    pub pts: Vec<Coord>,
    /// Buildings inside the frame (indices into `pts`).
    pub in_frame: Vec<usize>,
    /// The buildings of each hot spot.
    pub hot_spots: Vec<Vec<usize>>,
    /// Separating barrier edges.
    pub separating: Vec<[Coord; 2]>,
    /// Building footprints (buildings read as polygons).
    pub footprints: Vec<geo::Polygon<f64>>,
}

/// Runs the comparison: `nbhd` is the neighborhood layer in the working CRS
/// with each feature's kind (`neighborhood` or a barrier kind). The names
/// are not looked at: set [`Evaluation::naming`] from the layer read back
/// ([`naming`]).
pub fn evaluate(
    inputs: &Inputs,
    params: &Params,
    crs: &WorkingCrs,
    nbhd: &[MultiPolygon<f64>],
    kinds: &[String],
) -> Result<Evaluation> {
    let g = ground(inputs, params)?;
    let counted: Vec<bool> = kinds.iter().map(|k| k == "neighborhood").collect();
    let dongne = Partition {
        name: "dongne".into(),
        geoms: nbhd.to_vec(),
        counted,
    };
    let mut nb_areas: Vec<f64> = nbhd
        .iter()
        .zip(&dongne.counted)
        .filter(|(_, c)| **c)
        .map(|(m, _)| m.unsigned_area())
        .collect();
    if nb_areas.is_empty() {
        return Err(
            Error::input("the layer has no feature of kind 'neighborhood'")
                .hint("give the layer written by `dongne generate`"),
        );
    }
    nb_areas.sort_by(f64::total_cmp);
    let median = nb_areas[(nb_areas.len() - 1) / 2];
    let centre = frame_centre_lonlat(&g.frame, crs)?;
    let (res, cell_area) = h3_resolution_for(median, centre);
    let cells = h3_partition(&g.frame, crs, res)?;
    let h3 = Partition {
        name: format!("H3 r{}", u8::from(res)),
        counted: vec![true; cells.len()],
        geoms: cells,
    };
    let admin = Partition {
        name: "admin".into(),
        geoms: g
            .frame
            .iter()
            .map(|s| overlay::multipolygon_of(s))
            .collect(),
        counted: vec![true; g.frame.len()],
    };
    let partitions = [dongne, h3, admin]
        .iter()
        .map(|p| measure(p, &g, params))
        .collect();
    Ok(Evaluation {
        working_crs: crs.label.clone(),
        buildings: g.in_frame.len(),
        hot_spots: g.hot_spots.len(),
        separating_barrier_m: separating_length(&g),
        walk_radius_m: params.walk_radius(),
        h3_resolution: u8::from(res),
        h3_cell_area_m2: cell_area,
        partitions,
        naming: None,
        reference: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_closest_on_a_log_scale_at_the_place() {
        // Seoul: a resolution-9 cell is ~72,000 m², resolution 10 ~10,000 m².
        let seoul = (127.0, 37.5);
        assert_eq!(u8::from(h3_resolution_for(72_000.0, seoul).0), 9);
        assert_eq!(u8::from(h3_resolution_for(10_000.0, seoul).0), 10);
        let (r, a) = h3_resolution_for(150_000.0, seoul);
        assert_eq!(u8::from(r), 9);
        assert!((60_000.0..85_000.0).contains(&a), "{a}");
    }
}
