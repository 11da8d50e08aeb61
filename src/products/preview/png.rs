//! The PNG: the SVG rasterised by resvg, its text shaped with named fonts.

use super::*;

/// Font files the picture's text is shaped with, in order: NanumGothic
/// (Debian's fonts-nanum: Hangul and Latin), then DejaVu Sans. Named files,
/// not whatever the system has, so a picture is the same on every machine
/// that has them.
pub(super) const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
];

/// The fonts for the PNG's text; without NanumGothic, the system's fonts
/// and a warning (Hangul names may then not print).
pub(super) fn fonts() -> std::sync::Arc<resvg::usvg::fontdb::Database> {
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
