//! Incremental reruns (`--cache`) and shards (`--shard K/N` + `merge`): the
//! same bytes as one plain run, on Liechtenstein and on Seoul's 425 행정동
//! with the Han River.

use std::path::Path;

use crate::common::{dongne_in, repo, shared_file};

fn li() -> String {
    repo()
        .join("examples/liechtenstein.toml")
        .display()
        .to_string()
}

/// Seoul's 425 행정동 as units, the whole Han River, Jamsil's buildings.
fn seoul(dir: &Path) -> String {
    let cfg = format!(
        "osm = {:?}\nadmin = {{ path = {:?} }}\nadmin_code = \"adm_cd2\"\nadmin_name = \"adm_nm\"\ncrs = \"EPSG:5179\"\n[[water]]\npath = {:?}\n",
        shared_file("seoul/seoul_songpa_asanH.osm.pbf"),
        shared_file("seoul/hangjeongdong_seoul.geojson"),
        shared_file("seoul/hangang_full.geojson"),
    );
    let p = dir.join("seoul.toml");
    std::fs::write(&p, cfg).unwrap();
    p.display().to_string()
}

fn generate(dir: &Path, args: &[&str]) -> String {
    let out = dongne_in(dir).arg("generate").args(args).assert().success();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// A quiet `generate` of `cfg` into `out`, with `extra` arguments.
fn generate_to(dir: &Path, cfg: &str, out: &str, extra: &[&str]) {
    let mut args = vec!["-q", "--config", cfg, "-o", out];
    args.extend_from_slice(extra);
    generate(dir, &args);
}

/// Two counters of a summary's cache section.
fn cache(s: &serde_json::Value, a: &str, b: &str) -> (Option<u64>, Option<u64>) {
    (s["cache"][a].as_u64(), s["cache"][b].as_u64())
}

fn summary(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

#[test]
fn a_cached_rerun_writes_the_same_bytes_and_computes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let cfg = li();
    generate_to(p, &cfg, "plain.gpkg", &[]);
    generate_to(
        p,
        &cfg,
        "first.gpkg",
        &["--cache", "cache", "--summary", "s1.json"],
    );
    generate_to(
        p,
        &cfg,
        "second.gpkg",
        &["--cache", "cache", "--summary", "s2.json"],
    );
    let plain = std::fs::read(p.join("plain.gpkg")).unwrap();
    assert!(plain == std::fs::read(p.join("first.gpkg")).unwrap());
    assert!(plain == std::fs::read(p.join("second.gpkg")).unwrap());
    let (s1, s2) = (summary(p, "s1.json"), summary(p, "s2.json"));
    assert_eq!(cache(&s1, "reused", "computed"), (Some(0), Some(11)));
    assert_eq!(cache(&s2, "reused", "computed"), (Some(11), Some(0)));
    assert_eq!(s2["cache"]["entries"], 11);
    assert!(s2["cache"]["bytes"].as_u64().unwrap() > 100_000);

    // Another parameter: every key changes, every unit is computed, and
    // the entries of the first run are removed.
    generate_to(
        p,
        &cfg,
        "eps.gpkg",
        &["--cache", "cache", "--eps", "30", "--summary", "s3.json"],
    );
    let s3 = summary(p, "s3.json");
    assert_eq!(cache(&s3, "reused", "computed"), (Some(0), Some(11)));
    assert_eq!(cache(&s3, "removed", "entries"), (Some(11), Some(11)));
}

#[test]
fn a_damaged_cache_entry_is_recomputed_not_trusted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let cfg = li();
    generate_to(p, &cfg, "first.gpkg", &["--cache", "cache"]);
    // Flip a byte in the middle of every entry, and cut one short.
    let mut entries: Vec<_> = walk(&p.join("cache"));
    entries.sort();
    assert_eq!(entries.len(), 11);
    for (i, e) in entries.iter().enumerate() {
        let mut b = std::fs::read(e).unwrap();
        if i == 0 {
            b.truncate(b.len() / 2);
        } else {
            let mid = b.len() / 2;
            b[mid] ^= 0x55;
        }
        std::fs::write(e, b).unwrap();
    }
    let err = generate(
        p,
        &[
            "--config",
            &cfg,
            "-o",
            "second.gpkg",
            "--cache",
            "cache",
            "--summary",
            "s.json",
        ],
    );
    assert!(
        err.contains("cache entry damaged or from another dongne version: recomputed"),
        "{err}"
    );
    let s = summary(p, "s.json");
    assert_eq!(cache(&s, "rejected", "computed"), (Some(11), Some(11)));
    assert!(
        std::fs::read(p.join("first.gpkg")).unwrap()
            == std::fs::read(p.join("second.gpkg")).unwrap()
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else if e.path().extension().is_some_and(|x| x == "unit") {
            out.push(e.path());
        }
    }
    out
}

