//! `dongne locate` end to end: a hand-made layer with a shared edge (exact
//! answers), every building of the Jamsil run found in the feature that
//! counted it, point input as CSV and as a GDAL layer, and bad input.

use crate::common::repo;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use dongne::io::config::{Config, LayerConfig};
use dongne::io::reproject::{Transformer, WorkingCrs};
use dongne::model::{FeatureKind, Neighborhood};
use dongne::products::locate::{self, Index};
use geo::{Area, Point};
use geo_types::{polygon, MultiPolygon};

fn dongne() -> Command {
    Command::cargo_bin("dongne").unwrap()
}

fn nbhd(id: &str, code: &str, x: f64, y: f64, w: f64) -> Neighborhood {
    let geom = MultiPolygon(vec![polygon![
        (x: x, y: y), (x: x + w, y: y), (x: x + w, y: y + w), (x: x, y: y + w), (x: x, y: y)
    ]]);
    Neighborhood {
        id: id.into(),
        kind: FeatureKind::Neighborhood,
        admin_code: code.into(),
        admin_name: format!("동 {code}"),
        area_m2: geom.unsigned_area(),
        perimeter_m: 4.0 * w,
        buildings: 0,
        compactness: std::f64::consts::PI / 4.0,
        bounded_by: String::new(),
        name: None,
        geom,
        level: 1,
        parent_id: None,
    }
}

/// Two 1 km squares in EPSG:5179 sharing the edge x = 1,000,000 (written
/// in reverse id order, to show the order of the file does not matter).
fn two_squares(dir: &Path) -> (PathBuf, WorkingCrs) {
    let crs = WorkingCrs::from_epsg(5179).unwrap();
    let features = vec![
        nbhd("B-001", "B", 1_000_000.0, 1_950_000.0, 1000.0),
        nbhd("A-001", "A", 999_000.0, 1_950_000.0, 1000.0),
    ];
    let path = dir.join("two.gpkg");
    dongne::io::write::write(&path, &features, &crs, None).unwrap();
    (path, crs)
}

/// A point of EPSG:5179 in lon/lat.
fn lonlat(crs: &WorkingCrs, x: f64, y: f64) -> (f64, f64) {
    let p = Transformer::to_lonlat(crs)
        .unwrap()
        .point(Point::new(x, y), None)
        .unwrap();
    (p.x(), p.y())
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// `locate` of the points of a file in `layer`, which must succeed: its
/// stdout.
fn locate_points(layer: &Path, points: &Path, extra: &[&str]) -> String {
    stdout_of(
        dongne()
            .args(["locate", "-q"])
            .args(extra)
            .arg(layer)
            .arg("--points")
            .arg(points),
    )
}

/// `locate` with `args` is refused as bad input, saying `part`.
fn refused(args: &[&str], part: &str) {
    dongne()
        .arg("locate")
        .args(args)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(part));
}

#[test]
fn one_point_inside_on_the_shared_edge_and_outside() {
    let dir = tempfile::tempdir().unwrap();
    let (path, crs) = two_squares(dir.path());
    let run = |x: f64, y: f64| {
        let (lon, lat) = lonlat(&crs, x, y);
        stdout_of(dongne().args([
            "locate",
            path.to_str().unwrap(),
            "--lon",
            &lon.to_string(),
            "--lat",
            &lat.to_string(),
            "-q",
        ]))
    };
    let header = "id,lon,lat,nbhd_id,kind,admin_code,admin_name,status\n";
    let row = |s: &str| s.strip_prefix(header).unwrap().trim_end().to_string();
    let inside_b = row(&run(1_000_500.0, 1_950_500.0));
    assert!(
        inside_b.ends_with(",B-001,neighborhood,B,동 B,inside"),
        "{inside_b}"
    );
    let inside_a = row(&run(999_500.0, 1_950_500.0));
    assert!(
        inside_a.ends_with(",A-001,neighborhood,A,동 A,inside"),
        "{inside_a}"
    );
    let outside = row(&run(1_003_000.0, 1_950_500.0));
    assert!(outside.ends_with(",,,,,outside"), "{outside}");
    assert!(outside.starts_with("1,"), "{outside}");
}

#[test]
fn a_point_exactly_on_the_shared_edge_gets_the_smallest_id() {
    // In the layer's own CRS the edge is exact: both squares hold the
    // point; A-001 sorts first, wherever it is in the file.
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = two_squares(dir.path());
    let layer = locate::read_neighborhoods(&LayerConfig {
        path,
        ..Default::default()
    })
    .unwrap();
    let ids: Vec<&str> = layer.info.iter().map(|i| i.nbhd_id.as_str()).collect();
    assert_eq!(ids, ["A-001", "B-001"]);
    assert_eq!(layer.crs_label, "EPSG:5179 (Korea 2000 / Unified CS)");
    let idx = Index::new(&layer.geoms);
    for y in [1_950_000.0, 1_950_000.5, 1_950_777.25, 1_951_000.0] {
        let f = idx.locate(1_000_000.0, y).unwrap();
        assert_eq!((f.feature, f.on_edge), (0, true), "y = {y}");
    }
    // On B's outer edge only.
    let f = idx.locate(1_001_000.0, 1_950_500.0).unwrap();
    assert_eq!((f.feature, f.on_edge), (1, true));
    assert_eq!(idx.locate(1_001_000.000_001, 1_950_500.0), None);
}

