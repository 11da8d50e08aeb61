//! Layers given explicitly (not by the OSM preset): field plans and the
//! read of one layer into a stage.

use gdal::vector::{Feature, LayerAccess};

use crate::error::{Error, Result};
use crate::io::config::{LayerConfig, Params};
use crate::io::gdal_errors::{check_read_errors, take_gdal_errors};
use crate::io::osm_tags;
use crate::model::Source;

use super::*;

/// The rank of a name in the user's layer without a rank field: a
/// neighbourhood's, as Nominatim ranks it.
const USER_RANK: u8 = 22;

impl FieldPlan {
    pub(super) fn for_layer(
        role: Role,
        spec: &LayerConfig,
        l: &OpenedLayer,
        opts: &ReadOptions,
    ) -> Result<FieldPlan> {
        let named = |name: &Option<String>, what: &str| -> Result<Option<usize>> {
            name.as_deref().map(|n| l.field_index(n, what)).transpose()
        };
        let (code, name) = match role {
            Role::Admin => (
                named(&opts.admin_code, "admin code")?,
                named(&opts.admin_name, "admin name")?,
            ),
            Role::Names => (
                None,
                Some(l.field_index(spec.name_field.as_deref().unwrap_or("name"), "name")?),
            ),
            _ => (None, None),
        };
        let (name_en, rank) = if role == Role::Names {
            let en = match &spec.name_en_field {
                Some(f) => Some(l.field_index(f, "Latin name")?),
                None => l
                    .fields
                    .iter()
                    .position(|f| f.eq_ignore_ascii_case("name_en")),
            };
            (en, named(&spec.rank_field, "rank")?)
        } else {
            (None, None)
        };
        let class = match &spec.class_field {
            Some(f) => Some(l.field_index(f, "class")?),
            None => default_class_field(role, l),
        };
        let width = named(&spec.width_field, "width")?;
        let tunnel = named(&spec.tunnel_field, "tunnel")?;
        if role == Role::Landuse && class.is_none() {
            return Err(l
                .error(format!(
                    "no class field for landuse; the layer has: {}",
                    l.fields.join(", ")
                ))
                .hint("set class_field to the field holding the land-use class"));
        }
        let osm_tags = (l.driver == "OSM"
            && matches!(role, Role::Roads | Role::Rail | Role::Water))
        .then(|| osm_tags::TagReader::new(&l.fields));
        Ok(FieldPlan {
            code,
            name,
            class,
            width,
            osm_tags,
            tunnel,
            warned_no_class: false,
            name_en,
            rank,
        })
    }

    pub(super) fn attrs(
        &mut self,
        role: Role,
        f: &Feature,
        fid: i64,
        params: &Params,
        src: &Source,
    ) -> Result<Attrs> {
        let text = |i: Option<usize>| i.and_then(|i| f.field_as_string(i).ok().flatten());
        let mut a = Attrs {
            code: match self.code {
                Some(i) => text(Some(i)).unwrap_or_default(),
                None => fid.to_string(),
            },
            name: text(self.name).unwrap_or_default(),
            class: text(self.class).unwrap_or_default(),
            ..Attrs::default()
        };
        if role == Role::Names {
            a.class = "names".into();
            a.tier = Some(crate::model::NameTier::User);
            a.name_en = text(self.name_en).filter(|n| !n.trim().is_empty());
            a.rank = match text(self.rank).map(|r| r.trim().to_string()) {
                None => USER_RANK,
                Some(r) if r.is_empty() => USER_RANK,
                Some(r) => r.parse::<u8>().ok().filter(|&k| k <= 30).ok_or_else(|| {
                    src.error(format!("rank '{r}' is not a whole number from 0 to 30"))
                        .feature(fid)
                        .hint("give ranks as integers, higher more specific (22: a neighbourhood), or leave the field empty")
                })?,
            };
        }
        if matches!(role, Role::Roads | Role::Rail | Role::Water) {
            let given = self
                .width
                .and_then(|i| f.field_as_double(i).ok().flatten())
                .filter(|w| w.is_finite() && *w > 0.0);
            a.width = match given {
                Some(w) => w,
                None => self.class_width(role, &a.class, params, src),
            };
        }
        Ok(a)
    }

