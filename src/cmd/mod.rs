//! The subcommands, one file each, with their usage text at the top. `main`
//! only parses and dispatches; everything here is callable from tests.

pub mod check;
pub mod deliver;
pub mod evaluate;
pub mod generate;
pub mod history;
pub mod locate;
pub mod merge;
pub mod preview;
pub mod progress;
pub mod range;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use dongne::error::{Error, Result};
use dongne::io::config::{Config, LayerConfig};

#[derive(Debug, Parser)]
#[command(
    name = "dongne",
    version,
    about = "Draws hyperlocal neighborhood boundaries from buildings, admin units and barriers",
    long_about = "dongne (동네, 'neighborhood') clusters buildings into hot spots, splits each \
administrative unit by natural barriers (water, roads, rail, mountains, parks), fills the gaps \
with a Voronoi diagram and writes neighborhood polygons that tile each unit.\n\n\
Layers are read through GDAL as PATH[:LAYER] (Shapefile, GeoPackage, GeoJSON, FlatGeobuf, \
OSM PBF), in any CRS."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub log: LogArgs,
}

// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw neighborhoods from buildings, admin units and barriers, and write them as a GIS layer.
    Generate(generate::Args),
    /// Check the input layers of a run without generating (exit 0: generate would run, 2: it would not).
    Check(check::Args),
    /// Compare neighborhoods with H3 cells and the admin units on the same inputs.
    Evaluate(evaluate::Args),
    /// Draw a neighborhood layer with its barriers and buildings (PNG or SVG).
    Preview(preview::Args),
    /// Find the neighborhood of points (lon/lat, CSV or a point layer).
    Locate(locate::Args),
    /// The neighborhoods within k borders of one, not across a hard barrier (Daangn's 동네 범위).
    Range(range::Args),
    /// Put the part files of `generate --shard K/N` together into one layer, as one run would write it.
    Merge(merge::Args),
    /// Rebuild the neighborhood layer as it was on a day from a `generate --history` store.
    History(history::Args),
}

/// Writes a command's CSV to `output` (atomically), or to stdout.
pub fn emit(bytes: &[u8], output: Option<&std::path::Path>) -> Result<()> {
    use std::io::Write;
    match output {
        Some(path) => dongne::io::write::atomic_write_bytes(path, bytes),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| Error::output(format!("cannot write to stdout: {e}")))
        }
    }
}

/// How the run talks to its operator.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Print errors only: no summary, no progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log format on stderr: `text` for people, `json` (one object per line) for pipelines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The neighborhood layer `evaluate`, `preview` and `locate` read: first and
/// positional, as ogrinfo takes its data source. `--neighborhoods PATH`, the
/// older spelling, still works (hidden from the help).
#[derive(Debug, Clone, Args)]
pub struct NeighborhoodsArg {
    /// The neighborhood layer, the output of `dongne generate`: a file
    /// (GeoPackage, GeoJSON, FlatGeobuf, Shapefile, GeoParquet) with
    /// :LAYER when it holds several, or "PG:…:TABLE".
    #[arg(value_name = "NEIGHBORHOODS", required_unless_present = "nbhd_flag")]
    nbhd: Option<LayerConfig>,
    #[arg(
        long = "neighborhoods",
        value_name = "PATH[:LAYER]",
        hide = true,
        conflicts_with = "nbhd"
    )]
    nbhd_flag: Option<LayerConfig>,
}

impl NeighborhoodsArg {
    pub fn layer(&self) -> Result<&LayerConfig> {
        self.nbhd
            .as_ref()
            .or(self.nbhd_flag.as_ref())
            .ok_or_else(|| Error::input("no neighborhood layer: give it first, e.g. nbhd.gpkg"))
    }
}

/// Where the layer goes besides `-o`, and what the run reports: shared by
/// `generate` and `merge`, which deliver the same way.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct DeliveryArgs {
    /// With -o "PG:…": the table to replace, NAME or SCHEMA.NAME; also where --previous "PG:…" is read.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Yesterday's output: neighborhoods that continue one of its features keep its nbhd_id.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// With --previous: write the change report (added, removed, split, merged, reshaped) as JSON.
    #[arg(long, value_name = "FILE.json", requires = "previous")]
    pub changes: Option<PathBuf>,
    /// Write the run's figures (inputs, counts, areas, stage times) as JSON.
    #[arg(long, value_name = "FILE.json")]
    pub summary: Option<PathBuf>,
}

