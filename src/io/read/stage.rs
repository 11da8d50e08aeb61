//! The features of one layer and role, staged in the layer's CRS:
//! filtered, converted, counted, then reprojected and repaired.

use std::collections::{BTreeMap, BTreeSet};

use gdal::spatial_ref::SpatialRef;
use gdal::vector::Geometry;
use geo::Area;
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::config::Params;
use crate::io::reproject::{self, Coords, Transformer, WorkingCrs};
use crate::model::{
    AdminUnit, AreaBarrier, Building, Inputs, LanduseArea, LineBarrier, NamePlace, NameTier, Source,
};

use super::*;

impl Stage {
    pub(crate) fn new(
        role: Role,
        source: Source,
        driver: String,
        crs_label: String,
        fields: Vec<String>,
        min_width: f64,
    ) -> Stage {
        Stage {
            role,
            report: LayerReport {
                role: role.as_str().to_string(),
                source,
                driver,
                crs: crs_label,
                geometry_types: Vec::new(),
                features_read: 0,
                features_used: 0,
                invalid_repaired: 0,
                invalid_examples: Vec::new(),
                dropped: BTreeMap::new(),
                extent_lonlat: None,
                fields,
                network: None,
            },
            min_width,
            geometry_types: BTreeSet::new(),
            shapes: Shapes::default(),
            scan: Vec::new(),
            buildings: Vec::new(),
            admin: Vec::new(),
            lines: Vec::new(),
            areas: Vec::new(),
            landuse: Vec::new(),
            names: Vec::new(),
            no_geometry: Vec::new(),
        }
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        self.report.source.error(message)
    }

    /// Counts a feature that is read but not used, under `reason`.
    pub(crate) fn drop_feature(&mut self, reason: &str) {
        self.report.features_read += 1;
        self.count_dropped(reason);
    }

    pub(super) fn count_dropped(&mut self, reason: &str) {
        *self.report.dropped.entry(reason.to_string()).or_insert(0) += 1;
    }

    /// Adds one feature; a geometry of the wrong kind for the role is an
    /// error naming the feature.
    pub(crate) fn push(&mut self, fid: i64, geom: Option<&Geometry>, attrs: Attrs) -> Result<()> {
        let ord = self.report.features_read;
        self.report.features_read += 1;
        // A NULL geometry (common in real shapefiles) comes as a geometry
        // with a null handle, which GDAL refuses to ask anything.
        // SAFETY: the handle is only compared with null, never dereferenced.
        let present = |g: &&Geometry| !unsafe { g.c_geometry() }.is_null() && !g.is_empty();
        let Some(g) = geom.filter(present) else {
            self.count_dropped("no geometry");
            if self.no_geometry.len() < MAX_INVALID_EXAMPLES {
                self.no_geometry.push(fid);
            }
            return Ok(());
        };
        // The scratch shapes keep their capacity from one feature to the next.
        let mut shapes = std::mem::take(&mut self.shapes);
        shapes.clear();
        let pushed = self.push_geometry(ord, fid, g, &mut shapes, &attrs);
        self.shapes = shapes;
        pushed
    }

    pub(super) fn push_geometry(
        &mut self,
        ord: usize,
        fid: i64,
        g: &Geometry,
        s: &mut Shapes,
        a: &Attrs,
    ) -> Result<()> {
        if let Err(t) = ogr_shapes(g, s) {
            return Err(self
                .error(format!("geometry is a {t}, which dongne does not read"))
                .feature(fid)
                .hint("convert curves to lines first: ogr2ogr -nlt CONVERT_TO_LINEAR OUT IN"));
        }
        let type_name = geometry_type_name(g);
        if !self.accepts(s) {
            return Err(self
                .error(format!(
                    "geometry is a {type_name}, expected {}",
                    self.role.expected()
                ))
                .feature(fid)
                .hint(format!(
                    "pass a layer of {} to --{}, or pick another layer with PATH:LAYER",
                    plural_of(self.role.expected()),
                    self.role.as_str()
                )));
        }
        if !s.all_finite() {
            let e = reproject::non_finite_error().feature(fid);
            return Err(e
                .file(self.report.source.file.clone())
                .layer(self.report.source.layer.clone()));
        }
        if !self.geometry_types.contains(&type_name) {
            self.geometry_types.insert(type_name);
        }
        self.take_shapes(ord, fid, s, a);
        Ok(())
    }

