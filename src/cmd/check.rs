//! `dongne check`: reads every layer of a run as `generate` would, without
//! generating, and reports on each. Run it before scheduling a job.
//!
//! ```text
//! dongne check --config examples/jamsil.toml
//! dongne check --buildings bld.shp --admin dong.shp --admin-code ADM_CD -o out/nbhd.gpkg
//! dongne check --config daily.toml -o out/nbhd.gpkg --previous out/nbhd.gpkg --format json
//! ```
//!
//! For each layer: role, file and layer, GDAL driver, CRS, geometry types,
//! feature count (after `where` and `--bbox`), extent in lon/lat, invalid
//! polygons (count and the first feature ids with the reason; `generate`
//! repairs them), fields and the configured fields that are missing. Then the
//! problems: anything that would stop `generate` (a missing file or field, no
//! CRS, a wrong geometry type, an empty layer, a layer outside the admin
//! units, an output folder that cannot be written, a `--previous` that is
//! not a dongne output). Each layer is checked on its own, so one run lists
//! every problem, not only the first.
//!
//! The report goes to stdout (`--format text` or `json`); the exit code is 0
//! when `generate` would run, 2 when it would not.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use gdal::vector::LayerAccess;
use serde::Serialize;

use super::{LayerArgs, LogArgs};
use dongne::error::{Error, Result};
use dongne::io::config::{Config, LayerConfig};
use dongne::io::inputs;
use dongne::io::network::NetworkCounts;
use dongne::io::postgis::TableName;
use dongne::io::read::{self, InvalidFeature, LayerReport, Role};
use dongne::io::reproject::{self, Transformer};
use dongne::io::write;
use dongne::products::checks::{self, Placed};
use dongne::products::ids::{self, PreviousInfo};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// The output `generate` will write: checks that its folder exists and is writable.
    #[arg(short, long, value_name = "PATH", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Yesterday's output, as `generate --previous` will read it.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub previous: Option<PathBuf>,
    /// With -o or --previous "PG:…": the table, NAME or SCHEMA.NAME.
    #[arg(long, value_name = "NAME", help_heading = "Output")]
    pub table: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// One layer as `check` found it. Fields it could not learn (the file did
/// not open) are empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerRow {
    pub role: String,
    pub file: String,
    pub layer: Option<String>,
    pub driver: Option<String>,
    pub crs: Option<String>,
    pub geometry_types: Vec<String>,
    /// Features after the `where` and `--bbox` filters (before them when the
    /// layer could not be read).
    pub features: Option<usize>,
    pub extent_lonlat: Option<[f64; 4]>,
    /// Invalid polygons (`generate` repairs them and warns).
    pub invalid: usize,
    pub invalid_examples: Vec<InvalidFeature>,
    pub fields: Vec<String>,
    /// Fields the configuration names that the layer lacks.
    pub missing_fields: Vec<String>,
    /// What would not stop `generate` but deserves a look (a shapefile
    /// whose text encoding is unknown).
    pub warnings: Vec<String>,
    /// Barrier lines: culverts kept, covered stretches dropped and line ends
    /// snapped to close the network (known when every layer could be read).
    pub network: Option<NetworkCounts>,
}

/// Something that would stop `generate`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub file: Option<String>,
    pub layer: Option<String>,
    pub feature: Option<i64>,
    pub message: String,
    pub hint: Option<String>,
    /// The whole message as `generate` would print it.
    pub text: String,
}

impl From<&Error> for Problem {
    fn from(e: &Error) -> Problem {
        Problem {
            file: e.file.clone(),
            layer: e.layer.clone(),
            feature: e.feature,
            message: e.message.clone(),
            hint: e.hint.clone(),
            text: e.to_string(),
        }
    }
}

/// Everything `check` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// `generate` would run.
    pub ok: bool,
    pub layers: Vec<LayerRow>,
    pub output: Option<String>,
    pub previous: Option<PreviousInfo>,
    pub problems: Vec<Problem>,
}

pub fn run(a: &Args, _log: &LogArgs) -> Result<()> {
    let report = check(a);
    let text = match a.format {
        ReportFormat::Json => serde_json::to_string_pretty(&report)
            .map(|s| s + "\n")
            .map_err(|e| Error::internal(format!("check report: {e}")))?,
        ReportFormat::Text => render_text(&report),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`dongne check | head`) is not dongne's failure.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if report.ok {
        Ok(())
    } else {
        let n = report.problems.len();
        Err(Error::input(format!(
            "{n} problem{}: generate would not run",
            if n == 1 { "" } else { "s" }
        ))
        .hint("fix the problems listed above and run dongne check again"))
    }
}

