//! All the layers of a run read and reprojected into the working CRS: the
//! layers given one by one ([`crate::io::read`]), then, from an OSM extract,
//! every role not given ([`crate::io::osm`]).

use std::collections::BTreeSet;

use gdal::spatial_ref::SpatialRef;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::config::{Config, LayerConfig};
use crate::io::gdal_errors::capture_gdal_errors;
use crate::io::network;
use crate::io::osm;
use crate::io::read::{open_layer, read_layer, LayerReport, ReadOptions, Role, Stage};
use crate::io::reproject::{SrsDefinition, WorkingCrs};
use crate::model::{AdminUnit, Inputs};

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
    // The layers are read side by side: GDAL reads a file on one core, and
    // the barriers come in beside the buildings. Each worker opens its own
    // datasets and keeps its own GDAL error list; the first failure in the
    // order given is the one reported, as one after the other would.
    let layers = explicit_layers(cfg);
    let read: Vec<Result<(Stage, SrsInTransit)>> = layers
        .par_iter()
        .map(|(role, spec)| {
            read_layer(*role, spec, &opts).map(|(stage, srs)| (stage, SrsInTransit::of(&srs)))
        })
        .collect();
    let mut stages = Vec::with_capacity(read.len());
    for ((_, spec), r) in layers.iter().zip(read) {
        let (stage, srs) = r?;
        stages.push((stage, srs.arrive(spec, &opts)?));
    }
    if let Some(path) = &cfg.osm {
        let given: BTreeSet<Role> = stages.iter().map(|s| s.0.role).collect();
        // The user's names come before the extract's (a cascade), not
        // instead of them.
        let wanted: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| !given.contains(r) || *r == Role::Names)
            .collect();
        if !wanted.is_empty() {
            stages.extend(osm::read_preset(path, &wanted, cfg, &opts)?);
        }
    }
    // Stable: the layers of one role keep the order they were given in.
    stages.sort_by_key(|s| s.0.role);
    for (stage, srs) in &mut stages {
        stage.report.extent_lonlat = stage.extent_lonlat(srs)?;
    }
    let crs = match given_crs {
        Some(c) => {
            if let Some(e) = data_extent(&stages) {
                check_scale(&c, e)?;
            }
            c
        }
        None => WorkingCrs::auto(data_centre(&stages)?)?,
    };
    tracing::info!(crs = %crs.label, "working CRS");
    let mut inputs = Inputs::default();
    let mut layers = Vec::with_capacity(stages.len());
    let mut seconds = [0.0; 2];
    let mut ranges = Vec::with_capacity(stages.len());
    for (stage, srs) in stages {
        let first = inputs.lines.len();
        layers.push(stage.finish(&srs, &crs, &cfg.params, &mut inputs, &mut seconds)?);
        ranges.push(first..inputs.lines.len());
    }
    if let Some(admin) = layers.iter().find(|l| l.role == "admin") {
        inputs.admin = one_unit_per_code(std::mem::take(&mut inputs.admin), admin, cfg)?;
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

/// The admin units by code: the code prefixes every `nbhd_id`, so it must
/// name one unit. Features sharing a code and a name are parts of one unit
/// (a district drawn as several polygons) and become one; a code shared by
/// features of different names, or an empty code, means the field does not
/// identify units (a district code given where the 동 code was meant):
/// refused, with the codes and features named.
fn one_unit_per_code(
    admin: Vec<AdminUnit>,
    layer: &LayerReport,
    cfg: &Config,
) -> Result<Vec<AdminUnit>> {
    let field = cfg.admin_code.as_deref().unwrap_or("the code");
    let err = |msg: String| {
        Error::input(msg)
            .file(layer.source.file.clone())
            .layer(layer.source.layer.clone())
            .hint(format!(
                "give --admin-code a field that holds one code per unit (the 동's own code, not its district's); the layer has: {}",
                layer.fields.join(", ")
            ))
    };
    let empty: Vec<i64> = admin
        .iter()
        .filter(|u| u.code.trim().is_empty())
        .map(|u| u.fid)
        .collect();
    if let Some(first) = empty.first() {
        let shown: Vec<String> = empty.iter().take(5).map(|f| f.to_string()).collect();
        return Err(err(format!(
            "{} admin unit{} without a code in {field} (feature {}{})",
            empty.len(),
            if empty.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if empty.len() > 5 { ", …" } else { "" }
        ))
        .feature(*first));
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_code: std::collections::HashMap<String, Vec<AdminUnit>> = Default::default();
    for u in admin {
        let group = by_code.entry(u.code.clone()).or_default();
        if group.is_empty() {
            order.push(u.code.clone());
        }
        group.push(u);
    }
    let mut clashes = Vec::new();
    for code in &order {
        let g = &by_code[code];
        let names: BTreeSet<&str> = g.iter().map(|u| u.name.as_str()).collect();
        if names.len() > 1 {
            let names: Vec<&str> = names.into_iter().take(4).collect();
            clashes.push(format!(
                "'{code}' ({} features: {}…)",
                g.len(),
                names.join(", ")
            ));
        }
    }
    if !clashes.is_empty() {
        let n = clashes.len();
        clashes.truncate(3);
        return Err(err(format!(
            "{n} admin code{} in {field} name{} several units of different names: {}; nbhd_id would not be unique",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            clashes.join("; ")
        )));
    }
    Ok(order
        .into_iter()
        .map(|code| {
            let mut g = by_code.remove(&code).unwrap_or_default();
            let mut unit = g.remove(0);
            for part in g {
                unit.fid = unit.fid.min(part.fid);
                unit.geom.0.extend(part.geom.0);
            }
            unit
        })
        .collect())
}

/// The layers a config gives one by one, in role order (the order they are
/// read in).
pub fn explicit_layers(cfg: &Config) -> Vec<(Role, &LayerConfig)> {
    let mut out = Vec::new();
    out.extend(cfg.buildings.iter().map(|l| (Role::Buildings, l)));
    out.extend(cfg.admin.iter().map(|l| (Role::Admin, l)));
    out.extend(cfg.water.iter().map(|l| (Role::Water, l)));
    out.extend(cfg.roads.iter().map(|l| (Role::Roads, l)));
    out.extend(cfg.rail.iter().map(|l| (Role::Rail, l)));
    out.extend(cfg.mountains.iter().map(|l| (Role::Mountains, l)));
    out.extend(cfg.parks.iter().map(|l| (Role::Parks, l)));
    out.extend(cfg.landuse.iter().map(|l| (Role::Landuse, l)));
    out.extend(cfg.names.iter().map(|l| (Role::Names, l)));
    out
}

/// Centre (lon, lat) of the admin layers, or of the buildings without admin.
/// A working CRS may stretch lengths by at most this much over the data
/// (1 %; UTM at the edge of its zone: 0.1 %).
pub const MAX_SCALE_ERROR: f64 = 0.01;

/// Refuses a working CRS whose scale is off by more than
/// [`MAX_SCALE_ERROR`] somewhere over the data (Web Mercator at 37°N: 25 %,
/// so 59 % on areas): eps, the minimum area, the walk radius and `area_m2`
/// are all in its metres. Measured at the centre and corners of the extent,
/// east-west and north-south, against the WGS 84 ellipsoid.
fn check_scale(crs: &WorkingCrs, e: [f64; 4]) -> Result<()> {
    let tr =
        crate::io::reproject::Transformer::to_working(&crate::io::reproject::lonlat_srs()?, crs)?;
    let (a, f) = (6_378_137.0_f64, 1.0 / 298.257_223_563);
    let e2 = f * (2.0 - f);
    let d = 0.001_f64; // degrees: ~100 m
    let mut worst = (0.0_f64, 0.0, 0.0);
    let centre = crate::geom::antimeridian::box_centre(e);
    for (lon, lat) in [
        centre,
        (e[0], e[1]),
        (e[0], e[3]),
        (e[2], e[1]),
        (e[2], e[3]),
    ] {
        let phi = lat.to_radians();
        let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
        let east = a / w * phi.cos() * d.to_radians();
        let north = a * (1.0 - e2) / w.powi(3) * d.to_radians();
        let p = |x: f64, y: f64| tr.point(geo::Point::new(x, y), None);
        let (o, pe, pn) = (p(lon, lat)?, p(lon + d, lat)?, p(lon, lat + d)?);
        for (q, true_len) in [(pe, east), (pn, north)] {
            let len = ((q.x() - o.x()).powi(2) + (q.y() - o.y()).powi(2)).sqrt();
            let err = (len / true_len - 1.0).abs();
            // NaN (a point the CRS cannot hold) counts as the worst.
            if err.is_nan() || err > worst.0 {
                worst = (if err.is_nan() { f64::INFINITY } else { err }, lon, lat);
            }
        }
    }
    if worst.0 > MAX_SCALE_ERROR {
        return Err(Error::input(format!(
            "the working CRS {} stretches lengths by {:.1} % at {:.3}, {:.3} (lon/lat): eps, min_area, the walk radius and area_m2 would all be off",
            crs.label,
            worst.0 * 100.0,
            worst.1,
            worst.2
        ))
        .hint("choose a projected CRS made for the area (the data's UTM zone, or a national grid such as EPSG:5179 for Korea), or leave --crs out to use the UTM zone of the data"));
    }
    Ok(())
}

/// The extent of the admin units (or, without them, of the buildings).
fn data_extent(stages: &[(Stage, SpatialRef)]) -> Option<[f64; 4]> {
    let extent_of = |role: Role| {
        stages
            .iter()
            .map(|s| &s.0)
            .filter(|s| s.role == role)
            .filter_map(|s| s.report.extent_lonlat)
            .reduce(crate::geom::antimeridian::box_union)
    };
    extent_of(Role::Admin).or_else(|| extent_of(Role::Buildings))
}

fn data_centre(stages: &[(Stage, SpatialRef)]) -> Result<(f64, f64)> {
    let e = data_extent(stages).ok_or_else(|| {
        Error::input("nothing read to choose a working CRS from").hint("pass --crs EPSG:NNNN")
    })?;
    Ok(crate::geom::antimeridian::box_centre(e))
}

/// A layer's CRS on its way from the worker that read the layer to the
/// thread that finishes it (GDAL's `SpatialRef` is not `Send`): as its
/// definition when that rebuilds an equal CRS, as the parallel reprojection
/// does, or else by opening the layer again where it is needed.
enum SrsInTransit {
    Definition(SrsDefinition),
    Reopen,
}

impl SrsInTransit {
    fn of(srs: &SpatialRef) -> SrsInTransit {
        SrsDefinition::of(srs).map_or(SrsInTransit::Reopen, SrsInTransit::Definition)
    }

    fn arrive(self, spec: &LayerConfig, opts: &ReadOptions) -> Result<SpatialRef> {
        match self {
            SrsInTransit::Definition(def) => def.rebuild(),
            SrsInTransit::Reopen => Ok(open_layer(spec)?
                .srs_or_assumed(opts.assumed_srs()?.as_ref())?
                .0),
        }
    }
}
