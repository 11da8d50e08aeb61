//! Gap fill, polygon → point → polygon: every spot of an enclosure goes to its
//! nearest hot spot.
//!
//! The textbook way builds a Voronoi cell per building, clips each to the
//! enclosure and unions the cells of each hot spot: millions of polygon
//! operations. The boundary between two hot spots is exactly the set of
//! Voronoi edges whose two generators carry different labels, so only those
//! edges are made, straight from the Delaunay triangulation (the dual that
//! voronoice itself builds on: the Voronoi edge across a Delaunay edge joins
//! the circumcentres of its two triangles). The enclosure is then sliced once
//! by those edges, and each face takes the label of its nearest generator.

use geo::{Coord, Rect};
use rstar::{RTree, AABB};

use crate::error::Result;
use crate::geom::overlay;
use crate::geom::shape::{bounds, Ring, Shape};

/// One piece of an enclosure and the hot spot it belongs to.
#[derive(Debug, Clone)]
pub struct Face {
    pub shape: Shape,
    pub label: usize,
}

/// Splits `enclosure` among hot spots: `sites[i]` is a generator of hot spot
/// `labels[i]`. Faces of one label together are that hot spot's region.
pub fn tessellate(enclosure: &Shape, sites: &[Coord], labels: &[usize]) -> Result<Vec<Face>> {
    tessellate_around(enclosure, sites, labels, &[])
}

/// [`tessellate`], keeping footprints whole: `footprints` are outlines
/// (open rings) with the label of their building. A footprint that a
/// boundary between labels would cut is sliced out with it, in the same
/// overlay, and goes whole to its building's hot spot, so the boundary
/// steps around it. (Generators along the outlines keep most boundaries off
/// the buildings already; this settles the rest, such as two buildings of
/// different hot spots sharing a wall.)
pub fn tessellate_around(
    enclosure: &Shape,
    sites: &[Coord],
    labels: &[usize],
    footprints: &[(Vec<[f64; 2]>, usize)],
) -> Result<Vec<Face>> {
    let first = labels.first().copied().unwrap_or(0);
    if labels.iter().all(|&l| l == first) {
        return Ok(vec![Face {
            shape: enclosure.clone(),
            label: first,
        }]);
    }
    let (sites, labels) = dedup(sites, labels);
    let Some(frame) = frame_of(enclosure) else {
        return Ok(Vec::new());
    };
    let mut edges = label_edges(&sites, &labels, &frame);
    let crossed = crossed_footprints(footprints, &edges);
    edges.extend(
        footprints
            .iter()
            .zip(&crossed)
            .filter(|c| *c.1)
            .map(|(f, _)| {
                let mut ring = f.0.clone();
                ring.push(ring[0]);
                ring
            }),
    );
    let faces = overlay::slice(std::slice::from_ref(enclosure), &edges)?;
    let fp_tree = footprint_tree(footprints, |k| crossed[k]);
    Ok(faces
        .into_iter()
        .map(|shape| {
            let p = overlay::interior_point(&shape);
            let in_footprint = p.and_then(|p| {
                fp_tree
                    .locate_all_at_point(&p)
                    .map(|g| g.data)
                    .filter(|&k| crate::geom::contains::contains(&footprints[k].0, p))
                    .min()
            });
            let label = match in_footprint {
                Some(k) => footprints[k].1,
                None => p.map_or(first, |p| labels[nearest(&sites, p)]),
            };
            Face { shape, label }
        })
        .collect())
}

/// An R-tree of the boxes of the footprints `keep` selects, tagged with
/// their index.
fn footprint_tree(
    footprints: &[(Ring, usize)],
    keep: impl Fn(usize) -> bool,
) -> RTree<crate::geom::shape::Indexed> {
    crate::geom::shape::box_tree(footprints.iter().enumerate().map(|(k, f)| {
        (keep(k) && f.0.len() >= 3)
            .then(|| crate::geom::shape::bounds(std::iter::once(&f.0)))
            .flatten()
    }))
}

/// Which footprints a label edge crosses or enters.
fn crossed_footprints(footprints: &[(Ring, usize)], edges: &[Vec<[f64; 2]>]) -> Vec<bool> {
    use geo::Intersects;
    let mut hit = vec![false; footprints.len()];
    if footprints.is_empty() {
        return hit;
    }
    let tree = footprint_tree(footprints, |_| true);
    // Each footprint's polygon is made once, when an edge first comes near.
    let polygons: Vec<std::cell::OnceCell<geo::Polygon>> =
        footprints.iter().map(|_| Default::default()).collect();
    for e in edges {
        for w in e.windows(2) {
            let [a, b] = [w[0], w[1]].map(|p| Coord { x: p[0], y: p[1] });
            let env =
                AABB::from_corners([a.x.min(b.x), a.y.min(b.y)], [a.x.max(b.x), a.y.max(b.y)]);
            let seg = geo::Line::new(a, b);
            for g in tree.locate_in_envelope_intersecting(&env) {
                let k = g.data;
                if hit[k] {
                    continue;
                }
                let poly = polygons[k].get_or_init(|| {
                    let ring = footprints[k].0.iter().map(|p| Coord { x: p[0], y: p[1] });
                    geo::Polygon::new(ring.collect(), Vec::new())
                });
                hit[k] = seg.intersects(poly);
            }
        }
    }
    hit
}

