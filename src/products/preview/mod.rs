//! A picture of a neighborhood layer that a person can read at a glance:
//! one SVG scene, written by hand, and the PNG is that SVG rasterised by
//! resvg.
//!
//! Neighborhoods get pastel fills, neighbours always different
//! ([`colour_classes`]: greedy colouring of the features that share a
//! vertex, in id order, so the same layer always gets the same colours);
//! area barriers their own colours (water blue, park green, mountain and
//! forest dark green); thin dark outlines, admin boundaries heavier; barrier
//! lines (roads grey, rail dark and dashed, waterways blue) and buildings as
//! small dots when the input layers are given. A title, a legend and a scale
//! bar in round metres frame the map.
//!
//! The admin units' names are printed on the map, and the neighborhoods'
//! and hamlets' names smaller, each inside its feature, as many as fit
//! without covering one another ([`labels`]). The PNG shapes its text with
//! NanumGothic (Debian's fonts-nanum), so Hangul names print; the SVG names
//! the same fonts and leaves drawing to its viewer.

use std::fmt::Write as _;
use std::path::Path;

use geo::{BoundingRect, Coord, LineString, MultiPolygon};

use crate::error::{Error, Result};
use crate::geom::shape::union_rect;
use crate::io::palette::{colour_classes, kind_colour, KINDS, PALETTE};
use crate::model::{BarrierKind, Inputs, Neighborhood};

mod labels;
mod png;
mod svg;

pub use png::render_png;
pub use svg::render_svg;

/// Everything drawn, in one metric CRS.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    pub title: String,
    /// Features of the neighborhood layer with their kind
    /// (`neighborhood`, `water`, `park`, `mountain`…), in id order.
    pub features: Vec<(MultiPolygon<f64>, String)>,
    /// Admin unit outlines.
    pub admin: Vec<MultiPolygon<f64>>,
    /// Admin unit names and where to print them.
    pub names: Vec<(Coord<f64>, String)>,
    /// The name of each feature, as `features` (empty: none; may be
    /// shorter than `features`).
    pub feature_names: Vec<String>,
    /// Barrier lines with their kind.
    pub lines: Vec<(LineString<f64>, BarrierKind)>,
    pub buildings: Vec<Coord<f64>>,
}

impl Scene {
    /// The scene of a finished run, in its working CRS: what a
    /// `generate --preview` would draw, with no file read back.
    pub fn of_run(features: &[Neighborhood], inputs: &Inputs, title: &str) -> Scene {
        Scene {
            title: title.to_string(),
            features: features
                .iter()
                .map(|f| (f.geom.clone(), f.kind.as_str().to_string()))
                .collect(),
            feature_names: features
                .iter()
                .map(|f| f.name.as_ref().map(|n| n.name.clone()).unwrap_or_default())
                .collect(),
            admin: inputs.admin.iter().map(|u| u.geom.clone()).collect(),
            names: names_of(inputs.admin.iter().map(|u| (&u.geom, u.name.as_str()))),
            lines: inputs
                .lines
                .iter()
                .map(|b| (b.geom.clone(), b.kind))
                .collect(),
            buildings: inputs.buildings.iter().map(|b| b.pt).collect(),
        }
    }
}

/// Each unit's name at a point inside it (the unit's largest part), for
/// the labels on the map; unnamed units get none. Leading words every name
/// shares are left out ("서울특별시 송파구 잠실4동" and "서울특별시 광진구
/// 자양2동" print as "송파구 잠실4동" and "광진구 자양2동").
pub fn names_of<'a>(
    units: impl Iterator<Item = (&'a MultiPolygon<f64>, &'a str)>,
) -> Vec<(Coord<f64>, String)> {
    let named: Vec<(Coord<f64>, Vec<&str>)> = units
        .filter(|(_, name)| !name.trim().is_empty())
        .filter_map(|(g, name)| Some((labels::anchor(g)?, name.split_whitespace().collect())))
        .collect();
    let shortest = named.iter().map(|(_, w)| w.len()).min().unwrap_or(0);
    let shared = (0..shortest.saturating_sub(1))
        .take_while(|&k| named.iter().all(|(_, w)| w[k] == named[0].1[k]))
        .count();
    named
        .into_iter()
        .map(|(c, words)| (c, words[shared..].join(" ")))
        .collect()
}

/// Writes the scene to `path`, PNG or SVG by its extension, atomically;
/// `labels` are the SVG tooltips, one per feature. Returns the bytes
/// written.
pub fn write_picture(path: &Path, scene: &Scene, width: u32, labels: &[String]) -> Result<usize> {
    let bytes = render_picture(path, scene, width, labels)?;
    crate::io::write::atomic_write_bytes(path, &bytes)?;
    Ok(bytes.len())
}

/// The picture's bytes, in the format `path`'s extension names.
pub fn render_picture(
    path: &Path,
    scene: &Scene,
    width: u32,
    labels: &[String],
) -> Result<Vec<u8>> {
    match check_picture_path(path)? {
        PictureFormat::Png => render_png(scene, width),
        PictureFormat::Svg => Ok(render_svg(scene, width, labels)?.into_bytes()),
    }
}

pub enum PictureFormat {
    Png,
    Svg,
}

/// Checks, before a run, that a picture can be written at `path`: a known
/// extension and a writable folder.
pub fn check_picture_path(path: &Path) -> Result<PictureFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let format = match ext.as_deref() {
        Some("png") => PictureFormat::Png,
        Some("svg") => PictureFormat::Svg,
        _ => {
            return Err(
                Error::input("unknown picture format; supported: .png, .svg")
                    .file(path.display().to_string())
                    .hint("name the output with .png or .svg"),
            )
        }
    };
    crate::io::write::check_writable(path)?;
    Ok(format)
}

