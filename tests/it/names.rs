//! Names (method step 8, invariant 12) on hand-made inputs whose right
//! answer is known: never a name from across a river, complex names
//! without building numbers, no bare numbers, unique inside a unit.

use crate::common::{block, main_road_at_x_500, square_unit};
use dongne::io::config::Params;
use dongne::method::pipeline;
use dongne::model::*;
use geo::{polygon, Coord, LineString, MultiPolygon, Point};

fn unit() -> AdminUnit {
    square_unit("Aland")
}

fn place(name: &str, x: f64, y: f64, tag: &str, rank: u8) -> NamePlace {
    NamePlace {
        fid: 0,
        name: name.into(),
        name_en: None,
        source: tag.into(),
        tier: NameTier::Place,
        rank,
        geom: geo::Geometry::Point(Point::new(x, y)),
    }
}

/// A named building's footprint, 8 m square, around a house.
fn named_building(name: &str, at: Coord) -> NamePlace {
    let (x, y) = (at.x, at.y);
    NamePlace {
        fid: 0,
        name: name.into(),
        name_en: None,
        source: "building".into(),
        tier: NameTier::Complex,
        rank: 24,
        geom: geo::Geometry::MultiPolygon(MultiPolygon(vec![polygon![
            (x: x - 4.0, y: y - 4.0), (x: x + 4.0, y: y - 4.0), (x: x + 4.0, y: y + 4.0), (x: x - 4.0, y: y + 4.0)
        ]])),
    }
}

fn params() -> Params {
    Params {
        min_area: 5_000.0,
        fill_open: true,
        ..Params::default()
    }
}