/// Shards computed apart and merged give the single run's bytes.
fn shards_match(p: &Path, cfg: &str, n: usize, out: &str) {
    generate_to(p, cfg, &format!("single.{out}"), &[]);
    let mut parts = Vec::new();
    for k in 1..=n {
        let part = format!("part-{k}.dpart");
        generate_to(p, cfg, &part, &["--shard", &format!("{k}/{n}")]);
        parts.push(part);
    }
    parts.reverse(); // any order
    dongne_in(p)
        .args(["-q", "merge"])
        .args(&parts)
        .args(["-o", &format!("merged.{out}"), "--summary", "merge.json"])
        .assert()
        .success();
    let single = std::fs::read(p.join(format!("single.{out}"))).unwrap();
    assert!(single.len() > 10_000);
    assert!(
        single == std::fs::read(p.join(format!("merged.{out}"))).unwrap(),
        "merged ≠ single run"
    );
    assert_eq!(summary(p, "merge.json")["shards"], n);
}

#[test]
fn liechtenstein_in_three_shards_merges_to_the_single_run() {
    let d = tempfile::tempdir().unwrap();
    shards_match(d.path(), &li(), 3, "gpkg");
}

#[test]
fn seoul_425_dong_in_four_shards_merges_to_the_single_run() {
    let d = tempfile::tempdir().unwrap();
    let cfg = seoul(d.path());
    shards_match(d.path(), &cfg, 4, "geojson");
    // The river's units were split between shards: it runs across Seoul.
    let s = summary(d.path(), "merge.json");
    assert_eq!(s["run"]["admin_units"], 425);
}

#[test]
fn a_merge_with_a_shard_missing_or_foreign_fails_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let cfg = li();
    for k in 1..=3 {
        generate_to(
            p,
            &cfg,
            &format!("{k}.dpart"),
            &["--shard", &format!("{k}/3")],
        );
    }
    generate_to(p, &cfg, "other.dpart", &["--eps", "30", "--shard", "3/3"]);
    let err = |args: &[&str]| {
        let o = dongne_in(p)
            .arg("merge")
            .args(args)
            .args(["-o", "m.gpkg"])
            .assert()
            .failure()
            .code(2);
        String::from_utf8_lossy(&o.get_output().stderr).into_owned()
    };
    assert_eq!(
        err(&["1.dpart", "2.dpart"]),
        "error: shards missing: 3/3\n  hint: run dongne generate --shard K/N for each, then merge all N part files\n"
    );
    assert!(err(&["1.dpart", "2.dpart", "other.dpart"]).starts_with(
        "error: other.dpart: part 3/3 is of another run than 1.dpart (other inputs, parameters or shard count)"
    ));
    let mut b = std::fs::read(p.join("3.dpart")).unwrap();
    b.truncate(b.len() - 10);
    std::fs::write(p.join("cut.dpart"), b).unwrap();
    assert!(err(&["1.dpart", "2.dpart", "cut.dpart"])
        .starts_with("error: cut.dpart: not a complete dongne part file: checksum mismatch (cut short or damaged)"));
    assert!(!p.join("m.gpkg").exists());
}