pub(super) const INK: (u8, u8, u8) = (40, 40, 40);
pub(super) const BACKGROUND: (u8, u8, u8) = (250, 250, 247);
pub(super) const BUILDING: (u8, u8, u8) = (50, 50, 60);

fn line_style(kind: BarrierKind) -> ((u8, u8, u8), f32, bool) {
    match kind {
        BarrierKind::Rail => ((60, 60, 60), 1.6, true),
        BarrierKind::Water => ((52, 120, 200), 1.4, false),
        _ => ((140, 140, 140), 1.3, false),
    }
}

/// Where things go on the canvas.
pub(super) struct Layout {
    width: u32,
    height: u32,
    /// Map origin (left, top) and metres → pixels.
    x0: f64,
    y0: f64,
    scale: f64,
    min_x: f64,
    max_y: f64,
    map_w: f64,
    map_h: f64,
    legend_x: f64,
}

pub(super) const MARGIN: f64 = 16.0;
pub(super) const TITLE_H: f64 = 44.0;
pub(super) const LEGEND_W: f64 = 230.0;

impl Layout {
    fn new(scene: &Scene, width: u32) -> Result<Layout> {
        let ext = union_rect(scene.features.iter().map(|(g, _)| g.bounding_rect()));
        let ext = ext.ok_or_else(|| Error::input("nothing to draw: the layer has no polygon"))?;
        let width = width.clamp(400, 8000);
        let map_w = width as f64 - LEGEND_W - 3.0 * MARGIN;
        let (ew, eh) = (ext.width().max(1.0), ext.height().max(1.0));
        // The map keeps the data's aspect, no taller than 1.5 times its width.
        let map_h = (map_w * eh / ew).clamp(300.0, 1.5 * map_w);
        let scale = (map_w / ew).min(map_h / eh);
        let height = (TITLE_H + map_h + 2.0 * MARGIN).ceil() as u32;
        // Centre the data in the map area.
        let x0 = MARGIN + (map_w - ew * scale) / 2.0;
        let y0 = TITLE_H + MARGIN + (map_h - eh * scale) / 2.0;
        Ok(Layout {
            width,
            height,
            x0,
            y0,
            scale,
            min_x: ext.min().x,
            max_y: ext.max().y,
            map_w,
            map_h,
            legend_x: 2.0 * MARGIN + map_w,
        })
    }

    fn px(&self, c: Coord<f64>) -> (f64, f64) {
        (
            self.x0 + (c.x - self.min_x) * self.scale,
            self.y0 + (self.max_y - c.y) * self.scale,
        )
    }
}

/// A round length for the scale bar (1, 2 or 5 × 10ⁿ metres) of about a
/// fifth of the map's width, and its label.
pub fn scale_bar(metres_across: f64) -> (f64, String) {
    let target = (metres_across / 5.0).max(1e-3);
    let p = 10f64.powf(target.log10().floor());
    let m = [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * p)
        .find(|&v| v <= target)
        .unwrap_or(p);
    let label = if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    };
    (m, label)
}

/// What the legend lists, in order.
pub(super) struct LegendRow {
    label: String,
    swatch: Swatch,
}

pub(super) enum Swatch {
    Palette,
    Fill((u8, u8, u8)),
    Line((u8, u8, u8), f32, bool),
    Dot,
}

fn legend(scene: &Scene) -> Vec<LegendRow> {
    let mut rows = Vec::new();
    let count = |k: &str| scene.features.iter().filter(|(_, kk)| kk == k).count();
    let n = count("neighborhood");
    rows.push(LegendRow {
        label: format!("neighborhood ({n})"),
        swatch: Swatch::Palette,
    });
    for (kind, label) in KINDS.into_iter().skip(1) {
        let c = count(kind);
        if c > 0 {
            rows.push(LegendRow {
                label: format!("{label} ({c})"),
                swatch: Swatch::Fill(kind_colour(kind)),
            });
        }
    }
    for (kind, label) in [
        (BarrierKind::Road, "road barrier"),
        (BarrierKind::Rail, "railway"),
        (BarrierKind::Water, "waterway"),
    ] {
        if scene.lines.iter().any(|(_, k)| *k == kind) {
            let (c, w, dash) = line_style(kind);
            rows.push(LegendRow {
                label: label.into(),
                swatch: Swatch::Line(c, w, dash),
            });
        }
    }
    rows.push(LegendRow {
        label: "admin boundary".into(),
        swatch: Swatch::Line(INK, 2.6, false),
    });
    if !scene.buildings.is_empty() {
        rows.push(LegendRow {
            label: format!("building ({})", scene.buildings.len()),
            swatch: Swatch::Dot,
        });
    }
    rows
}

fn feature_fills(scene: &Scene) -> Vec<(u8, u8, u8)> {
    let geoms: Vec<&MultiPolygon<f64>> = scene.features.iter().map(|(g, _)| g).collect();
    let is_nb: Vec<bool> = scene
        .features
        .iter()
        .map(|(_, k)| k == "neighborhood")
        .collect();
    let classes = colour_classes(&geoms, &is_nb);
    scene
        .features
        .iter()
        .zip(&classes)
        .map(|((_, k), &c)| {
            if k == "neighborhood" {
                PALETTE[c]
            } else {
                kind_colour(k)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bar_is_round() {
        assert_eq!(scale_bar(4800.0), (500.0, "500 m".to_string()));
        assert_eq!(scale_bar(12_000.0), (2000.0, "2 km".to_string()));
        assert_eq!(scale_bar(30.0), (5.0, "5 m".to_string()));
    }
}
