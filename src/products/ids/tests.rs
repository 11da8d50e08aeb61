//! Unit tests of the id carry-over and the change report.

use super::*;
use crate::model::FeatureKind;
use geo_types::polygon;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)],
    ])
}

fn nbhd(id: &str, geom: MultiPolygon<f64>) -> Neighborhood {
    Neighborhood {
        id: id.into(),
        kind: FeatureKind::Neighborhood,
        admin_code: "A".into(),
        admin_name: String::new(),
        geom,
        area_m2: 0.0,
        perimeter_m: 0.0,
        buildings: 0,
        compactness: 0.0,
        bounded_by: String::new(),
        name: None,
        level: 1,
        parent_id: None,
    }
}

fn prev(features: &[(&str, MultiPolygon<f64>)]) -> Previous {
    let f: Vec<Neighborhood> = features.iter().map(|(i, g)| nbhd(i, g.clone())).collect();
    Previous::from_features("y.gpkg", &f)
}

/// Today's features (in one admin unit) after `carry_over` from `p`:
/// their ids and the report.
fn carry(p: &Previous, today: &[MultiPolygon<f64>]) -> (Vec<String>, ChangeReport) {
    let mut cur: Vec<Neighborhood> = today.iter().map(|g| nbhd("x", g.clone())).collect();
    let r = carry_over(&mut cur, p).unwrap();
    (cur.into_iter().map(|c| c.id).collect(), r)
}

#[test]
fn identical_keeps_every_id_and_reports_nothing() {
    let p = prev(&[
        ("A-001", rect(0., 0., 100., 100.)),
        ("A-007", rect(100., 0., 200., 100.)),
    ]);
    let (ids, r) = carry(&p, &[rect(100., 0., 200., 100.), rect(0., 0., 100., 100.)]);
    assert_eq!(ids, ["A-007", "A-001"]);
    assert!(r.changes.is_empty());
    assert_eq!((r.summary.kept, r.summary.ids_carried), (2, 2));
}

#[test]
fn split_merge_reshape_add_remove() {
    let p = prev(&[
        ("A-001", rect(0., 0., 100., 100.)),   // split 60/40
        ("A-002", rect(200., 0., 300., 100.)), // merged with A-003
        ("A-003", rect(300., 0., 340., 100.)),
        ("A-004", rect(500., 0., 600., 100.)), // reshaped
        ("A-009", rect(800., 0., 900., 100.)), // removed
    ]);
    let (ids, r) = carry(
        &p,
        &[
            rect(0., 0., 60., 100.),
            rect(60., 0., 100., 100.),
            rect(200., 0., 340., 100.),
            rect(500., 0., 680., 100.),
            rect(1000., 0., 1100., 100.), // added
        ],
    );
    assert_eq!(ids, ["A-001", "A-010", "A-002", "A-004", "A-011"]);
    let change = |kind, previous: &[&str], current: &[&str], overlap: &[f64]| Change {
        kind,
        feature_kind: "neighborhood".into(),
        admin_code: "A".into(),
        previous: previous.iter().map(|x| x.to_string()).collect(),
        current: current.iter().map(|x| x.to_string()).collect(),
        overlap: overlap.to_vec(),
        names: None,
    };
    assert_eq!(
        r.changes,
        vec![
            change(
                ChangeKind::Split,
                &["A-001"],
                &["A-001", "A-010"],
                &[0.6, 0.4]
            ),
            change(
                ChangeKind::Merged,
                &["A-002", "A-003"],
                &["A-002"],
                &[0.7143, 0.2857]
            ),
            change(ChangeKind::Reshaped, &["A-004"], &["A-004"], &[0.5556]),
            change(ChangeKind::Added, &[], &["A-011"], &[]),
            change(ChangeKind::Removed, &["A-009"], &[], &[]),
        ]
    );
    assert_eq!(
        r.one_line(),
        "ids against y.gpkg: 0 kept, 1 reshaped, 1 split, 1 merged, 1 added, 1 removed, 0 renamed"
    );
}

