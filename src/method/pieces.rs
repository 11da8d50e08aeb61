//! One piece each: a neighborhood (or any feature) is one connected polygon.
//!
//! Clipped to an enclosure that is not convex (forest lobes, a river bend),
//! a hot spot's Voronoi region can fall into pieces. The pass runs before the
//! size rules, whose merges join groups that share a border and so keep each
//! one in one piece. Each group of faces keeps its main piece (the one
//! with the most buildings, then the largest); every other piece goes to the
//! neighbouring group with which it shares the longest border, preferring a
//! group of the same kind in the same enclosure. A piece with no neighbour at
//! all (an exclave of the admin unit), or one that holds buildings and has no
//! neighbour in its own enclosure, becomes a group of its own: the size rules
//! decide what it joins, with their preference for the same side of every
//! barrier. A group of less than [`MIN_FEATURE_AREA`] (a sliver left by the
//! overlay) goes whole to its longest-bordering neighbour.
//!
//! Works on the face graph of one unit, like the size rules: faces are only
//! relabelled, and dissolved once at the end. Pieces are "connected" through
//! shared edges: two faces that touch at a point only are two pieces, as in
//! the OGC model, where such a MultiPolygon is not one Polygon.

use std::collections::BTreeMap;

/// No feature is smaller than this (square metres): invariant 9.
pub const MIN_FEATURE_AREA: f64 = 1.0;

/// The faces of one unit, as the pass sees them.
pub struct FaceGraph<'a> {
    /// For each face, its neighbours and the length of the shared border.
    pub adj: &'a [Vec<(usize, f64)>],
    pub area: &'a [f64],
    pub buildings: &'a [usize],
    /// The piece of the split unit (enclosure or barrier) each face lies in.
    pub piece: &'a [usize],
}

/// Relabels `group` (one entry per face) so that every group is one
/// connected piece of at least [`MIN_FEATURE_AREA`] where it can be.
/// `kind[g]` is the kind of group `g`; new groups get ids from `kind.len()`
/// up and are pushed onto `kind`. Deterministic: faces are visited in index
/// order and ties go to the lower group id.
pub fn one_piece<K: Copy + PartialEq>(g: &FaceGraph, group: &mut [usize], kind: &mut Vec<K>) {
    // Each round settles every stray piece; a piece given away can only join
    // its new group's main piece or another stray one, so rounds are few.
    for _ in 0..8 {
        let comps = components(g, group);
        let mut by_group: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (c, faces) in comps.iter().enumerate() {
            by_group.entry(group[faces[0]]).or_default().push(c);
        }
        // Stray pieces, each with whether it is its group's only piece.
        let mut stray: Vec<(usize, bool)> = Vec::new();
        for cs in by_group.values() {
            let size = |c: usize| {
                let b: usize = comps[c].iter().map(|&f| g.buildings[f]).sum();
                let a: f64 = comps[c].iter().map(|&f| g.area[f]).sum();
                (b, a)
            };
            let total: f64 = cs.iter().map(|&c| size(c).1).sum();
            if total < MIN_FEATURE_AREA {
                stray.extend(cs.iter().map(|&c| (c, cs.len() == 1)));
                continue;
            }
            if cs.len() > 1 {
                let main = cs
                    .iter()
                    .copied()
                    .max_by(|&x, &y| {
                        let (bx, ax) = size(x);
                        let (by, ay) = size(y);
                        bx.cmp(&by)
                            .then(ax.total_cmp(&ay))
                            // the piece with the lower first face wins a tie
                            .then(comps[y][0].cmp(&comps[x][0]))
                    })
                    .unwrap_or(cs[0]);
                stray.extend(cs.iter().filter(|&&c| c != main).map(|&c| (c, false)));
            }
        }
        if stray.is_empty() {
            return;
        }
        let mut changed = false;
        for (c, whole) in stray {
            let faces = &comps[c];
            let me = group[faces[0]];
            // Border length to each other group: same kind in the same
            // enclosure first, then same kind, then any.
            let mut score: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
            for &f in faces {
                for &(h, len) in &g.adj[f] {
                    let gh = group[h];
                    if gh == me {
                        continue;
                    }
                    let s = score.entry(gh).or_default();
                    s.1 += len;
                    if g.piece[h] == g.piece[f] {
                        s.0 += len;
                    }
                }
            }
            let best = score
                .iter()
                .map(|(&h, &(same_piece, all))| (kind[h] == kind[me], same_piece, all, h))
                .max_by(|a, b| {
                    a.0.cmp(&b.0)
                        .then(a.1.total_cmp(&b.1))
                        .then(a.2.total_cmp(&b.2))
                        .then(b.3.cmp(&a.3))
                });
            let holds_buildings = faces.iter().any(|&f| g.buildings[f] > 0);
            let to = match best {
                // A piece with buildings does not cross a barrier here: it
                // stands alone, and the size rules decide.
                Some((_, same_piece, _, h)) if same_piece > 0.0 || !holds_buildings => h,
                _ => {
                    // An island: a group of its own (unless it already is
                    // the whole group, a lone sliver with no neighbour).
                    if whole {
                        continue;
                    }
                    kind.push(kind[me]);
                    kind.len() - 1
                }
            };
            for &f in faces {
                group[f] = to;
            }
            changed = true;
        }
        if !changed {
            return;
        }
    }
}