    /// Whether the shapes hold something this role can use.
    pub(super) fn accepts(&self, s: &Shapes) -> bool {
        let (points, lines, polygons) = (
            !s.points.is_empty(),
            !s.lines.is_empty(),
            !s.polygons.is_empty(),
        );
        match self.role {
            Role::Buildings | Role::Names => points || polygons,
            Role::Admin | Role::Mountains | Role::Parks | Role::Landuse => polygons,
            Role::Roads | Role::Rail => lines,
            Role::Water => lines || polygons,
        }
    }

    /// Moves the shapes into the inputs of the role (no copies).
    pub(super) fn take_shapes(&mut self, ord: usize, fid: i64, s: &mut Shapes, a: &Attrs) {
        match self.role {
            Role::Buildings => self.take_building(ord, fid, s),
            Role::Admin => {
                let item = AdminUnit {
                    fid,
                    code: a.code.clone(),
                    name: a.name.clone(),
                    geom: MultiPolygon(std::mem::take(&mut s.polygons)),
                };
                self.admin.push(Tagged { ord, item });
            }
            Role::Roads | Role::Rail => self.take_lines(ord, fid, &mut s.lines, a),
            Role::Water => {
                self.take_lines(ord, fid, &mut s.lines, a);
                self.take_areas(ord, fid, &mut s.polygons);
            }
            Role::Mountains | Role::Parks => self.take_areas(ord, fid, &mut s.polygons),
            Role::Names => {
                let geom = if s.polygons.is_empty() {
                    match s.points.first() {
                        Some(&p) => geo_types::Geometry::Point(geo_types::Point(p)),
                        None => return,
                    }
                } else {
                    geo_types::Geometry::MultiPolygon(MultiPolygon(std::mem::take(&mut s.polygons)))
                };
                self.names.push(Tagged {
                    ord,
                    item: NamePlace {
                        fid,
                        name: a.name.clone(),
                        name_en: a.name_en.clone(),
                        source: a.class.clone(),
                        tier: a.tier.unwrap_or(NameTier::User),
                        rank: a.rank,
                        geom,
                    },
                });
            }
            Role::Landuse => {
                self.landuse.extend(s.polygons.drain(..).map(|geom| Tagged {
                    ord,
                    item: LanduseArea {
                        fid,
                        class: a.class.clone(),
                        geom,
                    },
                }));
            }
        }
    }

