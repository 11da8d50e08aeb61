//! `generate --history` and `dongne history` through the binary, on Jamsil
//! (examples/jamsil.toml): a day rebuilt byte for byte, a rerun, an earlier
//! day, `--previous` with a store, a run killed before its commit, every
//! bad input with its exact message and exit code, and the store in
//! PostGIS (`DONGNE_TEST_PG`). The 30-day series on Liechtenstein is in
//! history.rs.

use crate::common::{assert_contains, repo, run_in};
use dongne::products::history::History;
use std::path::Path;

fn jamsil() -> String {
    repo().join("examples/jamsil.toml").display().to_string()
}

fn generate(dir: &Path, extra: &[&str]) -> (i32, String) {
    let cfg = jamsil();
    let mut args = vec!["-q", "generate", "--config", &cfg, "-o", "out.gpkg"];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn generate_with_a_history_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, err) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-11-01"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, err) = run_in(
        d,
        &[
            "-q",
            "history",
            "h.gpkg",
            "--as-of",
            "2026-11-30",
            "-o",
            "re.gpkg",
        ],
    );
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        std::fs::read(d.join("re.gpkg")).unwrap() == std::fs::read(d.join("out.gpkg")).unwrap()
    );
    // The same day again: the store keeps its bytes.
    let store = std::fs::read(d.join("h.gpkg")).unwrap();
    let (code, err) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-11-01"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(std::fs::read(d.join("h.gpkg")).unwrap() == store);
    // An earlier day: refused before anything is read, nothing written.
    let out = std::fs::read(d.join("out.gpkg")).unwrap();
    let (code, err) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-10-31"]);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: h.gpkg: --as-of 2026-10-31 is before the last run in the history, 2026-11-01\n  hint: a history grows forward: run with --as-of 2026-11-01 or later; the layer of 2026-10-31 is rebuilt with dongne history h.gpkg --as-of 2026-10-31 -o FILE\n")
    );
    assert!(std::fs::read(d.join("h.gpkg")).unwrap() == store);
    assert!(std::fs::read(d.join("out.gpkg")).unwrap() == out);
    // --previous is for a new store only.
    let (code, err) = generate(
        d,
        &[
            "--history",
            "h.gpkg",
            "--as-of",
            "2026-11-02",
            "--previous",
            "out.gpkg",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "error: h.gpkg: --previous seeds a new history's ids; this history has runs and carries ids over itself\n  hint: leave --previous out\n")
    );
}

#[test]
fn bad_history_inputs_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--history", "out.gpkg"],
            "error: out.gpkg: -o and --history name the same file: one would overwrite the other\n  hint: give each output a file of its own\n",
        ),
        (
            &["--history", "h.gpkg", "--as-of", "01/11/2026"],
            "error: --as-of '01/11/2026' is not a date\n  hint: give the day as YYYY-MM-DD, e.g. --as-of 2026-11-01\n",
        ),
        (
            &["--history", "h.geojson"],
            "error: h.geojson: a history store is a GeoPackage: the name must end in .gpkg\n  hint: give --history a store that dongne generate --history wrote, or the name of a new .gpkg file to start one\n",
        ),
        (
            &["--history", "y.gpkg"],
            "error: y.gpkg: not a dongne history: no layer 'history' (the file has: neighborhoods, layer_styles)\n  hint: give --history a store that dongne generate --history wrote, or the name of a new .gpkg file to start one\n",
        ),
    ];
    let (code, err) = generate(d, &[]);
    assert_eq!((code, err.as_str()), (0, ""));
    std::fs::rename(d.join("out.gpkg"), d.join("y.gpkg")).unwrap();
    for (extra, want) in cases {
        let (code, err) = generate(d, extra);
        assert_eq!((code, err.as_str()), (2, want), "{extra:?}");
        assert!(!d.join("out.gpkg").exists());
    }
    // A history layer that lacks a field: named, with what to do.
    let (code, _) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-11-01"]);
    assert_eq!(code, 0);
    crate::common::ogr2ogr(
        d,
        &[
            "-f",
            "GPKG",
            "bad.gpkg",
            "h.gpkg",
            "-sql",
            "SELECT nbhd_id, version, valid_from, kind, geom FROM history",
            "-nln",
            "history",
        ],
    );
    for layer in ["lineage", "runs"] {
        crate::common::ogr2ogr(d, &["-update", "bad.gpkg", "h.gpkg", layer]);
    }
    let (code, err) = generate(d, &["--history", "bad.gpkg", "--as-of", "2026-11-02"]);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: bad.gpkg (layer 'history'): not a dongne history: field 'valid_to' is missing (written by another version of dongne, or not by dongne)\n  hint: give --history a store that dongne generate --history wrote, or the name of a new .gpkg file to start one\n")
    );
    // dongne history: a day before the store, a bad day.
    let (code, err) = run_in(
        d,
        &[
            "-q",
            "history",
            "h.gpkg",
            "--as-of",
            "2026-10-01",
            "-o",
            "x.gpkg",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "error: h.gpkg: the history starts on 2026-11-01, after 2026-10-01\n  hint: give --as-of a day on or after the first run\n")
    );
    let (code, err) = run_in(
        d,
        &[
            "-q",
            "history",
            "h.gpkg",
            "--as-of",
            "2026-02-30",
            "-o",
            "x.gpkg",
        ],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, "error: --as-of '2026-02-30' is not a date\n  hint: give the day as YYYY-MM-DD, e.g. --as-of 2026-11-01\n")
    );
    assert!(!d.join("x.gpkg").exists());
    let store = std::fs::read(d.join("h.gpkg")).unwrap();
    let (code, err) = run_in(d, &["-q", "history", "h.gpkg", "-o", "./h.gpkg"]);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: ./h.gpkg: -o names the history store: writing it would destroy it\n  hint: write the layer to another file\n")
    );
    assert!(std::fs::read(d.join("h.gpkg")).unwrap() == store);
}

