//! Run configuration: what `--config FILE.toml` holds and what the flags of
//! `generate` set. Flags override the file; the file overrides the defaults.
//! Every default is justified in docs/parameters.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One input layer: `PATH[:LAYER]` on the command line, a table in the config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerConfig {
    pub path: PathBuf,
    /// Layer name inside a multi-layer source (GeoPackage, OSM PBF).
    #[serde(default)]
    pub layer: Option<String>,
    /// Attribute filter in OGR SQL, as ogr2ogr's `-where`.
    #[serde(default, rename = "where")]
    pub where_sql: Option<String>,
    /// Field holding the class (road class for roads, land-use class for landuse).
    #[serde(default)]
    pub class_field: Option<String>,
    /// Field holding a width in metres (roads, rail, water lines).
    #[serde(default)]
    pub width_field: Option<String>,
    /// Field marking a line underground (tunnel, culvert, covered): any value
    /// but empty, `0`, `no`, `false`. Roads and rail there are no barrier;
    /// water there is kept while the covered stretch is short.
    #[serde(default)]
    pub tunnel_field: Option<String>,
    /// A names layer's name field (default `name`), its Latin name field
    /// (`name_en` when present) and its rank field: an integer, higher
    /// more specific, as Nominatim's address ranks (default 22).
    #[serde(default)]
    pub name_field: Option<String>,
    #[serde(default)]
    pub name_en_field: Option<String>,
    #[serde(default)]
    pub rank_field: Option<String>,
}

impl LayerConfig {
    /// The name used in messages: `path` or `path:layer`.
    pub fn display(&self) -> String {
        match &self.layer {
            Some(l) => format!("{}:{l}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

impl FromStr for LayerConfig {
    type Err = String;

    /// `PATH[:LAYER]`. A path that exists as given is taken whole, so a file
    /// name holding a colon still works; otherwise the text after the last
    /// colon is the layer name.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("empty layer: expected PATH[:LAYER]".into());
        }
        if Path::new(s).exists() {
            return Ok(LayerConfig {
                path: s.into(),
                ..Default::default()
            });
        }
        match s.rsplit_once(':') {
            // `PG:dbname=gis host=db` has no layer; `PG:dbname=gis:roads` has.
            Some((p, l))
                if !p.is_empty()
                    && !l.is_empty()
                    && !l.contains(['/', '=', ' '])
                    && !p.eq_ignore_ascii_case("PG") =>
            {
                Ok(LayerConfig {
                    path: p.into(),
                    layer: Some(l.into()),
                    ..Default::default()
                })
            }
            _ => Ok(LayerConfig {
                path: s.into(),
                ..Default::default()
            }),
        }
    }
}

/// Parameters of the method (metres and square metres in the working CRS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// DBSCAN neighbourhood radius between buildings of one hot spot.
    pub eps: f64,
    /// Buildings a hot spot needs (DBSCAN minimum points; also the size rule).
    pub min_buildings: usize,
    /// Smallest neighborhood area; smaller ones join a neighbour.
    pub min_area: f64,
    /// Walk time that bounds a neighborhood: its farthest building is at most
    /// `walk_minutes × 80 m` from its centre.
    pub walk_minutes: f64,
    /// Give area barriers (water, parks, mountains) to the neighbouring
    /// neighborhoods instead of keeping them as features of their own.
    pub fill_barriers: bool,
    /// Ground farther than this from every building is `open` (a feature of
    /// its own kind); `None`: half the walk radius (a five-minute walk at the
    /// default ten).
    pub open_distance: Option<f64>,
    /// Give open ground to the neighbouring neighborhoods instead of keeping
    /// it as `open` features.
    pub fill_open: bool,
    /// Parks smaller than this are not barriers.
    pub min_park_area: f64,
    /// Forests / mountains smaller than this are not barriers.
    pub min_mountain_area: f64,
    /// Water areas smaller than this are not barriers.
    pub min_water_area: f64,
    /// Width in metres per road class; a class absent here or with width 0 is
    /// not a barrier.
    pub road_widths: BTreeMap<String, f64>,
    /// Width of a road whose layer has no class or width field.
    pub default_road_width: f64,
    /// Width per railway value (OSM `railway=`); absent or 0: not a barrier.
    pub rail_widths: BTreeMap<String, f64>,
    /// Width per waterway value (OSM `waterway=`); absent or 0: not a barrier.
    pub waterway_widths: BTreeMap<String, f64>,
    /// Lines narrower than this are not barriers.
    pub min_barrier_width: f64,
    /// A waterway underground (culvert, covered) for at most this length is
    /// still a barrier: it passes under a road and still separates its banks.
    /// Longer, it is a stream built over and separates nothing.
    pub culvert_length: f64,
    /// A barrier line that ends at most this far from another barrier or an
    /// admin unit's edge is extended to meet it (gaps in the data).
    pub snap_distance: f64,
}

pub const METRES_PER_WALK_MINUTE: f64 = 80.0;

impl Default for Params {
    fn default() -> Self {
        let road_widths = [
            ("motorway", 30.0),
            ("trunk", 25.0),
            ("primary", 20.0),
            ("secondary", 15.0),
        ];
        let rail_widths = [("rail", 10.0), ("light_rail", 8.0), ("narrow_gauge", 6.0)];
        let waterway_widths = [("river", 20.0), ("canal", 10.0), ("stream", 3.0)];
        let map = |v: &[(&str, f64)]| v.iter().map(|(k, w)| (k.to_string(), *w)).collect();
        Params {
            eps: 40.0,
            min_buildings: 5,
            min_area: 20_000.0,
            walk_minutes: 10.0,
            fill_barriers: false,
            open_distance: None,
            fill_open: false,
            min_park_area: 10_000.0,
            min_mountain_area: 10_000.0,
            min_water_area: 1_000.0,
            road_widths: map(&road_widths),
            default_road_width: 15.0,
            rail_widths: map(&rail_widths),
            waterway_widths: map(&waterway_widths),
            min_barrier_width: 1.0,
            culvert_length: 50.0,
            snap_distance: 15.0,
        }
    }
}

impl Params {
    /// Farthest a building may be from its neighborhood's centre.
    pub fn walk_radius(&self) -> f64 {
        self.walk_minutes * METRES_PER_WALK_MINUTE
    }

