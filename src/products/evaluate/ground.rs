//! The ground truth an evaluation measures against: each unit's enclosures
//! and hot spots, drawn by the method's own public steps, and the barrier
//! segments.

use super::*;

pub(super) struct UnitOut {
    pieces: Vec<Piece>,
    viable: Vec<bool>,
    hot_spots: Vec<Vec<usize>>,
    internal: Vec<[Coord; 2]>,
    /// Unit-boundary edges with the piece they bound.
    boundary: Vec<([Coord; 2], usize)>,
    index: Index,
}

/// Computes the ground truth from the inputs (working CRS) and parameters.
pub fn ground(inputs: &Inputs, params: &Params) -> Result<Ground> {
    params.validate()?;
    let admin: Vec<AdminUnit> = if inputs.admin.is_empty() {
        vec![
            pipeline::study_area(&inputs.buildings, params.eps).ok_or_else(|| {
                Error::input("no buildings to work on")
                    .hint("check the buildings layer and its filter")
            })?,
        ]
    } else {
        inputs.admin.clone()
    };
    let (frame, _) = pipeline::frame(&admin)?;
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| overlay::snap(b.pt))
        .collect();
    // Buildings to units as the pipeline does: the first unit holding it.
    let unit_tree = box_tree(frame.iter().map(|s| shapes_rect(s)));
    let owner: Vec<Option<usize>> = pts
        .par_iter()
        .map(|c| {
            let p = [c.x, c.y];
            unit_tree
                .locate_all_at_point(&p)
                .map(|g| g.data)
                .filter(|&u| frame[u].iter().any(|s| shape_contains(s, p)))
                .min()
        })
        .collect();
    let mut per_unit: Vec<Vec<usize>> = vec![Vec::new(); frame.len()];
    for (b, o) in owner.iter().enumerate() {
        if let Some(u) = o {
            per_unit[*u].push(b);
        }
    }
    let in_frame: Vec<usize> = (0..pts.len()).filter(|&b| owner[b].is_some()).collect();
    let landuse = crate::method::pipeline::landuse_classes(&pts, &inputs.landuse);
    let bidx = BarrierIndex::new(&inputs.lines, &inputs.areas);
    let outs: Vec<UnitOut> = (0..frame.len())
        .into_par_iter()
        .map(|u| unit_ground(&frame[u], &per_unit[u], &pts, &landuse, &bidx, params))
        .collect::<Result<_>>()?;

    // Barrier edges along unit boundaries: each is seen from both units;
    // counted once, from the unit with the smaller index.
    let barrier_tree = barrier_segments(inputs);
    let frame_index = Index::new(
        &frame
            .iter()
            .map(|s| overlay::multipolygon_of(s))
            .collect::<Vec<_>>(),
    );
    let tol2 = ON_BARRIER_M * ON_BARRIER_M;
    let on_barrier = |p: Coord| {
        barrier_tree
            .locate_within_distance([p.x, p.y], tol2)
            .next()
            .is_some()
    };
    let mut separating = Vec::new();
    for (u, o) in outs.iter().enumerate() {
        separating.extend_from_slice(&o.internal);
        for &([a, b], piece) in &o.boundary {
            let mid = Coord {
                x: (a.x + b.x) / 2.0,
                y: (a.y + b.y) / 2.0,
            };
            if !(on_barrier(a) && on_barrier(b) && on_barrier(mid)) {
                continue;
            }
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = (dx * dx + dy * dy).sqrt();
            if len == 0.0 {
                continue;
            }
            let off = 0.01 / len;
            for side in [1.0, -1.0] {
                let q = Coord {
                    x: mid.x - dy * off * side,
                    y: mid.y + dx * off * side,
                };
                let Some(v) = frame_index.locate(q.x, q.y).map(|f| f.feature) else {
                    continue;
                };
                if v <= u {
                    continue;
                }
                if let Some(other) = outs[v].index.locate(q.x, q.y) {
                    if separates(o, piece, &outs[v], other.feature, params) {
                        separating.push([a, b]);
                    }
                }
                break;
            }
        }
    }
    let hot_spots = outs.into_iter().flat_map(|o| o.hot_spots).collect();
    let footprints = inputs
        .buildings
        .iter()
        .filter(|b| b.outline.len() >= 3)
        .map(|b| geo::Polygon::new(geo::LineString::from(b.outline.clone()), Vec::new()))
        .collect();
    Ok(Ground {
        admin,
        frame,
        pts,
        in_frame,
        hot_spots,
        separating,
        footprints,
    })
}

/// Whether the edge between piece `i` of unit `a` and piece `j` of unit
/// `b` separates two pieces that could each be a neighborhood.
pub(super) fn separates(a: &UnitOut, i: usize, b: &UnitOut, j: usize, params: &Params) -> bool {
    let (bi, bj) = (a.pieces[i].barrier.is_some(), b.pieces[j].barrier.is_some());
    if bi && bj {
        return false;
    }
    if params.fill_barriers && (bi || bj) {
        return false;
    }
    a.viable[i] && b.viable[j]
}