/// Checks the run `a` describes; never fails, every failure is a problem.
pub fn check(a: &Args) -> CheckReport {
    let mut problems: Vec<Error> = Vec::new();
    let mut rows: Vec<LayerRow> = Vec::new();
    let cfg = match a.layers.to_config() {
        Ok(c) => c,
        Err(e) => {
            return CheckReport {
                ok: false,
                layers: rows,
                output: None,
                previous: None,
                problems: vec![Problem::from(&e)],
            }
        }
    };
    if let Err(e) = cfg.validate() {
        problems.push(e);
    }
    let explicit = checks::explicit_layers(&cfg);
    let explicit_roles: BTreeSet<Role> = explicit.iter().map(|(r, _)| *r).collect();
    for (role, spec) in &explicit {
        let (mut row, errs) = inspect_layer(*role, spec, &cfg);
        row.warnings
            .extend(checks::dbf_encoding_warning(&spec.path));
        rows.push(row);
        problems.extend(errs);
    }
    // The preset reads its roles from one file in one pass, and what spans
    // layers (admin codes, the barrier network) needs them all: load the
    // whole run when there is an OSM file, or nothing wrong so far.
    if cfg.osm.is_some() || problems.is_empty() {
        match inputs::load(&cfg) {
            Ok(l) => {
                // Explicit rows take their network counts from the k-th
                // report of their role (both are in the order given).
                let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
                for row in rows.iter_mut() {
                    let k = seen.entry(row.role.clone()).or_default();
                    row.network = l
                        .layers
                        .iter()
                        .filter(|r| r.role == row.role)
                        .nth(*k)
                        .and_then(|r| r.network);
                    *k += 1;
                }
                rows.extend(
                    l.layers
                        .iter()
                        .filter(|r| {
                            Role::ALL
                                .iter()
                                .find(|x| x.as_str() == r.role)
                                .is_none_or(|x| !explicit_roles.contains(x))
                        })
                        .map(row_of_report),
                );
            }
            Err(e) => {
                let text = e.to_string();
                if !problems.iter().any(|p| p.to_string() == text) {
                    problems.push(e);
                }
            }
        }
    }
    let placed: Vec<Placed> = rows
        .iter()
        .map(|r| Placed {
            role: &r.role,
            file: &r.file,
            layer: r.layer.as_deref().unwrap_or(""),
            extent_lonlat: r.extent_lonlat,
        })
        .collect();
    problems.extend(checks::disjoint_layers(&placed));

    let output = a.output.clone().or(cfg.output.clone());
    let table = a.table.clone().or(cfg.table.clone());
    if let Some(o) = &output {
        if let Err(e) = checks::outputs_apart(&cfg, &[("-o", o)]) {
            problems.push(e);
        }
        let dest = write::Destination::new(o, table.as_deref());
        if let Err(e) = dest.and_then(|d| write::check_target(&d, cfg.debug_layers)) {
            problems.push(e);
        }
    }
    let mut previous = None;
    if let Some(p) = &a.previous {
        let t = table.as_deref().map(TableName::parse).transpose();
        match t.and_then(|t| ids::inspect(p, t.as_ref())) {
            Ok(info) => previous = Some(info),
            Err(e) => problems.push(e),
        }
    }
    CheckReport {
        ok: problems.is_empty(),
        layers: rows,
        output: output.map(|o| o.display().to_string()),
        previous,
        problems: problems.iter().map(Problem::from).collect(),
    }
}

fn row_of_report(r: &LayerReport) -> LayerRow {
    LayerRow {
        role: r.role.clone(),
        file: r.source.file.clone(),
        layer: Some(r.source.layer.clone()),
        driver: Some(r.driver.clone()),
        crs: Some(r.crs.clone()),
        geometry_types: r.geometry_types.clone(),
        features: Some(r.features_read),
        extent_lonlat: r.extent_lonlat,
        invalid: r.invalid_repaired,
        invalid_examples: r.invalid_examples.clone(),
        fields: r.fields.clone(),
        missing_fields: Vec::new(),
        warnings: Vec::new(),
        network: r.network,
    }
}

