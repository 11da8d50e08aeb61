//! The whole pipeline on hand-made inputs whose right answer is known.

use crate::common::{block, units};
use dongne::io::config::Params;
use dongne::method::pipeline;
use dongne::model::*;
use dongne::products::invariants;
use geo::{polygon, Coord, LineString, MultiPolygon};

fn admin(code: &str, x0: f64, w: f64) -> AdminUnit {
    AdminUnit {
        fid: 0,
        code: code.into(),
        name: format!("unit {code}"),
        geom: MultiPolygon(vec![
            polygon![(x: x0, y: 0.0), (x: x0 + w, y: 0.0), (x: x0 + w, y: 1000.0), (x: x0, y: 1000.0)],
        ]),
    }
}

/// The fill's own geometry is checked here (each spot to its nearest hot
/// spot, exact halves of a unit): open ground, which would take the far
/// corners of these 1 km units, is given to the neighborhoods
/// (`fill_open`). Open ground has its own tests (method::open_ground,
/// tests/it/hostile.rs).
fn params() -> Params {
    Params {
        min_area: 5_000.0,
        fill_open: true,
        ..Params::default()
    }
}

fn road(y: f64) -> LineBarrier {
    LineBarrier {
        fid: 1,
        kind: BarrierKind::Road,
        class: "primary".into(),
        width_m: 20.0,
        geom: LineString::from(vec![(-50.0, y), (2050.0, y)]),
        covered: false,
    }
}

fn run(
    inputs: &Inputs,
) -> (
    pipeline::Output,
    Vec<(String, Vec<dongne::geom::shape::Shape>)>,
) {
    let out = pipeline::run(inputs, &params(), false).unwrap();
    (out, units(&inputs.admin))
}

fn check(
    inputs: &Inputs,
    out: &pipeline::Output,
    units: &[(String, Vec<dongne::geom::shape::Shape>)],
) {
    let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
    let p = params();
    let bad = invariants::check_all(
        &out.features,
        units,
        &pts,
        inputs.buildings.len() - out.report.buildings_outside_admin,
        p.min_area,
        p.min_buildings,
    );
    assert!(bad.is_empty(), "{bad:#?}");
}

/// 7×7 blocks around each centre, the k-th numbered from 100·k.
fn blocks(centres: &[(f64, f64)]) -> Vec<Building> {
    centres
        .iter()
        .zip((0..).step_by(100))
        .flat_map(|(&(cx, cy), first_fid)| block(cx, cy, first_fid))
        .collect()
}

/// The 1 km unit "A" with these buildings and barriers.
fn unit_a(buildings: Vec<Building>, lines: Vec<LineBarrier>, areas: Vec<AreaBarrier>) -> Inputs {
    Inputs {
        buildings,
        admin: vec![admin("A", 0.0, 1000.0)],
        lines,
        areas,
        ..Default::default()
    }
}

/// A 100 m wide river crossing unit "A" from bottom to top at x = 500.
fn river() -> AreaBarrier {
    AreaBarrier {
        fid: 5,
        kind: BarrierKind::Water,
        geom: polygon![(x: 450.0, y: -100.0), (x: 550.0, y: -100.0), (x: 550.0, y: 1100.0), (x: 450.0, y: 1100.0)],
    }
}

/// A 200 m square park in the middle of unit "A".
fn park() -> AreaBarrier {
    AreaBarrier {
        fid: 7,
        kind: BarrierKind::Park,
        geom: polygon![(x: 400.0, y: 400.0), (x: 600.0, y: 400.0), (x: 600.0, y: 600.0), (x: 400.0, y: 600.0)],
    }
}

fn neighborhoods(out: &pipeline::Output) -> Vec<&Neighborhood> {
    out.features
        .iter()
        .filter(|f| f.kind == FeatureKind::Neighborhood)
        .collect()
}

/// Two blocks of unit "A", one each side of a road through its middle.
fn two_blocks_across_a_road() -> Inputs {
    unit_a(
        blocks(&[(300.0, 250.0), (300.0, 750.0)]),
        vec![road(500.0)],
        vec![],
    )
}

/// Runs the pipeline and asserts every invariant on its output.
fn run_checked(inputs: &Inputs) -> pipeline::Output {
    let (out, units) = run(inputs);
    check(inputs, &out, &units);
    out
}

