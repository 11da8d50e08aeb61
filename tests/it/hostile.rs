//! Hostile inputs through the binary (issue 13): nothing wrong written with
//! exit 0, nothing destroyed. Each test is one reproduction from the issue,
//! on small layers made here: two 동 side by side in Seoul, 60 houses each.

use std::path::{Path, PathBuf};

use crate::common::{assert_contains, dongne_in as dongne, ogr2ogr, read_json, run_in as run};

/// A run that must succeed: its stderr.
fn succeeds(dir: &Path, args: &[&str]) -> String {
    let (code, err) = run(dir, args);
    assert_eq!(code, 0, "{err}");
    err
}

/// A run refused for its input (exit code 2): its stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let (code, err) = run(dir, args);
    assert_eq!(code, 2, "{err}");
    err
}

fn collection<S: std::borrow::Borrow<str>>(features: &[S]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

/// A GeoJSON point feature; `xy` is its coordinates as they are to be written.
fn point(props: &str, xy: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Point","coordinates":[{xy}]}}}}"#
    )
}

/// `props` for each of two units: west (126.950–126.960) and east.
fn admin(dir: &Path, props: [&str; 2]) -> PathBuf {
    let unit = |x0: f64, p: &str| {
        format!(
            r#"{{"type":"Feature","properties":{{{p}}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},37.550],[{x1},37.550],[{x1},37.558],[{x0},37.558],[{x0},37.550]]]}}}}"#,
            x1 = x0 + 0.01
        )
    };
    let path = dir.join("dong.geojson");
    std::fs::write(
        &path,
        collection(&[unit(126.95, props[0]), unit(126.96, props[1])]),
    )
    .unwrap();
    path
}

