//! The OSM preset: with `--osm FILE.osm.pbf`, every layer not given on its own
//! is taken from that one extract by its tags, through GDAL's OSM driver.
//!
//! The driver exposes `points`, `lines` and `multipolygons`; tags outside its
//! `osmconf.ini` land in `other_tags` as an HSTORE string
//! (`"tunnel"=>"yes","layer"=>"-1"`), parsed here. Each OSM layer is read once
//! and every feature goes to each role its tags give it, so a country extract
//! is parsed three times, not once per role.
//!
//! | role | OSM layer | tags |
//! |---|---|---|
//! | buildings | multipolygons, points | `building` not `no` |
//! | admin | multipolygons | `boundary=administrative` and `admin_level` = `--admin-level` |
//! | roads | lines | `highway=*` (width from `road_widths`), not in a tunnel |
//! | rail | lines | `railway=*` (width from `rail_widths`), not in a tunnel |
//! | water | multipolygons | `natural=water`, `waterway=riverbank`, `landuse=reservoir/basin` |
//! | water | lines | `waterway=*` (width from `waterway_widths`); in a culvert or covered: kept while short (`culvert_length`) |
//! | mountains | multipolygons | `landuse=forest`, `natural=` [`MOUNTAIN_NATURAL`](crate::io::osm_tags::MOUNTAIN_NATURAL) |
//! | parks | multipolygons | `leisure=park` |
//! | landuse | multipolygons | `landuse=*` |
//! | names | points, multipolygons | a `name` and `place=*`, `boundary=administrative` finer than the frame, `landuse=residential`, `building`, or a station ([`crate::io::osm_tags::name_source`]) |
//!
//! "In a tunnel" is `tunnel=*` other than `no` (so `culvert` and
//! `building_passage` too) or `covered=yes`: a road or railway there does not
//! cut the ground it passes under. A waterway there still separates its
//! banks where it passes under a road for a few metres, so it is kept and
//! marked covered; [`crate::io::network`] drops the long covered stretches
//! (a stream built over).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use gdal::spatial_ref::SpatialRef;
use gdal::vector::LayerAccess;

use crate::error::{Error, Result};
use crate::io::config::Config;
use crate::io::gdal_errors;
use crate::io::osm_tags::{
    is_building, is_mountain, is_park, is_tunnel, is_water_area, latin_name, name_source, osm_ref,
    FeatureTags, TagReader, ADMIN_CODE_TAGS,
};
use crate::io::read::{self, Attrs, ReadOptions, Role, Stage};
use crate::io::reproject;

/// The layers of GDAL's OSM driver dongne reads, with the roles each can feed.
const OSM_LAYERS: [(&str, &[Role]); 3] = [
    ("points", &[Role::Buildings, Role::Names]),
    ("lines", &[Role::Roads, Role::Rail, Role::Water]),
    (
        "multipolygons",
        &[
            Role::Buildings,
            Role::Admin,
            Role::Water,
            Role::Mountains,
            Role::Parks,
            Role::Landuse,
            Role::Names,
        ],
    ),
];

