//! Helpers shared by the test modules.

use std::path::PathBuf;

use geo::polygon;

/// The repository (the crate's manifest folder).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real-data folder: `$DONGNE_SHARED_DATA`, by default
/// `../shared/data` beside the repository. Panics when it is not there: a
/// test that needs it must fail, not pass without running.
pub fn shared() -> PathBuf {
    let p = std::env::var_os("DONGNE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"));
    assert!(
        p.is_dir(),
        "real data not found at {} (set DONGNE_SHARED_DATA)",
        p.display()
    );
    p
}

/// A file of the shared data set; panics, naming it, when it is missing.
pub fn shared_file(rel: &str) -> PathBuf {
    let p = shared().join(rel);
    assert!(
        p.exists(),
        "{} not found (set DONGNE_SHARED_DATA to the shared data folder)",
        p.display()
    );
    p
}

/// The binary, run in `dir`, with nothing set from outside that changes its
/// logs, text encodings or timing.
pub fn dongne_in(dir: &std::path::Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("dongne").unwrap();
    c.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("SHAPE_ENCODING")
        .env_remove("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS");
    c
}

/// Runs ogr2ogr in `dir` to make a fixture; panics with its message when it fails.
pub fn ogr2ogr(dir: &std::path::Path, args: &[&str]) {
    tool(dir, "ogr2ogr", "gdal-bin, to make the fixtures", args);
}

/// Runs a command-line tool in `dir` and returns its stdout; panics with its
/// message when it fails. `needs` says where the tool comes from.
pub fn tool(dir: &std::path::Path, program: &str, needs: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} ({needs}) is needed: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The names of the files in `dir` that contain `part`, sorted.
pub fn file_names(dir: &std::path::Path, part: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(part))
        .collect();
    v.sort();
    v
}

/// The units the pipeline draws in: each admin unit's code with its shapes
/// in the frame, as the invariant checks take them.
pub fn units(admin: &[dongne::model::AdminUnit]) -> Vec<(String, Vec<dongne::geom::shape::Shape>)> {
    let (frame, _) = dongne::method::pipeline::frame(admin).unwrap();
    admin.iter().map(|u| u.code.clone()).zip(frame).collect()
}

/// The binary run in `dir` with `args`: its exit code (-1 when killed by a
/// signal) and its stderr.
pub fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = dongne_in(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A JSON file, parsed.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `text` contains `part`; the message shows the whole text.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{text}");
}

/// A 7×7 block of houses 12 m apart around (cx, cy).
pub fn block(cx: f64, cy: f64, first_fid: i64) -> Vec<dongne::model::Building> {
    (0..49)
        .map(|k| dongne::model::Building {
            fid: first_fid + k,
            pt: geo::Coord {
                x: cx + ((k % 7) as f64 - 3.0) * 12.0,
                y: cy + ((k / 7) as f64 - 3.0) * 12.0,
            },
            outline: Vec::new(),
        })
        .collect()
}

/// Unit `A`, a 1 km square, called `name`.
pub fn square_unit(name: &str) -> dongne::model::AdminUnit {
    dongne::model::AdminUnit {
        fid: 0,
        code: "A".into(),
        name: name.into(),
        geom: geo::MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1000.0, y: 0.0), (x: 1000.0, y: 1000.0), (x: 0.0, y: 1000.0)
        ]]),
    }
}

/// A primary road from south to north at x = 500: two enclosures.
pub fn main_road_at_x_500() -> dongne::model::LineBarrier {
    dongne::model::LineBarrier {
        fid: 1,
        kind: dongne::model::BarrierKind::Road,
        class: "primary".into(),
        width_m: 20.0,
        geom: geo::LineString::from(vec![(500.0, -50.0), (500.0, 1050.0)]),
        covered: false,
    }
}