/// Opens one explicit layer for what any GDAL layer tells (driver, CRS,
/// fields), then reads it as `generate` would for the rest.
fn inspect_layer(role: Role, spec: &LayerConfig, cfg: &Config) -> (LayerRow, Vec<Error>) {
    let mut row = LayerRow {
        role: role.as_str().to_string(),
        file: spec.path.display().to_string(),
        layer: spec.layer.clone(),
        driver: None,
        crs: None,
        geometry_types: Vec::new(),
        features: None,
        extent_lonlat: None,
        invalid: 0,
        invalid_examples: Vec::new(),
        fields: Vec::new(),
        missing_fields: Vec::new(),
        warnings: Vec::new(),
        network: None,
    };
    let opened = match read::open_layer(spec) {
        Ok(o) => o,
        Err(e) => return (row, vec![e]),
    };
    row.layer = Some(opened.source.layer.clone());
    row.driver = Some(opened.driver.clone());
    row.crs = Some(opened.crs_label());
    row.fields = opened.fields.clone();
    let mut named: Vec<(&str, &str)> = Vec::new();
    if role == Role::Admin {
        named.extend(cfg.admin_code.as_deref().map(|f| (f, "admin code")));
        named.extend(cfg.admin_name.as_deref().map(|f| (f, "admin name")));
    }
    named.extend(spec.class_field.as_deref().map(|f| (f, "class")));
    named.extend(spec.width_field.as_deref().map(|f| (f, "width")));
    named.extend(spec.tunnel_field.as_deref().map(|f| (f, "tunnel")));
    let mut errors = Vec::new();
    for (field, what) in named {
        if let Err(e) = opened.field_index(field, what) {
            row.missing_fields.push(field.to_string());
            errors.push(e);
        }
    }
    if errors.is_empty() {
        match read::check_layer(role, spec, cfg) {
            Ok(r) => return (row_of_report(&r), errors),
            Err(e) => errors.push(e),
        }
    }
    // The layer cannot be read in full: what GDAL tells of it whole (no
    // filters), so that the other layers are still checked against its
    // extent. An OSM file would be parsed once more for each: skipped.
    if opened.driver != "OSM" {
        row.features = usize::try_from(opened.layer.feature_count()).ok();
        row.extent_lonlat = layer_extent(&opened, cfg);
    }
    (row, errors)
}

/// The extent GDAL gives for the whole layer (filters not applied), in
/// lon/lat; `None` without a CRS or an extent.
fn layer_extent(opened: &read::OpenedLayer, cfg: &Config) -> Option<[f64; 4]> {
    let assumed = cfg
        .assume_crs
        .as_deref()
        .and_then(|c| reproject::assumed_srs(c).ok());
    let (srs, _) = opened.srs_or_assumed(assumed.as_ref()).ok()?;
    let env = opened.layer.get_extent().ok()?;
    let t = Transformer::new(&srs, &reproject::lonlat_srs().ok()?).ok()?;
    t.bounds([env.MinX, env.MinY, env.MaxX, env.MaxY]).ok()
}

fn render_text(r: &CheckReport) -> String {
    let mut s = String::new();
    let dash = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    for l in &r.layers {
        match &l.layer {
            Some(layer) => s += &format!("{:<10} {} (layer {layer})\n", l.role, l.file),
            None => s += &format!("{:<10} {}\n", l.role, l.file),
        }
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        s += &format!("  {:<9} {}\n", "driver", opt(&l.driver));
        s += &format!("  {:<9} {}\n", "crs", opt(&l.crs));
        s += &format!("  {:<9} {}\n", "geometry", dash(&l.geometry_types));
        let count = l.features.map(|n| n.to_string()).unwrap_or("?".into());
        s += &format!("  {:<9} {count}\n", "features");
        let extent = match l.extent_lonlat {
            Some(e) => format!(
                "{:.4}, {:.4} .. {:.4}, {:.4} (lon/lat)",
                e[0], e[1], e[2], e[3]
            ),
            None => "-".into(),
        };
        s += &format!("  {:<9} {extent}\n", "extent");
        let examples: Vec<String> = l
            .invalid_examples
            .iter()
            .take(3)
            .map(|x| format!("feature {}: {}", x.fid, x.reason))
            .collect();
        if examples.is_empty() {
            s += &format!("  {:<9} {}\n", "invalid", l.invalid);
        } else {
            s += &format!(
                "  {:<9} {} (repaired by generate); {}\n",
                "invalid",
                l.invalid,
                examples.join("; ")
            );
        }
        s += &format!("  {:<9} {}\n", "fields", dash(&l.fields));
        s += &format!("  {:<9} {}\n", "missing", dash(&l.missing_fields));
        if let Some(n) = &l.network {
            s += &format!(
                "  {:<9} {} culverts kept, {} covered stretches dropped, {} line ends snapped\n",
                "network", n.culverts_kept, n.covered_dropped, n.ends_snapped
            );
        }
        for w in &l.warnings {
            s += &format!("  {:<9} {w}\n", "warning");
        }
        s += "\n";
    }
    if let Some(o) = &r.output {
        s += &format!("output     {o}\n");
    }
    if let Some(p) = &r.previous {
        s += &format!(
            "previous   {} (layer {}): {}, {}, {} features\n",
            p.file, p.layer, p.driver, p.crs, p.features
        );
    }
    if r.problems.is_empty() {
        s += "ok: generate would run\n";
    } else {
        s += &format!("problems ({}):\n", r.problems.len());
        for p in &r.problems {
            let mut lines = p.text.lines();
            if let Some(first) = lines.next() {
                s += &format!("  - {first}\n");
            }
            for more in lines {
                s += &format!("  {more}\n");
            }
        }
    }
    s
}
