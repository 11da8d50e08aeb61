//! Boundaries with a history (issue 23): a series of daily runs on
//! Liechtenstein (examples/liechtenstein.toml, 14,044 buildings, 11
//! municipalities) recorded in one store, and `generate --history` /
//! `dongne history` through the binary on Jamsil.
//!
//! The series: each day 1 % of the buildings change (0.5 % removed, 0.5 %
//! added 3–10 m beside others, fixed seed, the changes piling up); on the
//! 15th day the municipality with the most buildings is split in two (its
//! eastern half becomes `LI-99`), on the 22nd two neighbouring ones are
//! merged. Asserted: each day's layer rebuilt from the store
//! (`History::at`, and the binary for two days, GeoPackage and GeoJSON) is
//! byte-identical to that day's output; of the neighborhoods of units
//! neither split nor merged that day, at least 99 % of those that continue
//! as one of today's (each holding at least half of the other) keep their
//! ids, and at least 97 % of all; an id that went is never given again;
//! the lineage resolves the split and merged units' ids to today's; a rerun
//! of the last day adds nothing; an earlier day is refused.
//!
//! `DONGNE_HISTORY_DAYS` sets the number of days (default 30: 24 s with
//! the test profile, 36 s in release beside the other tests, on two busy
//! cores; 98.6 % of all neighborhood ids and 100 % of the continuing ones
//! kept, 8,877 versions, 4,824 lineage rows).

use crate::common::{assert_contains, repo, run_in, shared};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use dongne::io::config::Config;
use dongne::io::inputs;
use dongne::io::write;
use dongne::method::pipeline;
use dongne::model::{AdminUnit, Building, FeatureKind, Inputs, Neighborhood};
use dongne::products::history::{self, Date, History};
use dongne::products::ids::ChangeKind;
use geo::{BooleanOps, BoundingRect, Intersects};
use geo_types::{Coord, MultiPolygon, Rect};

/// xorshift64*, as in stable_ids.rs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn signed(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// 1 % of the buildings changed: half removed, half added beside others.
fn edit_buildings(all: &[Building], rng: &mut Rng, next_fid: &mut i64) -> Vec<Building> {
    let n = all.len() / 200;
    let mut dropped = vec![false; all.len()];
    let mut k = 0;
    while k < n {
        let i = rng.below(all.len());
        if !dropped[i] {
            dropped[i] = true;
            k += 1;
        }
    }
    let mut out: Vec<Building> = all
        .iter()
        .zip(&dropped)
        .filter(|(_, d)| !**d)
        .map(|(b, _)| b.clone())
        .collect();
    for _ in 0..n {
        let src = &all[rng.below(all.len())];
        let (dx, dy) = (rng.signed(), rng.signed());
        let len = dx.hypot(dy).max(1e-9);
        let dist = 3.0 + 7.0 * (rng.next() % 1000) as f64 / 1000.0;
        *next_fid += 1;
        out.push(Building {
            fid: *next_fid,
            pt: Coord {
                x: src.pt.x + dx / len * dist,
                y: src.pt.y + dy / len * dist,
            },
            outline: Vec::new(),
        });
    }
    out
}

/// The unit with the most buildings' ground split at its box's middle:
/// the east half becomes `LI-99`. Returns the split unit's code.
fn split_unit(inputs: &mut Inputs) -> String {
    let k = (0..inputs.admin.len())
        .max_by_key(|&k| {
            let g = &inputs.admin[k].geom;
            inputs
                .buildings
                .iter()
                .filter(|b| g.intersects(&geo_types::Point(b.pt)))
                .count()
        })
        .unwrap();
    let unit = inputs.admin[k].clone();
    let b = unit.geom.bounding_rect().unwrap();
    let mid = (b.min().x + b.max().x) / 2.0;
    let half = |x0: f64, x1: f64| {
        let r = Rect::new(
            Coord {
                x: x0,
                y: b.min().y - 1.0,
            },
            Coord {
                x: x1,
                y: b.max().y + 1.0,
            },
        );
        unit.geom.intersection(&MultiPolygon(vec![r.to_polygon()]))
    };
    inputs.admin[k].geom = half(b.min().x - 1.0, mid);
    inputs.admin.push(AdminUnit {
        fid: 99,
        code: "LI-99".into(),
        name: format!("{} East", unit.name),
        geom: half(mid, b.max().x + 1.0),
    });
    unit.code
}

