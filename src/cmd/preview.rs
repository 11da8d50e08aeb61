//! `dongne preview`: a picture of a neighborhood layer, PNG or SVG.
//!
//! ```text
//! dongne preview out/jamsil.gpkg --config examples/jamsil.toml -o jamsil.png
//! dongne preview nbhd.gpkg -o nbhd.svg --width 1600 --title "Mapo-gu"
//! ```
//!
//! The format follows the extension of `-o` (`.png`, `.svg`). With the input
//! layers (`--config` or the layer flags of `generate`), barrier lines and
//! buildings are drawn too, and the admin boundaries are the admin layer's;
//! without them, the admin boundaries are the outlines of the features
//! grouped by `admin_code`. The map is drawn in the working CRS of the
//! config, or in the layer's own CRS when it is projected (else the UTM zone
//! of its centre). Features are labelled with their `name` when the layer
//! has one. The SVG keeps each feature's name, `nbhd_id` and admin name as a
//! tooltip.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{LayerArgs, LogArgs, NeighborhoodsArg};
use dongne::error::{Error, Result};
use dongne::geom::overlay;
use dongne::io::inputs;
use dongne::io::reproject::WorkingCrs;
use dongne::products::locate;
use dongne::products::preview::{self, Scene};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub neighborhoods: NeighborhoodsArg,
    /// Which level of the layer (`dongne generate --levels`): 1 is the neighborhoods as drawn.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub level: u32,
    /// The picture: .png or .svg.
    #[arg(short, long, value_name = "FILE.png|FILE.svg")]
    pub output: PathBuf,
    /// Width of the picture in pixels (400–8000).
    #[arg(long, default_value_t = 1200, value_name = "PX")]
    pub width: u32,
    /// Title (default: the file name and the counts).
    #[arg(long)]
    pub title: Option<String>,
    #[command(flatten)]
    pub layers: LayerArgs,
}

pub fn run(a: &Args, log: &LogArgs) -> Result<()> {
    // A wrong extension is refused before anything is read.
    if !a
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png") || e.eq_ignore_ascii_case("svg"))
    {
        return Err(
            Error::input("unknown picture format; supported: .png, .svg")
                .file(a.output.display().to_string())
                .hint("name the output with .png or .svg"),
        );
    }
    let layer = locate::read_neighborhoods(a.neighborhoods.layer()?)?.at_level(a.level)?;
    let l = &a.layers;
    let with_inputs =
        l.config.is_some() || l.osm.is_some() || l.buildings.is_some() || l.admin.is_some();
    let mut scene = Scene::default();
    let geoms = if with_inputs {
        let cfg = l.to_config()?;
        cfg.validate()?;
        let loaded = inputs::load(&cfg)?;
        let geoms = layer.geoms_in(&loaded.crs.spatial_ref()?)?;
        scene.admin = loaded.inputs.admin.iter().map(|u| u.geom.clone()).collect();
        scene.names = preview::names_of(
            loaded
                .inputs
                .admin
                .iter()
                .map(|u| (&u.geom, u.name.as_str())),
        );
        scene.lines = loaded
            .inputs
            .lines
            .iter()
            .map(|b| (b.geom.clone(), b.kind))
            .collect();
        scene.buildings = loaded.inputs.buildings.iter().map(|b| b.pt).collect();
        geoms
    } else {
        let srs = layer.require_srs()?;
        let geoms = if srs.is_projected() {
            layer.geoms.clone()
        } else {
            let (mut x, mut y, mut n) = (0.0f64, 0.0f64, 0.0f64);
            for g in &layer.geoms {
                if let Some(r) = geo::BoundingRect::bounding_rect(g) {
                    x += r.center().x;
                    y += r.center().y;
                    n += 1.0;
                }
            }
            let crs = WorkingCrs::auto((x / n.max(1.0), y / n.max(1.0)))?;
            layer.geoms_in(&crs.spatial_ref()?)?
        };
        let units = admin_outlines(&geoms, &layer.info)?;
        scene.names = preview::names_of(units.iter().map(|(g, n)| (g, n.as_str())));
        scene.admin = units.into_iter().map(|(g, _)| g).collect();
        geoms
    };
    scene.features = geoms
        .into_iter()
        .zip(&layer.info)
        .map(|(g, i)| (g, i.kind.clone()))
        .collect();
    scene.feature_names = layer.info.iter().map(|i| i.name.clone()).collect();
    let neighborhoods = layer
        .info
        .iter()
        .filter(|i| i.kind == "neighborhood")
        .count();
    let units: std::collections::BTreeSet<&str> =
        layer.info.iter().map(|i| i.admin_code.as_str()).collect();
    let source = a.neighborhoods.layer()?;
    scene.title = a.title.clone().unwrap_or_else(|| {
        let stem = source
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        format!(
            "dongne - {stem}: {neighborhoods} neighborhoods in {} admin units",
            units.len()
        )
    });
    let labels: Vec<String> = layer
        .info
        .iter()
        .map(|i| {
            let what = format!("{} ({}, {})", i.nbhd_id, i.kind, i.admin_name);
            if i.name.is_empty() {
                what
            } else {
                format!("{}: {what}", i.name)
            }
        })
        .collect();
    let written = preview::write_picture(&a.output, &scene, a.width, &labels)?;
    if !log.quiet {
        tracing::info!(
            "drew {} features ({} neighborhoods) → {} ({} KB)",
            layer.info.len(),
            neighborhoods,
            a.output.display(),
            written.div_ceil(1024)
        );
    }
    Ok(())
}

/// The outline of each admin unit: its features dissolved by `admin_code`.
/// The admin units as the layer has them: the union of the features of each
/// `admin_code`, with the unit's name.
fn admin_outlines(
    geoms: &[geo::MultiPolygon<f64>],
    info: &[locate::FeatureInfo],
) -> Result<Vec<(geo::MultiPolygon<f64>, String)>> {
    type Unit<'a> = (&'a str, Vec<dongne::geom::shape::Shape>);
    let mut by_code: BTreeMap<&str, Unit> = BTreeMap::new();
    for (g, i) in geoms.iter().zip(info) {
        if i.admin_code.is_empty() {
            continue;
        }
        let unit = by_code
            .entry(&i.admin_code)
            .or_insert_with(|| (&i.admin_name, Vec::new()));
        unit.1.extend(overlay::shapes_of(g));
    }
    by_code
        .values()
        .map(|(name, s)| {
            overlay::union(s).map(|u| (overlay::multipolygon_of(&u), name.to_string()))
        })
        .collect()
}
