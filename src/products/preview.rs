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
//! The admin units' names are printed on the map. The PNG shapes its text
//! with NanumGothic (Debian's fonts-nanum), so Hangul names print; the SVG
//! names the same fonts and leaves drawing to its viewer.

use std::fmt::Write as _;
use std::path::Path;

use geo::{BoundingRect, Coord, InteriorPoint, LineString, MultiPolygon};

use crate::error::{Error, Result};
use crate::io::palette::{colour_classes, kind_colour, PALETTE};
use crate::model::{BarrierKind, Inputs, Neighborhood};

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
    use geo::Area;
    let named: Vec<(Coord<f64>, Vec<&str>)> = units
        .filter(|(_, name)| !name.trim().is_empty())
        .filter_map(|(g, name)| {
            let largest =
                g.0.iter()
                    .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))?;
            Some((
                largest.interior_point()?.0,
                name.split_whitespace().collect(),
            ))
        })
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

const INK: (u8, u8, u8) = (40, 40, 40);
const BACKGROUND: (u8, u8, u8) = (250, 250, 247);
const BUILDING: (u8, u8, u8) = (50, 50, 60);

fn line_style(kind: BarrierKind) -> ((u8, u8, u8), f32, bool) {
    match kind {
        BarrierKind::Rail => ((60, 60, 60), 1.6, true),
        BarrierKind::Water => ((52, 120, 200), 1.4, false),
        _ => ((140, 140, 140), 1.3, false),
    }
}

