//! Edges against a reference partition (`dongne evaluate --reference`):
//! how well a partition's inner edges follow the edges of official finer
//! units, as a new user would judge recognisability.
//!
//! Both partitions' boundaries are sampled every [`EDGE_STEP_M`] metres.
//! A sample is an *inner* edge sample when it lies inside the frame (the
//! admin units) and farther than the tolerance from the frame's boundary:
//! the frame's own outline is shared by every partition and says nothing.
//! Recall is the share of the reference's inner samples within the
//! tolerance of one of the partition's edges; precision the share of the
//! partition's inner samples within the tolerance of one of the
//! reference's edges; F1 their harmonic mean. A shared edge is sampled
//! from both sides, in both partitions alike, so the shares are unchanged.

use gdal::vector::LayerAccess;
use geo::{Geometry, MultiPolygon};
use rstar::primitives::Line as RLine;
use rstar::RTree;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::geom::contains::ShapeIndex;
use crate::geom::coverage;
use crate::geom::shape::Shape;
use crate::io::config::LayerConfig;
use crate::io::gdal_errors;
use crate::io::read;
use crate::io::reproject::{Transformer, WorkingCrs};

use super::ground::{boundary_segments, SegTree};

/// Spacing of the samples along edges (metres).
pub const EDGE_STEP_M: f64 = 5.0;
/// The default distance within which two edges agree (metres).
pub const DEFAULT_TOLERANCE_M: f64 = 30.0;

/// How one partition's edges agree with the reference's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeAgreement {
    /// `dongne level 2`, `H3 r9`, `admin`.
    pub name: String,
    /// Units in the partition (dongne: neighborhoods and hamlets).
    pub units: usize,
    pub recall: f64,
    pub precision: f64,
    pub f1: f64,
}

fn tree(segs: &[RLine<[f64; 2]>]) -> SegTree {
    RTree::bulk_load(segs.to_vec())
}

fn near(t: &SegTree, p: [f64; 2], d: f64) -> bool {
    t.locate_within_distance(p, d * d).next().is_some()
}

/// The inner edge samples of a partition.
fn inner_samples(
    segs: &[RLine<[f64; 2]>],
    frame: &ShapeIndex,
    frame_edges: &SegTree,
    tol: f64,
) -> Vec<[f64; 2]> {
    let mut out = Vec::new();
    for s in segs {
        for p in coverage::points_along(s.from, s.to, EDGE_STEP_M, false) {
            if frame.first_containing(p).is_some() && !near(frame_edges, p, tol) {
                out.push(p);
            }
        }
    }
    out
}

/// The agreement of `ours` with `reference` inside `frame` within `tol`
/// metres, all in one CRS.
///
/// ```
/// use dongne::products::evaluate::edge_agreement;
/// use geo::{polygon, MultiPolygon};
/// let sq = |x0: f64, x1: f64| MultiPolygon(vec![polygon![(x: x0, y: 0.), (x: x1, y: 0.),
///     (x: x1, y: 1000.), (x: x0, y: 1000.)]]);
/// let frame = vec![dongne::geom::overlay::shapes_of(&sq(0., 1000.))];
/// // Two halves split at x = 500 against a reference split at x = 510.
/// let a = edge_agreement("ours", &[sq(0., 500.), sq(500., 1000.)],
///     &[sq(0., 510.), sq(510., 1000.)], &frame, 30.0);
/// assert_eq!((a.recall, a.precision, a.f1), (1.0, 1.0, 1.0));
/// // Split at x = 300: nothing agrees.
/// let b = edge_agreement("ours", &[sq(0., 300.), sq(300., 1000.)],
///     &[sq(0., 510.), sq(510., 1000.)], &frame, 30.0);
/// assert_eq!(b.f1, 0.0);
/// ```
pub fn edge_agreement(
    name: &str,
    ours: &[MultiPolygon<f64>],
    reference: &[MultiPolygon<f64>],
    frame: &[Vec<Shape>],
    tol: f64,
) -> EdgeAgreement {
    let frame_shapes: Vec<&Shape> = frame.iter().flatten().collect();
    let frame_index = ShapeIndex::new(&frame_shapes);
    let frame_geoms: Vec<MultiPolygon<f64>> = frame
        .iter()
        .map(|s| crate::geom::overlay::multipolygon_of(s))
        .collect();
    let frame_edges = tree(&boundary_segments(&frame_geoms));
    let (ours_segs, ref_segs) = (boundary_segments(ours), boundary_segments(reference));
    let (ours_tree, ref_tree) = (tree(&ours_segs), tree(&ref_segs));
    let share = |samples: &[[f64; 2]], other: &SegTree| {
        if samples.is_empty() {
            return 0.0;
        }
        let hit = samples.iter().filter(|p| near(other, **p, tol)).count();
        hit as f64 / samples.len() as f64
    };
    let recall = share(
        &inner_samples(&ref_segs, &frame_index, &frame_edges, tol),
        &ours_tree,
    );
    let precision = share(
        &inner_samples(&ours_segs, &frame_index, &frame_edges, tol),
        &ref_tree,
    );
    let f1 = if recall + precision > 0.0 {
        2.0 * recall * precision / (recall + precision)
    } else {
        0.0
    };
    let r4 = |v: f64| (v * 1e4).round() / 1e4;
    EdgeAgreement {
        name: name.to_string(),
        units: ours.len(),
        recall: r4(recall),
        precision: r4(precision),
        f1: r4(f1),
    }
}

