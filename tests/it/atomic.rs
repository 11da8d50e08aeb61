//! Atomic output: a run killed with SIGKILL at the worst moment (every new
//! file complete under its temporary name, none renamed yet) leaves
//! yesterday's output, change report and summary exactly as they were; the
//! temporary files it could not remove are ignored by `dongne check` and
//! removed by the next run.
//!
//! The kill is made deterministic by `DONGNE_TEST_PAUSE_BEFORE_RENAME_MS`
//! (src/write.rs): the run sleeps once its files are staged, and the test
//! kills it then.

use crate::common::{dongne_in, file_names, read_json, repo};
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

fn config() -> String {
    repo().join("examples/jamsil.toml").display().to_string()
}

fn temp_files(dir: &Path) -> Vec<String> {
    file_names(dir, ".dongne-tmp-")
}

/// `generate` of the daily kind: previous, changes, summary.
fn daily_args(cfg: &str, with_previous: bool) -> Vec<String> {
    let mut a: Vec<String> = ["-q", "generate", "--config", cfg, "-o", "out.gpkg"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if with_previous {
        a.extend(
            ["--previous", "out.gpkg", "--changes", "changes.json"]
                .iter()
                .map(|s| s.to_string()),
        );
    }
    a.extend(["--summary", "summary.json"].iter().map(|s| s.to_string()));
    a
}

/// A daily `generate` run in `d` that must succeed.
fn daily_run(d: &Path, cfg: &str, with_previous: bool) {
    dongne_in(d)
        .args(daily_args(cfg, with_previous))
        .assert()
        .success();
}

/// Kills the child when dropped, so that a failed assertion never leaves a
/// paused run behind.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigkill_before_the_rename_leaves_yesterday_intact_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config();

    // Yesterday.
    daily_run(d, &cfg, false);
    let out_bytes = std::fs::read(d.join("out.gpkg")).unwrap();
    let summary_bytes = std::fs::read(d.join("summary.json")).unwrap();
    assert_eq!(temp_files(d), Vec::<String>::new());

    // Today, killed once all its files are staged.
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("dongne"))
        .current_dir(d)
        .args(daily_args(&cfg, true))
        .env("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killer(child);
    let pid = child.0.id();
    let staged = |d: &Path| {
        let t = temp_files(d);
        ["out", "changes", "summary"].iter().all(|stem| {
            t.iter()
                .any(|n| n.starts_with(&format!(".{stem}.dongne-tmp-{pid}-")))
        })
    };
    let started = Instant::now();
    while !staged(d) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never staged its files: {:?}",
            temp_files(d)
        );
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the run ended before the pause: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The summary is the last file staged: give its write a moment to end,
    // then SIGKILL (Child::kill sends SIGKILL on Unix).
    std::thread::sleep(Duration::from_millis(200));
    assert!(child.0.try_wait().unwrap().is_none(), "not paused");
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    // Yesterday's files are intact, the report was never half-written.
    assert_eq!(std::fs::read(d.join("out.gpkg")).unwrap(), out_bytes);
    assert_eq!(
        std::fs::read(d.join("summary.json")).unwrap(),
        summary_bytes
    );
    assert!(!d.join("changes.json").exists());
    // What the killed run left: hidden, named after its pid.
    let left = temp_files(d);
    assert_eq!(left.len(), 3, "{left:?}");
    for n in &left {
        assert!(n.starts_with('.'), "{n}");
        assert!(n.contains(&format!(".dongne-tmp-{pid}-")), "{n}");
    }

    // `check` reads yesterday's file, not the leftovers.
    let out = dongne_in(d)
        .args([
            "check",
            "--config",
            &cfg,
            "-o",
            "out.gpkg",
            "--previous",
            "out.gpkg",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("previous   out.gpkg (layer neighborhoods): GPKG, EPSG:5179 (Korea 2000 / Unified CS), 45 features\n"),
        "{text}"
    );

    // Checking the output's folder already removed the dead run's output
    // temporary; the report's and the summary's go with the next run.
    let left: Vec<String> = temp_files(d)
        .iter()
        .map(|n| n.split(".dongne-tmp-").next().unwrap().to_string())
        .collect();
    assert_eq!(left, vec![".changes", ".summary"]);

    // The next run removes them and replaces every file.
    daily_run(d, &cfg, true);
    assert_eq!(temp_files(d), Vec::<String>::new());
    // Same input as yesterday: same neighborhoods, same ids, nothing to report.
    assert_eq!(std::fs::read(d.join("out.gpkg")).unwrap(), out_bytes);
    let report = read_json(&d.join("changes.json"));
    assert_eq!(report["changes"], serde_json::json!([]));
    assert_eq!(report["summary"]["kept"], 45);
}

#[test]
fn stale_temp_files_of_dead_runs_go_and_those_of_live_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let me = std::process::id();
    let names = [
        // A pid above any Linux pid_max (2^22): no such process.
        ".out.dongne-tmp-999999999-18c0a1b2-0.gpkg".to_string(),
        // A live process: pid 1 always runs.
        ".out.dongne-tmp-1-18c0a1b2-0.gpkg".to_string(),
        // This process's pid, another start token: a killed run in an
        // earlier container that had the same pid.
        format!(".out.dongne-tmp-{me}-0-0.gpkg"),
        // Another target's, and a file that only looks alike.
        ".other.dongne-tmp-999999999-1-0.gpkg".to_string(),
        "out.dongne-tmp-999999999-1-0.gpkg".to_string(),
    ];
    for n in &names {
        std::fs::write(d.join(n), b"x").unwrap();
    }
    dongne::io::write::check_writable(&d.join("out.gpkg")).unwrap();
    assert_eq!(
        file_names(d, ""),
        vec![
            ".other.dongne-tmp-999999999-1-0.gpkg",
            ".out.dongne-tmp-1-18c0a1b2-0.gpkg",
            "out.dongne-tmp-999999999-1-0.gpkg",
        ]
    );
}