/// What the tags of a feature make of it for one role.
enum Verdict {
    /// Not of this role.
    Skip,
    /// Of this role but left out, for this reason.
    Drop(&'static str),
    Use(Attrs),
}

/// Reads the roles in `roles` from one OSM extract: one stage per role and
/// OSM layer, in the order of [`OSM_LAYERS`].
pub(crate) fn read_preset(
    path: &Path,
    roles: &[Role],
    cfg: &Config,
    opts: &ReadOptions,
) -> Result<Vec<(Stage, SpatialRef)>> {
    let file = path.display().to_string();
    // The preset reads OSM tags: any other file has none to read.
    let driver = read::open_dataset(path)?.driver().short_name();
    if driver != "OSM" {
        return Err(Error::input(format!(
            "--osm takes an OpenStreetMap extract (.osm.pbf or .osm), and this is a {driver} file"
        ))
        .file(file)
        .hint("give its layers one by one: --buildings FILE:LAYER, --admin FILE:LAYER, --roads FILE:LAYER…"));
    }
    // Without --admin-level there are no admin units: the study area is the
    // buildings' buffered hull (see pipeline::study_area).
    let admin_level = if roles.contains(&Role::Admin) {
        cfg.admin_level
    } else {
        None
    };
    let preset = Preset {
        path,
        admin_level,
        opts,
    };
    let mut stages = Vec::new();
    let mut levels = BTreeSet::new();
    for (layer, layer_roles) in OSM_LAYERS {
        let wanted: Vec<Role> = layer_roles
            .iter()
            .copied()
            .filter(|r| roles.contains(r))
            .collect();
        if !wanted.is_empty() {
            let started = std::time::Instant::now();
            stages.extend(preset.read_layer(layer, &wanted, &mut levels)?);
            tracing::info!(file = %file, layer, seconds = started.elapsed().as_secs_f64(), "OSM layer read");
        }
    }
    preset.check_found(stages.iter().map(|s| &s.0), &levels)?;
    Ok(stages)
}

/// What GDAL says, as a failure, of a ring it cannot close when
/// `OGR_GEOMETRY_ACCEPT_UNCLOSED_RING=NO` is set (a warning otherwise).
const UNCLOSED_RING: &str = "Non closed ring detected";

/// [`gdal_errors::check_read_errors`] for one pass over an OSM layer, except for
/// rings GDAL could not close: a warning, not a read error.
///
/// A multipolygon relation clipped by the extract has an outer way that
/// does not close. GDAL's OSM driver assembles the ring, fails to add it
/// ("Non closed ring detected.", CE_Failure with the option set to NO) and
/// leaves the ring out of the relation, the whole relation when no ring is
/// left: without the option the result is the same, with a GDAL warning.
/// The file is fine. The message names no relation and the driver returns
/// no feature for it, so the relation's id cannot be known here (GDAL's
/// debug log gives the ring's end points). The driver parses the whole file
/// again for each layer and builds the relations whichever layer is read,
/// so the failure comes back on every pass: it is told once, with the
/// multipolygons where the ring belongs, and left in the debug log on the
/// other passes. Every other failure is a read error as before.
fn check_osm_read_errors(source: &crate::model::Source, layer: &str) -> Result<()> {
    let (unclosed, failures): (Vec<String>, Vec<String>) = gdal_errors::take_gdal_errors()
        .into_iter()
        .partition(|m| m.starts_with(UNCLOSED_RING));
    if let Some(msg) = failures.first() {
        return Err(gdal_errors::read_error(source, msg));
    }
    match unclosed.len() {
        0 => {}
        n if layer == "multipolygons" => tracing::warn!(
            file = %source.file,
            layer = %source.layer,
            "{n} unclosed ring{s} of OSM multipolygon relations skipped (GDAL: {msg}); \
             GDAL's OSM driver names no relation, and skips a relation with no \
             closed ring; CPL_DEBUG=ON RUST_LOG=gdal=trace logs each ring's end points",
            s = if n == 1 { "" } else { "s" },
            msg = unclosed[0],
        ),
        n => tracing::debug!(
            file = %source.file,
            layer = %source.layer,
            "{n} unclosed rings of multipolygon relations met while reading this layer"
        ),
    }
    Ok(())
}

struct Preset<'a> {
    path: &'a Path,
    admin_level: Option<u32>,
    opts: &'a ReadOptions,
}