    /// Footprints become their point on surface here, in the layer's CRS:
    /// the point is inside the footprint whatever the CRS, and keeping only
    /// points keeps memory flat for millions of buildings.
    pub(super) fn take_building(&mut self, ord: usize, fid: i64, s: &mut Shapes) {
        if s.polygons.is_empty() {
            self.buildings.extend(s.points.iter().map(|&pt| Tagged {
                ord,
                item: Building {
                    fid,
                    pt,
                    outline: Vec::new(),
                },
            }));
            return;
        }
        match point_on_surface(&s.polygons, &mut self.scan) {
            Some(pt) => {
                let largest = s
                    .polygons
                    .iter()
                    .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()));
                let mut outline: Vec<Coord<f64>> =
                    largest.map_or_else(Vec::new, |p| p.exterior().0.clone());
                outline.pop(); // the closing point
                self.buildings.push(Tagged {
                    ord,
                    item: Building { fid, pt, outline },
                })
            }
            None => self.count_dropped("footprint without area"),
        }
    }

    pub(super) fn take_lines(
        &mut self,
        ord: usize,
        fid: i64,
        lines: &mut Vec<LineString<f64>>,
        a: &Attrs,
    ) {
        if lines.is_empty() {
            return;
        }
        if a.width.is_nan() || a.width <= 0.0 {
            self.count_dropped("no width for its class");
            return;
        }
        if a.width < self.min_width {
            self.count_dropped("narrower than min_barrier_width");
            return;
        }
        let kind = self.role.barrier_kind();
        for geom in lines.drain(..).filter(|l| l.0.len() >= 2) {
            let item = LineBarrier {
                fid,
                kind,
                class: a.class.clone(),
                width_m: a.width,
                geom,
                covered: a.covered,
            };
            self.lines.push(Tagged { ord, item });
        }
    }

    pub(super) fn take_areas(&mut self, ord: usize, fid: i64, polygons: &mut Vec<Polygon<f64>>) {
        let kind = self.role.barrier_kind();
        self.areas.extend(polygons.drain(..).map(|geom| Tagged {
            ord,
            item: AreaBarrier { fid, kind, geom },
        }));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.buildings.is_empty()
            && self.admin.is_empty()
            && self.lines.is_empty()
            && self.areas.is_empty()
            && self.landuse.is_empty()
            && self.names.is_empty()
    }

    /// Envelope of everything staged, in the layer's CRS.
    pub(super) fn envelope(&self) -> Option<Rect<f64>> {
        let mut acc: Option<(Coord<f64>, Coord<f64>)> = None;
        let mut add = |c: Coord<f64>| {
            acc = Some(match acc {
                None => (c, c),
                Some((lo, hi)) => (
                    Coord {
                        x: lo.x.min(c.x),
                        y: lo.y.min(c.y),
                    },
                    Coord {
                        x: hi.x.max(c.x),
                        y: hi.y.max(c.y),
                    },
                ),
            })
        };
        self.buildings.iter().for_each(|t| add(t.item.pt));
        self.admin.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.lines.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.areas.iter().for_each(|t| t.item.geom.visit(&mut add));
        self.landuse
            .iter()
            .for_each(|t| t.item.geom.visit(&mut add));
        acc.filter(|(lo, hi)| {
            lo.x.is_finite() && lo.y.is_finite() && hi.x.is_finite() && hi.y.is_finite()
        })
        .map(|(lo, hi)| Rect::new(lo, hi))
    }

    /// The layer's extent in lon/lat; `srs` is the layer's CRS.
    pub(crate) fn extent_lonlat(&self, srs: &SpatialRef) -> Result<Option<[f64; 4]>> {
        let Some(r) = self.envelope() else {
            return Ok(None);
        };
        let t = Transformer::new(srs, &reproject::lonlat_srs()?)?
            .with_source(self.report.source.clone());
        let b = t.bounds([r.min().x, r.min().y, r.max().x, r.max().y])?;
        Ok(Some(b))
    }

    /// Reprojects into the working CRS, repairs invalid polygons, applies the
    /// area thresholds, sorts by FID and appends to `out`. Adds the seconds
    /// spent reprojecting and validating to `seconds`.
    pub(crate) fn finish(
        mut self,
        srs: &SpatialRef,
        crs: &WorkingCrs,
        params: &Params,
        out: &mut Inputs,
        seconds: &mut [f64; 2],
    ) -> Result<LayerReport> {
        let t = std::time::Instant::now();
        if !self.is_empty() {
            let p = ParTransform::new(srs, crs, &self.report.source)?;
            p.run(&mut self.buildings, |x| Some(x.item.fid))?;
            p.run(&mut self.admin, |x| Some(x.item.fid))?;
            p.run(&mut self.lines, |x| Some(x.item.fid))?;
            p.run(&mut self.areas, |x| Some(x.item.fid))?;
            p.run(&mut self.landuse, |x| Some(x.item.fid))?;
            p.run(&mut self.names, |x| Some(x.item.fid))?;
        }
        seconds[0] += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        self.repair_admin()?;
        self.repair_areas()?;
        seconds[1] += t.elapsed().as_secs_f64();
        self.apply_area_thresholds(params);
        self.report.geometry_types = self.geometry_types.iter().cloned().collect();
        self.report.features_used = self.count_used();
        let mut report = self.report;
        out.buildings.extend(by_fid(self.buildings, |b| b.fid));
        out.admin.extend(by_fid(self.admin, |a| a.fid));
        out.lines.extend(by_fid(self.lines, |l| l.fid));
        out.areas.extend(by_fid(self.areas, |a| a.fid));
        out.landuse.extend(by_fid(self.landuse, |l| l.fid));
        out.names.extend(by_fid(self.names, |n| n.fid));
        if report.invalid_repaired > 0 {
            let first = report
                .invalid_examples
                .first()
                .map(|x| format!("feature {}: {}", x.fid, x.reason))
                .unwrap_or_default();
            tracing::warn!(
                file = %report.source.file,
                layer = %report.source.layer,
                repaired = report.invalid_repaired,
                first = %first,
                "invalid polygons repaired"
            );
        }
        if let Some(&n) = report.dropped.get("no geometry") {
            let ids: Vec<String> = self.no_geometry.iter().map(|f| f.to_string()).collect();
            tracing::warn!(
                file = %report.source.file,
                layer = %report.source.layer,
                "{n} feature{} without geometry skipped (feature {}{})",
                if n == 1 { "" } else { "s" },
                ids.join(", "),
                if n > ids.len() { ", …" } else { "" }
            );
        }
        report.invalid_examples.truncate(MAX_INVALID_EXAMPLES);
        Ok(report)
    }

    pub(super) fn note_invalid(&mut self, fid: i64, reason: String) {
        self.report.invalid_repaired += 1;
        if self.report.invalid_examples.len() < MAX_INVALID_EXAMPLES {
            self.report
                .invalid_examples
                .push(InvalidFeature { fid, reason });
        }
    }

    pub(super) fn repair_admin(&mut self) -> Result<()> {
        let mut admin = std::mem::take(&mut self.admin);
        // Checked on every thread, repaired in order.
        let checks: Vec<_> = admin
            .par_iter()
            .map(|t| multipolygon_validation(&t.item.geom))
            .collect();
        for (t, check) in admin.iter_mut().zip(checks) {
            if let Err(reason) = check {
                let fixed = repair(&t.item.geom.0)
                    .map_err(|why| self.unrepairable(t.item.fid, &reason.to_string(), &why))?;
                self.note_invalid(t.item.fid, reason.to_string());
                t.item.geom = fixed;
            }
        }
        admin.retain(|t| !t.item.geom.0.is_empty());
        self.admin = admin;
        Ok(())
    }

    /// Area barriers and land-use areas: one polygon per item, repaired
    /// into as many items as the repair gives.
    pub(super) fn repair_areas(&mut self) -> Result<()> {
        let (areas, landuse) = (
            std::mem::take(&mut self.areas),
            std::mem::take(&mut self.landuse),
        );
        self.areas = self.repair_polygons(areas)?;
        self.landuse = self.repair_polygons(landuse)?;
        Ok(())
    }

    /// Checks every polygon (in parallel) and repairs the invalid ones, each
    /// into as many items as the repair gives polygons, counted and named.
    pub(super) fn repair_polygons<T: PolygonItem>(
        &mut self,
        items: Vec<Tagged<T>>,
    ) -> Result<Vec<Tagged<T>>> {
        let mut out = Vec::with_capacity(items.len());
        let checks: Vec<_> = items
            .par_iter()
            .map(|t| polygon_validation(t.item.polygon()))
            .collect();
        for (t, check) in items.into_iter().zip(checks) {
            match check {
                Ok(()) => out.push(t),
                Err(reason) => {
                    let fid = t.item.fid();
                    let fixed = repair(std::slice::from_ref(t.item.polygon()))
                        .map_err(|why| self.unrepairable(fid, &reason.to_string(), &why))?;
                    self.note_invalid(fid, reason.to_string());
                    out.extend(fixed.0.into_iter().map(|g| Tagged {
                        ord: t.ord,
                        item: t.item.with_polygon(g),
                    }));
                }
            }
        }
        Ok(out)
    }

    pub(super) fn unrepairable(&self, fid: i64, reason: &str, why: &str) -> Error {
        self.error(format!("invalid polygon ({reason}) that cannot be repaired: {why}"))
            .feature(fid)
            .hint("fix it in QGIS (Vector ▸ Geometry Tools ▸ Fix Geometries) or drop it with a where filter")
    }

    pub(super) fn apply_area_thresholds(&mut self, params: &Params) {
        let min_area = match self.role {
            Role::Water => params.min_water_area,
            Role::Mountains => params.min_mountain_area,
            Role::Parks => params.min_park_area,
            _ => return,
        };
        let before = self.areas.len();
        self.areas
            .retain(|t| t.item.geom.unsigned_area() >= min_area);
        let dropped = before - self.areas.len();
        if dropped > 0 {
            let reason = format!(
                "smaller than min_{}_area",
                self.role.barrier_kind().as_str()
            );
            *self.report.dropped.entry(reason).or_insert(0) += dropped;
        }
    }

    pub(super) fn count_used(&self) -> usize {
        let mut used = vec![false; self.report.features_read];
        let mut mark = |ord: usize| {
            if let Some(u) = used.get_mut(ord) {
                *u = true;
            }
        };
        self.buildings.iter().for_each(|t| mark(t.ord));
        self.admin.iter().for_each(|t| mark(t.ord));
        self.lines.iter().for_each(|t| mark(t.ord));
        self.areas.iter().for_each(|t| mark(t.ord));
        self.landuse.iter().for_each(|t| mark(t.ord));
        self.names.iter().for_each(|t| mark(t.ord));
        used.iter().filter(|&&u| u).count()
    }
}

/// An item read as one polygon with its feature id.
pub(super) trait PolygonItem: Sync + Sized {
    fn fid(&self) -> i64;
    fn polygon(&self) -> &Polygon<f64>;
    /// The same item with another polygon (a part of its repair).
    fn with_polygon(&self, geom: Polygon<f64>) -> Self;
}

/// Both carry `fid` and `geom`.
macro_rules! polygon_item {
    ($($t:ident),*) => {$(
        impl PolygonItem for $t {
            fn fid(&self) -> i64 {
                self.fid
            }
            fn polygon(&self) -> &Polygon<f64> {
                &self.geom
            }
            fn with_polygon(&self, geom: Polygon<f64>) -> Self {
                $t { geom, ..self.clone() }
            }
        }
    )*};
}
polygon_item!(AreaBarrier, LanduseArea);