/// Reads the reference units (polygons of any GDAL layer, `where_sql` as
/// ogr2ogr's `-where`) into the working CRS.
pub fn read_reference(spec: &LayerConfig, crs: &WorkingCrs) -> Result<Vec<MultiPolygon<f64>>> {
    let mut opened = read::open_layer(spec)?;
    if let Some(w) = &spec.where_sql {
        opened.set_where(w)?;
    }
    let srs = opened.layer.spatial_ref().ok_or_else(|| {
        opened
            .error("the reference layer has no CRS")
            .hint("assign one with ogr2ogr -a_srs")
    })?;
    let tr = Transformer::new(&srs, &crs.spatial_ref()?)?.with_source(opened.source.clone());
    gdal_errors::take_gdal_errors();
    let source = opened.source.clone();
    let mut out = Vec::new();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = read::feature_id(&f, position);
        let Some(g) = f.geometry() else { continue };
        let mut mp = match g.to_geo() {
            Ok(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
            Ok(Geometry::MultiPolygon(m)) => m,
            Ok(_) => continue,
            Err(e) => {
                return Err(source
                    .error(format!("unreadable geometry: {e}"))
                    .feature(fid))
            }
        };
        tr.transform_in_place(&mut mp, Some(fid))?;
        out.push(mp);
    }
    gdal_errors::check_read_errors(&source)?;
    if out.is_empty() {
        return Err(Error::input("the reference layer has no polygon feature")
            .file(source.file.clone())
            .layer(source.layer.clone())
            .hint("give the official finer units as polygons, e.g. --reference x.osm.pbf:multipolygons --reference-where \"admin_level='10'\""));
    }
    Ok(out)
}

/// Every level of a neighborhood layer, the H3 cells whose area is nearest
/// each level's median neighborhood, and the admin units, each against the
/// reference: a row per partition, dongne's levels first.
pub fn against_reference(
    layer: &crate::products::locate::NeighborhoodLayer,
    inputs: &crate::model::Inputs,
    crs: &WorkingCrs,
    reference: &[MultiPolygon<f64>],
    tol: f64,
) -> Result<Vec<EdgeAgreement>> {
    use geo::Area;
    let frame: Vec<Vec<Shape>> = inputs
        .admin
        .iter()
        .map(|u| crate::geom::overlay::shapes_of(&u.geom))
        .collect();
    let all = layer.geoms_in(&crs.spatial_ref()?)?;
    let centre = super::frame_centre_lonlat(&frame, crs)?;
    let mut rows = Vec::new();
    let mut h3_rows = Vec::new();
    let mut seen_res = std::collections::BTreeSet::new();
    for level in layer.levels() {
        let idx: Vec<usize> = (0..layer.info.len())
            .filter(|&i| layer.info[i].level == level)
            .collect();
        let geoms: Vec<MultiPolygon<f64>> = idx.iter().map(|&i| all[i].clone()).collect();
        let settled: Vec<f64> = idx
            .iter()
            .filter(|&&i| matches!(layer.info[i].kind.as_str(), "neighborhood" | "hamlet"))
            .map(|&i| all[i].unsigned_area())
            .collect();
        let mut row = edge_agreement(
            &format!("dongne level {level}"),
            &geoms,
            reference,
            &frame,
            tol,
        );
        row.units = settled.len();
        rows.push(row);
        let mut areas = settled;
        if areas.is_empty() {
            continue;
        }
        areas.sort_by(f64::total_cmp);
        let (res, _) = super::h3_resolution_for(areas[(areas.len() - 1) / 2], centre);
        if seen_res.insert(u8::from(res)) {
            let cells = super::h3_partition(&frame, crs, res)?;
            h3_rows.push(edge_agreement(
                &format!("H3 r{}", u8::from(res)),
                &cells,
                reference,
                &frame,
                tol,
            ));
        }
    }
    rows.extend(h3_rows);
    let admin: Vec<MultiPolygon<f64>> = inputs.admin.iter().map(|u| u.geom.clone()).collect();
    rows.push(edge_agreement("admin", &admin, reference, &frame, tol));
    Ok(rows)
}

/// The rows as a table under the main one.
pub fn reference_table(rows: &[EdgeAgreement], tol: f64) -> String {
    let mut s = format!(
        "\nEdges against the reference (inner edges within {tol:.0} m):\n{:<16} {:>6} {:>7} {:>9} {:>6}\n",
        "partition", "units", "recall", "precision", "F1"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:>6} {:>7.2} {:>9.2} {:>6.2}\n",
            r.name, r.units, r.recall, r.precision, r.f1
        ));
    }
    s
}
