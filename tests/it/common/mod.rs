//! Helpers shared by the test modules.

use std::path::PathBuf;

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
    let out = std::process::Command::new("ogr2ogr")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("ogr2ogr (gdal-bin) is needed to make the fixtures");
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