/// The index of the site nearest to `p`, the first among equals; `sites`
/// sorted by x (as [`dedup`] leaves them). Sites are looked at outwards from
/// `p`'s x until one lies farther along x than the best found: an enclosure
/// has a few faces to label and thousands of generators, and an R-tree of
/// them (for a handful of queries) was a twentieth of the method's time.
fn nearest(sites: &[Coord], p: [f64; 2]) -> usize {
    let start = sites.partition_point(|c| c.x < p[0]);
    let mut best = (f64::INFINITY, usize::MAX);
    scan_along_x(sites, p, start..sites.len(), &mut best);
    scan_along_x(sites, p, (0..start).rev(), &mut best);
    best.1
}

/// [`nearest`] on one side of `p`: the sites `ids` in order, until one lies
/// farther along x than the best so far.
fn scan_along_x(
    sites: &[Coord],
    p: [f64; 2],
    ids: impl Iterator<Item = usize>,
    best: &mut (f64, usize),
) {
    for i in ids {
        let (dx, dy) = (sites[i].x - p[0], sites[i].y - p[1]);
        if dx * dx > best.0 {
            break;
        }
        let d = dx * dx + dy * dy;
        if d < best.0 || (d == best.0 && i < best.1) {
            *best = (d, i);
        }
    }
}

