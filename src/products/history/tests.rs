//! Unit tests of the history: versions, lineage, reruns and rebuilds on
//! squares in one unit, through a real store in a temporary folder.

use super::*;
use crate::io::write;
use crate::model::FeatureKind;
use geo_types::{polygon, MultiPolygon};

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)],
    ])
}

fn nbhd(geom: MultiPolygon<f64>, buildings: usize) -> Neighborhood {
    use geo::Area;
    Neighborhood {
        id: "x".into(),
        kind: FeatureKind::Neighborhood,
        admin_code: "A".into(),
        admin_name: "Unit A".into(),
        area_m2: geom.unsigned_area() + 1.0 / 3.0,
        geom,
        perimeter_m: 0.123_456,
        buildings,
        compactness: 0.5,
        bounded_by: "road".into(),
        level: 1,
        parent_id: None,
        name: Some(FeatureName {
            name: "Somewhere".into(),
            name_en: None,
            source: "fallback".into(),
        }),
    }
}

use crate::model::FeatureName;

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn crs() -> WorkingCrs {
    WorkingCrs::from_epsg(32632).unwrap()
}

/// One run: the features drawn from `shapes`, recorded and committed.
fn run(store: &Path, as_of: &str, shapes: &[MultiPolygon<f64>]) -> (Vec<Neighborhood>, Plan) {
    let h = History::open(store).unwrap();
    let mut f: Vec<Neighborhood> = shapes.iter().map(|g| nbhd(g.clone(), 10)).collect();
    for (i, x) in f.iter_mut().enumerate() {
        x.id = format!("A-{:03}", i + 1);
    }
    let pts: Vec<Coord<f64>> = (0..100)
        .map(|k| Coord {
            x: 5.0 + 10.0 * (k % 10) as f64,
            y: 5.0 + 10.0 * (k / 10) as f64,
        })
        .collect();
    let r = record(&h, None, &mut f, day(as_of), &pts, &crs(), Ok).unwrap();
    if let Some(s) = r.staged {
        write::commit_all(vec![s]).unwrap();
    }
    (f, r.plan)
}

use std::path::Path;

#[test]
fn versions_close_only_on_change_and_ids_resolve_through_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.gpkg");
    let left = rect(0.0, 0.0, 50.0, 100.0);
    let right = rect(50.0, 0.0, 100.0, 100.0);
    let (d1, p1) = run(&store, "2026-11-01", &[left.clone(), right.clone()]);
    assert_eq!((p1.add.len(), p1.close.len(), p1.lineage.len()), (2, 0, 0));
    // The same ground the next day: nothing new.
    let (_, p2) = run(&store, "2026-11-02", &[left.clone(), right.clone()]);
    assert_eq!((p2.add.len(), p2.close.len()), (0, 0));
    // The right half splits in two.
    let top = rect(50.0, 50.0, 100.0, 100.0);
    let bottom = rect(50.0, 0.0, 100.0, 49.0);
    let (d3, p3) = run(
        &store,
        "2026-11-03",
        &[left.clone(), top.clone(), bottom.clone()],
    );
    assert_eq!(p3.add.len(), 2, "{p3:?}");
    assert_eq!(p3.close.len(), 1);
    let ids: Vec<&str> = d3.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["A-001", "A-002", "A-003"]);
    let split: Vec<_> = p3
        .lineage
        .iter()
        .map(|l| {
            (
                l.old_id.as_deref(),
                l.old_version,
                l.new_id.as_deref(),
                l.new_version,
                l.area_share,
                l.building_share,
                l.change,
            )
        })
        .collect();
    assert_eq!(
        split,
        [
            (
                Some("A-002"),
                Some(1),
                Some("A-002"),
                Some(2),
                Some(0.5),
                Some(0.5),
                ChangeKind::Split
            ),
            (
                Some("A-002"),
                Some(1),
                Some("A-003"),
                Some(1),
                Some(0.49),
                Some(0.5),
                ChangeKind::Split
            ),
        ]
    );
    // Read back: every layer as it was, in its order.
    let h = History::open(&store).unwrap();
    assert_eq!(h.runs.len(), 3);
    assert_eq!(h.versions.len(), 4);
    assert_eq!(h.lineage.len(), 2);
    let as_written: Vec<Neighborhood> = d1.iter().map(write::as_written).collect();
    assert_eq!(h.at(day("2026-11-01")).unwrap().0, as_written);
    assert_eq!(h.at(day("2026-11-02")).unwrap().0, as_written);
    let d3w: Vec<Neighborhood> = d3.iter().map(write::as_written).collect();
    assert_eq!(h.at(day("2026-12-25")).unwrap().0, d3w);
    let e = h.at(day("2026-10-31")).unwrap_err();
    assert!(
        e.to_string()
            .contains("the history starts on 2026-11-01, after 2026-10-31"),
        "{e}"
    );
    // An id is never given again: A-003 goes, the next new one is A-004.
    run(&store, "2026-11-04", &[left.clone(), right.clone()]);
    let (d5, _) = run(&store, "2026-11-05", &[left, top, bottom]);
    let ids: Vec<&str> = d5.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["A-001", "A-002", "A-004"]);
}