    /// Width of a line from its class. A layer without a class field gets
    /// one width for all its lines: `default_road_width` for roads, the width
    /// of `rail` for rail and of `river` for water lines.
    pub(super) fn class_width(
        &mut self,
        role: Role,
        class: &str,
        params: &Params,
        src: &Source,
    ) -> f64 {
        let table = match role {
            Role::Roads => &params.road_widths,
            Role::Rail => &params.rail_widths,
            _ => &params.waterway_widths,
        };
        if self.class.is_some() || self.width.is_some() {
            return table.get(class).copied().unwrap_or(0.0);
        }
        match role {
            Role::Roads => params.default_road_width,
            Role::Rail => table.get("rail").copied().unwrap_or(0.0),
            _ => {
                if !self.warned_no_class {
                    tracing::warn!(file = %src.file, layer = %src.layer, "water lines without class or width field: taken as rivers");
                    self.warned_no_class = true;
                }
                table.get("river").copied().unwrap_or(0.0)
            }
        }
    }

    pub(super) fn is_tunnel(&self, f: &Feature) -> bool {
        let by_field = self.tunnel.is_some_and(|i| {
            f.field_as_string(i).ok().flatten().is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                !matches!(v.as_str(), "" | "0" | "no" | "false" | "n" | "f")
            })
        });
        by_field
            || self
                .osm_tags
                .as_ref()
                .is_some_and(|t| osm_tags::is_tunnel(&t.tags(f)))
    }
}

/// OSM-style layers (OSM itself, OSM-derived GeoPackages, Geofabrik
/// shapefiles with `fclass`) carry the class under a known name.
pub(super) fn default_class_field(role: Role, l: &OpenedLayer) -> Option<usize> {
    l.find_field(&[role.osm_class_key()?, "fclass"])
}

/// Reads one explicit layer into a stage in its own CRS.
pub(crate) fn read_layer(
    role: Role,
    spec: &LayerConfig,
    opts: &ReadOptions,
) -> Result<(Stage, SpatialRef)> {
    let mut l = open_layer(spec)?;
    let (srs, crs_label) = l.srs_or_assumed(opts.assumed_srs()?.as_ref())?;
    let mut plan = FieldPlan::for_layer(role, spec, &l, opts)?;
    if let Some(sql) = &spec.where_sql {
        l.set_where(sql)?;
    }
    if let Some(b) = opts.bbox {
        l.set_bbox(b, &srs)?;
    }
    let mut stage = Stage::new(
        role,
        l.source.clone(),
        l.driver.clone(),
        crs_label,
        l.fields.clone(),
        opts.params.min_barrier_width,
    );
    take_gdal_errors();
    let source = l.source.clone();
    for (i, f) in l.layer.features().enumerate() {
        let fid = feature_id(&f, i);
        let underground =
            matches!(role, Role::Roads | Role::Rail | Role::Water) && plan.is_tunnel(&f);
        if underground && role != Role::Water {
            stage.drop_feature("tunnel or covered");
            continue;
        }
        let mut attrs = plan.attrs(role, &f, fid, &opts.params, &source)?;
        attrs.covered = underground;
        stage.push(fid, f.geometry(), attrs)?;
    }
    check_read_errors(&stage.report.source)?;
    if stage.report.features_read == 0 {
        return Err(empty_layer_error(
            &stage,
            spec.where_sql.as_deref(),
            opts.bbox,
        ));
    }
    Ok((stage, srs))
}

/// The GDAL FID, or the read position for drivers without FIDs.
pub(crate) fn feature_id(f: &Feature, position: usize) -> i64 {
    f.fid()
        .and_then(|x| i64::try_from(x).ok())
        .unwrap_or(position as i64)
}

pub(crate) fn empty_layer_error(
    stage: &Stage,
    where_sql: Option<&str>,
    bbox: Option<[f64; 4]>,
) -> Error {
    let e = match (where_sql, bbox) {
        (Some(w), _) => stage
            .error(format!("no feature matches the where filter `{w}`"))
            .hint("check the filter against the layer with ogrinfo -where"),
        (None, Some(b)) => stage
            .error(format!("no feature inside the bbox {b:?}"))
            .hint("check the bbox: [min_lon, min_lat, max_lon, max_lat] in degrees"),
        (None, None) => stage
            .error("the layer is empty")
            .hint("check that this is the right file and layer"),
    };
    e
}