pub(super) fn unit_ground(
    shapes: &[Shape],
    bids: &[usize],
    pts: &[Coord],
    landuse: &[usize],
    bidx: &BarrierIndex,
    params: &Params,
) -> Result<UnitOut> {
    let Some(rect) = shapes_rect(shapes) else {
        return Ok(UnitOut {
            pieces: Vec::new(),
            viable: Vec::new(),
            hot_spots: Vec::new(),
            internal: Vec::new(),
            boundary: Vec::new(),
            index: Index::new(&[]),
        });
    };
    let rect = overlay::grow(&rect, 1.0);
    let near = bidx.near(&rect);
    let pieces = enclosures::split(shapes, &near.lines, &near.areas)?;
    let index = Index::new(
        &pieces
            .iter()
            .map(|p| overlay::multipolygon_of(std::slice::from_ref(&p.shape)))
            .collect::<Vec<_>>(),
    );

    let mut members: Vec<Vec<usize>> = vec![Vec::new(); pieces.len()];
    if !pieces.is_empty() {
        let piece_of = enclosures::building_pieces(bids, pts, &pieces);
        for (&b, k) in bids.iter().zip(piece_of) {
            members[k].push(b);
        }
    }
    let viable: Vec<bool> = pieces
        .iter()
        .zip(&members)
        .map(|(p, m)| match p.barrier {
            Some(_) => !params.fill_barriers,
            None => {
                overlay::shape_area(&p.shape) >= params.min_area && m.len() >= params.min_buildings
            }
        })
        .collect();

    let cp = ClusterParams {
        eps: params.eps,
        min_buildings: params.min_buildings,
        walk_radius: params.walk_radius(),
    };
    let mut hot_spots = Vec::new();
    for (p, m) in pieces.iter().zip(&members) {
        if p.barrier.is_some() || m.is_empty() {
            continue;
        }
        let sites: Vec<Coord> = m.iter().map(|&b| pts[b]).collect();
        let labels = clustering::hot_spots_by_class(&sites, &cp, |i| landuse[m[i]]);
        let k = labels.iter().max().map_or(0, |l| l + 1);
        let mut groups = vec![Vec::new(); k];
        for (&b, &l) in m.iter().zip(&labels) {
            groups[l].push(b);
        }
        hot_spots.extend(groups.into_iter().filter(|g| !g.is_empty()));
    }

    // Edges shared by two pieces (one slice: shared vertex for vertex) are
    // barrier edges; edges of one piece only are on the unit's boundary.
    type Key = ((u64, u64), (u64, u64));
    let mut edges: HashMap<Key, (usize, usize, [Coord; 2])> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    for (k, p) in pieces.iter().enumerate() {
        coverage::for_each_edge(&p.shape, |a, b| {
            let (ka, kb) = (coverage::key(a), coverage::key(b));
            let key = if ka <= kb { (ka, kb) } else { (kb, ka) };
            let seg = [Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] }];
            edges.entry(key).and_modify(|e| e.1 = k).or_insert_with(|| {
                order.push(key);
                (k, usize::MAX, seg)
            });
        });
    }
    let mut out = UnitOut {
        pieces,
        viable,
        hot_spots,
        internal: Vec::new(),
        boundary: Vec::new(),
        index,
    };
    for key in order {
        let (i, j, seg) = edges[&key];
        if j == usize::MAX {
            out.boundary.push((seg, i));
        } else if i != j && separates(&out, i, &out, j, params) {
            out.internal.push(seg);
        }
    }
    Ok(out)
}

pub(super) type SegTree = RTree<RLine<[f64; 2]>>;

/// Every ring edge of a partition's units, as segments (repeated vertices
/// left out).
pub(super) fn boundary_segments(geoms: &[MultiPolygon<f64>]) -> Vec<RLine<[f64; 2]>> {
    let mut edges = Vec::new();
    for m in geoms {
        for poly in &m.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    if w[0] != w[1] {
                        edges.push(RLine::new([w[0].x, w[0].y], [w[1].x, w[1].y]));
                    }
                }
            }
        }
    }
    edges
}

/// Every barrier line and area outline, on the grid, as segments.
pub(super) fn barrier_segments(inputs: &Inputs) -> SegTree {
    let mut segs = Vec::new();
    let mut push = |l: &[[f64; 2]]| {
        for w in l.windows(2) {
            if w[0] != w[1] {
                segs.push(RLine::new(w[0], w[1]));
            }
        }
    };
    for l in &inputs.lines {
        push(&barriers::polyline(l));
    }
    for a in &inputs.areas {
        for r in barriers::outlines(a) {
            push(&r);
        }
    }
    RTree::bulk_load(segs)
}
