//! Dissolving faces into one feature without a polygon union: on a noded
//! coverage ([`crate::geom::coverage`]) the union of faces is the set of their
//! edges minus the pairs that cancel, chained back into rings.

use crate::geom::coverage::{
    assemble, edge_count, for_each_edge, key, simple_loops, EdgeKey, FastMap, P,
};
use crate::geom::shape::{Ring, Shape};

/// The union of faces that share edges exactly: shared edges cancel, the
/// remaining edges are chained into rings (at a vertex where several rings
/// touch, the sharpest left turn keeps each ring simple), and holes go to the
/// smallest shell around them.
pub fn dissolve<'a>(faces: impl IntoIterator<Item = &'a Shape>) -> Vec<Shape> {
    let faces: Vec<&Shape> = faces.into_iter().collect();
    // Edge multiset with cancellation of opposite pairs; insertion order kept
    // so the output is the same on every run.
    let n = edge_count(faces.iter().copied());
    let mut count: FastMap<EdgeKey, i32> = FastMap::with_capacity_and_hasher(n, Default::default());
    let mut order: Vec<(P, P)> = Vec::with_capacity(n);
    for f in faces {
        for_each_edge(f, |a, b| {
            if a == b {
                return;
            }
            match count.get_mut(&(key(b), key(a))) {
                Some(rev) if *rev > 0 => *rev -= 1,
                _ => {
                    *count.entry((key(a), key(b))).or_insert(0) += 1;
                    order.push((a, b));
                }
            }
        });
    }
    let mut out = OutEdges::with_capacity(order.len());
    let mut starts: Vec<(P, P)> = Vec::new();
    for (a, b) in order {
        let c = count.get_mut(&(key(a), key(b))).expect("counted edge");
        if *c > 0 {
            *c -= 1;
            out.push(a, b);
            starts.push((a, b));
        }
    }
    let mut rings: Vec<Ring> = Vec::new();
    for (s, t) in starts {
        let Some(e) = out.unused_leaving(s).find(|&e| out.edges[e].to == t) else {
            continue;
        };
        out.edges[e].used = true;
        let mut ring = vec![s];
        let (mut prev, mut cur) = (s, t);
        while cur != s {
            ring.push(cur);
            let Some(next) = take_left_turn(&mut out, prev, cur) else {
                break;
            };
            prev = cur;
            cur = next;
        }
        simple_loops(ring, &mut rings);
    }
    assemble(rings)
}

/// The edges left after cancellation, listed by start vertex in the order
/// they came: one table entry per vertex and the edges in one vector, linked,
/// instead of a vector per vertex (an allocation for each).
struct OutEdges {
    /// First and last edge leaving each vertex.
    ends: FastMap<(u64, u64), (usize, usize)>,
    edges: Vec<OutEdge>,
}

struct OutEdge {
    to: P,
    used: bool,
    /// The next edge leaving the same vertex.
    next: Option<usize>,
}

impl OutEdges {
    fn with_capacity(n: usize) -> Self {
        OutEdges {
            ends: FastMap::with_capacity_and_hasher(n, Default::default()),
            edges: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, a: P, b: P) {
        let e = self.edges.len();
        self.edges.push(OutEdge {
            to: b,
            used: false,
            next: None,
        });
        let ends = self.ends.entry(key(a)).or_insert((e, e));
        if ends.1 != e {
            self.edges[ends.1].next = Some(e);
            ends.1 = e;
        }
    }

    /// The edges leaving `a`, in the order they came.
    fn leaving(&self, a: P) -> impl Iterator<Item = usize> + '_ {
        let first = self.ends.get(&key(a)).map(|&(f, _)| f);
        std::iter::successors(first, |&e| self.edges[e].next)
    }

    /// [`Self::leaving`], without the edges already taken into a ring.
    fn unused_leaving(&self, a: P) -> impl Iterator<Item = usize> + '_ {
        self.leaving(a).filter(|&e| !self.edges[e].used)
    }
}

