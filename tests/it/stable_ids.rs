//! Stable ids across runs (`generate --previous`), on real data: Liechtenstein
//! (examples/liechtenstein.toml: 14,044 buildings, 11 municipalities, about
//! 540 neighborhoods and 300 barrier features).
//!
//! - identical input, read back from every output format: every id kept, an
//!   empty change report;
//! - 1% of the buildings removed, or 1% added (copies of random buildings
//!   moved by a few metres), with a fixed seed: at least 95% of yesterday's
//!   neighborhoods keep their id;
//! - a new road across the middle of one neighborhood: the report holds
//!   exactly one split, of that neighborhood.
//!
//! The data is loaded and the base run made once for the whole file.

use crate::common::{repo, shared};
use std::sync::OnceLock;

use dongne::io::config::Config;
use dongne::io::inputs::{self, Loaded};
use dongne::io::write;
use dongne::method::pipeline::{self, Output};
use dongne::model::{
    BarrierKind, Building, FeatureKind, FeatureName, Inputs, LineBarrier, Neighborhood,
};
use dongne::products::ids::{self, ChangeKind, ChangeReport, Previous};
use geo::{BoundingRect, Contains, LinesIter};
use geo_types::{Coord, LineString, MultiPolygon, Point};

struct Base {
    cfg: Config,
    loaded: Loaded,
    /// The run with debug layers (its enclosures find a neighborhood to cut).
    out: Output,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        assert!(shared().join("osm/liechtenstein.osm.pbf").exists());
        let cfg = Config::from_file(&repo().join("examples/liechtenstein.toml")).unwrap();
        let loaded = inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
        let out = pipeline::run(&loaded.inputs, &cfg.params, true).unwrap();
        Base { cfg, loaded, out }
    })
}

fn run(inputs: &Inputs) -> Vec<Neighborhood> {
    pipeline::run(inputs, &base().cfg.params, false)
        .unwrap_or_else(|e| panic!("{e}"))
        .features
}

/// xorshift64*: a fixed, dependency-free sequence for "random" edits.
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
    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn neighborhood_ids(f: &[Neighborhood]) -> Vec<String> {
    f.iter()
        .filter(|n| n.kind == FeatureKind::Neighborhood)
        .map(|n| n.id.clone())
        .collect()
}

/// Share of yesterday's neighborhoods whose id is on a neighborhood today.
fn kept_share(yesterday: &[Neighborhood], today: &[Neighborhood]) -> (usize, usize, f64) {
    let today_ids: std::collections::HashSet<String> =
        neighborhood_ids(today).into_iter().collect();
    let before = neighborhood_ids(yesterday);
    let kept = before.iter().filter(|id| today_ids.contains(*id)).count();
    (kept, before.len(), kept as f64 / before.len() as f64)
}

