//! Checks across layers, which no single layer's reading can make: used by
//! `dongne check` (reported, exit 2) and by `generate` (the first one stops
//! the run with exit 2 before anything is computed or written).
//!
//! The classic failure they catch is a layer in the wrong place: a shapefile
//! without `.prj` read with the wrong `--assume-crs` lands hundreds of
//! kilometres away (or in another unit system), or a layer of another city
//! is given by mistake. Every feature of it would be silently ignored.
//!
//! [`dbf_encoding_warning`] names a shapefile whose `.dbf` text is in an
//! encoding nothing declares and dongne cannot tell (CP949 and UTF-8 it
//! detects).

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::config::Config;
use crate::io::read::LayerReport;
use crate::method::pipeline::RunReport;

pub use crate::io::inputs::explicit_layers;

/// The files a run writes, each named by its flag (`-o`, `--summary`…), are
/// none of its inputs and no two the same: writing one would destroy an
/// input (a GeoPackage loses every layer) or overwrite another output, and
/// the run would still say it succeeded. `--previous` may be `-o`: it is
/// read before anything is written.
pub fn outputs_apart(cfg: &Config, outputs: &[(&str, &Path)]) -> Result<()> {
    let mut inputs: Vec<(String, &Path)> = explicit_layers(cfg)
        .into_iter()
        .map(|(role, l)| (format!("the {} layer", role.as_str()), l.path.as_path()))
        .collect();
    if let Some(osm) = &cfg.osm {
        inputs.push(("the OSM extract".to_string(), osm.as_path()));
    }
    for (i, (flag, path)) in outputs.iter().enumerate() {
        let here = same_file_key(path);
        if let Some((what, _)) = inputs.iter().find(|(_, p)| same_file_key(p) == here) {
            return Err(Error::input(format!(
                "{flag} names an input of this run ({what}): writing it would destroy it"
            ))
            .file(path.display().to_string())
            .hint("write the output to another file"));
        }
        if let Some((other, _)) = outputs[..i].iter().find(|(_, p)| same_file_key(p) == here) {
            return Err(Error::input(format!(
                "{other} and {flag} name the same file: one would overwrite the other"
            ))
            .file(path.display().to_string())
            .hint("give each output a file of its own"));
        }
    }
    Ok(())
}

/// A path as the file system resolves it, for files that may not exist yet:
/// the folder canonicalised, the name kept.
fn same_file_key(p: &Path) -> std::path::PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), p.file_name()) {
        (Ok(d), Some(n)) => d.join(n),
        _ => p.to_path_buf(),
    }
}

/// A layer's place, as the checks need it.
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a> {
    pub role: &'a str,
    pub file: &'a str,
    pub layer: &'a str,
    /// `[min_lon, min_lat, max_lon, max_lat]`; `None` when the layer gave
    /// nothing (an OSM layer without features of that role).
    pub extent_lonlat: Option<[f64; 4]>,
}

impl<'a> From<&'a LayerReport> for Placed<'a> {
    fn from(r: &'a LayerReport) -> Placed<'a> {
        Placed {
            role: &r.role,
            file: &r.source.file,
            layer: &r.source.layer,
            extent_lonlat: r.extent_lonlat,
        }
    }
}

// Lon/lat boxes, across 180° too; boxes that touch overlap.
use crate::geom::antimeridian::{box_union as union, boxes_overlap as overlaps};

fn show(b: [f64; 4]) -> String {
    format!("[{:.4}, {:.4}, {:.4}, {:.4}]", b[0], b[1], b[2], b[3])
}

