//! The neighbour graph (method step 9): symmetric, exact shared lengths,
//! and what separates each pair, on a hand-made unit and on Liechtenstein.

use crate::common::{block, main_road_at_x_500, square_unit};
use dongne::io::config::{Config, Params};
use dongne::method::pipeline;
use dongne::model::*;
use dongne::products::levels::DEFAULT_HARD;
use dongne::products::neighbours::{neighbours, Neighbour, Separator};

fn hard() -> Vec<String> {
    DEFAULT_HARD.iter().map(|s| s.to_string()).collect()
}

fn assert_symmetric(t: &[Neighbour]) {
    for r in t {
        assert_ne!(r.nbhd_id, r.neighbour_id);
        assert!(r.shared_m > 0.0, "{r:?}");
        let back = t
            .iter()
            .find(|x| x.nbhd_id == r.neighbour_id && x.neighbour_id == r.nbhd_id)
            .unwrap_or_else(|| panic!("no way back for {r:?}"));
        assert_eq!(
            (back.shared_m, back.separated_by),
            (r.shared_m, r.separated_by)
        );
    }
}

#[test]
fn two_halves_of_a_unit_share_the_road_between_them() {
    let inputs = Inputs {
        buildings: [block(250.0, 500.0, 0), block(750.0, 500.0, 100)].concat(),
        admin: vec![square_unit("A")],
        lines: vec![main_road_at_x_500()],
        ..Default::default()
    };
    let params = Params {
        min_area: 5_000.0,
        fill_open: true,
        ..Params::default()
    };
    let out = pipeline::run(&inputs, &params, false).unwrap();
    let t = neighbours(&out.features, &inputs.lines, &hard());
    assert_eq!(t.len(), 2, "{t:?}");
    assert_symmetric(&t);
    assert_eq!(t[0].shared_m, 1000.0);
    assert_eq!(t[0].separated_by, Separator::Road);
    assert_eq!(t[0].level, 1);
    // A primary road is not hard; told that every road is, all of it is.
    assert_eq!(t[0].hard_m, 0.0);
    let t = neighbours(&out.features, &inputs.lines, &["road".to_string()]);
    assert_eq!(t[0].hard_m, 1000.0);
}

#[test]
fn liechtenstein_neighbours_are_symmetric_and_units_meet_on_admin_lines() {
    let cfg =
        Config::from_file(&crate::common::repo().join("examples/liechtenstein.toml")).unwrap();
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let out = pipeline::run(&loaded.inputs, &cfg.params, false).unwrap();
    let t = neighbours(&out.features, &loaded.inputs.lines, &hard());
    assert_symmetric(&t);
    let unit_of: std::collections::HashMap<&str, &str> = out
        .features
        .iter()
        .map(|f| (f.id.as_str(), f.admin_code.as_str()))
        .collect();
    for r in &t {
        let across = unit_of[r.nbhd_id.as_str()] != unit_of[r.neighbour_id.as_str()];
        assert_eq!(across, r.separated_by == Separator::Admin, "{r:?}");
    }
    let count = |s: Separator| t.iter().filter(|r| r.separated_by == s).count();
    eprintln!(
        "Liechtenstein: {} pairs; nothing {}, road {}, water {}, rail {}, admin {}",
        t.len() / 2,
        count(Separator::Nothing) / 2,
        count(Separator::Road) / 2,
        count(Separator::Water) / 2,
        count(Separator::Rail) / 2,
        count(Separator::Admin) / 2
    );
    for s in [Separator::Nothing, Separator::Road, Separator::Admin] {
        assert!(count(s) > 0, "no pair separated by {}", s.as_str());
    }
    // Every neighborhood of a unit with more than one has a neighbour.
    let with: std::collections::HashSet<&str> = t.iter().map(|r| r.nbhd_id.as_str()).collect();
    let lonely = out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Neighborhood && !with.contains(f.id.as_str()))
        .count();
    assert!(
        lonely * 20 < out.report.neighborhoods,
        "{lonely} without a neighbour"
    );
}

#[test]
fn generate_writes_the_table_beside_the_layer_and_refuses_a_shared_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::common::repo().join("examples/gongdeok.toml");
    let cfg = cfg.display().to_string();
    let base = ["generate", "-q", "--config", cfg.as_str(), "-o", "g.gpkg"];
    let (code, err) = crate::common::run_in(
        dir.path(),
        &[&base[..], &["--neighbours", "n.csv"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.path().join("n.csv")).unwrap();
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("nbhd_id,neighbour_id,level,shared_m,separated_by,hard_m")
    );
    let rows: Vec<Vec<&str>> = rows.map(|l| l.split(',').collect()).collect();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r.len(), 6, "{r:?}");
        assert_eq!(r[2], "1");
        assert!(
            ["nothing", "road", "rail", "water", "admin"].contains(&r[4]),
            "{r:?}"
        );
        assert!(rows
            .iter()
            .any(|b| b[0] == r[1] && b[1] == r[0] && b[3] == r[3] && b[4] == r[4]));
    }
    let (code, err) = crate::common::run_in(
        dir.path(),
        &[&base[..], &["--neighbours", "g.gpkg"]].concat(),
    );
    assert_eq!(
        err,
        "error: g.gpkg: -o and --neighbours name the same file: one would overwrite the other\n  hint: give each output a file of its own\n"
    );
    assert_eq!(code, 2);
}

