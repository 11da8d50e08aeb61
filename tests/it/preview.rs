//! What a person sees: `dongne preview` pictures, and the default QGIS
//! style a GeoPackage output carries (checked in QGIS itself, headless, when
//! QGIS is installed).

use crate::common::repo;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use gdal::vector::LayerAccess;

fn dongne() -> Command {
    Command::cargo_bin("dongne").unwrap()
}

/// Runs `generate` on an example into `dir`; the GeoPackage's path.
fn generate(example: &str, dir: &Path) -> PathBuf {
    generate_to(example, dir, &format!("{example}.gpkg"))
}

/// Runs `generate` on an example into `dir/name`; its path.
fn generate_to(example: &str, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    dongne()
        .args(["generate", "-q", "--config"])
        .arg(repo().join(format!("examples/{example}.toml")))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    out
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// How many pixels two PNGs of one size differ in.
fn pixels_apart(a: &[u8], b: &[u8]) -> usize {
    let [a, b] = [a, b].map(|png| resvg::tiny_skia::Pixmap::decode_png(png).unwrap());
    a.pixels()
        .iter()
        .zip(b.pixels())
        .filter(|(p, q)| p != q)
        .count()
}

#[test]
fn hangul_names_print_in_the_png() {
    use dongne::products::preview::{render_png, Scene};
    use geo::polygon;
    let square = geo::MultiPolygon(vec![polygon![
        (x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)
    ]]);
    let mut scene = Scene {
        features: vec![(square, "open".into())],
        ..Scene::default()
    };
    let blank = render_png(&scene, 800).unwrap();
    let mut with_name = |name: &str| {
        scene.names = vec![(geo::Coord { x: 500.0, y: 500.0 }, name.into())];
        render_png(&scene, 800).unwrap()
    };
    let (jamsil, dongne) = (with_name("잠실"), with_name("동네"));
    // The name is drawn, and as its own glyphs: without a font that has
    // Hangul (fonts-nanum) nothing would be drawn, or the same empty boxes
    // for any two syllables.
    assert!(pixels_apart(&blank, &jamsil) > 100);
    let apart = pixels_apart(&jamsil, &dongne);
    assert!(apart > 50, "잠실 and 동네 differ in {apart} pixels");
}

#[test]
fn jamsil_png_and_svg_with_barriers_buildings_legend_and_scale() {
    let dir = tempfile::tempdir().unwrap();
    let nbhd = generate("jamsil", dir.path());
    let config = repo().join("examples/jamsil.toml");
    let render = |name: &str| {
        let out = dir.path().join(name);
        dongne()
            .args(["preview", "-q", "--width", "1000"])
            .arg(&nbhd)
            .arg("--config")
            .arg(&config)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        std::fs::read(&out).unwrap()
    };
    let png = render("a.png");
    assert_eq!(png_size(&png).0, 1000);
    assert!(png.len() < 300 * 1024, "{} bytes", png.len());
    // Deterministic: the same picture twice.
    assert_eq!(png, render("b.png"));

    let svg = String::from_utf8(render("a.svg")).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\""));
    // 45 features (22 neighborhoods, 20 open, 3 water), each with its tooltip.
    assert_eq!(svg.matches("<path fill=").count(), 45);
    assert_eq!(svg.matches("<title>").count(), 45);
    // Named or not, the tooltip ends with the id, kind and admin name.
    assert!(svg.contains("1171069000-001 (neighborhood, 서울특별시 송파구 잠실4동)</title>"));
    assert_eq!(svg.matches("<circle ").count(), 1357 + 1);
    for label in [
        "neighborhood (22)",
        "water (3)",
        "road barrier",
        "admin boundary",
        "building (1357)",
        ">1 km<",
        "dongne - jamsil: 22 neighborhoods in 16 admin units",
    ] {
        assert!(svg.contains(label), "no {label}");
    }
}

#[test]
fn names_read_back_from_the_layer_label_the_map() {
    use dongne::io::config::Config;
    use dongne::model::FeatureName;
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::from_file(&repo().join("examples/gongdeok.toml")).unwrap();
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let mut out = dongne::method::pipeline::run(&loaded.inputs, &cfg.params, false).unwrap();
    for (k, f) in out.features.iter_mut().enumerate() {
        f.name = f.kind.is_settled().then(|| FeatureName {
            name: format!("공덕{k}"),
            name_en: None,
            source: "names".into(),
        });
    }
    let nbhd = dir.path().join("named.gpkg");
    dongne::io::write::write(&nbhd, &out.features, &loaded.crs, None).unwrap();
    let render = |name: &str| {
        let path = dir.path().join(name);
        dongne()
            .args(["preview", "-q"])
            .arg(&nbhd)
            .arg("-o")
            .arg(&path)
            .assert()
            .success();
        std::fs::read(path).unwrap()
    };
    let svg = String::from_utf8(render("n.svg")).unwrap();
    let names = svg.split("<g id=\"feature-names\"").nth(1).unwrap();
    let names = names.split("</g>").next().unwrap();
    let placed: Vec<&str> = names
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .filter(|t| !t.trim().is_empty())
        .collect();
    let settled: Vec<String> = out
        .features
        .iter()
        .filter_map(|f| f.name.as_ref().map(|n| n.name.clone()))
        .collect();
    // Each label is a feature's name, none twice, and most fit.
    assert!(
        placed.iter().all(|p| settled.iter().any(|s| s == p)),
        "{placed:?}"
    );
    let mut unique = placed.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), placed.len());
    assert!(
        2 * placed.len() > settled.len(),
        "{placed:?} of {settled:?}"
    );
    // The tooltip leads with the name.
    let first = out.features.iter().find(|f| f.name.is_some()).unwrap();
    assert!(svg.contains(&format!(
        "<title>{}: {} ({}, ",
        first.name.as_ref().unwrap().name,
        first.id,
        first.kind.as_str()
    )));
    // The PNG draws them: it differs from the unnamed layer's.
    let unnamed = dir.path().join("unnamed.gpkg");
    for f in &mut out.features {
        f.name = None;
    }
    dongne::io::write::write(&unnamed, &out.features, &loaded.crs, None).unwrap();
    let plain = dir.path().join("plain.png");
    dongne()
        .args(["preview", "-q"])
        .arg(&unnamed)
        .arg("-o")
        .arg(&plain)
        .assert()
        .success();
    let named_png = render("n.png");
    assert!(pixels_apart(&named_png, &std::fs::read(plain).unwrap()) > 500);
}