#[test]
fn two_clusters_across_a_road_become_two_neighborhoods() {
    let inputs = two_blocks_across_a_road();
    let out = run_checked(&inputs);
    let n = neighborhoods(&out);
    assert_eq!(n.len(), 2);
    // The road's ground is split along its middle: each side gets half the unit.
    for f in &n {
        assert!((f.area_m2 - 500_000.0).abs() < 1e-3, "{}", f.area_m2);
        assert_eq!(f.buildings, 49);
        assert_eq!(f.bounded_by, "admin,road");
    }
    let line = [
        Coord { x: -50.0, y: 500.0 },
        Coord {
            x: 2050.0,
            y: 500.0,
        },
    ];
    let pts: Vec<Coord> = inputs.buildings.iter().map(|b| b.pt).collect();
    assert!(invariants::straddles(&out.features, &pts, &line, 1000.0).is_empty());
}

#[test]
fn a_river_through_the_unit_is_its_own_feature_and_separates_the_banks() {
    let mut buildings = blocks(&[(200.0, 500.0), (800.0, 500.0)]);
    buildings.push(Building {
        fid: 999,
        pt: Coord { x: 500.0, y: 500.0 },
        outline: Vec::new(),
    }); // a boathouse on the water
    let inputs = unit_a(buildings, vec![], vec![river()]);
    let out = run_checked(&inputs);
    let water: Vec<_> = out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Barrier(BarrierKind::Water))
        .collect();
    assert_eq!(water.len(), 1);
    assert!((water[0].area_m2 - 100_000.0).abs() < 1e-3);
    assert_eq!(water[0].buildings, 1);
    assert_eq!(neighborhoods(&out).len(), 2);
}

#[test]
fn a_park_in_the_middle_leaves_a_hole_and_an_empty_enclosure_merges() {
    let buildings = blocks(&[(200.0, 200.0)]);
    // A road cuts off an empty strip along the top: no buildings, so it joins
    // the neighborhood across the road (the one exception to invariant 6).
    let inputs = unit_a(buildings, vec![road(950.0)], vec![park()]);
    let out = run_checked(&inputs);
    let n = neighborhoods(&out);
    assert_eq!(n.len(), 1);
    assert!((n[0].area_m2 - 960_000.0).abs() < 1e-3);
    assert_eq!(n[0].geom.0[0].interiors().len(), 1);
}

#[test]
fn an_area_barrier_is_bounded_by_its_outline_not_by_a_distant_road() {
    // The park of the test above, 350 m from the road: what bounds the park
    // is its own outline, and the neighborhood is bounded by the park and
    // the unit's edge (its strip across the road merged into it).
    let inputs = unit_a(blocks(&[(200.0, 200.0)]), vec![road(950.0)], vec![park()]);
    let out = run_checked(&inputs);
    let bounded: Vec<(FeatureKind, &str)> = out
        .features
        .iter()
        .map(|f| (f.kind, f.bounded_by.as_str()))
        .collect();
    assert_eq!(
        bounded,
        [
            (FeatureKind::Neighborhood, "admin,park"),
            (FeatureKind::Barrier(BarrierKind::Park), "park"),
        ]
    );
}

#[test]
fn neighbouring_units_meet_without_gap_or_overlap() {
    let inputs = Inputs {
        buildings: blocks(&[
            (500.0, 300.0),
            (500.0, 700.0),
            (1500.0, 500.0),
            (1300.0, 200.0),
        ]),
        admin: vec![admin("A", 0.0, 1000.0), admin("B", 1000.0, 1000.0)],
        lines: vec![LineBarrier {
            geom: LineString::from(vec![(-50.0, 433.3), (2050.0, 611.7)]),
            ..road(0.0)
        }],
        ..Default::default()
    };
    let out = run_checked(&inputs);
    assert!(out.features.iter().all(|f| f.buildings >= 5));
}

#[test]
fn same_input_gives_identical_features() {
    let inputs = unit_a(
        blocks(&[(300.0, 250.0), (300.0, 750.0), (700.0, 750.0)]),
        vec![road(500.0)],
        vec![],
    );
    let a = pipeline::run(&inputs, &params(), false).unwrap();
    let b = pipeline::run(&inputs, &params(), false).unwrap();
    assert_eq!(a.features, b.features);
}