struct Killer(std::process::Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_run_killed_before_its_commit_appends_nothing() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, err) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-11-01"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let store = std::fs::read(d.join("h.gpkg")).unwrap();
    let out = std::fs::read(d.join("out.gpkg")).unwrap();
    let cfg = jamsil();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dongne"))
        .current_dir(d)
        .args(["-q", "generate", "--config", &cfg, "-o", "out.gpkg"])
        .args(["--history", "h.gpkg", "--as-of", "2026-11-02"])
        .env("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS", "60000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killer(child);
    let pid = child.0.id();
    let staged = || {
        let t = crate::common::file_names(d, ".dongne-tmp-");
        ["h", "out"].iter().all(|stem| {
            t.iter()
                .any(|n| n.starts_with(&format!(".{stem}.dongne-tmp-{pid}-")))
        })
    };
    let started = Instant::now();
    while !staged() {
        assert!(started.elapsed() < Duration::from_secs(60), "never staged");
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "ended before the pause"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.0.try_wait().unwrap().is_none(), "not paused");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    assert!(
        std::fs::read(d.join("h.gpkg")).unwrap() == store,
        "the store changed"
    );
    assert!(std::fs::read(d.join("out.gpkg")).unwrap() == out);
    let h = History::open(&d.join("h.gpkg")).unwrap();
    assert_eq!(h.runs.len(), 1);
    // The next run records the day and removes the leftovers.
    let (code, err) = generate(d, &["--history", "h.gpkg", "--as-of", "2026-11-02"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(History::open(&d.join("h.gpkg")).unwrap().runs.len(), 2);
    assert_eq!(
        crate::common::file_names(d, ".dongne-tmp-"),
        Vec::<String>::new()
    );
}

/// `DONGNE_TEST_PG`, as tests/it/postgis.rs takes it: these tests fail,
/// not pass, without a server.
fn pg() -> String {
    std::env::var("DONGNE_TEST_PG").expect(
        "DONGNE_TEST_PG is not set: run eval \"$(bash .ci/postgres.sh)\" first (bash .ci/run does)",
    )
}

fn psql(conn: &str, sql: &str) -> String {
    crate::common::tool(
        Path::new("."),
        "psql",
        "postgresql-client",
        &[&conn[3..], "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
    )
}

#[test]
fn a_history_in_postgis_commits_with_the_table_and_rebuilds_the_same_days() {
    let conn = pg();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = jamsil();
    psql(
        &conn,
        "DROP TABLE IF EXISTS hist_nb, hist_v, hist_v_lineage, hist_v_runs",
    );
    // Two days, the second with another minimum area (neighborhoods
    // merge): into PostGIS, and into a GeoPackage store beside it.
    let days = [("2026-11-01", "20000"), ("2026-11-02", "40000")];
    for (day, min_area) in days {
        let common = [
            "-q",
            "generate",
            "--config",
            &cfg,
            "--min-area",
            min_area,
            "--as-of",
            day,
        ];
        let pg_args = [
            "-o",
            &conn,
            "--table",
            "hist_nb",
            "--history",
            &conn,
            "--history-table",
            "hist_v",
        ];
        let (code, err) = run_in(d, &[&common[..], &pg_args[..]].concat());
        assert_eq!((code, err.as_str()), (0, ""), "{day}");
        let file_args = ["-o", "out.gpkg", "--history", "h.gpkg"];
        let (code, err) = run_in(d, &[&common[..], &file_args[..]].concat());
        assert_eq!((code, err.as_str()), (0, ""), "{day}");
    }
    let counts = psql(
        &conn,
        "SELECT (SELECT count(*) FROM hist_v) || ' ' || (SELECT count(*) FROM hist_v WHERE valid_to IS NOT NULL) || ' ' || (SELECT count(*) FROM hist_v_runs)",
    );
    let h = History::open(&d.join("h.gpkg")).unwrap();
    let closed = h.versions.iter().filter(|v| v.valid_to.is_some()).count();
    assert_eq!(counts.trim(), format!("{} {closed} 2", h.versions.len()));
    assert!(closed > 0, "nothing changed on the second day");
    // Each day rebuilt from either store: the same bytes.
    for (day, _) in days {
        for (store, extra) in [
            (conn.as_str(), vec!["--history-table", "hist_v"]),
            ("h.gpkg", vec![]),
        ] {
            let out = format!(
                "{}-{day}.gpkg",
                if extra.is_empty() { "file" } else { "pg" }
            );
            let mut args = vec!["-q", "history", store, "--as-of", day, "-o", &out];
            args.extend(extra);
            let (code, err) = run_in(d, &args);
            assert_eq!((code, err.as_str()), (0, ""));
        }
        assert!(
            std::fs::read(d.join(format!("pg-{day}.gpkg"))).unwrap()
                == std::fs::read(d.join(format!("file-{day}.gpkg"))).unwrap(),
            "{day}"
        );
    }
    // Two versions of one id on one day: refused by the table itself.
    let err = std::process::Command::new("psql")
        .args([
            &conn[3..],
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtc",
            "INSERT INTO hist_v (nbhd_id, version, valid_from, kind, admin_code) SELECT nbhd_id, version + 1, valid_from, kind, admin_code FROM hist_v WHERE valid_to IS NULL LIMIT 1",
        ])
        .output()
        .unwrap();
    assert!(!err.status.success());
    assert_contains(
        &String::from_utf8_lossy(&err.stderr),
        "conflicting key value violates exclusion constraint \"hist_v_one_version_a_day\"",
    );
    // An earlier day is refused; the table and the store are unchanged.
    let before = psql(&conn, "SELECT count(*) FROM hist_v");
    let (code, err) = run_in(
        d,
        &[
            "-q",
            "generate",
            "--config",
            &cfg,
            "--as-of",
            "2026-10-31",
            "-o",
            &conn,
            "--table",
            "hist_nb",
            "--history",
            &conn,
            "--history-table",
            "hist_v",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!("error: public.hist_v in {conn}: --as-of 2026-10-31 is before the last run in the history, 2026-11-02\n  hint: a history grows forward: run with --as-of 2026-11-02 or later; the layer of 2026-10-31 is rebuilt with dongne history \"{conn}\" --history-table public.hist_v --as-of 2026-10-31 -o FILE\n")
    );
    assert_eq!(psql(&conn, "SELECT count(*) FROM hist_v"), before);
    // A PostGIS history with a file output: refused.
    let (code, err) = run_in(
        d,
        &[
            "-q",
            "generate",
            "--config",
            &cfg,
            "-o",
            "x.gpkg",
            "--history",
            &conn,
            "--history-table",
            "hist_v",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert_contains(
        &err,
        "a PostGIS history is written in the transaction that swaps the output table in",
    );
    psql(
        &conn,
        "DROP TABLE IF EXISTS hist_nb, hist_v, hist_v_lineage, hist_v_runs",
    );
}