/// At `cur`, arrived from `prev`: the unused outgoing edge that turns most to
/// the left, i.e. the first one met turning clockwise from the way back.
fn take_left_turn(out: &mut OutEdges, prev: P, cur: P) -> Option<P> {
    let (first, only) = {
        let mut unused = out.unused_leaving(cur);
        (unused.next()?, unused.next().is_none())
    };
    // One way on (almost every vertex): no angles to compare.
    let i = if only {
        first
    } else {
        let back = (prev[1] - cur[1]).atan2(prev[0] - cur[0]);
        let mut best: Option<(f64, usize)> = None;
        for e in out.unused_leaving(cur) {
            let q = out.edges[e].to;
            let ang = (q[1] - cur[1]).atan2(q[0] - cur[0]);
            // Clockwise angle from `back` to this edge, in (0, 2π].
            let mut cw = back - ang;
            while cw <= 0.0 {
                cw += std::f64::consts::TAU;
            }
            while cw > std::f64::consts::TAU {
                cw -= std::f64::consts::TAU;
            }
            if best.is_none_or(|(b, _)| cw < b) {
                best = Some((cw, e));
            }
        }
        best?.1
    };
    out.edges[i].used = true;
    Some(out.edges[i].to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::coverage::{adjacency, node};
    use crate::geom::overlay::shape_area;
    use crate::geom::shape::square;

    #[test]
    fn two_squares_sharing_an_edge_dissolve_into_one() {
        let d = dissolve([&square(0.0, 0.0, 1.0), &square(1.0, 0.0, 1.0)]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 1);
        assert!((shape_area(&d[0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn ring_of_faces_dissolves_into_shell_with_hole() {
        let faces: Vec<Shape> = [
            (0., 0.),
            (1., 0.),
            (2., 0.),
            (0., 1.),
            (2., 1.),
            (0., 2.),
            (1., 2.),
            (2., 2.),
        ]
        .iter()
        .map(|&(x, y)| square(x, y, 1.0))
        .collect();
        let d = dissolve(faces.iter());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2, "one shell, one hole");
        assert!((shape_area(&d[0]) - 8.0).abs() < 1e-12);
    }

    #[test]
    fn hole_touching_its_shell_at_a_point_is_a_separate_ring() {
        // A 4×4 square minus a triangle whose tip touches the bottom edge,
        // given as the faces around the triangle.
        let faces = [
            vec![vec![[0.0, 0.0], [2.0, 0.0], [1.0, 2.0], [0.0, 4.0]]],
            vec![vec![[2.0, 0.0], [4.0, 0.0], [4.0, 4.0], [3.0, 2.0]]],
            vec![vec![[1.0, 2.0], [3.0, 2.0], [4.0, 4.0], [0.0, 4.0]]],
        ];
        let d = dissolve(faces.iter());
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2, "{d:?}");
        assert!((shape_area(&d[0]) - 14.0).abs() < 1e-12);
        use geo::Validation;
        assert!(crate::geom::overlay::polygon_of(&d[0]).is_valid());
    }

    #[test]
    fn squares_touching_at_a_corner_stay_two_shells() {
        let d = dissolve([&square(0.0, 0.0, 1.0), &square(1.0, 1.0, 1.0)]);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn t_junction_is_noded_and_faces_become_neighbours() {
        // Left square whole; right side split in two, with a vertex at (1, 0.5)
        // the left square lacks.
        let mut faces = vec![
            square(0.0, 0.0, 1.0),
            vec![vec![[1.0, 0.0], [2.0, 0.0], [2.0, 0.5], [1.0, 0.5]]],
            vec![vec![[1.0, 0.5], [2.0, 0.5], [2.0, 1.0], [1.0, 1.0]]],
        ];
        assert!(adjacency(&faces)[0].is_empty());
        node(&mut faces, 1e-3);
        let adj = adjacency(&faces);
        assert_eq!(adj[0], vec![(1, 0.5), (2, 0.5)]);
        let d = dissolve(faces.iter());
        assert_eq!(d.len(), 1);
        assert!((shape_area(&d[0]) - 2.0).abs() < 1e-12);
    }
}