#[test]
fn csv_and_point_layer_input_keep_ids_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, crs) = two_squares(dir.path());
    let (ax, ay) = lonlat(&crs, 999_500.0, 1_950_500.0);
    let (bx, by) = lonlat(&crs, 1_000_500.0, 1_950_500.0);
    let csv = dir.path().join("pts.csv");
    std::fs::write(
        &csv,
        format!("name,Longitude,Latitude,id\nb,{bx},{by},store-7\nfar,0.5,0.5,x\na,{ax},{ay},3\n"),
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    assert_eq!(
        locate_points(&path, &csv, &["-o", out.to_str().unwrap()]),
        ""
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,longitude,latitude,nbhd_id,kind,admin_code,admin_name,status"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].starts_with("store-7,") && lines[1].ends_with(",B-001,neighborhood,B,동 B,inside")
    );
    assert!(lines[2].starts_with("x,0.5,0.5,") && lines[2].ends_with(",outside"));
    assert!(lines[3].starts_with("3,") && lines[3].ends_with(",A-001,neighborhood,A,동 A,inside"));

    // The same points as a GeoJSON point layer (lon/lat): ids are the FIDs.
    let gj = dir.path().join("pts.geojson");
    std::fs::write(
        &gj,
        format!(
            r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","id":1,"properties":{{}},"geometry":{{"type":"Point","coordinates":[{bx},{by}]}}}},
{{"type":"Feature","id":2,"properties":{{}},"geometry":{{"type":"Point","coordinates":[{ax},{ay}]}}}}]}}"#
        ),
    )
    .unwrap();
    let text = locate_points(&path, &gj, &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("1,") && lines[1].contains(",B-001,"));
    assert!(lines[2].starts_with("2,") && lines[2].contains(",A-001,"));

    // x,y in the layer's CRS, with --points-crs.
    let xy = dir.path().join("xy.csv");
    std::fs::write(&xy, "x,y\n999999.5,1950000.5\n1000000,1950100\n").unwrap();
    let text = locate_points(&path, &xy, &["--points-crs", "EPSG:5179"]);
    assert_eq!(
        text,
        "id,x,y,nbhd_id,kind,admin_code,admin_name,status\n\
         1,999999.5,1950000.5,A-001,neighborhood,A,동 A,inside\n\
         2,1000000,1950100,A-001,neighborhood,A,동 A,edge\n"
    );
}

#[test]
fn bad_input_is_an_input_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = two_squares(dir.path());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "lon,lat\n127.0,37.5\n127.1,abc\n").unwrap();
    let p = path.to_str().unwrap();
    refused(
        &[p, "--points", bad.to_str().unwrap()],
        &format!(
            "error: {}: line 3: lat 'abc' is not a number",
            bad.display()
        ),
    );
    let nocols = dir.path().join("nocols.csv");
    std::fs::write(&nocols, "a,b\n1,2\n").unwrap();
    refused(
        &[p, "--points", nocols.to_str().unwrap()],
        "no coordinate columns; the header has: a, b",
    );
    // A polygon layer without nbhd_id is not a neighborhood layer.
    let other = dir.path().join("other.geojson");
    std::fs::write(
        &other,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#,
    )
    .unwrap();
    refused(
        &["--lon", "0.5", "--lat", "0.2", other.to_str().unwrap()],
        "no field 'nbhd_id'; the layer has: name",
    );
    // Points given as a polygon layer.
    refused(
        &[p, "--points", p],
        "(layer 'neighborhoods', feature 1): geometry is a MultiPolygon, expected a point",
    );
    refused(&[p], "no points: give --lon and --lat");
}

#[test]
fn every_jamsil_building_is_found_in_the_feature_that_counted_it() {
    let cfg = Config::from_file(&repo().join("examples/jamsil.toml")).unwrap();
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let out = dongne::method::pipeline::run(&loaded.inputs, &cfg.params, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jamsil.gpkg");
    dongne::io::write::write(&path, &out.features, &loaded.crs, None).unwrap();
    // The buildings as a lon/lat CSV, as a user would have them.
    let to_ll = Transformer::to_lonlat(&loaded.crs).unwrap();
    let mut csv = String::from("lon,lat\n");
    for b in &loaded.inputs.buildings {
        let p = to_ll.point(Point(b.pt), None).unwrap();
        csv.push_str(&format!("{},{}\n", p.x(), p.y()));
    }
    let pts = dir.path().join("buildings.csv");
    std::fs::write(&pts, csv).unwrap();
    let text = locate_points(&path, &pts, &[]);
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut outside = 0;
    let mut rows = 0;
    for line in text.lines().skip(1) {
        rows += 1;
        let cols: Vec<&str> = line.split(',').collect();
        match *cols.last().unwrap() {
            "outside" => outside += 1,
            "inside" => *counts.entry(cols[3].to_string()).or_default() += 1,
            s => panic!("building on an edge or unknown status {s}: {line}"),
        }
    }
    assert_eq!(rows, 1357);
    assert_eq!(outside, out.report.buildings_outside_admin);
    for f in &out.features {
        assert_eq!(
            counts.get(&f.id).copied().unwrap_or(0),
            f.buildings,
            "feature {}",
            f.id
        );
    }
}