/// Connected pieces of each group: lists of faces, each sorted, in order of
/// their first face.
fn components(g: &FaceGraph, group: &[usize]) -> Vec<Vec<usize>> {
    let n = group.len();
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut comp = vec![start];
        let mut k = 0;
        while k < comp.len() {
            let f = comp[k];
            for &(h, len) in &g.adj[f] {
                if !seen[h] && len > 0.0 && group[h] == group[f] {
                    seen[h] = true;
                    comp.push(h);
                }
            }
            k += 1;
        }
        comp.sort_unstable();
        out.push(comp);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Faces in a row, each bordering the next by 10 m.
    fn row(n: usize) -> Vec<Vec<(usize, f64)>> {
        (0..n)
            .map(|i| {
                let mut v = Vec::new();
                if i > 0 {
                    v.push((i - 1, 10.0));
                }
                if i + 1 < n {
                    v.push((i + 1, 10.0));
                }
                v
            })
            .collect()
    }

    /// The groups and kinds after `one_piece` on this face graph.
    fn after(
        adj: &[Vec<(usize, f64)>],
        faces: (&[f64], &[usize], &[usize]),
        group: &[usize],
        kind: &[char],
    ) -> (Vec<usize>, Vec<char>) {
        let (area, buildings, piece) = faces;
        let g = FaceGraph {
            adj,
            area,
            buildings,
            piece,
        };
        let (mut group, mut kind) = (group.to_vec(), kind.to_vec());
        one_piece(&g, &mut group, &mut kind);
        (group, kind)
    }

    /// Groups 0, 1, 0 over three faces in a row, two neighborhoods, after `one_piece`.
    fn a_b_a_after(area: &[f64], buildings: &[usize]) -> Vec<usize> {
        after(
            &row(3),
            (area, buildings, &[0, 0, 0]),
            &[0, 1, 0],
            &['n', 'n'],
        )
        .0
    }

    #[test]
    fn an_empty_piece_goes_to_the_neighbour_between() {
        // The second piece of A holds no building, so B takes it.
        assert_eq!(
            a_b_a_after(&[100.0, 100.0, 100.0], &[5, 5, 0]),
            vec![0, 1, 1]
        );
    }

    #[test]
    fn the_piece_with_more_buildings_stays() {
        assert_eq!(
            a_b_a_after(&[100.0, 100.0, 50.0], &[1, 5, 3]),
            vec![1, 1, 0]
        );
    }

    #[test]
    fn a_sliver_joins_its_longest_neighbour_and_an_island_stands_alone() {
        // 0 - 1 - 2 in a row, 3 alone (an exclave of group 0).
        let mut adj = row(3);
        adj.push(Vec::new());
        adj[1][1].1 = 20.0;
        let (group, kind) = after(
            &adj,
            (&[100.0, 0.3, 100.0, 40.0], &[5, 0, 5, 0], &[0, 0, 0, 1]),
            &[0, 1, 2, 0],
            &['n', 'w', 'n'],
        );
        assert_eq!(group, vec![0, 2, 2, 3]);
        assert_eq!(kind, vec!['n', 'w', 'n', 'n']);
    }

    #[test]
    fn same_kind_in_the_same_enclosure_is_preferred() {
        // Stray piece 2 of group 0 borders water (1) by 50 m and the
        // neighborhood 3 by 10 m: it goes to the neighborhood.
        let adj = vec![
            vec![(1, 10.0)],
            vec![(0, 10.0), (2, 50.0)],
            vec![(1, 50.0), (3, 10.0)],
            vec![(2, 10.0)],
        ];
        let (group, _) = after(
            &adj,
            (&[100.0; 4], &[5, 0, 0, 5], &[0, 1, 0, 0]),
            &[0, 1, 0, 3],
            &['n', 'w', 'n', 'n'],
        );
        assert_eq!(group, vec![0, 1, 3, 3]);
    }
}