impl Preset<'_> {
    /// One pass over an OSM layer; each feature goes to every role its tags
    /// give it. `levels` collects the admin levels met, for the message when
    /// the one asked for is absent.
    fn read_layer(
        &self,
        layer: &str,
        roles: &[Role],
        levels: &mut BTreeSet<String>,
    ) -> Result<Vec<(Stage, SpatialRef)>> {
        let spec = crate::io::config::LayerConfig {
            path: self.path.to_path_buf(),
            layer: Some(layer.to_string()),
            ..Default::default()
        };
        let mut l = read::open_layer(&spec)?;
        // The driver always declares WGS 84; the fallback is for safety only.
        let srs = match l.srs.clone() {
            Some(s) => s,
            None => reproject::lonlat_srs()?,
        };
        let label = reproject::srs_label(&srs);
        if let Some(b) = self.opts.bbox {
            l.set_bbox(b, &srs)?;
        }
        let tags = TagReader::new(&l.fields);
        let min_width = self.opts.params.min_barrier_width;
        let new_stage = |r: Role| {
            let fields = l.fields.clone();
            Stage::new(
                r,
                l.source.clone(),
                l.driver.clone(),
                label.clone(),
                fields,
                min_width,
            )
        };
        let mut stages: Vec<Stage> = roles.iter().map(|&r| new_stage(r)).collect();
        gdal_errors::take_gdal_errors();
        for (i, f) in l.layer.features().enumerate() {
            let fid = read::feature_id(&f, i);
            let t = tags.tags(&f);
            if layer == "multipolygons" && t.is("boundary", "administrative") {
                levels.extend(t.get("admin_level"));
            }
            for stage in stages.iter_mut() {
                match self.classify(stage.role, layer, &t, fid) {
                    Verdict::Skip => {}
                    Verdict::Drop(reason) => stage.drop_feature(reason),
                    Verdict::Use(attrs) => stage.push(fid, f.geometry(), attrs)?,
                }
            }
        }
        if let Some(first) = stages.first() {
            check_osm_read_errors(&first.report.source, layer)?;
        }
        Ok(stages.into_iter().map(|s| (s, srs.clone())).collect())
    }

    fn classify(&self, role: Role, layer: &str, t: &FeatureTags, fid: i64) -> Verdict {
        let params = &self.opts.params;
        // A road or railway underground is no barrier on the surface; a
        // waterway underground is kept as covered (io::network decides).
        let line = |key: &str, widths: &BTreeMap<String, f64>| match t.get(key) {
            None => Verdict::Skip,
            Some(_) if is_tunnel(t) && key != "waterway" => Verdict::Drop("tunnel or covered"),
            Some(class) => Verdict::Use(Attrs {
                width: widths.get(&class).copied().unwrap_or(0.0),
                class,
                covered: is_tunnel(t),
                ..Attrs::default()
            }),
        };
        let area = |yes: bool| {
            if yes {
                Verdict::Use(Attrs::default())
            } else {
                Verdict::Skip
            }
        };
        match role {
            Role::Buildings => area(is_building(t)),
            Role::Admin => self.admin(t, fid),
            Role::Roads => line("highway", &params.road_widths),
            Role::Rail => line("railway", &params.rail_widths),
            Role::Water if layer == "lines" => line("waterway", &params.waterway_widths),
            Role::Water => area(is_water_area(t)),
            Role::Mountains => area(is_mountain(t)),
            Role::Parks => area(is_park(t)),
            Role::Names => match name_source(t, self.admin_level) {
                Some((tier, rank, source)) => Verdict::Use(Attrs {
                    name: t.get("name").unwrap_or_default(),
                    name_en: latin_name(t),
                    class: source,
                    tier: Some(tier),
                    rank,
                    ..Attrs::default()
                }),
                None => Verdict::Skip,
            },
            Role::Landuse => match t.get("landuse") {
                Some(class) => Verdict::Use(Attrs {
                    class,
                    ..Attrs::default()
                }),
                None => Verdict::Skip,
            },
        }
    }

    fn admin(&self, t: &FeatureTags, fid: i64) -> Verdict {
        let level_ok = self.admin_level.is_some()
            && t.is("boundary", "administrative")
            && t.get("admin_level")
                .and_then(|l| l.trim().parse::<u32>().ok())
                == self.admin_level;
        if !level_ok {
            return Verdict::Skip;
        }
        let code = match &self.opts.admin_code {
            Some(key) => t.get(key),
            None => ADMIN_CODE_TAGS.iter().find_map(|k| t.get(k)),
        };
        let name_key = self.opts.admin_name.as_deref().unwrap_or("name");
        Verdict::Use(Attrs {
            code: code.unwrap_or_else(|| osm_ref(t, fid)),
            name: t.get(name_key).unwrap_or_default(),
            ..Attrs::default()
        })
    }

    /// Buildings and admin units are required; barriers may be absent.
    fn check_found<'s>(
        &self,
        stages: impl Iterator<Item = &'s Stage> + Clone,
        levels: &BTreeSet<String>,
    ) -> Result<()> {
        let read = |role: Role| -> Option<usize> {
            let mut of_role = stages.clone().filter(|s| s.role == role).peekable();
            of_role.peek()?;
            Some(of_role.map(|s| s.report.features_read).sum())
        };
        let file = self.path.display().to_string();
        let inside = match self.opts.bbox {
            Some(b) => format!(" inside the bbox {b:?}"),
            None => String::new(),
        };
        if read(Role::Buildings) == Some(0) {
            return Err(Error::input(format!("no buildings (building=*){inside}"))
                .file(file)
                .hint("check the extract and the bbox, or give --buildings"));
        }
        if let (Some(0), Some(level)) = (read(Role::Admin), self.admin_level) {
            let present = if levels.is_empty() {
                "none".to_string()
            } else {
                let mut v: Vec<&String> = levels.iter().collect();
                v.sort_by_key(|l| (l.parse::<u32>().unwrap_or(u32::MAX), l.as_str()));
                v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            };
            return Err(Error::input(format!(
                "no boundary=administrative with admin_level={level}{inside}; admin levels present: {present}"
            ))
            .file(file)
            .hint("pass --admin-level with a level present, or the official units with --admin FILE"));
        }
        Ok(())
    }
}