    /// Ground farther than this from every building is open ground.
    pub fn open_reach(&self) -> f64 {
        self.open_distance.unwrap_or(self.walk_radius() / 2.0)
    }

    pub fn validate(&self) -> Result<()> {
        let positive = [("eps", self.eps), ("walk_minutes", self.walk_minutes)];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::input(format!(
                    "{name} must be a positive number, got {v}"
                )));
            }
        }
        if let Some(d) = self.open_distance {
            if !(d.is_finite() && d > 0.0) {
                return Err(Error::input(format!(
                    "open_distance must be a positive number, got {d}"
                )));
            }
        }
        let non_negative = [
            ("min_area", self.min_area),
            ("min_park_area", self.min_park_area),
            ("min_mountain_area", self.min_mountain_area),
            ("min_water_area", self.min_water_area),
            ("default_road_width", self.default_road_width),
            ("min_barrier_width", self.min_barrier_width),
            ("culvert_length", self.culvert_length),
            ("snap_distance", self.snap_distance),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::input(format!(
                    "{name} must be zero or more, got {v}"
                )));
            }
        }
        for (table, widths) in [
            ("road_widths", &self.road_widths),
            ("rail_widths", &self.rail_widths),
            ("waterway_widths", &self.waterway_widths),
        ] {
            if let Some((class, w)) = widths.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
                return Err(Error::input(format!(
                    "{table}.{class} must be a width of zero or more metres, got {w}"
                ))
                .hint("0 makes a class no barrier"));
            }
        }
        if self.min_buildings == 0 {
            return Err(Error::input("min_buildings must be at least 1"));
        }
        Ok(())
    }
}

/// Everything a run needs to know.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// One OSM extract (`.osm.pbf`) from which every layer is taken by its tags.
    pub osm: Option<PathBuf>,
    /// `admin_level` of the `boundary=administrative` relations used as admin units.
    pub admin_level: Option<u32>,
    /// Bounding box `[min_lon, min_lat, max_lon, max_lat]` (EPSG:4326) that limits
    /// what is read, e.g. to drop far-away test points from an extract.
    pub bbox: Option<[f64; 4]>,
    pub buildings: Option<LayerConfig>,
    pub admin: Option<LayerConfig>,
    pub admin_code: Option<String>,
    pub admin_name: Option<String>,
    pub water: Vec<LayerConfig>,
    pub roads: Vec<LayerConfig>,
    pub rail: Vec<LayerConfig>,
    pub mountains: Vec<LayerConfig>,
    pub parks: Vec<LayerConfig>,
    pub landuse: Option<LayerConfig>,
    /// The user's name sources (method step 8).
    pub names: Option<LayerConfig>,
    /// Working CRS, `EPSG:NNNN`; default: the UTM zone of the data's centre.
    pub crs: Option<String>,
    /// CRS of layers that carry none (a shapefile without .prj).
    pub assume_crs: Option<String>,
    pub output: Option<PathBuf>,
    /// The table written when `output` is a PostGIS connection (`PG:…`),
    /// `NAME` or `SCHEMA.NAME`; also where `--previous PG:…` is read.
    pub table: Option<String>,
    pub debug_layers: bool,
    /// Walk minutes of the coarser levels above the neighborhoods as drawn
    /// (method step 9): `[10, 20]` writes levels 1, 2 and 3.
    pub levels: Vec<f64>,
    /// What no coarser level merges across: `water`, `rail`, `road`, or
    /// road classes; default `water, rail, motorway, trunk`.
    pub hard_barriers: Option<Vec<String>>,
    pub params: Params,
}