/// Each neighborhood's name, name source and its buildings' mean y, from
/// south to north.
fn named(inputs: &Inputs) -> Vec<(String, String)> {
    let out = pipeline::run(inputs, &params(), false).unwrap();
    let mut v: Vec<(f64, f64, String, String)> = out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Neighborhood)
        .map(|f| {
            use geo::Centroid;
            let c = f.geom.centroid().unwrap();
            let n = f.name.clone().expect("a neighborhood has a name");
            (c.y(), c.x(), n.name, n.source)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    v.into_iter().map(|(_, _, n, s)| (n, s)).collect()
}

#[test]
fn a_place_30_m_from_a_river_names_its_own_bank_not_the_nearer_one_across() {
    let mut buildings = block(500.0, 150.0, 0);
    // The north bank's houses start 60 m from the river: its centroid is
    // far nearer the place than the south bank's.
    buildings.extend(block(500.0, 596.0, 100));
    let river = LineBarrier {
        fid: 1,
        kind: BarrierKind::Water,
        class: "river".into(),
        width_m: 20.0,
        geom: LineString::from(vec![(-50.0, 500.0), (1050.0, 500.0)]),
        covered: false,
    };
    let inputs = Inputs {
        buildings,
        admin: vec![unit()],
        lines: vec![river],
        names: vec![place("Southbank", 500.0, 470.0, "place=hamlet", 20)],
        ..Default::default()
    };
    assert_eq!(
        named(&inputs),
        vec![
            ("Southbank".to_string(), "place=hamlet".to_string()),
            ("Aland".to_string(), "fallback".to_string()),
        ]
    );
}

#[test]
fn numbered_buildings_of_a_complex_give_its_name_and_bare_numbers_none() {
    let west = block(250.0, 500.0, 0);
    let east = block(750.0, 500.0, 100);
    let mut names: Vec<NamePlace> = west
        .iter()
        .take(20)
        .enumerate()
        .map(|(k, b)| named_building(&format!("잠실엘스 {}동", 101 + k), b.pt))
        .collect();
    names.extend(
        east.iter()
            .take(20)
            .enumerate()
            .map(|(k, b)| named_building(&format!("{}동", 201 + k), b.pt)),
    );
    names.push(named_building("관리사무소", east[30].pt));
    let inputs = Inputs {
        buildings: [west, east].concat(),
        admin: vec![unit()],
        lines: vec![main_road_at_x_500()],
        names,
        ..Default::default()
    };
    assert_eq!(
        named(&inputs),
        vec![
            ("잠실엘스".to_string(), "building".to_string()),
            // 201동 … 220동 and the 관리사무소 name nothing.
            ("Aland".to_string(), "fallback".to_string()),
        ]
    );
}

#[test]
fn one_name_for_two_neighborhoods_gets_a_compass_qualifier_in_its_language() {
    for (name, west, east) in [
        ("Triesen", "Triesen west", "Triesen east"),
        ("잠실동", "잠실동 서", "잠실동 동"),
    ] {
        let inputs = Inputs {
            buildings: [block(250.0, 500.0, 0), block(750.0, 500.0, 100)].concat(),
            admin: vec![unit()],
            lines: vec![main_road_at_x_500()],
            // One village node in each half: both halves' nearest is
            // theirs, and both are called so.
            names: vec![
                place(name, 300.0, 520.0, "place=village", 19),
                place(name, 700.0, 520.0, "place=village", 19),
            ],
            ..Default::default()
        };
        let got = named(&inputs);
        let mut names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let mut want = vec![west, east];
        want.sort_unstable();
        assert_eq!(names, want);
    }
}

/// The names of a real run, measured as issue 21 asks: the share named from
/// a real source, no name twice in a unit, and on Liechtenstein how often a
/// village or hamlet node standing among a neighborhood's buildings (inside
/// it) gives its name.
struct Measured {
    neighborhoods: usize,
    real: usize,
    with_node: usize,
    named_by_node: usize,
}

fn measure(example: &str) -> Measured {
    use dongne::io::config::Config;
    let cfg = Config::from_file(&crate::common::repo().join("examples").join(example)).unwrap();
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let out = pipeline::run(&loaded.inputs, &cfg.params, false).unwrap();
    assert_eq!(dongne::products::invariants::names(&out.features), vec![]);
    let nodes: Vec<(&str, Point)> = loaded
        .inputs
        .names
        .iter()
        .filter(|n| n.source == "place=village" || n.source == "place=hamlet")
        .filter_map(|n| match n.geom {
            geo::Geometry::Point(p) => Some((n.name.as_str(), p)),
            _ => None,
        })
        .collect();
    let mut m = Measured {
        neighborhoods: 0,
        real: 0,
        with_node: 0,
        named_by_node: 0,
    };
    for f in out
        .features
        .iter()
        .filter(|f| f.kind == FeatureKind::Neighborhood)
    {
        let n = f.name.as_ref().unwrap();
        m.neighborhoods += 1;
        m.real += usize::from(n.source != "fallback");
        let inside: Vec<&str> = nodes
            .iter()
            .filter(|(_, p)| geo::Contains::contains(&f.geom, p))
            .map(|(name, _)| *name)
            .collect();
        if !inside.is_empty() {
            m.with_node += 1;
            m.named_by_node += usize::from(inside.iter().any(|v| n.name.starts_with(v)));
        }
    }
    eprintln!(
        "{example}: {} neighborhoods, {} ({:.1} %) named from a real source; {} hold a village or hamlet node, {} ({:.1} %) named by it",
        m.neighborhoods,
        m.real,
        100.0 * m.real as f64 / m.neighborhoods as f64,
        m.with_node,
        m.named_by_node,
        100.0 * m.named_by_node as f64 / m.with_node.max(1) as f64
    );
    m
}

#[test]
fn liechtenstein_names_are_unique_and_its_villages_name_their_ground() {
    let m = measure("liechtenstein.toml");
    assert!(m.with_node > 20, "{}", m.with_node);
    // A node inside a neighborhood names it, unless a more specific source
    // holds a quarter of its buildings (a named residential area).
    assert!(
        m.named_by_node * 10 >= m.with_node * 9,
        "{} of {}",
        m.named_by_node,
        m.with_node
    );
    assert!(
        m.real * 2 >= m.neighborhoods,
        "{} of {}",
        m.real,
        m.neighborhoods
    );
}

#[test]
fn jamsil_names_come_from_its_crossings_and_are_unique() {
    let m = measure("jamsil.toml");
    assert!(
        m.real * 3 >= m.neighborhoods,
        "{} of {}",
        m.real,
        m.neighborhoods
    );
}

/// A names layer of the user's, as GeoJSON in `dir`: points around 공덕
/// with the given properties.
fn user_names(dir: &std::path::Path, props: &[&str]) -> String {
    let features: Vec<String> = props
        .iter()
        .map(|p| {
            format!(
                r#"{{"type":"Feature","properties":{{{p}}},"geometry":{{"type":"Point","coordinates":[126.9515,37.5443]}}}}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    std::fs::write(dir.join("places.geojson"), text).unwrap();
    "places.geojson".into()
}

fn gongdeok_with_names(dir: &std::path::Path, names: &str) -> (i32, String) {
    let cfg = crate::common::repo().join("examples/gongdeok.toml");
    crate::common::run_in(
        dir,
        &[
            "generate",
            "-q",
            "--config",
            &cfg.display().to_string(),
            "--names",
            names,
            "-o",
            "out.gpkg",
        ],
    )
}

#[test]
fn a_names_layer_without_a_name_field_is_refused_with_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let names = user_names(dir.path(), &[r#""title":"Ahyeon""#]);
    let (code, err) = gongdeok_with_names(dir.path(), &names);
    assert_eq!(
        err,
        "error: places.geojson (layer 'places'): field 'name' (name) not found; the layer has: title\n  hint: field names are those listed; check the spelling in the config or flags\n"
    );
    assert_eq!(code, 2);
    assert!(!dir.path().join("out.gpkg").exists());
}

#[test]
fn a_rank_that_is_not_a_number_names_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    user_names(dir.path(), &[r#""name":"Ahyeon","rank":"high""#]);
    let cfg = dir.path().join("c.toml");
    let example = crate::common::repo().join("examples/gongdeok.toml");
    let mut text = std::fs::read_to_string(&example).unwrap();
    // The example's relative paths, from the temporary folder.
    text = text.replace(
        "../../shared",
        &crate::common::shared()
            .parent()
            .unwrap()
            .display()
            .to_string(),
    );
    text = text.replace("\"../", &format!("\"{}/", crate::common::repo().display()));
    text.insert_str(
        0,
        "names = { path = \"places.geojson\", rank_field = \"rank\" }\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let (code, err) = crate::common::run_in(
        dir.path(),
        &["generate", "-q", "--config", "c.toml", "-o", "out.gpkg"],
    );
    assert_eq!(
        err,
        "error: places.geojson (layer 'places', feature 0): rank 'high' is not a whole number from 0 to 30\n  hint: give ranks as integers, higher more specific (22: a neighbourhood), or leave the field empty\n"
    );
    assert_eq!(code, 2);
}

#[test]
fn the_users_names_come_before_the_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let names = user_names(
        dir.path(),
        &[r#""name":"아현 언덕","name_en":"Ahyeon Hill""#],
    );
    let (code, err) = gongdeok_with_names(dir.path(), &names);
    assert_eq!(code, 0, "{err}");
    let ds = gdal::Dataset::open(dir.path().join("out.gpkg")).unwrap();
    let mut layer = gdal::vector::LayerAccess::features(&mut ds.layer(0).unwrap())
        .filter_map(|f| {
            // Fields 4, 5, 6: name, name_en, name_source (io::write).
            let src = f.field_as_string(6).ok().flatten()?;
            (src == "names").then(|| {
                (
                    f.field_as_string(4).unwrap().unwrap(),
                    f.field_as_string(5).unwrap().unwrap(),
                )
            })
        })
        .collect::<Vec<_>>();
    layer.sort();
    // The point reaches 1 km (rank 22) in its enclosure: every neighborhood
    // there is called after it, told apart by number from the north-west.
    assert_eq!(layer.len(), 7, "{layer:?}");
    for (k, (name, en)) in layer.iter().enumerate() {
        assert_eq!(name, &format!("아현 언덕 {}", k + 1));
        assert_eq!(en, &format!("Ahyeon Hill {}", k + 1));
    }
}
