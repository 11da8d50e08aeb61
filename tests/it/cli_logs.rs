//! What `dongne generate` tells its operator: one JSON object per line with
//! `--log-format json`, nothing with `--quiet`, no progress spinner (no
//! control characters) unless stderr is a terminal, and the `--summary` file
//! with the run's figures.

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::Command;

use crate::common::{dongne_in as dongne, read_json};

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// The pipeline's stages as logs and summaries name them, in the order they
/// run. Spelt out here, not taken from `pipeline::STAGES`: the names are
/// part of the output format, and a renamed stage must fail these tests.
fn pipeline_stages() -> Vec<&'static str> {
    "frame barriers enclosures clustering tessellation size_rules dissolve names"
        .split(' ')
        .collect()
}

fn stderr_of(c: &mut Command) -> String {
    let out = c.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

#[test]
fn json_logs_are_one_object_per_line_with_stage_counts_and_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = example("jamsil.toml");
    let base = ["generate", "--config", &cfg, "-o", "j.gpkg"];
    dongne(dir.path()).arg("-q").args(base).assert().success();
    let err = stderr_of(
        dongne(dir.path())
            .args(["--log-format", "json"])
            .args(base)
            .args(["--previous", "j.gpkg", "--changes", "c.json"]),
    );
    let mut stages = BTreeSet::new();
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(v.is_object(), "{line}");
        for key in ["timestamp", "level"] {
            assert!(v.get(key).is_some(), "{key} missing: {line}");
        }
        let Some(stage) = v.get("stage").and_then(|s| s.as_str()) else {
            continue;
        };
        stages.insert(stage.to_string());
        match stage {
            "ids" => {
                assert_eq!(
                    (
                        &v["kept"],
                        &v["reshaped"],
                        &v["split"],
                        &v["merged"],
                        &v["added"],
                        &v["removed"],
                        &v["renamed"]
                    ),
                    (
                        &serde_json::json!(45),
                        &serde_json::json!(0),
                        &serde_json::json!(0),
                        &serde_json::json!(0),
                        &serde_json::json!(0),
                        &serde_json::json!(0),
                        &serde_json::json!(0)
                    ),
                    "{line}"
                );
                assert!(v["seconds"].is_f64(), "{line}");
            }
            "done" => {
                assert_eq!(v["neighborhoods"], 22, "{line}");
                assert_eq!(v["barrier_features"], 23, "{line}");
                assert_eq!(v["output"], "j.gpkg", "{line}");
            }
            "read" | "previous" | "frame" | "barriers" | "enclosures" | "clustering"
            | "tessellation" | "size_rules" | "dissolve" | "names" | "write" => {
                assert!(v["count"].is_u64(), "{line}")
            }
            // Stages other modules log (reprojection, validation): timed.
            _ => assert!(v["seconds"].is_f64(), "{line}"),
        }
    }
    let expected = [
        &["read", "previous"][..],
        &pipeline_stages(),
        &["ids", "write", "done"],
    ]
    .concat();
    for s in expected {
        assert!(stages.contains(s), "no {s} line in\n{err}");
    }
}

#[test]
fn quiet_prints_nothing_and_text_logs_carry_no_control_characters_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = example("gongdeok.toml");
    let base = ["generate", "--config", &cfg, "-o", "g.gpkg"];
    assert_eq!(stderr_of(dongne(dir.path()).arg("-q").args(base)), "");
    let err = stderr_of(dongne(dir.path()).args(base).args(["--previous", "g.gpkg"]));
    assert!(
        !err.contains('\r') && !err.contains('\u{1b}'),
        "spinner or colours off a terminal: {err:?}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.contains(&"dongne: ids against g.gpkg: 35 kept, 0 reshaped, 0 split, 0 merged, 0 added, 0 removed, 0 renamed"),
        "{err}"
    );
    assert!(
        lines.last().unwrap().starts_with(
            "dongne: 17 neighborhoods, 1 hamlet and 17 barrier features from 159 buildings in 8 admin units, "
        ),
        "{err}"
    );
}

#[test]
fn a_spinner_only_on_a_terminal() {
    // util-linux `script` gives the run a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("dongne");
    let cfg = example("gongdeok.toml");
    let on_tty = |flags: &str| {
        let cmd = format!(
            "{} {flags} generate --config {cfg} -o g.gpkg",
            bin.display()
        );
        let out = std::process::Command::new("script")
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_tty("");
    assert!(shown.contains("reading layers"), "{shown:?}");
    // Cleared before each log line and at the end.
    assert!(shown.contains("\r\u{1b}[2K"), "{shown:?}");
    assert!(shown.contains("INFO"), "{shown:?}");
    assert_eq!(on_tty("-q"), "");
    let json = on_tty("--log-format json");
    assert!(!json.contains("reading layers"), "{json:?}");
}

#[test]
fn summary_holds_the_runs_figures() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = example("heukseok.toml");
    let base = ["-q", "generate", "--config", &cfg, "-o", "h.geojson"];
    dongne(dir.path()).args(base).assert().success();
    dongne(dir.path())
        .args(base)
        .args(["--previous", "h.geojson", "--summary", "s.json"])
        .assert()
        .success();
    let s = read_json(&dir.path().join("s.json"));
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["output"], "h.geojson");
    assert_eq!(s["working_crs"], "EPSG:5179 (Korea 2000 / Unified CS)");
    assert_eq!(s["previous"], "h.geojson");
    let inputs = s["inputs"].as_array().unwrap();
    let roles: BTreeSet<&str> = inputs.iter().map(|l| l["role"].as_str().unwrap()).collect();
    for r in ["admin", "buildings", "roads", "water"] {
        assert!(roles.contains(r), "{r}: {roles:?}");
    }
    for l in inputs {
        for key in ["source", "driver", "crs", "features_read", "features_used"] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
    let run = &s["run"];
    assert_eq!(run["admin_units"], 12);
    assert_eq!(run["buildings"], 607);
    let kinds = s["features_by_kind"].as_object().unwrap();
    assert_eq!(kinds["neighborhood"], run["neighborhoods"]);
    let area = &s["area_m2"];
    let (min, med, p90, max) = (
        area["min"].as_f64().unwrap(),
        area["median"].as_f64().unwrap(),
        area["p90"].as_f64().unwrap(),
        area["max"].as_f64().unwrap(),
    );
    assert!(
        0.0 < min && min <= med && med <= p90 && p90 <= max,
        "{area}"
    );
    let stage_names: Vec<&str> = run["stage_seconds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(stage_names, pipeline_stages());
    let steps: Vec<&str> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["read", "previous", "pipeline", "ids", "checks", "write"]
    );
    assert_eq!(s["changes"]["kept"], s["changes"]["current_features"]);
    assert_eq!(s["changes"]["ids_new"], 0);
    assert!(s["seconds_total"].as_f64().unwrap() > 0.0);
}