/// Drops repeated generators (two buildings on one spot): the triangulation
/// needs distinct points. Sorted, so the result is independent of input order.
fn dedup(sites: &[Coord], labels: &[usize]) -> (Vec<Coord>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..sites.len()).collect();
    idx.sort_by(|&a, &b| {
        (sites[a].x, sites[a].y, a)
            .partial_cmp(&(sites[b].x, sites[b].y, b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    idx.dedup_by(|a, b| sites[*a] == sites[*b]);
    (
        idx.iter().map(|&i| sites[i]).collect(),
        idx.iter().map(|&i| labels[i]).collect(),
    )
}

fn frame_of(shape: &Shape) -> Option<Rect> {
    let r = bounds(shape.first().into_iter())?;
    Some(overlay::grow(&r, 1.0 + 0.01 * r.width().max(r.height())))
}

/// The Voronoi edges that separate generators of different labels, cut to
/// `frame`.
///
/// ```
/// use dongne::method::tessellation::label_edges;
/// use geo::{Coord, Rect};
/// let sites = [Coord { x: 0.0, y: 0.0 }, Coord { x: 10.0, y: 0.0 }, Coord { x: 5.0, y: 10.0 }];
/// let frame = Rect::new(Coord { x: -20.0, y: -20.0 }, Coord { x: 30.0, y: 30.0 });
/// // Two labels: the edges are the bisectors between site 2 and the others.
/// let edges = label_edges(&sites, &[0, 0, 1], &frame);
/// assert_eq!(edges.len(), 2);
/// ```
pub fn label_edges(sites: &[Coord], labels: &[usize], frame: &Rect) -> Vec<Vec<[f64; 2]>> {
    let pts: Vec<delaunator::Point> = sites
        .iter()
        .map(|c| delaunator::Point { x: c.x, y: c.y })
        .collect();
    let far = 4.0 * (frame.width() + frame.height());
    let t = delaunator::triangulate(&pts);
    let mut out = Vec::new();
    let mut push = |a: [f64; 2], b: [f64; 2]| {
        out.extend(overlay::clip_polyline(&[a, b], frame));
    };
    if t.triangles.is_empty() {
        // All generators on one line: bisectors between consecutive ones.
        collinear_edges(sites, labels, far, &mut push);
        return out;
    }
    let cc: Vec<[f64; 2]> = t
        .triangles
        .chunks(3)
        .map(|tri| circumcentre(&pts[tri[0]], &pts[tri[1]], &pts[tri[2]]))
        .collect();
    for e in 0..t.triangles.len() {
        let a = t.triangles[e];
        let b = t.triangles[delaunator::next_halfedge(e)];
        if labels[a] == labels[b] {
            continue;
        }
        let twin = t.halfedges[e];
        if twin != delaunator::EMPTY {
            if e < twin {
                push(cc[e / 3], cc[twin / 3]);
            }
        } else {
            // A hull edge: its Voronoi edge is a ray leaving the hull.
            let c = t.triangles[delaunator::prev_halfedge(e)];
            let (pa, pb, pc) = (&pts[a], &pts[b], &pts[c]);
            let (mut nx, mut ny) = (pb.y - pa.y, -(pb.x - pa.x));
            if nx * (pc.x - pa.x) + ny * (pc.y - pa.y) > 0.0 {
                nx = -nx;
                ny = -ny;
            }
            let len = (nx * nx + ny * ny).sqrt();
            let o = cc[e / 3];
            // A nearly flat triangle (buildings almost in a line) has its
            // circumcentre far outside the frame: the ray must reach back
            // across it, or the bisector it carries is lost (issue 13).
            let mid = frame.center();
            let reach = far + (o[0] - mid.x).hypot(o[1] - mid.y);
            push(o, [o[0] + nx / len * reach, o[1] + ny / len * reach]);
        }
    }
    out
}

fn collinear_edges(
    sites: &[Coord],
    labels: &[usize],
    far: f64,
    push: &mut impl FnMut([f64; 2], [f64; 2]),
) {
    if sites.len() < 2 {
        return;
    }
    let o = sites[0];
    let far_pt = sites
        .iter()
        .max_by(|a, b| {
            let da = (a.x - o.x).powi(2) + (a.y - o.y).powi(2);
            let db = (b.x - o.x).powi(2) + (b.y - o.y).powi(2);
            da.total_cmp(&db)
        })
        .copied()
        .unwrap_or(o);
    let (dx, dy) = (far_pt.x - o.x, far_pt.y - o.y);
    let mut idx: Vec<usize> = (0..sites.len()).collect();
    let key = |i: usize| (sites[i].x - o.x) * dx + (sites[i].y - o.y) * dy;
    idx.sort_by(|&i, &j| key(i).total_cmp(&key(j)));
    let len = (dx * dx + dy * dy).sqrt().max(f64::MIN_POSITIVE);
    let (nx, ny) = (-dy / len * far, dx / len * far);
    for w in idx.windows(2) {
        if labels[w[0]] != labels[w[1]] {
            let m = [
                (sites[w[0]].x + sites[w[1]].x) / 2.0,
                (sites[w[0]].y + sites[w[1]].y) / 2.0,
            ];
            push([m[0] - nx, m[1] - ny], [m[0] + nx, m[1] + ny]);
        }
    }
}

fn circumcentre(a: &delaunator::Point, b: &delaunator::Point, c: &delaunator::Point) -> [f64; 2] {
    let (bx, by) = (b.x - a.x, b.y - a.y);
    let (cx, cy) = (c.x - a.x, c.y - a.y);
    let d = 2.0 * (bx * cy - by * cx);
    let (b2, c2) = (bx * bx + by * by, cx * cx + cy * cy);
    [a.x + (cy * b2 - by * c2) / d, a.y + (bx * c2 - cx * b2) / d]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::overlay::shape_area;
    use crate::geom::shape::square;

    fn coords(xy: &[(f64, f64)]) -> Vec<Coord> {
        xy.iter().map(|&(x, y)| Coord { x, y }).collect()
    }

    fn labelled_area(faces: &[Face], label: usize) -> f64 {
        faces
            .iter()
            .filter(|f| f.label == label)
            .map(|f| shape_area(&f.shape))
            .sum()
    }

    #[test]
    fn two_hot_spots_split_a_square_at_their_bisector() {
        let sites = coords(&[(20.0, 50.0), (25.0, 40.0), (80.0, 50.0), (75.0, 60.0)]);
        let faces = tessellate(&square(0.0, 0.0, 100.0), &sites, &[0, 0, 1, 1]).unwrap();
        let area = |l| labelled_area(&faces, l);
        assert!((area(0) + area(1) - 10_000.0).abs() < 1e-6);
        assert!((area(0) - 5_000.0).abs() < 300.0, "{}", area(0));
        assert_eq!(faces.len(), 2);
    }

    #[test]
    fn collinear_generators_still_split() {
        let sites = coords(&[(10.0, 50.0), (30.0, 50.0), (70.0, 50.0)]);
        let faces = tessellate(&square(0.0, 0.0, 100.0), &sites, &[0, 0, 1]).unwrap();
        assert_eq!(faces.len(), 2);
        let a0 = labelled_area(&faces, 0);
        assert!((a0 - 5_000.0).abs() < 1e-6, "{a0}");
    }

    #[test]
    fn duplicate_generators_are_harmless() {
        let sites = coords(&[(10.0, 10.0), (10.0, 10.0), (90.0, 90.0), (90.0, 10.0)]);
        let faces = tessellate(&square(0.0, 0.0, 100.0), &sites, &[0, 0, 1, 1]).unwrap();
        let total: f64 = faces.iter().map(|f| shape_area(&f.shape)).sum();
        assert!((total - 10_000.0).abs() < 1e-6);
        assert!(faces.iter().any(|f| f.label == 0) && faces.iter().any(|f| f.label == 1));
    }
}