/// `--neighbours` alone: a table inside a GeoPackage, a CSV beside a
/// GeoJSON, a Parquet file beside a GeoParquet, all with the same rows.
#[test]
fn the_table_goes_inside_a_geopackage_and_beside_other_formats() {
    use gdal::vector::LayerAccess;
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::common::repo().join("examples/gongdeok.toml");
    let cfg = cfg.display().to_string();
    for out in ["g.gpkg", "g.geojson", "g.parquet"] {
        let (code, err) = crate::common::run_in(
            dir.path(),
            &[
                "generate",
                "-q",
                "--config",
                &cfg,
                "-o",
                out,
                "--neighbours",
            ],
        );
        assert_eq!(code, 0, "{out}: {err}");
    }
    let csv = std::fs::read_to_string(dir.path().join("g.neighbours.csv")).unwrap();
    let rows = csv.lines().count() - 1;
    assert!(rows > 0);
    let ds = gdal::Dataset::open(dir.path().join("g.gpkg")).unwrap();
    let mut t = ds.layer_by_name("neighbours").unwrap();
    assert_eq!(t.feature_count() as usize, rows);
    let fields: Vec<String> = t.defn().fields().map(|f| f.name()).collect();
    assert_eq!(
        fields,
        [
            "nbhd_id",
            "neighbour_id",
            "level",
            "shared_m",
            "separated_by",
            "hard_m"
        ]
    );
    let first = t.features().next().unwrap();
    let line1: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first.field_as_string(0).unwrap().unwrap(), line1[0]);
    assert_eq!(
        first.field_as_double(3).unwrap().unwrap().to_string(),
        line1[3]
    );
    let pq = std::fs::read(dir.path().join("g.neighbours.parquet")).unwrap();
    assert_eq!(&pq[..4], b"PAR1");
    assert!(!dir.path().join("g.neighbours.csv.parquet").exists());
}

/// `dongne range`: the start at step 0, its neighbours at 1 as the table
/// lists them, never across a hard border unless asked; a missing id and a
/// missing table are one clear error each.
#[test]
fn range_walks_the_table_of_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::common::repo().join("examples/liechtenstein.toml");
    let cfg = cfg.display().to_string();
    let (code, err) = crate::common::run_in(
        dir.path(),
        &[
            "generate",
            "-q",
            "--config",
            &cfg,
            "-o",
            "l.gpkg",
            "--neighbours",
            "n.csv",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let table = std::fs::read_to_string(dir.path().join("n.csv")).unwrap();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // A neighborhood with a neighbour across water or rail, and one not.
    let hard_row = rows.iter().find(|r| r[5] != "0").expect("a hard border");
    let start = hard_row[0];
    let range = |extra: &[&str]| {
        let out = crate::common::dongne_in(dir.path())
            .args(
                [
                    &[
                        "range",
                        "l.gpkg",
                        "--id",
                        start,
                        "-q",
                        "--neighbours",
                        "n.csv",
                    ][..],
                    extra,
                ]
                .concat(),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let v: Vec<&str> = l.split(',').collect();
                (v[0].to_string(), v[1].parse::<u32>().unwrap())
            })
            .collect::<Vec<_>>()
    };
    let mut expected: Vec<(String, u32)> = vec![(start.to_string(), 0)];
    let mut ones: Vec<String> = rows
        .iter()
        .filter(|r| r[0] == start && r[5] == "0")
        .map(|r| r[1].to_string())
        .collect();
    ones.sort();
    expected.extend(ones.into_iter().map(|i| (i, 1)));
    assert_eq!(range(&[]), expected);
    let across = range(&["--across-hard"]);
    assert!(across.contains(&(hard_row[1].to_string(), 1)), "{across:?}");
    assert!(!range(&[]).iter().any(|(i, _)| i == hard_row[1]));
    assert_eq!(range(&["--steps", "0"]), vec![(start.to_string(), 0)]);

    let (code, err) = crate::common::run_in(dir.path(), &["range", "l.gpkg", "--id", "XX-999"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: l.gpkg (layer 'neighborhoods'): no feature with nbhd_id 'XX-999'\n  hint: give an nbhd_id of the layer, e.g. from dongne locate\n"
    );
    // A GeoJSON with no table beside it.
    let (code, err) = crate::common::run_in(
        dir.path(),
        &["generate", "-q", "--config", &cfg, "-o", "l.geojson"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = crate::common::run_in(dir.path(), &["range", "l.geojson", "--id", start]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: l.geojson: no neighbour table: l.neighbours.csv does not exist\n  hint: write it with dongne generate --neighbours, or give it with --neighbours FILE.csv\n"
    );
}
