//! The H3 partition of the same frame, at the resolution whose cells are
//! closest in area to the neighborhoods.

use super::*;

// ---------------------------------------------------------------------------
// H3

/// The resolution whose cell area at `lonlat` (cells shrink away from the
/// icosahedron's face centres: in Seoul a resolution-9 cell holds 72,000 m²,
/// the global average is 105,000 m²) is closest to `area_m2` on a log scale.
pub fn h3_resolution_for(area_m2: f64, lonlat: (f64, f64)) -> (Resolution, f64) {
    let ll = h3o::LatLng::new(lonlat.1, lonlat.0).ok();
    let mut best = (Resolution::Zero, Resolution::Zero.area_m2());
    let mut best_d = f64::INFINITY;
    for r in 0..=15u8 {
        let Ok(res) = Resolution::try_from(r) else {
            continue;
        };
        let cell_area = ll.map_or(res.area_m2(), |ll| ll.to_cell(res).area_m2());
        let d = (cell_area / area_m2.max(1e-9)).ln().abs();
        if d < best_d {
            best = (res, cell_area);
            best_d = d;
        }
    }
    best
}

/// H3 cells at `res` covering the frame, clipped to it, in the working CRS,
/// ordered by cell index.
pub fn h3_partition(
    frame: &[Vec<Shape>],
    crs: &WorkingCrs,
    res: Resolution,
) -> Result<Vec<MultiPolygon<f64>>> {
    let to_ll = Transformer::to_lonlat(crs)?;
    let from_ll = Transformer::from_lonlat(&crs.spatial_ref()?)?;
    let mut tiler = TilerBuilder::new(res)
        .containment_mode(ContainmentMode::Covers)
        .build();
    // Each unit's bounding box in lon/lat is tiled, not the unit itself:
    // h3o tests complex polygons through DE-9IM relate, seconds for a few
    // municipalities, while the clip below drops the cells outside anyway.
    for shapes in frame {
        let ll = to_ll.multi_polygon(&overlay::multipolygon_of(shapes), None)?;
        if let Some(r) = geo::BoundingRect::bounding_rect(&ll) {
            tiler
                .add(r.to_polygon())
                .map_err(|e| Error::internal(format!("H3 tiling of the frame: {e}")))?;
        }
    }
    let cells: BTreeSet<CellIndex> = tiler.into_coverage().collect();
    let mut polys: Vec<Polygon<f64>> = cells
        .iter()
        .map(|c| {
            let ring: Vec<Coord> = c
                .boundary()
                .iter()
                .map(|ll| Coord {
                    x: ll.lng(),
                    y: ll.lat(),
                })
                .collect();
            Polygon::new(geo::LineString::from(ring), vec![])
        })
        .collect();
    from_ll.transform_all(&mut polys, |_| None)?;

    // Clip to the frame; a cell no frame edge passes through is whole
    // inside a unit or whole outside.
    let mut frame_edges = Vec::new();
    for s in frame.iter().flatten() {
        coverage::for_each_edge(s, |a, b| frame_edges.push(RLine::new(a, b)));
    }
    let edge_tree: SegTree = RTree::bulk_load(frame_edges);
    let unit_tree = box_tree(frame.iter().map(|s| shapes_rect(s)));
    let clipped: Vec<Option<MultiPolygon<f64>>> = polys
        .par_iter()
        .map(|p| {
            let shape = overlay::shape_of(p);
            let Some(r) = shapes_rect(std::slice::from_ref(&shape)) else {
                return Ok(None);
            };
            let env = rect_to_aabb(&r);
            let mut near: Vec<usize> = unit_tree
                .locate_in_envelope_intersecting(&env)
                .map(|g| g.data)
                .collect();
            near.sort_unstable();
            if edge_tree
                .locate_in_envelope_intersecting(&env)
                .next()
                .is_none()
            {
                let v = shape[0][0];
                let inside = near
                    .iter()
                    .any(|&u| frame[u].iter().any(|s| shape_contains(s, v)));
                return Ok(inside.then(|| overlay::multipolygon_of(&[shape])));
            }
            let clip: Vec<Shape> = near
                .iter()
                .flat_map(|&u| frame[u].iter().cloned())
                .collect();
            let out = overlay::intersection(std::slice::from_ref(&shape), &clip)?;
            Ok((!out.is_empty()).then(|| overlay::multipolygon_of(&out)))
        })
        .collect::<Result<_>>()?;
    Ok(clipped.into_iter().flatten().collect())
}

/// The centre of the frame's bounding box, in lon/lat.
pub(super) fn frame_centre_lonlat(frame: &[Vec<Shape>], crs: &WorkingCrs) -> Result<(f64, f64)> {
    let r = bounds(frame.iter().flatten().flatten())
        .ok_or_else(|| Error::input("the admin units are empty"))?;
    let c = Transformer::to_lonlat(crs)?.point(Point(r.center()), None)?;
    Ok((c.x(), c.y()))
}
