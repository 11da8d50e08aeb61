//! Boundaries with a history (issue 23): a series of daily runs on
//! Liechtenstein (examples/liechtenstein.toml, 14,044 buildings, 11
//! municipalities) recorded in one store. The binary's `generate
//! --history` and `dongne history`, bad inputs and PostGIS are in
//! history_cli.rs.
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
//! the test profile, 29 s in release, on two cores shared with another
//! build; 98.6 % of all neighborhood ids and 100 % of the continuing ones
//! kept, 8,877 versions, 4,824 lineage rows).

use crate::common::{repo, run_in, shared};
use std::collections::{BTreeMap, BTreeSet};

use dongne::io::config::Config;
use dongne::io::inputs;
use dongne::io::write;
use dongne::method::pipeline;
use dongne::model::{AdminUnit, Building, FeatureKind, Inputs, Neighborhood};
use dongne::products::history::{self, Date, History};
use dongne::products::ids::ChangeKind;
use dongne::products::levels::{with_levels, LevelSpec, DEFAULT_HARD};
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
    let level_spec = LevelSpec {
        walk_minutes: vec![10.0, 20.0],
        hard: DEFAULT_HARD.iter().map(|s| s.to_string()).collect(),
    };
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
    let mut last_all: Vec<Neighborhood> = Vec::new();
    let (mut east, mut absorbed) = ((0usize, 0usize), (0usize, 0usize));
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
        // With levels: the store keeps every level, and rebuilds them.
        let levels = |f| with_levels(f, &inputs.lines, &pts, &level_spec);
        let rec = history::record(&h, None, &mut features, date, &pts, &crs, levels)
            .unwrap_or_else(|e| panic!("{e}"));
        let out = write::write_staged(
            &write::Destination::File(dir.path().join(format!("{date}.gpkg"))),
            &features,
            &crs,
            None,
            &[],
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
        // Ids: unique across levels; at level 1, none that went ever comes
        // back (a coarser level's id is its first member's, with -L2).
        let all: BTreeSet<&str> = features.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(all.len(), features.len(), "{date}: an id twice");
        assert!(features.iter().any(|f| f.level == 3), "{date}: no level 3");
        last_all = features.clone();
        let features: Vec<Neighborhood> = features.into_iter().filter(|f| f.level == 1).collect();
        let in_unit = |code: &str, prefix: &str| {
            let of: Vec<&Neighborhood> = features
                .iter()
                .filter(|f| f.kind == FeatureKind::Neighborhood && f.admin_code == code)
                .collect();
            let kept = of
                .iter()
                .filter(|f| f.id.starts_with(&format!("{prefix}-")))
                .count();
            (kept, of.len())
        };
        if d == split_day {
            east = in_unit("LI-99", &split_code);
        }
        if d == merge_day {
            let gone_unit = merged_codes.1.clone();
            let before = yesterday
                .iter()
                .filter(|f| f.kind == FeatureKind::Neighborhood && f.admin_code == gone_unit)
                .count();
            absorbed = (in_unit(&merged_codes.0, &gone_unit).0, before);
        }
        let today: BTreeSet<String> = features.iter().map(|f| f.id.clone()).collect();
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
    // 행정구역 변경: the split unit's eastern ground keeps its ids in the new
    // unit LI-99, the absorbed unit's ground its ids in the merged one; the
    // lineage still says what changed on those days.
    eprintln!("split: {east:?} of LI-99's neighborhoods kept; merge: {absorbed:?} of the absorbed unit's kept");
    assert!(east.1 > 0 && east.0 * 10 >= east.1 * 8, "split: {east:?}");
    assert!(
        absorbed.1 > 0 && absorbed.0 * 10 >= absorbed.1 * 8,
        "merge: {absorbed:?}"
    );
    assert!(
        !on(&split_date, ChangeKind::Split).is_empty()
            || !on(&split_date, ChangeKind::Reshaped).is_empty()
    );
    let merge_date = dates[merge_day].to_string();
    assert!(h.lineage.iter().any(|l| l.date.to_string() == merge_date));
    // A rerun of the last day with the same data adds nothing: the store
    // keeps its bytes.
    let bytes = std::fs::read(&store).unwrap();
    let mut again = yesterday.clone();
    for f in &mut again {
        f.id = format!("x{}", f.id);
    }
    let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
    let last = *dates.last().unwrap();
    let levels = |f| with_levels(f, &inputs.lines, &pts, &level_spec);
    let rec = history::record(&h, None, &mut again, last, &pts, &crs, levels).unwrap();
    assert!(rec.staged.is_none(), "{}", rec.plan.one_line("store"));
    assert_eq!(again, last_all);
    assert!(std::fs::read(&store).unwrap() == bytes);
    // An earlier day is refused.
    let Err(e) = history::record(&h, None, &mut again, first, &pts, &crs, Ok) else {
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

/// 행정구역 변경: Jamsil drawn on its 법정동 one day and on its 행정동 the
/// next (every code changes, units are split and merged): neighborhoods
/// whose ground continues keep their ids, though their unit's code is new;
/// the store rebuilds both days.
#[test]
fn jamsil_from_beopjeongdong_to_hangjeongdong_keeps_the_ids_of_continuing_ground() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.gpkg");
    let mut days: Vec<Vec<Neighborhood>> = Vec::new();
    for (k, example) in ["jamsil_beopjeongdong.toml", "jamsil.toml"]
        .iter()
        .enumerate()
    {
        let cfg = Config::from_file(&repo().join("examples").join(example)).unwrap();
        let loaded = inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
        let mut features = pipeline::run(&loaded.inputs, &cfg.params, false)
            .unwrap_or_else(|e| panic!("{e}"))
            .features;
        let h = History::open(&store).unwrap();
        let pts: Vec<Coord> = loaded.inputs.buildings.iter().map(|b| b.pt).collect();
        let date = Date::parse(&format!("2026-11-0{}", k + 1)).unwrap();
        let rec = history::record(&h, None, &mut features, date, &pts, &loaded.crs, Ok).unwrap();
        write::commit_all(rec.staged.into_iter().collect()).unwrap();
        days.push(features);
    }
    let codes = |f: &[Neighborhood]| -> BTreeSet<String> {
        f.iter().map(|n| n.admin_code.clone()).collect()
    };
    assert!(codes(&days[0]).is_disjoint(&codes(&days[1])));
    let (cont, kept) = continuing(&days[0], &days[1], &[]);
    eprintln!("법정동 → 행정동: {kept} of {cont} continuing neighborhoods kept their id");
    assert!(cont >= 10, "{cont}");
    assert!(kept as f64 >= 0.99 * cont as f64, "{kept} of {cont}");
    // A kept id now lies in a 행정동 whose code it does not carry.
    assert!(days[1]
        .iter()
        .any(|f| f.kind == FeatureKind::Neighborhood && !f.id.starts_with(&f.admin_code)));
    let h = History::open(&store).unwrap();
    for (k, day) in ["2026-11-01", "2026-11-02"].iter().enumerate() {
        let (features, _) = h.at(Date::parse(day).unwrap()).unwrap();
        let ids = |f: &[Neighborhood]| f.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&features), ids(&days[k]), "{day}");
    }
}
