//! `dongne check` through the binary: a good run is described layer by layer
//! and exits 0; a broken one lists every problem (not only the first) and
//! exits 2; the JSON report carries the same.

use crate::common::{assert_contains, dongne_in, ogr2ogr, repo, shared};
use std::path::Path;

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = dongne_in(dir).arg("check").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The block of one layer in the text report: from its header line to the
/// blank line after it.
fn block<'a>(text: &'a str, header_start: &str) -> &'a str {
    let start = text
        .find(header_start)
        .unwrap_or_else(|| panic!("no {header_start:?} in\n{text}"));
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |e| start + e + 1);
    &text[start..end]
}

/// `check` of a config of the repository with output `o`: it must pass with
/// nothing on stderr. Its report.
fn check_clean(config: &str, o: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = repo().join(config);
    let (code, out, err) = check(
        dir.path(),
        &["-q", "--config", cfg.to_str().unwrap(), "-o", o],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.ends_with(&format!("output     {o}\nok: generate would run\n")),
        "{out}"
    );
    out
}

#[test]
fn a_good_config_is_described_and_exits_0() {
    let out = check_clean("examples/jamsil.toml", "out.gpkg");
    let ex = repo().join("examples").display().to_string();
    assert_eq!(
        block(&out, "admin "),
        format!(
            "admin      {ex}/../../shared/data/seoul/seoul_jamsil_hangjeongdong.geojson (layer seoul_jamsil_hangjeongdong)
  driver    GeoJSON
  crs       EPSG:4326 (WGS 84)
  geometry  MultiPolygon
  features  16
  extent    127.0665, 37.4958 .. 127.1454, 37.5447 (lon/lat)
  invalid   0
  fields    OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm
  missing   -
"
        )
    );
    // Roles the OSM preset gives come from the extract, one row per layer.
    assert_eq!(
        block(&out, "buildings  ").lines().next().unwrap(),
        format!(
            "buildings  {ex}/../../shared/data/seoul/seoul_songpa_asanH.osm.pbf (layer points)"
        )
    );
    let multi = block(
        &out,
        &format!("buildings  {ex}/../../shared/data/seoul/seoul_songpa_asanH.osm.pbf (layer multipolygons)"),
    );
    assert_contains(multi, "\n  features  1357\n");
}

#[test]
fn json_report() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = repo().join("examples/liechtenstein.toml");
    let (code, out, _) = check(
        dir.path(),
        &[
            "-q",
            "--config",
            cfg.to_str().unwrap(),
            "-o",
            "li.gpkg",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["output"], "li.gpkg");
    let layers = v["layers"].as_array().unwrap();
    let admin: Vec<&serde_json::Value> = layers.iter().filter(|l| l["role"] == "admin").collect();
    assert_eq!(admin.len(), 1);
    assert_eq!(admin[0]["driver"], "OSM");
    assert_eq!(admin[0]["layer"], "multipolygons");
    assert_eq!(admin[0]["features"], 11);
    for l in layers {
        for key in [
            "role",
            "file",
            "layer",
            "driver",
            "crs",
            "geometry_types",
            "features",
            "extent_lonlat",
            "invalid",
            "invalid_examples",
            "fields",
            "missing_fields",
            "warnings",
        ] {
            assert!(l.get(key).is_some(), "{key} missing in {l}");
        }
    }
}

