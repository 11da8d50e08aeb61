//! The SVG, written by hand: every feature a path with its tooltip, the
//! barrier lines, the admin outlines and names, buildings, title, scale bar
//! and legend.

use super::*;
use crate::io::palette::hex;
use crate::io::style::xml as esc;

pub(super) fn svg_path_data(l: &Layout, g: &MultiPolygon<f64>) -> String {
    let mut d = String::new();
    for p in &g.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            svg_points(l, &r.0, &mut d);
            d.push('Z');
        }
    }
    d
}

pub(super) fn svg_points(l: &Layout, pts: &[Coord<f64>], d: &mut String) {
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
    // Names over everything on the map, with a white halo; the baseline
    // a third of the size below the point centres the text on it.
    let (admin, features) = labels::place(&l, scene);
    for (id, px, names) in [
        ("feature-names", labels::FEATURE_PX, &features),
        ("names", labels::ADMIN_PX, &admin),
    ] {
        let _ = writeln!(
            s,
            r##"<g id="{id}" clip-path="url(#map)" font-size="{px}" text-anchor="middle" fill="#282828" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">"##
        );
        for n in names {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                n.x,
                n.y + 0.35 * px,
                esc(&n.text)
            );
        }
        s.push_str("</g>\n");
    }
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