/// Every layer whose extent does not overlap the admin units' extent (or,
/// without admin units, the buildings' extent, which then make the study
/// area): one input error per layer, naming it.
pub fn disjoint_layers(layers: &[Placed]) -> Vec<Error> {
    let extent_of = |role: &str| {
        layers
            .iter()
            .filter(|l| l.role == role)
            .filter_map(|l| l.extent_lonlat)
            .reduce(union)
    };
    let (frame_role, frame) = match extent_of("admin") {
        Some(e) => ("admin units", e),
        None => match extent_of("buildings") {
            Some(e) => ("buildings", e),
            None => return Vec::new(),
        },
    };
    let frame_key = if frame_role == "admin units" {
        "admin"
    } else {
        "buildings"
    };
    layers
        .iter()
        .filter(|l| l.role != frame_key)
        .filter_map(|l| {
            let e = l.extent_lonlat?;
            if overlaps(e, frame) {
                return None;
            }
            Some(
                Error::input(format!(
                    "the {} layer lies outside the {frame_role}: its extent {} does not overlap theirs, {} (lon/lat)",
                    l.role,
                    show(e),
                    show(frame)
                ))
                .file(l.file)
                .layer(l.layer)
                .hint("check that the layer covers the same area, and its CRS (the .prj, or --assume-crs for a file without one); drop the layer if it belongs to another area"),
            )
        })
        .collect()
}

/// The first of [`disjoint_layers`], as `generate` stops on it.
pub fn layers_overlap(reports: &[LayerReport]) -> Result<()> {
    let placed: Vec<Placed> = reports.iter().map(Placed::from).collect();
    match disjoint_layers(&placed).into_iter().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// After the run: buildings that overlap the admin units' box may still all
/// fall outside the units themselves (another district of the same city).
/// The output would be empty neighborhoods only, so that is an input error.
pub fn buildings_inside_units(report: &RunReport) -> Result<()> {
    if report.buildings > 0 && report.buildings_outside_admin == report.buildings {
        return Err(Error::input(format!(
            "none of the {} buildings lies inside an admin unit",
            report.buildings
        ))
        .hint("check that the buildings and admin layers cover the same area (and their CRS), or leave --admin out to use the buildings' own area"));
    }
    Ok(())
}

/// A warning when a shapefile's `.dbf` holds non-ASCII text that nothing
/// declares and that is neither UTF-8 nor CP949 (those two are detected and
/// read right: [`crate::io::encoding`]).
pub use crate::io::encoding::unknown_warning as dbf_encoding_warning;

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(role: &'static str, e: Option<[f64; 4]>) -> Placed<'static> {
        Placed {
            role,
            file: "f.gpkg",
            layer: role,
            extent_lonlat: e,
        }
    }

    /// The one error of layers with these roles and extents.
    fn the_one_error(layers: &[(&'static str, Option<[f64; 4]>)]) -> Error {
        let layers: Vec<Placed> = layers.iter().map(|&(r, e)| placed(r, e)).collect();
        let mut errs = disjoint_layers(&layers);
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs.remove(0)
    }

    #[test]
    fn a_layer_away_from_the_admin_units_is_named() {
        let err = the_one_error(&[
            ("admin", Some([126.9, 37.5, 127.0, 37.6])),
            ("admin", Some([127.0, 37.5, 127.1, 37.6])),
            ("buildings", Some([127.05, 37.55, 127.2, 37.7])),
            ("roads", Some([9.47, 47.04, 9.64, 47.28])),
            ("water", None),
        ]);
        assert_eq!(
            err.to_string(),
            "f.gpkg (layer 'roads'): the roads layer lies outside the admin units: its extent [9.4700, 47.0400, 9.6400, 47.2800] does not overlap theirs, [126.9000, 37.5000, 127.1000, 37.6000] (lon/lat)\n  hint: check that the layer covers the same area, and its CRS (the .prj, or --assume-crs for a file without one); drop the layer if it belongs to another area"
        );
    }

    #[test]
    fn without_admin_the_buildings_are_the_frame() {
        let (frame, corner) = ([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 2.0, 2.0]);
        let rail = [3.0, 0.0, 4.0, 1.0];
        let err = the_one_error(&[
            ("buildings", Some(frame)),
            ("parks", Some(corner)),
            ("rail", Some(rail)),
        ]);
        assert_eq!(err.layer.as_deref(), Some("rail"));
        assert!(err.message.contains("outside the buildings"));
    }

    #[test]
    fn all_buildings_outside_is_an_input_error() {
        let of_ten_outside = |n| RunReport {
            buildings: 10,
            buildings_outside_admin: n,
            ..Default::default()
        };
        let all_out = buildings_inside_units(&of_ten_outside(10));
        assert_eq!(all_out.unwrap_err().exit_code(), 2);
        assert!(buildings_inside_units(&of_ten_outside(9)).is_ok());
    }
}