#[test]
fn three_way_split_keeps_the_id_in_the_largest_piece() {
    let p = prev(&[("A-001", rect(0., 0., 100., 100.))]);
    let (ids, r) = carry(
        &p,
        &[
            rect(0., 0., 30., 100.),
            rect(30., 0., 64., 100.),
            rect(64., 0., 100., 100.),
        ],
    );
    assert_eq!(ids, ["A-002", "A-003", "A-001"]);
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].current, ["A-001", "A-003", "A-002"]);
    assert_eq!(r.changes[0].overlap, [0.36, 0.34, 0.3]);
}

#[test]
fn a_feature_that_mostly_went_into_another_passes_its_id_to_none() {
    // A-002 (small) mostly went into today's big one, which continues
    // A-001; its last sliver is a feature of its own.
    let p = prev(&[
        ("A-001", rect(0., 0., 100., 100.)),
        ("A-002", rect(100., 0., 120., 100.)),
    ]);
    let (ids, r) = carry(&p, &[rect(0., 0., 118., 100.), rect(118., 0., 120., 100.)]);
    assert_eq!(ids, ["A-001", "A-003"]);
    let kinds: Vec<ChangeKind> = r.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::Merged, ChangeKind::Added]);
}

#[test]
fn groups_are_admin_unit_and_kind() {
    // Units A and B on both days: ground that moved from A to B is new.
    let mut b_prev = nbhd("B-001", rect(500., 0., 600., 100.));
    b_prev.admin_code = "B".into();
    let p = Previous::from_features(
        "y.gpkg",
        &[nbhd("A-001", rect(0., 0., 100., 100.)), b_prev.clone()],
    );
    let mut other_unit = nbhd("x", rect(0., 0., 100., 100.));
    other_unit.admin_code = "B".into();
    let mut water = nbhd("x", rect(0., 0., 100., 100.));
    water.kind = FeatureKind::Barrier(crate::model::BarrierKind::Water);
    let mut b_today = b_prev;
    b_today.id = "x".into();
    let mut cur = vec![other_unit, water, b_today];
    let r = carry_over(&mut cur, &p).unwrap();
    assert_eq!(cur[0].id, "B-002");
    assert_eq!(cur[1].id, "A-002");
    assert_eq!(cur[2].id, "B-001");
    assert_eq!(
        (r.summary.added, r.summary.removed, r.summary.ids_carried),
        (2, 1, 1)
    );
}

#[test]
fn ground_keeps_its_id_when_its_unit_is_renamed_split_or_merged() {
    // Unit A is gone; today's B (a new code) holds A-001's ground and a new
    // piece: the ground keeps A-001, the piece gets B's first id.
    let p = prev(&[("A-001", rect(0., 0., 100., 100.))]);
    let mut same = nbhd("x", rect(0., 0., 100., 100.));
    same.admin_code = "B".into();
    let mut new = nbhd("x", rect(300., 0., 400., 100.));
    new.admin_code = "B".into();
    let mut cur = vec![same, new];
    let r = carry_over(&mut cur, &p).unwrap();
    assert_eq!((cur[0].id.as_str(), cur[1].id.as_str()), ("A-001", "B-001"));
    assert_eq!((r.summary.kept, r.summary.added), (1, 1));
}

#[test]
fn new_ids_skip_every_previous_id() {
    let p = prev(&[
        ("A-001", rect(0., 0., 10., 10.)),
        ("A-1000", rect(20., 0., 30., 10.)),
        ("A-custom", rect(40., 0., 50., 10.)),
    ]);
    let (ids, _) = carry(&p, &[rect(100., 0., 110., 10.)]);
    assert_eq!(ids[0], "A-1001");
}

fn named(mut n: Neighborhood, name: Option<&str>) -> Neighborhood {
    n.name = name.map(|s| crate::model::FeatureName {
        name: s.into(),
        name_en: None,
        source: "place=quarter".into(),
    });
    n
}