fn assert_ids_unique(f: &[Neighborhood]) {
    let mut ids: Vec<&str> = f.iter().map(|n| n.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
}

/// Names by position on the settled features, the same every run
/// whatever the naming step gives: Hangul and Latin, to cross every format.
fn name_by_position(features: &mut [Neighborhood]) {
    for (i, f) in features.iter_mut().enumerate() {
        f.name = f.kind.is_settled().then(|| FeatureName {
            name: format!("동네 {i} Quartier"),
            name_en: None,
            source: "names".into(),
        });
    }
}

#[test]
fn identical_input_keeps_every_id_in_every_format() {
    let b = base();
    let mut yesterday = b.out.features.clone();
    name_by_position(&mut yesterday);
    let yesterday = &yesterday;
    let dir = tempfile::tempdir().unwrap();
    for name in ["y.gpkg", "y.geojson", "y.fgb", "y.shp"] {
        let path = dir.path().join(name);
        write::write(&path, yesterday, &b.loaded.crs, None).unwrap();
        let prev = Previous::read(&path, None, &b.loaded.crs).unwrap();
        assert_eq!(prev.features.len(), yesterday.len(), "{name}");
        assert!(prev.has_names, "{name}");
        let mut today = run(&b.loaded.inputs);
        name_by_position(&mut today);
        // Scramble today's ids: they must all come back from the file.
        for f in &mut today {
            f.id = format!("x{}", f.id);
        }
        let report = ids::carry_over(&mut today, &prev).unwrap();
        let got: Vec<&str> = today.iter().map(|f| f.id.as_str()).collect();
        let want: Vec<&str> = yesterday.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(report.changes, vec![], "{name}");
        assert_eq!(
            (
                report.summary.kept,
                report.summary.ids_carried,
                report.summary.ids_new
            ),
            (yesterday.len(), yesterday.len(), 0),
            "{name}"
        );
        assert_eq!(
            report.one_line(),
            format!(
                "ids against {}: {} kept, 0 reshaped, 0 split, 0 merged, 0 added, 0 removed, 0 renamed",
                path.display(),
                yesterday.len()
            )
        );
        // One name changed: one rename, read back from every format.
        let k = today.iter().position(|f| f.kind.is_settled()).unwrap();
        today[k].name.as_mut().unwrap().name = "새 이름".into();
        let report = ids::carry_over(&mut today, &prev).unwrap();
        assert_eq!(report.summary.renamed, 1, "{name}");
        let names = report.changes[0].names.clone().unwrap();
        assert_eq!(
            (names.previous_name, names.current_name),
            (Some(format!("동네 {k} Quartier")), Some("새 이름".into())),
            "{name}"
        );
    }
}

fn report_counts(r: &ChangeReport) -> String {
    let s = &r.summary;
    format!(
        "kept {}, reshaped {}, split {}, merged {}, added {}, removed {}",
        s.kept, s.reshaped, s.split, s.merged, s.added, s.removed
    )
}

/// Today's run on `inputs`, its ids carried over from `yesterday`: the
/// features and the change report. Every id must be unique.
fn carried_over(yesterday: &[Neighborhood], inputs: &Inputs) -> (Vec<Neighborhood>, ChangeReport) {
    let prev = Previous::from_features("yesterday", yesterday);
    let mut today = run(inputs);
    let report = ids::carry_over(&mut today, &prev).unwrap();
    assert_ids_unique(&today);
    (today, report)
}

/// At least `min` of yesterday's neighborhood ids are on neighborhoods
/// today; `edit` says what changed, for the log.
fn assert_kept(
    yesterday: &[Neighborhood],
    today: &[Neighborhood],
    report: &ChangeReport,
    min: f64,
    edit: &str,
) {
    let (kept, total, share) = kept_share(yesterday, today);
    eprintln!(
        "{edit}: {kept} of {total} neighborhood ids kept ({:.1}%); {}",
        share * 100.0,
        report_counts(report)
    );
    assert!(share >= min, "{kept} of {total} kept");
}

/// The base run's buildings with 1% of them edited (`edit` gets them all,
/// how many to edit and a generator seeded with `seed`, and returns today's
/// buildings): at least 95% of the ids are kept. `what` is what the edit
/// does, for the log.
fn assert_one_percent_edit_keeps_95_percent(
    seed: u64,
    what: &str,
    edit: impl FnOnce(&[Building], usize, &mut Rng) -> Vec<Building>,
) {
    let b = base();
    let all = &b.loaded.inputs.buildings;
    let n = all.len() / 100;
    let mut inputs = b.loaded.inputs.clone();
    inputs.buildings = edit(all, n, &mut Rng(seed));
    let (today, report) = carried_over(&b.out.features, &inputs);
    let edit = format!("1% {what} ({n} of {} buildings)", all.len());
    assert_kept(&b.out.features, &today, &report, 0.95, &edit);
}

#[test]
fn one_percent_of_buildings_removed_keeps_at_least_95_percent_of_ids() {
    assert_one_percent_edit_keeps_95_percent(
        0x9E37_79B9_7F4A_7C15,
        "removed",
        |all, n_drop, rng| {
            let mut dropped = vec![false; all.len()];
            let mut k = 0;
            while k < n_drop {
                let i = rng.below(all.len());
                if !dropped[i] {
                    dropped[i] = true;
                    k += 1;
                }
            }
            all.iter()
                .zip(&dropped)
                .filter(|(_, d)| !**d)
                .map(|(b, _)| b.clone())
                .collect()
        },
    );
}

#[test]
fn one_percent_of_buildings_added_keeps_at_least_95_percent_of_ids() {
    assert_one_percent_edit_keeps_95_percent(0xD1B5_4A32_D192_ED03, "added", |all, n_add, rng| {
        let mut buildings = all.to_vec();
        for k in 0..n_add {
            let src = all[rng.below(all.len())].clone();
            // A new house beside an existing one: 3 to 10 m away.
            let (dx, dy) = (rng.signed(), rng.signed());
            let len = dx.hypot(dy).max(1e-9);
            let dist = 3.0 + 7.0 * (rng.next() % 1000) as f64 / 1000.0;
            buildings.push(Building {
                fid: 10_000_000 + k as i64,
                pt: Coord {
                    x: src.pt.x + dx / len * dist,
                    y: src.pt.y + dy / len * dist,
                },
                outline: Vec::new(),
            });
        }
        buildings
    });
}

/// The neighborhood to cut, and the road across it: the line through the
/// median height of its buildings, over its widest stretch at that height,
/// where that stretch runs from edge to edge of its enclosure (from barrier
/// to barrier, or to its unit's edge), so that the road splits the enclosure
/// and crosses no other neighborhood. Among such neighborhoods with
/// buildings and ground enough for two, the one with the most buildings.
fn neighborhood_to_cut(b: &Base) -> (usize, LineString<f64>) {
    let p = &b.cfg.params;
    let pts: Vec<Point<f64>> = b
        .loaded
        .inputs
        .buildings
        .iter()
        .map(|x| Point(x.pt))
        .collect();
    let enclosures = &b.out.debug.as_ref().unwrap().enclosures;
    let mut best: Option<(usize, usize, LineString<f64>)> = None;
    for (i, f) in b.out.features.iter().enumerate() {
        if f.kind != FeatureKind::Neighborhood
            || f.buildings < 4 * p.min_buildings
            || f.area_m2 < 4.0 * p.min_area
        {
            continue;
        }
        let mut inside: Vec<Point<f64>> = pts
            .iter()
            .filter(|q| f.geom.contains(*q))
            .copied()
            .collect();
        inside.sort_by(|a, c| a.y().total_cmp(&c.y()));
        let mid = inside[inside.len() / 2];
        // Half a metre above the median building: not through a vertex.
        let y = mid.y() + 0.5;
        let Some((x0, x1)) = runs(&f.geom, y)
            .into_iter()
            .max_by(|a, c| (a.1 - a.0).total_cmp(&(c.1 - c.0)))
        else {
            continue;
        };
        let Some((_, e)) = enclosures.iter().find(|(_, e)| e.contains(&mid)) else {
            continue;
        };
        let centre = (x0 + x1) / 2.0;
        let across = runs(&MultiPolygon(vec![e.clone()]), y)
            .into_iter()
            .find(|r| r.0 <= centre && centre <= r.1)
            .is_some_and(|r| (r.0 - x0).abs() < 0.5 && (r.1 - x1).abs() < 0.5);
        if !across {
            continue;
        }
        // A metre beyond each end: into the barrier it ends at.
        let line = LineString::from(vec![(x0 - 1.0, y), (x1 + 1.0, y)]);
        if best.as_ref().is_none_or(|(_, n, _)| f.buildings > *n) {
            best = Some((i, f.buildings, line));
        }
    }
    let (i, _, line) = best.expect("a neighborhood that spans its enclosure");
    (i, line)
}

/// The stretches of the horizontal line at `y` inside `mp`, west to east.
fn runs(mp: &MultiPolygon<f64>, y: f64) -> Vec<(f64, f64)> {
    let mut xs: Vec<f64> = mp
        .lines_iter()
        .filter(|l| (l.start.y > y) != (l.end.y > y))
        .map(|l| l.start.x + (y - l.start.y) * l.dx() / l.dy())
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.chunks_exact(2).map(|w| (w[0], w[1])).collect()
}

#[test]
fn a_new_road_across_one_neighborhood_is_reported_as_its_split() {
    let b = base();
    let (i, line) = neighborhood_to_cut(b);
    let cut = &b.out.features[i];
    let r = line.bounding_rect().unwrap();
    eprintln!(
        "cutting {} ({} buildings, {:.0} m²) along y = {:.1} from x = {:.1} to {:.1}",
        cut.id,
        cut.buildings,
        cut.area_m2,
        r.min().y,
        r.min().x,
        r.max().x
    );
    // The base run had debug layers on; ids do not depend on them.
    let yesterday = run(&b.loaded.inputs);
    assert_eq!(
        neighborhood_ids(&yesterday),
        neighborhood_ids(&b.out.features)
    );
    let mut inputs = b.loaded.inputs.clone();
    inputs.lines.push(LineBarrier {
        fid: 9_999_999,
        kind: BarrierKind::Road,
        class: "primary".into(),
        width_m: 15.0,
        geom: line,
        covered: false,
    });
    let (today, report) = carried_over(&yesterday, &inputs);
    eprintln!("{}", report.to_json().unwrap());
    let splits: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Split)
        .collect();
    let s = splits
        .iter()
        .find(|s| s.previous == vec![cut.id.clone()])
        .unwrap_or_else(|| panic!("{:#?}", report.changes));
    assert_eq!(s.previous, vec![cut.id.clone()]);
    assert_eq!(s.feature_kind, "neighborhood");
    assert!(s.current.len() >= 2, "{s:?}");
    // The larger piece keeps the id; the pieces hold most of it (a stray
    // piece of a hot spot's region may go to a neighbour: one piece each).
    assert_eq!(s.current[0], cut.id);
    let total: f64 = s.overlap.iter().sum();
    assert!(total > 0.9 && total < 1.0 + 1e-3, "{:?}", s.overlap);
    // The road moves hot spots of the same enclosure from one side to the
    // other, so its neighbours may be reshaped (or merged) too; but only
    // within the cut neighborhood's unit, and nearly every id stays.
    for c in &report.changes {
        assert_eq!(c.admin_code, cut.admin_code, "{c:?}");
    }
    assert_kept(&yesterday, &today, &report, 0.99, "a road across one");
}