/// Two neighbouring units (the first pair by code, neither `avoid`) made
/// one under the first's code. Returns both codes.
fn merge_units(inputs: &mut Inputs, avoid: &str) -> (String, String) {
    let mut order: Vec<usize> = (0..inputs.admin.len())
        .filter(|&k| inputs.admin[k].code != avoid && inputs.admin[k].code != "LI-99")
        .collect();
    order.sort_by(|&a, &b| inputs.admin[a].code.cmp(&inputs.admin[b].code));
    for (x, &i) in order.iter().enumerate() {
        for &j in &order[x + 1..] {
            let (a, b) = (&inputs.admin[i], &inputs.admin[j]);
            if a.geom.intersects(&b.geom) {
                let codes = (a.code.clone(), b.code.clone());
                inputs.admin[i].geom = a.geom.union(&b.geom);
                inputs.admin.remove(j);
                return codes;
            }
        }
    }
    panic!("no two units meet");
}

fn neighborhood_ids(f: &[Neighborhood], skip: &[&str]) -> BTreeSet<String> {
    f.iter()
        .filter(|n| n.kind == FeatureKind::Neighborhood && !skip.contains(&n.admin_code.as_str()))
        .map(|n| n.id.clone())
        .collect()
}

/// Yesterday's neighborhoods (outside `skip`) that continue as one of
/// today's: a neighborhood holding at least half of its area, and at least
/// half of whose area it was. Returns how many, and how many of them kept
/// their id.
fn continuing(yesterday: &[Neighborhood], today: &[Neighborhood], skip: &[&str]) -> (usize, usize) {
    use dongne::geom::overlay;
    let area = |s: &[dongne::geom::shape::Shape]| s.iter().map(overlay::shape_area).sum::<f64>();
    let now: Vec<_> = today
        .iter()
        .filter(|c| c.kind == FeatureKind::Neighborhood)
        .map(|c| (c, c.geom.bounding_rect(), overlay::shapes_of(&c.geom)))
        .collect();
    let (mut n, mut kept) = (0, 0);
    for p in yesterday {
        if p.kind != FeatureKind::Neighborhood || skip.contains(&p.admin_code.as_str()) {
            continue;
        }
        let (Some(pb), ps) = (p.geom.bounding_rect(), overlay::shapes_of(&p.geom)) else {
            continue;
        };
        let pa = area(&ps);
        let found = now.iter().find(|(_, cb, cs)| {
            cb.is_some_and(|cb| cb.intersects(&pb)) && {
                let a = area(&overlay::intersection(&ps, cs).unwrap());
                a >= 0.5 * pa && a >= 0.5 * area(cs)
            }
        });
        if let Some((c, _, _)) = found {
            n += 1;
            kept += usize::from(c.id == p.id);
        }
    }
    (n, kept)
}

