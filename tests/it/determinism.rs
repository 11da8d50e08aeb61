//! Invariant 7 through the binary: the same input and parameters give
//! byte-identical output whatever the thread count. Each example runs with
//! RAYON_NUM_THREADS=1 and =2, to GeoJSON and to GeoPackage, and the files
//! are compared byte for byte.

use crate::common::repo;
use std::path::Path;

use assert_cmd::Command;

fn generate(dir: &Path, example: &str, threads: &str, out: &str, extra: &[&str]) -> Vec<u8> {
    let cfg = repo().join("examples").join(example);
    Command::cargo_bin("dongne")
        .unwrap()
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", threads)
        .args(["-q", "generate", "--config"])
        .arg(&cfg)
        .args(["-o", out])
        .args(extra)
        .assert()
        .success();
    std::fs::read(dir.join(out)).unwrap()
}

fn assert_same_bytes_for_1_and_2_threads(example: &str) {
    assert_same_bytes_with(example, &[]);
}

fn assert_same_bytes_with(example: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["geojson", "gpkg"] {
        let one = generate(dir.path(), example, "1", &format!("t1.{ext}"), extra);
        let two = generate(dir.path(), example, "2", &format!("t2.{ext}"), extra);
        assert!(one.len() > 1000, "{example} .{ext}: {} bytes", one.len());
        // Not assert_eq!: a diff of megabytes helps nobody.
        let first_diff = one.iter().zip(&two).position(|(a, b)| a != b);
        assert!(
            one == two,
            "{example} .{ext}: 1 thread gives {} bytes, 2 threads {}; first difference at byte {:?}",
            one.len(),
            two.len(),
            first_diff
        );
    }
}

#[test]
fn jamsil_is_byte_identical_on_1_and_2_threads() {
    assert_same_bytes_for_1_and_2_threads("jamsil.toml");
}

#[test]
fn gongdeok_is_byte_identical_on_1_and_2_threads() {
    assert_same_bytes_for_1_and_2_threads("gongdeok.toml");
}

#[test]
fn heukseok_is_byte_identical_on_1_and_2_threads() {
    assert_same_bytes_for_1_and_2_threads("heukseok.toml");
}

#[test]
fn liechtenstein_is_byte_identical_on_1_and_2_threads() {
    assert_same_bytes_for_1_and_2_threads("liechtenstein.toml");
}

/// Levels and the neighbour table (inside the GeoPackage) too.
#[test]
fn liechtenstein_levels_are_byte_identical_on_1_and_2_threads() {
    assert_same_bytes_with("liechtenstein.toml", &["--levels", "10,20", "--neighbours"]);
}
