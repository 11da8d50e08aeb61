//! The ground of one unit as labelled faces: each face a piece of ground,
//! the region (hot spot's cell or barrier) it belongs to and the piece of
//! the split unit it lies in; and the filling of barrier ground
//! (`--fill-barriers`) between the neighborhoods around it.

use geo::Coord;

use crate::error::Result;
use crate::geom::contains::{shape_contains, PreparedShape};
use crate::geom::coverage;
use crate::geom::dissolve;
use crate::geom::shape::{box_tree, shapes_rect, Shape};
use crate::method::tessellation;
use crate::model::{BarrierKind, FeatureKind};

/// The faces of a unit: each a piece of ground, the region it belongs to and
/// the piece of the split unit (enclosure or barrier) it lies in.
#[derive(Default)]
pub(crate) struct Faces {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) region: Vec<usize>,
    pub(crate) piece: Vec<usize>,
}

impl Faces {
    pub(crate) fn push(&mut self, shape: Shape, region: usize, piece: usize) {
        self.shapes.push(shape);
        self.region.push(region);
        self.piece.push(piece);
    }
}

/// The faces after the size rules, with the group each now belongs to.
#[derive(Clone, Copy)]
pub(crate) struct FaceTable<'a> {
    pub(crate) faces: &'a [Shape],
    pub(crate) group: &'a [usize],
    pub(crate) piece: &'a [usize],
    pub(crate) region: &'a [usize],
    pub(crate) regions: &'a [RegionInfo],
}

/// A region before the size rules: what it is, which piece of the split unit
/// it lies in, and its buildings.
pub(crate) struct RegionInfo {
    pub(crate) kind: FeatureKind,
    pub(crate) piece: usize,
    pub(crate) buildings: Vec<usize>,
}

/// Gives the ground of area barriers to the neighborhoods around it, split
/// by the same polygon → point → polygon step as the land: points along the
/// barrier's shared borders carry their neighbour's label, and each spot of
/// the barrier goes to the nearest. A river is thus shared along its middle
/// between its banks. Barrier ground with no neighborhood around it stays a
/// barrier feature.
pub(crate) fn fill_barriers(
    table: &mut Faces,
    regions: &mut [RegionInfo],
    pts: &[Coord],
) -> Result<()> {
    let Faces {
        shapes: faces,
        region: face_region,
        piece: face_piece,
    } = table;
    const STEP: f64 = 5.0;
    // Open ground is no barrier to fill: it stays open (or, with
    // `fill_open`, was never made).
    let is_barrier = |fi: usize, fr: &[usize], regions: &[RegionInfo]| matches!(regions[fr[fi]].kind, FeatureKind::Barrier(k) if k != BarrierKind::Open);
    let idx = coverage::EdgeIndex::new(faces);
    let adj = idx.adjacency(faces);
    let mut seen = vec![false; faces.len()];
    let mut removed = vec![false; faces.len()];
    let (mut new_faces, mut new_region, mut new_piece) = (Vec::new(), Vec::new(), Vec::new());
    for start in 0..faces.len() {
        if seen[start] || !is_barrier(start, face_region, regions) {
            continue;
        }
        // One connected patch of barrier ground.
        let mut comp = vec![start];
        seen[start] = true;
        let mut k = 0;
        while k < comp.len() {
            for &(g, _) in &adj[comp[k]] {
                if !seen[g] && is_barrier(g, face_region, regions) {
                    seen[g] = true;
                    comp.push(g);
                }
            }
            k += 1;
        }
        let (mut sites, mut labels) = (Vec::new(), Vec::new());
        for &fi in &comp {
            coverage::for_each_edge(&faces[fi], |a, b| {
                let Some(g) = idx.across(a, b) else { return };
                if is_barrier(g, face_region, regions) {
                    return;
                }
                for p in coverage::points_along(a, b, STEP, true) {
                    sites.push(Coord { x: p[0], y: p[1] });
                    labels.push(face_region[g]);
                }
            });
        }
        if sites.is_empty() {
            continue;
        }
        let ground = dissolve::dissolve(comp.iter().map(|&fi| &faces[fi]));
        let mut pieces = Vec::new();
        for shape in &ground {
            for f in tessellation::tessellate(shape, &sites, &labels)? {
                pieces.push(f);
            }
        }
        // Buildings standing on the barrier go with the piece they stand in
        // (the first by index where pieces share an edge).
        let piece_tree = box_tree(
            pieces
                .iter()
                .map(|f| shapes_rect(std::slice::from_ref(&f.shape))),
        );
        for &fi in &comp {
            let r = face_region[fi];
            for b in std::mem::take(&mut regions[r].buildings) {
                let p = [pts[b].x, pts[b].y];
                let to = piece_tree
                    .locate_all_at_point(&p)
                    .map(|g| g.data)
                    .filter(|&i| shape_contains(&pieces[i].shape, p))
                    .min()
                    .map_or(labels[0], |i| pieces[i].label);
                regions[to].buildings.push(b);
            }
            removed[fi] = true;
        }
        for f in pieces {
            new_piece.push(regions[f.label].piece);
            new_region.push(f.label);
            new_faces.push(f.shape);
        }
    }
    let keep: Vec<usize> = (0..faces.len()).filter(|&i| !removed[i]).collect();
    *faces = keep
        .iter()
        .map(|&i| std::mem::take(&mut faces[i]))
        .chain(new_faces)
        .collect();
    *face_region = keep
        .iter()
        .map(|&i| face_region[i])
        .chain(new_region)
        .collect();
    *face_piece = keep
        .iter()
        .map(|&i| face_piece[i])
        .chain(new_piece)
        .collect();
    Ok(())
}

/// The buildings each face holds. A region of one face holds all of its
/// buildings there; a region of several faces (a hot spot's region cut by a
/// concave enclosure) gives each building to the face it stands in, the
/// first by index on a shared edge, the region's first face if none.
pub(crate) fn face_buildings(
    faces: &[Shape],
    face_region: &[usize],
    regions: &[RegionInfo],
    pts: &[Coord],
) -> Vec<Vec<usize>> {
    let mut of_region: Vec<Vec<usize>> = vec![Vec::new(); regions.len()];
    for (fi, &r) in face_region.iter().enumerate() {
        of_region[r].push(fi);
    }
    let mut out = vec![Vec::new(); faces.len()];
    for (r, fs) in of_region.iter().enumerate() {
        let Some(&first) = fs.first() else { continue };
        if fs.len() == 1 {
            out[first].extend_from_slice(&regions[r].buildings);
            continue;
        }
        let prepared: Vec<PreparedShape> =
            fs.iter().map(|&f| PreparedShape::new(&faces[f])).collect();
        for &b in &regions[r].buildings {
            let p = [pts[b].x, pts[b].y];
            let k = prepared.iter().position(|s| s.contains(p)).unwrap_or(0);
            out[fs[k]].push(b);
        }
    }
    out
}