#[test]
fn a_rerun_of_the_day_adds_nothing_and_an_earlier_day_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.gpkg");
    let a = rect(0.0, 0.0, 100.0, 100.0);
    let b = rect(0.0, 0.0, 100.0, 90.0);
    run(&store, "2026-11-01", std::slice::from_ref(&a));
    run(&store, "2026-11-02", std::slice::from_ref(&b));
    let bytes = std::fs::read(&store).unwrap();
    let (_, p) = run(&store, "2026-11-02", std::slice::from_ref(&b));
    assert!(p.rerun && p.already_stored(&History::open(&store).unwrap()));
    assert_eq!(
        std::fs::read(&store).unwrap(),
        bytes,
        "the store was rewritten"
    );
    // A rerun with other data replaces the day's versions.
    run(&store, "2026-11-02", std::slice::from_ref(&a));
    let h = History::open(&store).unwrap();
    assert_eq!(h.versions.len(), 1, "{:?}", h.versions);
    assert_eq!(h.runs.len(), 2);
    let e = h.check_date(day("2026-11-01")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{0}: --as-of 2026-11-01 is before the last run in the history, 2026-11-02\n  hint: a history grows forward: run with --as-of 2026-11-02 or later; the layer of 2026-11-01 is rebuilt with dongne history {0} --as-of 2026-11-01 -o FILE",
            store.display()
        )
    );
}

#[test]
fn a_staged_run_dropped_uncommitted_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.gpkg");
    run(&store, "2026-11-01", &[rect(0.0, 0.0, 100.0, 100.0)]);
    let bytes = std::fs::read(&store).unwrap();
    let h = History::open(&store).unwrap();
    let mut f = vec![nbhd(rect(0.0, 0.0, 60.0, 100.0), 3)];
    let r = record(&h, None, &mut f, day("2026-11-02"), &[], &crs(), Ok).unwrap();
    assert!(r.staged.is_some());
    drop(r);
    assert_eq!(std::fs::read(&store).unwrap(), bytes);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left");
}

#[test]
fn a_file_that_is_not_a_history_is_named_with_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.gpkg");
    write::write(&out, &[nbhd(rect(0.0, 0.0, 1.0, 1.0), 1)], &crs(), None).unwrap();
    let e = History::open(&out).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: not a dongne history: no layer 'history' (the file has: neighborhoods, layer_styles)\n  hint: {HINT}", out.display())
    );
    let e = History::open(&dir.path().join("h.geojson")).unwrap_err();
    assert!(e.to_string().contains("must end in .gpkg"), "{e}");
}

use super::store::HINT;