#[test]
fn thirty_days_of_history_rebuild_every_day_byte_for_byte() {
    let started = std::time::Instant::now();
    let days: usize = std::env::var("DONGNE_HISTORY_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    assert!(shared().join("osm/liechtenstein.osm.pbf").exists());
    let cfg = Config::from_file(&repo().join("examples/liechtenstein.toml")).unwrap();
    let loaded = inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let crs = loaded.crs.clone();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("history.gpkg");
    // The 15th and the 22nd of 30 days.
    let split_day = (days / 2).saturating_sub(1).max(1);
    let merge_day = (days * 22 / 30).saturating_sub(1).max(split_day + 1);
    let first = Date::parse("2026-11-01").unwrap();
    let mut inputs = loaded.inputs.clone();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next_fid = 50_000_000;
    let mut date = first;
    let mut dates = Vec::new();
    let mut yesterday: Vec<Neighborhood> = Vec::new();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    let mut kept_total = (0usize, 0usize);
    let mut cont_total = (0usize, 0usize);
    let mut split_code = String::new();
    let mut merged_codes = (String::new(), String::new());
    for d in 0..days {
        let mut changed_units: Vec<String> = Vec::new();
        if d > 0 {
            inputs.buildings = edit_buildings(&inputs.buildings, &mut rng, &mut next_fid);
            date = date.succ();
        }
        if d == split_day {
            split_code = split_unit(&mut inputs);
            changed_units.push(split_code.clone());
        }
        if d == merge_day {
            merged_codes = merge_units(&mut inputs, &split_code);
            changed_units.extend([merged_codes.0.clone(), merged_codes.1.clone()]);
        }
        let mut features = pipeline::run(&inputs, &cfg.params, false)
            .unwrap_or_else(|e| panic!("{e}"))
            .features;
        let h = History::open(&store).unwrap();
        let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
        let rec = history::record(&h, None, &mut features, date, &pts, &crs)
            .unwrap_or_else(|e| panic!("{e}"));
        let out = write::write_staged(
            &write::Destination::File(dir.path().join(format!("{date}.gpkg"))),
            &features,
            &crs,
            None,
        )
        .unwrap();
        let mut staged: Vec<_> = rec.staged.into_iter().collect();
        staged.push(out);
        write::commit_all(staged).unwrap();
        if d == split_day {
            write::write(
                &dir.path().join(format!("{date}.geojson")),
                &features,
                &crs,
                None,
            )
            .unwrap();
        }
        // Ids: unique, and none that went ever comes back.
        let today: BTreeSet<String> = features.iter().map(|f| f.id.clone()).collect();
        assert_eq!(today.len(), features.len(), "{date}: an id twice");
        let back: Vec<&String> = today.intersection(&gone).collect();
        assert!(back.is_empty(), "{date}: ids given again: {back:?}");
        if d > 0 {
            let skip: Vec<&str> = changed_units.iter().map(String::as_str).collect();
            let before = neighborhood_ids(&yesterday, &skip);
            let now = neighborhood_ids(&features, &[]);
            let kept = before.iter().filter(|id| now.contains(*id)).count();
            let (cont, cont_kept) = continuing(&yesterday, &features, &skip);
            eprintln!(
                "{date}: {kept} of {} neighborhood ids kept, {cont_kept} of {cont} continuing; {}",
                before.len(),
                rec.plan.one_line("store")
            );
            assert!(
                kept as f64 >= 0.97 * before.len() as f64,
                "{date}: {kept} of {} kept",
                before.len()
            );
            assert!(
                cont_kept as f64 >= 0.99 * cont as f64,
                "{date}: {cont_kept} of {cont} continuing kept"
            );
            kept_total.0 += kept;
            kept_total.1 += before.len();
            cont_total.0 += cont_kept;
            cont_total.1 += cont;
            for f in &yesterday {
                if !today.contains(&f.id) {
                    gone.insert(f.id.clone());
                }
            }
        }
        dates.push(date);
        yesterday = features;
    }
    // Every day's layer, rebuilt, is that day's file.
    let h = History::open(&store).unwrap();
    assert_eq!(h.runs.len(), days);
    for day in &dates {
        let (features, crs) = h.at(*day).unwrap();
        let re = dir.path().join("rebuilt.gpkg");
        write::write(&re, &features, &crs, None).unwrap();
        let want = std::fs::read(dir.path().join(format!("{day}.gpkg"))).unwrap();
        assert!(
            std::fs::read(&re).unwrap() == want,
            "{day}: rebuilt differs"
        );
    }
    // The lineage: the split unit's eastern ground and the merged unit's
    // ground resolve to today's ids.
    let split_date = dates[split_day].to_string();
    let on = |day: &str, change: ChangeKind| {
        h.lineage
            .iter()
            .filter(|l| l.date.to_string() == day && l.change == change)
            .collect::<Vec<_>>()
    };
    let to_east = on(&split_date, ChangeKind::Removed)
        .into_iter()
        .filter(|l| l.new_id.as_deref().is_some_and(|n| n.starts_with("LI-99-")))
        .count();
    assert!(to_east > 0, "no lineage into LI-99");
    let merge_date = dates[merge_day].to_string();
    let absorbed: Vec<_> = on(&merge_date, ChangeKind::Removed)
        .into_iter()
        .filter(|l| {
            l.old_id
                .as_deref()
                .is_some_and(|o| o.starts_with(&format!("{}-", merged_codes.1)))
        })
        .collect();
    assert!(!absorbed.is_empty(), "no lineage out of {}", merged_codes.1);
    for l in &absorbed {
        let n = l.new_id.as_deref().unwrap_or_else(|| panic!("{l:?}"));
        assert!(n.starts_with(&format!("{}-", merged_codes.0)), "{l:?}");
        let s = l.area_share.unwrap();
        assert!(s > 0.0 && s <= 1.0, "{l:?}");
    }
    // A rerun of the last day with the same data adds nothing: the store
    // keeps its bytes.
    let bytes = std::fs::read(&store).unwrap();
    let mut again = yesterday.clone();
    for f in &mut again {
        f.id = format!("x{}", f.id);
    }
    let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
    let last = *dates.last().unwrap();
    let rec = history::record(&h, None, &mut again, last, &pts, &crs).unwrap();
    assert!(rec.staged.is_none(), "{}", rec.plan.one_line("store"));
    assert_eq!(again, yesterday);
    assert!(std::fs::read(&store).unwrap() == bytes);
    // An earlier day is refused.
    let Err(e) = history::record(&h, None, &mut again, first, &pts, &crs) else {
        panic!("an earlier day was recorded");
    };
    assert_eq!(
        e.to_string(),
        format!(
            "{0}: --as-of {first} is before the last run in the history, {last}\n  hint: a history grows forward: run with --as-of {last} or later; the layer of {first} is rebuilt with dongne history {0} --as-of {first} -o FILE",
            store.display()
        )
    );
    // Through the binary: a day in GeoPackage, the split day in GeoJSON.
    for (day, ext) in [(dates[1], "gpkg"), (dates[split_day], "geojson")] {
        let out = format!("re-{day}.{ext}");
        let (code, err) = run_in(
            dir.path(),
            &[
                "-q",
                "history",
                "history.gpkg",
                "--as-of",
                &day.to_string(),
                "-o",
                &out,
            ],
        );
        assert_eq!((code, err.as_str()), (0, ""));
        let want = std::fs::read(dir.path().join(format!("{day}.{ext}"))).unwrap();
        assert!(
            std::fs::read(dir.path().join(&out)).unwrap() == want,
            "{out}"
        );
    }
    let versions: BTreeMap<i64, usize> = h.versions.iter().fold(BTreeMap::new(), |mut m, v| {
        *m.entry(v.version).or_insert(0) += 1;
        m
    });
    eprintln!(
        "{days} days: {} of {} neighborhood ids kept ({:.2} %), {} of {} continuing ({:.2} %), {} versions {versions:?}, {} lineage rows, {:.1} s",
        kept_total.0,
        kept_total.1,
        100.0 * kept_total.0 as f64 / kept_total.1.max(1) as f64,
        cont_total.0,
        cont_total.1,
        100.0 * cont_total.0 as f64 / cont_total.1.max(1) as f64,
        h.versions.len(),
        h.lineage.len(),
        started.elapsed().as_secs_f64()
    );
}

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
    assert_contains(&err, "is before the last run in the history, 2026-11-02");
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