/// The input layers, shared by every subcommand that reads them.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Input layers (each PATH[:LAYER], read through GDAL)")]
pub struct LayerArgs {
    /// TOML file with layers, filters and parameters; flags override it.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// One OSM extract from which every layer not given explicitly is taken by its tags.
    #[arg(long, value_name = "FILE.osm.pbf")]
    pub osm: Option<PathBuf>,
    /// With --osm: admin_level of the boundary=administrative areas used as admin units.
    #[arg(long, value_name = "N")]
    pub admin_level: Option<u32>,
    /// Building points or footprints (footprints become their point on surface).
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub buildings: Option<LayerConfig>,
    /// Admin unit polygons; without it the study area is the buildings' buffered hull.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub admin: Option<LayerConfig>,
    /// Field of the admin layer holding the unit code (default: the feature id).
    #[arg(long, value_name = "FIELD")]
    pub admin_code: Option<String>,
    /// Field of the admin layer holding the unit name.
    #[arg(long, value_name = "FIELD")]
    pub admin_name: Option<String>,
    /// Water: polygons (lakes, riverbanks) and/or lines (rivers, streams). Repeatable.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub water: Vec<LayerConfig>,
    /// Roads (lines); the class field decides the width and whether a road is a barrier. Repeatable.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub roads: Vec<LayerConfig>,
    /// Railways (lines). Repeatable.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub rail: Vec<LayerConfig>,
    /// Mountains / forest (polygons). Repeatable.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub mountains: Vec<LayerConfig>,
    /// Parks (polygons); barriers above the minimum park area. Repeatable.
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub parks: Vec<LayerConfig>,
    /// Land use polygons with a class field (soft split).
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub landuse: Option<LayerConfig>,
    /// Names people use (points or polygons with a `name` field; in the
    /// config also `name_en_field` and `rank_field`): tried before any
    /// other source (docs/design.md, "Names").
    #[arg(long, value_name = "PATH[:LAYER]")]
    pub names: Option<LayerConfig>,
    /// Working CRS in metres (default: the UTM zone of the data's centre).
    #[arg(long, value_name = "EPSG:NNNN")]
    pub crs: Option<String>,
    /// CRS for layers that carry none (a shapefile without .prj).
    #[arg(long, value_name = "EPSG:NNNN")]
    pub assume_crs: Option<String>,
    /// Read only this box, in lon/lat: MIN_LON,MIN_LAT,MAX_LON,MAX_LAT (or four values apart).
    #[arg(long, value_name = "W,S,E,N", num_args = 1..=4, allow_negative_numbers = true)]
    pub bbox: Option<Vec<String>>,
}

/// A flag given on the command line replaces the config file's value.
fn over<T: Clone>(slot: &mut Option<T>, flag: &Option<T>) {
    if flag.is_some() {
        slot.clone_from(flag);
    }
}

impl LayerArgs {
    /// The config file (if any) with every given flag laid over it.
    pub fn to_config(&self) -> Result<Config> {
        let mut c = match &self.config {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        over(&mut c.osm, &self.osm);
        over(&mut c.admin_level, &self.admin_level);
        over(&mut c.buildings, &self.buildings);
        over(&mut c.admin, &self.admin);
        over(&mut c.admin_code, &self.admin_code);
        over(&mut c.admin_name, &self.admin_name);
        let lists = [
            (&self.water, &mut c.water),
            (&self.roads, &mut c.roads),
            (&self.rail, &mut c.rail),
            (&self.mountains, &mut c.mountains),
            (&self.parks, &mut c.parks),
        ];
        for (flag, slot) in lists {
            if !flag.is_empty() {
                *slot = flag.clone();
            }
        }
        over(&mut c.landuse, &self.landuse);
        over(&mut c.names, &self.names);
        over(&mut c.crs, &self.crs);
        over(&mut c.assume_crs, &self.assume_crs);
        if let Some(b) = &self.bbox {
            c.bbox = Some(parse_bbox(b)?);
        }
        Ok(c)
    }
}

/// `--bbox 9.47,47.04,9.64,47.28` or `--bbox 9.47 47.04 9.64 47.28`: four
/// numbers, west, south, east, north, in lon/lat.
fn parse_bbox(given: &[String]) -> Result<[f64; 4]> {
    let text = given.join(",");
    let bad = |what: String| {
        Error::input(format!("--bbox {}: {what}", given.join(" ")))
            .hint("give four numbers W,S,E,N in lon/lat, e.g. --bbox 9.47,47.04,9.64,47.28")
    };
    let v: Vec<f64> = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| bad(format!("'{}' is not a number", s.trim())))
        })
        .collect::<Result<_>>()?;
    let [w, s, e, n] = v[..] else {
        return Err(bad(format!("{} values where four are needed", v.len())));
    };
    Ok([w, s, e, n])
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(a) => generate::run(&a, &cli.log),
        Command::Check(a) => check::run(&a, &cli.log),
        Command::Evaluate(a) => evaluate::run(&a, &cli.log),
        Command::Preview(a) => preview::run(&a, &cli.log),
        Command::Locate(a) => locate::run(&a, &cli.log),
        Command::Range(a) => range::run(&a, &cli.log),
        Command::Merge(a) => merge::run(&a, &cli.log),
        Command::History(a) => history::run(&a, &cli.log),
    }
}
