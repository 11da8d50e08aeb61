//! All the layers of a run read and reprojected into the working CRS: the
//! layers given one by one ([`crate::io::read`]), then, from an OSM extract,
//! every role not given ([`crate::io::osm`]).

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::io::config::{Config, LayerConfig};
use crate::io::network;
use crate::io::osm;
use crate::io::read::{capture_gdal_errors, read_layer, LayerReport, ReadOptions, Role, Stage};
use crate::io::reproject::WorkingCrs;
use crate::model::Inputs;

/// The layers of a run, in the working CRS, with one report per layer read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub inputs: Inputs,
    pub crs: WorkingCrs,
    pub layers: Vec<LayerReport>,
}

/// Reads every layer of the run and reprojects it into the working CRS.
pub fn load(cfg: &Config) -> Result<Loaded> {
    capture_gdal_errors();
    // A wrong --crs is known before any file is read.
    let given_crs = cfg.crs.as_deref().map(WorkingCrs::from_user).transpose()?;
    let opts = ReadOptions::from_config(cfg)?;
    let mut stages = Vec::new();
    for (role, spec) in explicit_layers(cfg) {
        stages.push(read_layer(role, spec, &opts)?);
    }
    if let Some(path) = &cfg.osm {
        let given: BTreeSet<Role> = stages.iter().map(|s| s.role).collect();
        let wanted: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| !given.contains(r))
            .collect();
        if !wanted.is_empty() {
            stages.extend(osm::read_preset(path, &wanted, cfg, &opts)?);
        }
    }
    // Stable: the layers of one role keep the order they were given in.
    stages.sort_by_key(|s| s.role);
    for stage in &mut stages {
        stage.report.extent_lonlat = stage.extent_lonlat()?;
    }
    let crs = match given_crs {
        Some(c) => c,
        None => WorkingCrs::auto(data_centre(&stages)?)?,
    };
    tracing::info!(crs = %crs.label, "working CRS");
    let mut inputs = Inputs::default();
    let mut layers = Vec::with_capacity(stages.len());
    let mut seconds = [0.0; 2];
    let mut ranges = Vec::with_capacity(stages.len());
    for stage in stages {
        let first = inputs.lines.len();
        layers.push(stage.finish(&crs, &cfg.params, &mut inputs, &mut seconds)?);
        ranges.push(first..inputs.lines.len());
    }
    let counts = network::close(&mut inputs, &cfg.params, &ranges);
    for ((l, c), r) in layers.iter_mut().zip(counts).zip(&ranges) {
        if !r.is_empty() {
            l.network = Some(c);
        }
    }
    tracing::info!(
        stage = "reproject",
        what = "total",
        seconds = seconds[0],
        "reprojected"
    );
    tracing::info!(
        stage = "validate",
        what = "total",
        seconds = seconds[1],
        "polygons validated"
    );
    Ok(Loaded {
        inputs,
        crs,
        layers,
    })
}

/// The layers given one by one, in role order.
fn explicit_layers(cfg: &Config) -> Vec<(Role, &LayerConfig)> {
    let mut out = Vec::new();
    out.extend(cfg.buildings.iter().map(|l| (Role::Buildings, l)));
    out.extend(cfg.admin.iter().map(|l| (Role::Admin, l)));
    out.extend(cfg.water.iter().map(|l| (Role::Water, l)));
    out.extend(cfg.roads.iter().map(|l| (Role::Roads, l)));
    out.extend(cfg.rail.iter().map(|l| (Role::Rail, l)));
    out.extend(cfg.mountains.iter().map(|l| (Role::Mountains, l)));
    out.extend(cfg.parks.iter().map(|l| (Role::Parks, l)));
    out.extend(cfg.landuse.iter().map(|l| (Role::Landuse, l)));
    out
}

/// Centre (lon, lat) of the admin layers, or of the buildings without admin.
fn data_centre(stages: &[Stage]) -> Result<(f64, f64)> {
    let extent_of = |role: Role| {
        stages
            .iter()
            .filter(|s| s.role == role)
            .filter_map(|s| s.report.extent_lonlat)
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    };
    let e = extent_of(Role::Admin)
        .or_else(|| extent_of(Role::Buildings))
        .ok_or_else(|| {
            Error::input("nothing read to choose a working CRS from").hint("pass --crs EPSG:NNNN")
        })?;
    Ok(((e[0] + e[2]) / 2.0, (e[1] + e[3]) / 2.0))
}