/// 60 houses in each unit, 30 m apart.
fn houses(dir: &Path) -> PathBuf {
    let mut f = Vec::new();
    for u in 0..2 {
        for k in 0..60 {
            let x = 126.951 + 0.01 * u as f64 + 0.00034 * (k % 10) as f64;
            let y = 37.551 + 0.00027 * (k / 10) as f64;
            f.push(point(&format!(r#""n":{k}"#), &format!("{x:.6},{y:.6}")));
        }
    }
    let path = dir.join("bld.geojson");
    std::fs::write(&path, collection(&f)).unwrap();
    path
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    houses(dir.path());
    admin(
        dir.path(),
        [r#""code":"A","name":"West""#, r#""code":"B","name":"East""#],
    );
    dir
}

/// `generate` of `buildings` in the units of `admin`, coded by `code`.
fn generate_args<'a>(buildings: &'a str, admin: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "generate",
        "--buildings",
        buildings,
        "--admin",
        admin,
        "--admin-code",
        "code",
    ];
    v.extend_from_slice(extra);
    v
}

/// `generate` on the layers of [`setup`].
fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    generate_args("bld.geojson", "dong.geojson", extra)
}

/// Item 2: a code shared by units of different names is refused, naming
/// the codes; units sharing code and name are one unit; an empty code is
/// refused naming the feature.
#[test]
fn admin_codes_must_name_one_unit() {
    let dir = setup();
    let d = dir.path();
    admin(
        d,
        [
            r#""code":"11710","name":"West""#,
            r#""code":"11710","name":"East""#,
        ],
    );
    let err = fails(d, &args(&["--admin-name", "name", "-o", "n.geojson"]));
    assert_contains(
        &err,
        "dong.geojson (layer 'dong'): 1 admin code in code names several units of different names: '11710' (2 features: East, West…); nbhd_id would not be unique",
    );
    assert!(!d.join("n.geojson").exists());
    // `check` says so before a run.
    let (code, out) = {
        let o = dongne(d)
            .args([
                "check",
                "--buildings",
                "bld.geojson",
                "--admin",
                "dong.geojson",
                "--admin-code",
                "code",
                "--admin-name",
                "name",
            ])
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    assert_eq!(code, 2);
    assert_contains(&out, "nbhd_id would not be unique");

    admin(
        d,
        [
            r#""code":"11710","name":"Songpa""#,
            r#""code":"11710","name":"Songpa""#,
        ],
    );
    let err = succeeds(d, &args(&["--admin-name", "name", "-o", "n.geojson"]));
    let text = std::fs::read_to_string(d.join("n.geojson")).unwrap();
    assert_contains(&err, "in 1 admin units");
    assert!(text.contains(r#""nbhd_id":"11710-001""#));

    admin(d, [r#""code":"A""#, r#""code":null"#]);
    let err = fails(d, &args(&["-o", "n2.geojson"]));
    assert_contains(
        &err,
        "(layer 'dong', feature 1): 1 admin unit without a code in code (feature 1)",
    );
}

/// Item 3: `-o` naming an input is refused, and the input is untouched.
#[test]
fn an_output_naming_an_input_is_refused() {
    let dir = setup();
    let d = dir.path();
    ogr2ogr(
        d,
        &[
            "-f",
            "GPKG",
            "same.gpkg",
            "bld.geojson",
            "-nln",
            "buildings",
        ],
    );
    ogr2ogr(d, &["-update", "same.gpkg", "dong.geojson", "-nln", "dong"]);
    let before = std::fs::read(d.join("same.gpkg")).unwrap();
    let err = fails(
        d,
        &generate_args(
            "same.gpkg:buildings",
            "same.gpkg:dong",
            &["-o", "same.gpkg"],
        ),
    );
    assert_eq!(
        err.trim_end(),
        "error: same.gpkg: -o names an input of this run (the buildings layer): writing it would destroy it\n  hint: write the output to another file"
    );
    assert_eq!(std::fs::read(d.join("same.gpkg")).unwrap(), before);
    let o = dongne(d)
        .args([
            "check",
            "--buildings",
            "same.gpkg:buildings",
            "--admin",
            "same.gpkg:dong",
            "--admin-code",
            "code",
            "-o",
            "./same.gpkg",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("-o names an input of this run"));
}

/// Item 4: a GeoPackage of several layers without `:LAYER` is refused,
/// its layers listed.
#[test]
fn a_file_of_several_layers_needs_the_layer_named() {
    let dir = setup();
    let d = dir.path();
    ogr2ogr(
        d,
        &["-f", "GPKG", "two.gpkg", "dong.geojson", "-nln", "sido"],
    );
    ogr2ogr(d, &["-update", "two.gpkg", "dong.geojson", "-nln", "dong"]);
    let base = ["generate", "--buildings", "bld.geojson", "--admin"];
    let err = fails(d, &[&base[..], &["two.gpkg", "-o", "n.geojson"]].concat());
    assert_eq!(
        err.trim_end(),
        "error: two.gpkg: the file holds 2 layers; name one of: sido, dong\n  hint: give the layer as two.gpkg:sido (or layer = \"…\" in the config)"
    );
    succeeds(
        d,
        &[&base[..], &["two.gpkg:dong", "-o", "n.geojson", "-q"]].concat(),
    );
}

/// Item 6: a working CRS that distorts the data's lengths is refused.
#[test]
fn a_working_crs_that_stretches_the_data_is_refused() {
    let dir = setup();
    let err = fails(
        dir.path(),
        &args(&["--crs", "EPSG:3857", "-o", "n.geojson"]),
    );
    assert!(
        err.starts_with("error: the working CRS EPSG:3857 (WGS 84 / Pseudo-Mercator) stretches lengths by 26.5 % at 126.950, 37.558 (lon/lat)"),
        "{err}"
    );
    assert!(!dir.path().join("n.geojson").exists());
    succeeds(
        dir.path(),
        &args(&["--crs", "EPSG:32652", "-o", "n.geojson", "-q"]),
    );
}

/// Items 7 and 8: a preview that cannot be written fails the run before
/// anything is replaced; two outputs at one path are refused.
#[test]
fn outputs_commit_together_and_apart() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("n.geojson"), "yesterday").unwrap();
    std::fs::write(d.join("s.json"), "yesterday").unwrap();
    let all_three = |preview| {
        args(&[
            "-o",
            "n.geojson",
            "--summary",
            "s.json",
            "--preview",
            preview,
        ])
    };
    let untouched =
        |name: &str| assert_eq!(std::fs::read_to_string(d.join(name)).unwrap(), "yesterday");
    for (preview, code) in [("p.bmp", 2), ("missing/p.png", 3)] {
        let (c, err) = run(d, &all_three(preview));
        assert_eq!(c, code, "{err}");
        untouched("n.geojson");
        untouched("s.json");
    }
    let err = fails(d, &args(&["-o", "n.geojson", "--summary", "n.geojson"]));
    assert_eq!(
        err.trim_end(),
        "error: n.geojson: -o and --summary name the same file: one would overwrite the other\n  hint: give each output a file of its own"
    );
    untouched("n.geojson");
    succeeds(d, &[all_three("p.png"), vec!["-q"]].concat());
    assert!(std::fs::read(d.join("p.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));
}

/// Item 11: the README's `--bbox W,S,E,N`, the spaced form with negative
/// numbers, and a comma form that starts with a minus.
#[test]
fn bbox_in_every_written_form() {
    let dir = setup();
    let d = dir.path();
    for bbox in [
        vec!["126.9,37.5,127.0,37.6"],
        vec!["126.9", "37.5", "127.0", "37.6"],
    ] {
        let mut a = args(&["-o", "n.geojson", "-q", "--bbox"]);
        a.extend(bbox);
        succeeds(d, &a);
    }
    // West of Greenwich: nothing of the data there, but the box is parsed.
    for bbox in [vec!["-10,37.5,-9,37.6"], vec!["-10", "37.5", "-9", "37.6"]] {
        let mut a = args(&["-o", "w.geojson", "--bbox"]);
        a.extend(bbox);
        let err = fails(d, &a);
        assert_contains(&err, "inside the bbox");
    }
    let err = fails(d, &args(&["-o", "n.geojson", "--bbox", "126.9,37.5,127.0"]));
    assert_eq!(
        err.trim_end(),
        "error: --bbox 126.9,37.5,127.0: 3 values where four are needed\n  hint: give four numbers W,S,E,N in lon/lat, e.g. --bbox 9.47,47.04,9.64,47.28"
    );
}

/// Item 12: a feature without geometry is skipped and named in a warning.
#[test]
fn a_null_geometry_is_skipped_and_named() {
    let dir = setup();
    let d = dir.path();
    let text = std::fs::read_to_string(d.join("bld.geojson")).unwrap();
    let text = text.replacen(
        r#"{"type":"Feature","properties":{"n":3},"geometry":{"type":"Point","coordinates":[126.952020,37.551000]}}"#,
        r#"{"type":"Feature","properties":{"n":3},"geometry":null}"#,
        1,
    );
    assert!(text.contains("null"));
    std::fs::write(d.join("bld.geojson"), text).unwrap();
    ogr2ogr(d, &["bld.shp", "bld.geojson"]);
    let err = succeeds(
        d,
        &generate_args("bld.shp", "dong.geojson", &["-o", "n.geojson"]),
    );
    assert_contains(
        &err,
        " WARN 1 feature without geometry skipped (feature 3) file=bld.shp layer=bld",
    );
}

/// Item 13: under `--log-format json` the error is a JSON object too.
#[test]
fn errors_are_json_under_log_format_json() {
    let dir = setup();
    let err = fails(
        dir.path(),
        &[
            "--log-format",
            "json",
            "generate",
            "--buildings",
            "nope.shp",
            "-o",
            "n.geojson",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(v["level"], "ERROR");
    assert_eq!(v["message"], "file not found");
    assert_eq!(v["file"], "nope.shp");
    assert_eq!(v["exit_code"], 2);
}

/// Item 1: buildings in a row (a street of houses, in lon/lat) are all
/// accounted for, and the ground beyond a walk from them is `open`.
#[test]
fn buildings_in_a_row_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let row = |n: usize, step: f64| {
        let f: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = (126.951 + step * i as f64, 37.551 + step / 2.0 * i as f64);
                point("", &format!("{x:.6},{y:.6}"))
            })
            .collect();
        collection(&f)
    };
    admin(d, [r#""code":"A""#, r#""code":"B""#]);
    let count = |out: &str| -> (usize, u64, Vec<String>) {
        let v = read_json(&d.join(out));
        let f = v["features"].as_array().unwrap();
        let n = f
            .iter()
            .filter(|x| x["properties"]["kind"] == "neighborhood")
            .count();
        let b = f
            .iter()
            .map(|x| x["properties"]["buildings"].as_u64().unwrap())
            .sum();
        let kinds = f
            .iter()
            .map(|x| x["properties"]["kind"].as_str().unwrap().to_string())
            .collect();
        (n, b, kinds)
    };
    std::fs::write(d.join("row.geojson"), row(40, 0.0002)).unwrap();
    let base = generate_args("row.geojson", "dong.geojson", &["-q"]);
    succeeds(d, &[&base[..], &["-o", "a.geojson"]].concat());
    let (_, b, kinds) = count("a.geojson");
    assert_eq!(b, 40);
    assert!(kinds.iter().any(|k| k == "open"), "{kinds:?}");
    // Three houses 90 m apart, each its own neighborhood.
    std::fs::write(d.join("row.geojson"), row(3, 0.001)).unwrap();
    succeeds(
        d,
        &[
            &base[..],
            &[
                "-o",
                "b.geojson",
                "--min-buildings",
                "1",
                "--min-area",
                "1",
                "--eps",
                "10",
            ],
        ]
        .concat(),
    );
    let (n, b, _) = count("b.geojson");
    assert_eq!((n, b), (3, 3));
}

/// Item 10: 100,000 buildings at one spot (a geocoder's fallback point)
/// are one hot spot, every one accounted for. (Before: DBSCAN went
/// quadratic, 481 s; now the copies beyond `min_buildings` sit out.)
#[test]
fn a_hundred_thousand_buildings_at_one_spot() {
    let dir = setup();
    let d = dir.path();
    let one = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[126.955,37.553]}}"#;
    let mut f = vec![one; 100_000];
    let other = r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[126.965,37.553]}}"#;
    f.extend(std::iter::repeat_n(other, 10));
    std::fs::write(d.join("bld.geojson"), collection(&f)).unwrap();
    succeeds(d, &args(&["-o", "n.geojson", "-q"]));
    let v = read_json(&d.join("n.geojson"));
    let mut held: Vec<(String, u64)> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["properties"]["kind"] == "neighborhood")
        .map(|x| {
            (
                x["properties"]["nbhd_id"].as_str().unwrap().to_string(),
                x["properties"]["buildings"].as_u64().unwrap(),
            )
        })
        .collect();
    held.sort();
    assert_eq!(
        held,
        [("A-001".to_string(), 100_000), ("B-001".to_string(), 10)]
    );
}

/// Item 13: each message names the file, line or key and what to do.
#[test]
fn messages_say_what_is_wrong_and_where() {
    let dir = setup();
    let d = dir.path();
    ogr2ogr(d, &["dong.shp", "dong.geojson"]);
    let err_of = |a: &[&str]| fails(d, a).trim_end().to_string();
    // A shapefile without its .dbf.
    std::fs::remove_file(d.join("dong.dbf")).unwrap();
    assert_eq!(
        err_of(&generate_args("bld.geojson", "dong.shp", &["-o", "n.geojson"])),
        "error: dong.shp (layer 'dong'): field 'code' (admin code) not found: the layer has no attribute fields\n  hint: a shapefile keeps its fields in the .dbf beside the .shp: check that it is there"
    );
    // A .prj GDAL cannot read is not a missing one.
    ogr2ogr(d, &["-overwrite", "dong.shp", "dong.geojson"]);
    std::fs::write(d.join("dong.prj"), "NONSENSE").unwrap();
    assert_eq!(
        err_of(&["generate", "--buildings", "bld.geojson", "--admin", "dong.shp", "-o", "n.geojson"]),
        "error: dong.shp (layer 'dong'): dong.prj is not a CRS GDAL can read\n  hint: replace the .prj with a valid one (e.g. from epsg.io), or delete it and pass --assume-crs EPSG:NNNN"
    );
    // A config value of the wrong type: its line and column.
    std::fs::write(
        d.join("c.toml"),
        "[buildings]\npath = \"bld.geojson\"\n[params]\neps = \"forty\"\n",
    )
    .unwrap();
    assert_eq!(
        err_of(&["generate", "--config", "c.toml", "-o", "n.geojson"]),
        "error: c.toml: invalid config: invalid type: string \"forty\", expected f64 (line 4, column 7: `eps = \"forty\"`)\n  hint: see README.md, section 'Config file', for the keys"
    );
    // --osm given a GeoPackage.
    ogr2ogr(d, &["-f", "GPKG", "b.gpkg", "bld.geojson"]);
    assert_eq!(
        err_of(&["generate", "--osm", "b.gpkg", "-o", "n.geojson"]),
        "error: b.gpkg: --osm takes an OpenStreetMap extract (.osm.pbf or .osm), and this is a GPKG file\n  hint: give its layers one by one: --buildings FILE:LAYER, --admin FILE:LAYER, --roads FILE:LAYER…"
    );
    // --admin-level without --osm; a negative road width.
    assert!(err_of(&args(&["--admin-level", "8", "-o", "n.geojson"]))
        .starts_with("error: --admin-level picks boundary relations of an OSM extract, but no --osm is given"));
    std::fs::write(d.join("w.toml"), "[params.road_widths]\nprimary = -5.0\n").unwrap();
    assert!(err_of(&args(&["--config", "w.toml", "-o", "n.geojson"]))
        .starts_with("error: road_widths.primary must be a width of zero or more metres, got -5"));
    // locate: a latitude of 95 in a CSV, a longitude of 500 on the line.
    succeeds(d, &args(&["-o", "n.gpkg", "-q"]));
    std::fs::write(
        d.join("p.csv"),
        "id,lon,lat\n1,126.955,37.553\n2,126.95,95\n",
    )
    .unwrap();
    assert_eq!(
        err_of(&["locate", "n.gpkg", "--points", "p.csv"]),
        "error: p.csv: line 3: latitude 95 is outside -90..90\n  hint: lon/lat columns hold WGS 84 degrees; for projected x,y name the columns x,y and give --points-crs"
    );
    assert_eq!(
        err_of(&["locate", "n.gpkg", "--lon", "500", "--lat", "37"]),
        "error: --lon 500 --lat 37: longitude 500 is outside -180..180\n  hint: --lon and --lat take WGS 84 degrees"
    );
}

/// Item 5: GeoJSON across the antimeridian (Fiji, UTM zone 60S): features
/// on both sides of 180° are cut there (RFC 7946), none spans the globe.
#[test]
fn geojson_features_are_cut_at_the_antimeridian() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crs = r#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32760"}}"#;
    // 180°E lies near x = 819,000 m at 17°S in zone 60.
    let unit = r#"{"type":"Feature","properties":{"code":"FJ"},"geometry":{"type":"Polygon","coordinates":[[[814000,8118000],[824000,8118000],[824000,8124000],[814000,8124000],[814000,8118000]]]}}"#;
    std::fs::write(
        d.join("u.geojson"),
        format!(r#"{{"type":"FeatureCollection",{crs},"features":[{unit}]}}"#),
    )
    .unwrap();
    let mut f = Vec::new();
    for k in 0..400 {
        let (x, y) = (
            815_000.0 + 20.0 * (k % 40) as f64 * 10.0,
            8_119_000.0 + 40.0 * (k / 40) as f64 * 10.0,
        );
        f.push(point("", &format!("{x},{y}")));
    }
    std::fs::write(
        d.join("b.geojson"),
        format!(
            r#"{{"type":"FeatureCollection",{crs},"features":[{}]}}"#,
            f.join(",")
        ),
    )
    .unwrap();
    succeeds(
        d,
        &generate_args("b.geojson", "u.geojson", &["-o", "n.geojson", "-q"]),
    );
    let v = read_json(&d.join("n.geojson"));
    let (mut east, mut west) = (false, false);
    for feat in v["features"].as_array().unwrap() {
        for poly in feat["geometry"]["coordinates"].as_array().unwrap() {
            let xs: Vec<f64> = poly[0]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c[0].as_f64().unwrap())
                .collect();
            let lo = xs.iter().cloned().fold(f64::MAX, f64::min);
            let hi = xs.iter().cloned().fold(f64::MIN, f64::max);
            assert!(
                hi - lo < 1.0,
                "{} spans {lo}..{hi}",
                feat["properties"]["nbhd_id"]
            );
            east |= hi > 179.0;
            west |= lo < -179.0;
        }
    }
    assert!(east && west);
}
