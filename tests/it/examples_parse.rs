//! Every config in `examples/` is read with the real `Config` (unknown keys are
//! refused), keeps its paths relative, and names files that exist; the admin
//! fields it names are fields of its admin layer.
//!
//! The Seoul and Liechtenstein examples read the shared data set beside the
//! repository (`../shared/data`, as CI lays it out).

use std::path::{Path, PathBuf};

use dongne::io::config::{Config, LayerConfig};
use gdal::vector::LayerAccess;
use gdal::Dataset;

fn example_configs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no *.toml in {}", dir.display());
    v
}

/// Every file a config names, with the key that names it.
fn named_files(c: &Config) -> Vec<(String, PathBuf)> {
    let mut v = Vec::new();
    if let Some(p) = &c.osm {
        v.push(("osm".to_string(), p.clone()));
    }
    let mut push = |key: &str, layers: &[&LayerConfig]| {
        for (i, l) in layers.iter().enumerate() {
            let key = if layers.len() > 1 {
                format!("{key}[{i}]")
            } else {
                key.to_string()
            };
            v.push((key, l.path.clone()));
        }
    };
    push("buildings", &c.buildings.iter().collect::<Vec<_>>());
    push("admin", &c.admin.iter().collect::<Vec<_>>());
    push("water", &c.water.iter().collect::<Vec<_>>());
    push("roads", &c.roads.iter().collect::<Vec<_>>());
    push("rail", &c.rail.iter().collect::<Vec<_>>());
    push("mountains", &c.mountains.iter().collect::<Vec<_>>());
    push("parks", &c.parks.iter().collect::<Vec<_>>());
    push("landuse", &c.landuse.iter().collect::<Vec<_>>());
    v
}

#[test]
fn every_example_config_parses() {
    for toml in example_configs() {
        let c = Config::from_file(&toml).unwrap_or_else(|e| panic!("{e}"));
        c.params
            .validate()
            .unwrap_or_else(|e| panic!("{}: [params]: {e}", toml.display()));
        assert!(
            c.osm.is_some() || c.buildings.is_some(),
            "{}: names no buildings (neither `osm` nor `buildings`)",
            toml.display()
        );
        if let Some([x0, y0, x1, y1]) = c.bbox {
            assert!(
                (-180.0..=180.0).contains(&x0)
                    && (-180.0..=180.0).contains(&x1)
                    && (-90.0..=90.0).contains(&y0)
                    && (-90.0..=90.0).contains(&y1)
                    && x0 < x1
                    && y0 < y1,
                "{}: bbox {:?} is not [min_lon, min_lat, max_lon, max_lat]",
                toml.display(),
                c.bbox
            );
        }
    }
}

#[test]
fn example_paths_are_relative() {
    for toml in example_configs() {
        let text = std::fs::read_to_string(&toml).unwrap();
        // Parsed without `from_file`, so paths are as written in the file.
        let raw: Config =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", toml.display()));
        let output = raw.output.iter().map(|p| ("output".to_string(), p.clone()));
        for (key, p) in named_files(&raw).into_iter().chain(output) {
            assert!(
                p.is_relative(),
                "{}: `{key}` is an absolute path ({}): examples must run from any clone",
                toml.display(),
                p.display()
            );
        }
    }
}

#[test]
fn every_file_named_by_an_example_exists() {
    let mut missing = Vec::new();
    for toml in example_configs() {
        let c = Config::from_file(&toml).unwrap_or_else(|e| panic!("{e}"));
        for (key, p) in named_files(&c) {
            if !p.is_file() {
                missing.push(format!(
                    "{}: `{key}` names {}, which is not a file",
                    toml.display(),
                    p.display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing input files (the Seoul and Liechtenstein examples read ../shared/data \
         beside the repository):\n{}",
        missing.join("\n")
    );
}

#[test]
fn admin_fields_named_by_an_example_exist() {
    for toml in example_configs() {
        let c = Config::from_file(&toml).unwrap_or_else(|e| panic!("{e}"));
        let Some(admin) = &c.admin else {
            assert!(
                c.admin_code.is_none() && c.admin_name.is_none(),
                "{}: admin_code / admin_name given without an `admin` layer",
                toml.display()
            );
            continue;
        };
        let ds = Dataset::open(&admin.path)
            .unwrap_or_else(|e| panic!("{}: admin {}: {e}", toml.display(), admin.display()));
        let layer = match &admin.layer {
            Some(name) => ds.layer_by_name(name),
            None => ds.layer(0),
        }
        .unwrap_or_else(|e| panic!("{}: admin {}: {e}", toml.display(), admin.display()));
        let fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        for (key, field) in [("admin_code", &c.admin_code), ("admin_name", &c.admin_name)] {
            let Some(field) = field else { continue };
            assert!(
                fields.contains(field),
                "{}: {key} = {field:?} is not a field of {} (fields: {})",
                toml.display(),
                admin.display(),
                fields.join(", ")
            );
        }
    }
}