/// Checks the walks of `levels`: finite, positive, increasing.
pub fn check_level_walks(walks: &[f64]) -> Result<()> {
    let mut last = 0.0;
    for &m in walks {
        if !(m.is_finite() && m > last) {
            let given: Vec<String> = walks.iter().map(|m| m.to_string()).collect();
            return Err(Error::input(format!(
                "levels: walk minutes must be positive and increasing, got {}",
                given.join(",")
            ))
            .hint("give the walk of each coarser level in minutes, e.g. --levels 10,20"));
        }
        last = m;
    }
    Ok(())
}

impl Config {
    /// Reads a TOML config. Relative paths inside it are taken relative to the
    /// file's own folder, as QGIS projects do, so a config runs from anywhere.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::input(format!("cannot read config: {e}"))
                .file(path.display().to_string())
                .hint("check the path given to --config")
        })?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            // Where: line and column of the value at fault, and its line.
            let at = e.span().map(|s| {
                let before = &text[..s.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                let src = text.lines().nth(line - 1).unwrap_or("").trim();
                format!(" (line {line}, column {col}: `{src}`)")
            });
            Error::input(format!(
                "invalid config: {}{}",
                e.message().trim_end(),
                at.unwrap_or_default()
            ))
            .file(path.display().to_string())
            .hint("see README.md, section 'Config file', for the keys")
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        cfg.rebase(base);
        Ok(cfg)
    }

    fn rebase(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            // A connection string (`PG:…`) is no path.
            if p.is_relative() && !crate::io::postgis::is_connection(&p.to_string_lossy()) {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = &mut self.osm {
            fix(p);
        }
        if let Some(p) = &mut self.output {
            fix(p);
        }
        for l in self.layers_mut() {
            fix(&mut l.path);
        }
    }

    fn layers_mut(&mut self) -> impl Iterator<Item = &mut LayerConfig> {
        self.buildings
            .iter_mut()
            .chain(self.admin.iter_mut())
            .chain(self.water.iter_mut())
            .chain(self.roads.iter_mut())
            .chain(self.rail.iter_mut())
            .chain(self.mountains.iter_mut())
            .chain(self.parks.iter_mut())
            .chain(self.landuse.iter_mut())
            .chain(self.names.iter_mut())
    }

    /// Checks that the run is described well enough to start.
    pub fn validate(&self) -> Result<()> {
        check_level_walks(&self.levels)?;
        if let Some(h) = &self.hard_barriers {
            if let Some(bad) = h.iter().find(|x| x.trim().is_empty()) {
                return Err(Error::input(format!("hard_barriers: an empty name in {h:?} ('{bad}')"))
                    .hint("list kinds (water, rail, road) or road classes (motorway, trunk), e.g. --hard-barriers water,rail,motorway"));
            }
        }
        if self.osm.is_none() && self.buildings.is_none() {
            return Err(Error::input(
                "no buildings: give --buildings PATH[:LAYER] or --osm FILE.osm.pbf",
            )
            .hint("run `dongne generate --help` for the layer flags"));
        }
        if self.admin_level.is_some() && self.osm.is_none() {
            return Err(Error::input(
                "--admin-level picks boundary relations of an OSM extract, but no --osm is given",
            )
            .hint("give --osm FILE.osm.pbf, or leave --admin-level out (with --admin FILE the units are its features)"));
        }
        self.params.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_spec_splits_on_last_colon_when_path_does_not_exist() {
        let l: LayerConfig = "no/such/rivers.gpkg:river".parse().unwrap();
        assert_eq!(l.path, PathBuf::from("no/such/rivers.gpkg"));
        assert_eq!(l.layer.as_deref(), Some("river"));
        let l: LayerConfig = "roads.shp".parse().unwrap();
        assert_eq!(l.layer, None);
    }

    #[test]
    fn config_file_rebases_paths_and_keeps_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "[buildings]\npath = \"b.geojson\"\n[[roads]]\npath = \"r.gpkg\"\nlayer = \"roads\"\nwhere = \"highway = 'primary'\"\n[params]\neps = 25.0\n",
        )
        .unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(c.buildings.unwrap().path, dir.path().join("b.geojson"));
        assert_eq!(c.roads[0].where_sql.as_deref(), Some("highway = 'primary'"));
        assert_eq!(c.params.eps, 25.0);
        assert_eq!(c.params.min_buildings, Params::default().min_buildings);
    }

    #[test]
    fn unknown_key_is_refused_with_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[params]\nepsilon = 3\n").unwrap();
        let e = Config::from_file(&p).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "{}: invalid config: unknown field `epsilon`",
                p.display()
            )),
            "{e}"
        );
    }
}