#[test]
fn a_broken_run_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = shared();
    let dong = data.join("seoul/seoul_gongdeok_hangjeongdong.geojson");
    // Five things wrong at once: a missing field, a missing file, a layer of
    // another country, an output folder that does not exist, a previous
    // output that is not one.
    std::fs::write(
        d.join("broken.toml"),
        format!(
            "osm = \"{pbf}\"
admin = {{ path = \"{dong}\" }}
admin_code = \"code\"
[[roads]]
path = \"roads.gpkg\"
[[parks]]
path = \"{li}\"
layer = \"multipolygons\"
where = \"leisure = 'park'\"
",
            pbf = data.join("seoul/seoul_gongdeok_mapo.osm.pbf").display(),
            dong = dong.display(),
            li = data.join("osm/liechtenstein.osm.pbf").display(),
        ),
    )
    .unwrap();
    let (code, out, err) = check(
        d,
        &[
            "-q",
            "--config",
            "broken.toml",
            "-o",
            "out/n.gpkg",
            "--previous",
            dong.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: 5 problems: generate would not run\n  hint: fix the problems listed above and run dongne check again\n"
    );
    let dong = dong.display();
    let li = data.join("osm/liechtenstein.osm.pbf");
    let li = li.display();
    let problems = &out[out.find("problems (5):\n").expect(&out)..];
    assert_eq!(
        problems,
        format!(
            "problems (5):
  - {dong} (layer 'seoul_gongdeok_hangjeongdong'): field 'code' (admin code) not found; the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm
    hint: field names are those listed; check the spelling in the config or flags
  - roads.gpkg: file not found
    hint: check the path (relative paths start from the current folder, or from the config file's folder)
  - {li} (layer 'multipolygons'): the parks layer lies outside the admin units: its extent [-86.4834, 32.4206, 9.5467, 47.2415] does not overlap theirs, [126.9340, 37.5294, 126.9714, 37.5620] (lon/lat)
    hint: check that the layer covers the same area, and its CRS (the .prj, or --assume-crs for a file without one); drop the layer if it belongs to another area
  - out/n.gpkg: output folder out does not exist
    hint: create it first (mkdir -p out) or choose another output
  - {dong} (layer 'seoul_gongdeok_hangjeongdong'): field 'nbhd_id' not found, so this is not a dongne output; the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm
    hint: --previous takes a file written by dongne generate (yesterday's -o); leave --previous out on the first run
"
        )
    );
    // The layer with the missing field still shows what it has.
    assert_contains(&out, "  missing   code\n");
}

#[test]
fn invalid_polygons_are_counted_with_their_reason_but_do_not_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(shared().join("seoul/seoul_gongdeok_hangjeongdong.geojson"))
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ring = &mut v["features"][2]["geometry"]["coordinates"][0][0];
    let a = ring[1].take();
    ring[1] = ring[2].take();
    ring[2] = a;
    std::fs::write(d.join("bowtie.geojson"), v.to_string()).unwrap();
    // An OSM file given as a layer needs its layer name.
    let buildings = format!(
        "{}:multipolygons",
        shared().join("seoul/seoul_gongdeok_mapo.osm.pbf").display()
    );
    let (code, out, _) = check(
        d,
        &["-q", "--buildings", &buildings, "--admin", "bowtie.geojson"],
    );
    assert_eq!(code, 0, "{out}");
    assert_contains(&out, "\n  invalid   1 (repaired by generate); feature 2: polygon at index 0 is invalid: exterior ring has a self-intersection\n");
}

#[test]
fn a_shapefile_without_prj_needs_assume_crs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dong = shared().join("seoul/seoul_gongdeok_hangjeongdong.geojson");
    ogr2ogr(
        d,
        &[
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=UTF-8",
            "dong.shp",
            dong.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(d.join("dong.prj")).unwrap();
    let pbf = shared().join("seoul/seoul_gongdeok_mapo.osm.pbf");
    let base = ["-q", "--osm", pbf.to_str().unwrap(), "--admin", "dong.shp"];
    let (code, out, _) = check(d, &base);
    assert_eq!(code, 2);
    assert_contains(
        &out,
        "admin      dong.shp (layer dong)\n  driver    ESRI Shapefile\n  crs       none\n",
    );
    assert_contains(&out, "problems (1):\n  - dong.shp (layer 'dong'): no CRS: the layer does not say which coordinate reference system it is in\n    hint: add a .prj or pass --assume-crs EPSG:NNNN\n");
    let mut assumed = base.to_vec();
    assumed.extend(["--assume-crs", "EPSG:4326"]);
    let (code, out, _) = check(d, &assumed);
    assert_eq!(code, 0, "{out}");
    assert_contains(&out, "  crs       EPSG:4326 (WGS 84) (assumed)\n");
}

#[test]
fn the_daily_job_config_checks_clean() {
    check_clean("examples/daily/daily.toml", "n.gpkg");
}