#[test]
fn a_feature_that_keeps_its_id_under_another_name_is_renamed() {
    let yesterday = [
        named(nbhd("A-001", rect(0., 0., 100., 100.)), Some("가락동")),
        named(nbhd("A-002", rect(100., 0., 200., 100.)), Some("문정동")),
        named(nbhd("A-003", rect(200., 0., 300., 100.)), None),
        // Split: its heir keeps the id and takes another name.
        named(nbhd("A-004", rect(300., 0., 400., 100.)), Some("석촌동")),
        named(nbhd("A-005", rect(400., 0., 500., 100.)), Some("송파동")),
    ];
    let p = Previous::from_features("y.gpkg", &yesterday);
    let mut today = vec![
        named(nbhd("x", rect(0., 0., 100., 100.)), Some("가락동")),
        named(nbhd("x", rect(100., 0., 200., 100.)), Some("문정1동")),
        named(nbhd("x", rect(200., 0., 300., 100.)), Some("오금동")),
        named(nbhd("x", rect(300., 0., 370., 100.)), Some("석촌1동")),
        named(nbhd("x", rect(370., 0., 400., 100.)), Some("석촌2동")),
        // A-005 lost its name; a new feature's name is no rename.
        named(nbhd("x", rect(400., 0., 500., 100.)), Some("")),
        named(nbhd("x", rect(900., 0., 1000., 100.)), Some("삼전동")),
    ];
    let r = carry_over(&mut today, &p).unwrap();
    let ids: Vec<&str> = today.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["A-001", "A-002", "A-003", "A-004", "A-006", "A-005", "A-007"]
    );
    let renamed: Vec<(&str, &str, Option<&str>, Option<&str>)> = r
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Renamed)
        .map(|c| {
            assert_eq!(c.previous, c.current);
            assert!(c.overlap.is_empty());
            let n = c.names.as_ref().unwrap();
            (
                c.previous[0].as_str(),
                c.current[0].as_str(),
                n.previous_name.as_deref(),
                n.current_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        renamed,
        [
            ("A-002", "A-002", Some("문정동"), Some("문정1동")),
            ("A-003", "A-003", None, Some("오금동")),
            ("A-004", "A-004", Some("석촌동"), Some("석촌1동")),
            ("A-005", "A-005", Some("송파동"), None),
        ]
    );
    // Renames come last and leave the other entries as they were.
    let kinds: Vec<ChangeKind> = r.changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ChangeKind::Split,
            ChangeKind::Added,
            ChangeKind::Renamed,
            ChangeKind::Renamed,
            ChangeKind::Renamed,
            ChangeKind::Renamed,
        ]
    );
    assert_eq!((r.summary.renamed, r.summary.kept), (4, 4));
    assert_eq!(
        r.one_line(),
        "ids against y.gpkg: 4 kept, 0 reshaped, 1 split, 0 merged, 1 added, 0 removed, 4 renamed"
    );
    let json = r.to_json().unwrap();
    assert!(
        json.contains(
            r#"
    {
      "kind": "renamed",
      "feature_kind": "neighborhood",
      "admin_code": "A",
      "previous": [
        "A-002"
      ],
      "current": [
        "A-002"
      ],
      "overlap": [],
      "previous_name": "문정동",
      "current_name": "문정1동"
    },"#
        ),
        "{json}"
    );
    // Other entries carry no name fields.
    assert_eq!(json.matches("previous_name").count(), 4);

    // Yesterday's layer written before names: no renames.
    let mut unnamed = p.clone();
    unnamed.has_names = false;
    for f in &mut unnamed.features {
        f.name = None;
    }
    let r = carry_over(&mut today, &unnamed).unwrap();
    assert_eq!(r.summary.renamed, 0);
}

#[test]
fn names_are_read_back_only_from_a_layer_that_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let crs = WorkingCrs::from_epsg(32652).unwrap();
    let layer = |props: &str| {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"nbhd_id":"A-001","admin_code":"A","kind":"neighborhood"{props}}},"geometry":{{"type":"Polygon","coordinates":[[[127.0,37.5],[127.001,37.5],[127.001,37.501],[127.0,37.501],[127.0,37.5]]]}}}}]}}"#
        )
    };
    let read = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Previous::read(&path, None, &crs).unwrap()
    };
    let old = read("old.geojson", layer(""));
    assert!(!old.has_names);
    assert_eq!(old.features[0].name, None);
    let new = read("new.geojson", layer(r#","name":"잠실동""#));
    assert!(new.has_names);
    assert_eq!(new.features[0].name.as_deref(), Some("잠실동"));
    let null = read("null.geojson", layer(r#","name":null"#));
    assert!(null.has_names);
    assert_eq!(null.features[0].name, None);
}