/// Where things go on the canvas.
struct Layout {
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

const MARGIN: f64 = 16.0;
const TITLE_H: f64 = 44.0;
const LEGEND_W: f64 = 230.0;

impl Layout {
    fn new(scene: &Scene, width: u32) -> Result<Layout> {
        let mut ext: Option<geo::Rect<f64>> = None;
        for (g, _) in &scene.features {
            if let Some(r) = g.bounding_rect() {
                ext = Some(match ext {
                    None => r,
                    Some(e) => geo::Rect::new(
                        Coord {
                            x: e.min().x.min(r.min().x),
                            y: e.min().y.min(r.min().y),
                        },
                        Coord {
                            x: e.max().x.max(r.max().x),
                            y: e.max().y.max(r.max().y),
                        },
                    ),
                });
            }
        }
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
struct LegendRow {
    label: String,
    swatch: Swatch,
}

enum Swatch {
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
    for (kind, label) in [
        ("water", "water"),
        ("park", "park"),
        ("mountain", "mountain / forest"),
        ("open", "open ground"),
    ] {
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

// ---------------------------------------------------------------------------
// PNG: the SVG, rasterised

/// Font files the picture's text is shaped with, in order: NanumGothic
/// (Debian's fonts-nanum: Hangul and Latin), then DejaVu Sans. Named files,
/// not whatever the system has, so a picture is the same on every machine
/// that has them.
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

/// The fonts for the PNG's text; without NanumGothic, the system's fonts
/// and a warning (Hangul names may then not print).
fn fonts() -> std::sync::Arc<resvg::usvg::fontdb::Database> {
    static FONTDB: std::sync::OnceLock<std::sync::Arc<resvg::usvg::fontdb::Database>> =
        std::sync::OnceLock::new();
    FONTDB
        .get_or_init(|| {
            let mut db = resvg::usvg::fontdb::Database::new();
            for f in FONTS {
                let _ = db.load_font_file(f);
            }
            if !Path::new(FONTS[0]).exists() {
                tracing::warn!(
                    "{} not found: the picture's text uses the system's fonts, and Hangul may not print (install fonts-nanum)",
                    FONTS[0]
                );
                db.load_system_fonts();
            }
            std::sync::Arc::new(db)
        })
        .clone()
}

/// Renders the scene as PNG: [`render_svg`]'s picture drawn by resvg, so
/// the two formats cannot drift apart.
pub fn render_png(scene: &Scene, width: u32) -> Result<Vec<u8>> {
    let svg = render_svg(scene, width, &[])?;
    let opt = resvg::usvg::Options {
        fontdb: fonts(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(&svg, &opt)
        .map_err(|e| Error::internal(format!("the picture's SVG does not parse: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pm = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        Error::input(format!(
            "cannot draw a {}×{} picture",
            size.width(),
            size.height()
        ))
    })?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pm.as_mut(),
    );
    pm.encode_png()
        .map_err(|e| Error::internal(format!("cannot encode the PNG: {e}")))
}

// ---------------------------------------------------------------------------
// SVG

fn hex(c: (u8, u8, u8)) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn svg_path_data(l: &Layout, g: &MultiPolygon<f64>) -> String {
    let mut d = String::new();
    for p in &g.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            svg_points(l, &r.0, &mut d);
            d.push('Z');
        }
    }
    d
}

fn svg_points(l: &Layout, pts: &[Coord<f64>], d: &mut String) {
    for (k, c) in pts.iter().enumerate() {
        let (x, y) = l.px(*c);
        let _ = write!(d, "{}{:.1} {:.1}", if k == 0 { 'M' } else { 'L' }, x, y);
    }
}

/// Renders the scene as SVG; `labels[i]` is the tooltip of feature `i`.
pub fn render_svg(scene: &Scene, width: u32, labels: &[String]) -> Result<String> {
    let l = Layout::new(scene, width)?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="NanumGothic, DejaVu Sans, Noto Sans CJK KR, sans-serif">"#,
        w = l.width,
        h = l.height
    );
    let _ = writeln!(
        s,
        r#"<rect width="{}" height="{}" fill="{}"/>"#,
        l.width,
        l.height,
        hex(BACKGROUND)
    );
    let _ = writeln!(
        s,
        r#"<defs><clipPath id="map"><rect x="{MARGIN}" y="{}" width="{:.1}" height="{:.1}"/></clipPath></defs>"#,
        TITLE_H + MARGIN,
        l.map_w,
        l.map_h
    );
    let fills = feature_fills(scene);
    s.push_str("<g id=\"features\" stroke=\"#5a5a5a\" stroke-width=\"0.8\" stroke-linejoin=\"round\" fill-rule=\"evenodd\">\n");
    for (i, ((g, _), c)) in scene.features.iter().zip(&fills).enumerate() {
        let _ = write!(
            s,
            r#"<path fill="{}" d="{}">"#,
            hex(*c),
            svg_path_data(&l, g)
        );
        if let Some(t) = labels.get(i) {
            let _ = write!(s, "<title>{}</title>", esc(t));
        }
        s.push_str("</path>\n");
    }
    s.push_str("</g>\n<g id=\"barrier-lines\" clip-path=\"url(#map)\" fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\">\n");
    for (ls, kind) in &scene.lines {
        let (c, w, dash) = line_style(*kind);
        let mut d = String::new();
        svg_points(&l, &ls.0, &mut d);
        let _ = writeln!(
            s,
            r#"<path stroke="{}" stroke-width="{w}"{} d="{d}"/>"#,
            hex(c),
            if dash {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            }
        );
    }
    s.push_str("</g>\n<g id=\"admin\" fill=\"none\" stroke=\"#282828\" stroke-width=\"2.6\" stroke-linejoin=\"round\">\n");
    for g in &scene.admin {
        let _ = writeln!(s, r#"<path d="{}"/>"#, svg_path_data(&l, g));
    }
    let _ = writeln!(
        s,
        "</g>\n<g id=\"buildings\" clip-path=\"url(#map)\" fill=\"{}\" fill-opacity=\"0.8\">",
        hex(BUILDING)
    );
    for c in &scene.buildings {
        let (x, y) = l.px(*c);
        let _ = writeln!(s, r#"<circle cx="{x:.1}" cy="{y:.1}" r="1.3"/>"#);
    }
    s.push_str("</g>\n");
    // Names over everything on the map, with a white halo.
    s.push_str("<g id=\"names\" clip-path=\"url(#map)\" font-size=\"13\" text-anchor=\"middle\" fill=\"#282828\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">\n");
    for (c, name) in &scene.names {
        let (x, y) = l.px(*c);
        let _ = writeln!(
            s,
            r#"<text x="{x:.1}" y="{:.1}">{}</text>"#,
            y + 4.5,
            esc(name)
        );
    }
    s.push_str("</g>\n");
    let _ = writeln!(
        s,
        r##"<rect x="{MARGIN}" y="{}" width="{:.1}" height="{:.1}" fill="none" stroke="#b4b4b4"/>"##,
        TITLE_H + MARGIN,
        l.map_w,
        l.map_h
    );
    let _ = writeln!(
        s,
        r#"<text x="{MARGIN}" y="{:.1}" font-size="20" fill="{}">{}</text>"#,
        TITLE_H / 2.0 + 10.0,
        hex(INK),
        esc(&scene.title)
    );
    let (m, label) = scale_bar(l.map_w / l.scale);
    let bar = m * l.scale;
    let (bx, by) = (MARGIN + 14.0, TITLE_H + MARGIN + l.map_h - 22.0);
    let _ = writeln!(
        s,
        r##"<g id="scale-bar" font-size="12"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="30" fill="#ffffff" fill-opacity="0.8"/><rect x="{bx:.1}" y="{by:.1}" width="{:.1}" height="6" fill="#282828" stroke="#282828"/><rect x="{:.1}" y="{by:.1}" width="{:.1}" height="6" fill="#ffffff" stroke="#282828"/><text x="{:.1}" y="{:.1}">0</text><text x="{:.1}" y="{:.1}">{}</text></g>"##,
        bx - 6.0,
        by - 16.0,
        bar + 70.0,
        bar / 2.0,
        bx + bar / 2.0,
        bar / 2.0,
        bx - 3.0,
        by - 4.0,
        bx + bar - 4.0,
        by - 4.0,
        esc(&label)
    );
    let x = l.legend_x;
    let mut y = TITLE_H + MARGIN + 10.0;
    let _ = writeln!(
        s,
        r#"<g id="legend" font-size="13"><text x="{x:.1}" y="{:.1}" font-weight="bold" font-size="15">Legend</text>"#,
        y + 5.0
    );
    y += 28.0;
    for row in legend(scene) {
        match row.swatch {
            Swatch::Palette => {
                for (k, c) in PALETTE.iter().take(3).enumerate() {
                    let _ = write!(
                        s,
                        r#"<rect x="{:.1}" y="{:.1}" width="9" height="16" fill="{}"/>"#,
                        x + k as f64 * 9.0,
                        y - 8.0,
                        hex(*c)
                    );
                }
                let _ = write!(
                    s,
                    r##"<rect x="{x:.1}" y="{:.1}" width="27" height="16" fill="none" stroke="#5a5a5a" stroke-width="0.8"/>"##,
                    y - 8.0
                );
            }
            Swatch::Fill(c) => {
                let _ = write!(
                    s,
                    r##"<rect x="{x:.1}" y="{:.1}" width="27" height="16" fill="{}" stroke="#5a5a5a" stroke-width="0.8"/>"##,
                    y - 8.0,
                    hex(c)
                );
            }
            Swatch::Line(c, w, dash) => {
                let _ = write!(
                    s,
                    r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="{w}"{}/>"#,
                    x + 27.0,
                    hex(c),
                    if dash {
                        r#" stroke-dasharray="6 4""#
                    } else {
                        ""
                    }
                );
            }
            Swatch::Dot => {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.1}" cy="{y:.1}" r="2.2" fill="{}"/>"#,
                    x + 13.5,
                    hex(BUILDING)
                );
            }
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            x + 38.0,
            y + 4.5,
            esc(&row.label)
        );
        y += 24.0;
    }
    s.push_str("</g>\n</svg>\n");
    Ok(s)
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