#[test]
fn preview_without_inputs_and_bad_extension() {
    let dir = tempfile::tempdir().unwrap();
    let nbhd = generate("gongdeok", dir.path());
    let out = dir.path().join("g.svg");
    dongne()
        .args(["preview", "-q", "--title", "공덕 & 아현"])
        .arg(&nbhd)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains(">공덕 &amp; 아현</text>"));
    // Admin outlines from the features' codes: 8 units; no buildings.
    let admin = svg.split("<g id=\"admin\"").nth(1).unwrap();
    let admin = admin.split("</g>").next().unwrap();
    assert_eq!(admin.matches("<path ").count(), 8);
    assert!(!svg.contains("building ("));
    dongne()
        .args(["preview"])
        .arg(&nbhd)
        .arg("-o")
        .arg(dir.path().join("g.jpg"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "g.jpg: unknown picture format; supported: .png, .svg",
        ));
}

#[test]
fn geopackage_carries_a_default_qgis_style() {
    let dir = tempfile::tempdir().unwrap();
    let nbhd = generate("jamsil", dir.path());
    {
        let ds = gdal::Dataset::open(&nbhd).unwrap();
        let mut styles = ds.layer_by_name("layer_styles").unwrap();
        assert_eq!(styles.feature_count(), 1);
        let f = styles.features().next().unwrap();
        let text = |name: &str| {
            let i = f.field_index(name).unwrap();
            f.field_as_string(i).unwrap().unwrap_or_default()
        };
        assert_eq!(text("f_table_catalog"), "");
        assert_eq!(text("f_table_schema"), "");
        assert_eq!(text("f_table_name"), "neighborhoods");
        assert_eq!(text("f_geometry_column"), "geom");
        assert_eq!(text("styleName"), "dongne");
        assert_eq!(text("useAsDefault"), "1");
        assert_eq!(text("update_time"), "2000/01/01 00:00:00+00");
        let qml = text("styleQML");
        assert!(qml.contains(r#"<renderer-v2 type="categorizedSymbol" attr="kind""#));
        assert!(qml.contains(r#"labelsEnabled="1""#));
        assert!(qml.contains(r#"fieldName="CASE WHEN &quot;kind&quot; IN ('neighborhood','hamlet') THEN coalesce(&quot;name&quot;, &quot;nbhd_id&quot;) END" isExpression="1""#), "{qml}");
        assert!(text("styleSLD").contains("<ogc:Literal>mountain</ogc:Literal>"));
    }
    // The style is part of the output: byte-identical from run to run.
    let again = generate_to("jamsil", dir.path(), "again.gpkg");
    assert_eq!(std::fs::read(&nbhd).unwrap(), std::fs::read(again).unwrap());
}

/// A Python that can `import qgis`: `$DONGNE_QGIS_PYTHON`, else the
/// system's (Debian's python3-qgis installs there, not into a virtualenv).
fn qgis_python() -> Option<String> {
    let candidates = std::env::var("DONGNE_QGIS_PYTHON")
        .ok()
        .into_iter()
        .chain(["/usr/bin/python3".to_string(), "python3".to_string()]);
    candidates.into_iter().find(|py| {
        Process::new(py)
            .args(["-c", "import qgis.core"])
            .env("QT_QPA_PLATFORM", "offscreen")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_style_loads_in_qgis_headless() {
    let Some(py) = qgis_python() else {
        println!("SKIPPED: QGIS not installed (apt-get install qgis python3-qgis); the_style_loads_in_qgis_headless did not run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for example in ["jamsil", "liechtenstein"] {
        let nbhd = generate(example, dir.path());
        let out = Process::new(&py)
            .arg(repo().join("scripts/qgis_check.py"))
            .arg(&nbhd)
            .env("QT_QPA_PLATFORM", "offscreen")
            .env("XDG_RUNTIME_DIR", dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{example}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("ok: renderer categorizedSymbol on kind"),
            "{stdout}"
        );
        assert!(stdout.contains("ok: labels enabled"), "{stdout}");
        assert!(stdout.contains("QGIS check passed"), "{stdout}");
    }
}