#[test]
fn filled_river_is_shared_between_its_banks() {
    let inputs = unit_a(
        blocks(&[(200.0, 500.0), (800.0, 500.0)]),
        vec![],
        vec![river()],
    );
    let p = Params {
        fill_barriers: true,
        ..params()
    };
    let out = pipeline::run(&inputs, &p, false).unwrap();
    check(&inputs, &out, &units(&inputs.admin));
    assert_eq!(out.features.len(), 2);
    for f in &out.features {
        assert_eq!(f.kind, FeatureKind::Neighborhood);
        assert!((f.area_m2 - 500_000.0).abs() < 1e-3, "{}", f.area_m2);
    }
}

#[test]
fn the_barrier_check_catches_a_neighborhood_across_a_road() {
    let inputs = two_blocks_across_a_road();
    let (out, units) = run(&inputs);
    let p = params();
    assert!(invariants::no_barrier_inside(
        &out.features,
        &units,
        &inputs,
        p.min_area,
        p.min_buildings
    )
    .is_empty());
    // One feature over the whole unit, as a grid cell would be: caught.
    let whole = Neighborhood {
        id: "A-001".into(),
        geom: inputs.admin[0].geom.clone(),
        buildings: 98,
        ..out.features[0].clone()
    };
    let bad = invariants::no_barrier_inside(&[whole], &units, &inputs, p.min_area, p.min_buildings);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].invariant, 6);
    assert!(
        bad[0].message.starts_with("A-001 spans a barrier"),
        "{}",
        bad[0].message
    );
}

/// Issue 8: a U-shaped unit (a notch cut from its top) with houses at the
/// top of the left arm and at the bottom: the left group's Voronoi region
/// also takes the top of the right arm, across the notch. That piece holds
/// none of its houses, so it goes to the neighbour it borders: both
/// neighborhoods are one piece each.
#[test]
fn a_region_that_falls_in_two_across_a_notch_is_one_piece() {
    let u = geo::Polygon::new(
        LineString::from(vec![
            (0.0, 0.0),
            (1000.0, 0.0),
            (1000.0, 1000.0),
            (700.0, 1000.0),
            (700.0, 300.0),
            (300.0, 300.0),
            (300.0, 1000.0),
            (0.0, 1000.0),
        ]),
        Vec::new(),
    );
    let inputs = Inputs {
        buildings: blocks(&[(150.0, 850.0), (500.0, 150.0)]),
        admin: vec![AdminUnit {
            fid: 0,
            code: "U".into(),
            name: "U".into(),
            geom: MultiPolygon(vec![u]),
        }],
        ..Default::default()
    };
    let out = run_checked(&inputs);
    let n = neighborhoods(&out);
    assert_eq!(n.len(), 2);
    assert!(n.iter().all(|f| f.geom.0.len() == 1));
    // The top of the right arm went with the bottom, not with the left arm.
    let left = n
        .iter()
        .find(|f| {
            f.buildings == 49
                && geo::Intersects::intersects(&f.geom, &geo::Point::new(150.0, 850.0))
        })
        .unwrap();
    assert!(!geo::Intersects::intersects(
        &left.geom,
        &geo::Point::new(850.0, 900.0)
    ));
}

/// Issue 8: a warehouse footprint (120 × 60 m) between two hot spots lies
/// whole in one neighborhood: boundaries run between buildings.
#[test]
fn a_large_footprint_between_two_hot_spots_is_not_cut() {
    let mut buildings = blocks(&[(200.0, 500.0), (800.0, 500.0)]);
    let outline = vec![
        Coord { x: 440.0, y: 470.0 },
        Coord { x: 560.0, y: 470.0 },
        Coord { x: 560.0, y: 530.0 },
        Coord { x: 440.0, y: 530.0 },
    ];
    buildings.push(Building {
        fid: 999,
        pt: Coord { x: 500.0, y: 500.0 },
        outline: outline.clone(),
    });
    let inputs = unit_a(buildings, vec![], vec![]);
    let out = run_checked(&inputs);
    assert_eq!(neighborhoods(&out).len(), 2);
    let footprint = geo::Polygon::new(LineString::from(outline), Vec::new());
    assert!(invariants::footprints_whole(&out.features, &[footprint], &[]).is_empty());
}
