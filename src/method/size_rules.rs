//! Size rules: a neighborhood below the minimum area or building count joins
//! the neighbour with which it shares the longest border, preferring one on
//! the same side of every barrier. (The other half of the rules, no
//! neighborhood wider than a walk, is kept upstream: hot spots are cut to a
//! walk before tessellation, see [`crate::method::clustering`].)
//!
//! Works on a region graph, not on geometry: a merge adds counts, areas and
//! border lengths, and the faces are dissolved once at the end.

use std::collections::{BTreeMap, BTreeSet};

/// A region before the rules: a hot spot's area, an empty enclosure, or an
/// area barrier (which never merges and never receives).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub buildings: usize,
    pub area: f64,
    pub is_neighborhood: bool,
}

/// A shared border between two regions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Border {
    pub a: usize,
    pub b: usize,
    pub length: f64,
    /// The border runs along a barrier line (the regions lie in different
    /// enclosures).
    pub across_barrier: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct SizeParams {
    pub min_area: f64,
    pub min_buildings: usize,
}

/// What the rules decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// For each region, the region it now belongs to (itself if it stayed).
    pub into: Vec<usize>,
    /// Regions still below a minimum because no neighbour could take them.
    pub stuck: Vec<usize>,
}

#[derive(Default, Clone, Copy)]
struct Shared {
    same_side: f64,
    across: f64,
}

/// Merges every too-small neighborhood into its best neighbour, smallest
/// first, until none is left that can merge.
///
/// ```
/// use dongne::method::size_rules::{merge_small, Border, Region, SizeParams};
/// let r = |b, a| Region { buildings: b, area: a, is_neighborhood: true };
/// let regions = [r(50, 90_000.0), r(2, 5_000.0), r(40, 80_000.0)];
/// let borders = [
///     Border { a: 0, b: 1, length: 30.0, across_barrier: false },
///     Border { a: 1, b: 2, length: 90.0, across_barrier: true },
/// ];
/// let m = merge_small(&regions, &borders, SizeParams { min_area: 20_000.0, min_buildings: 5 });
/// // Region 1 shares more border with 2, but that border is a barrier.
/// assert_eq!(m.into, vec![0, 0, 2]);
/// ```
pub fn merge_small(regions: &[Region], borders: &[Border], p: SizeParams) -> Merged {
    let n = regions.len();
    let mut stats: Vec<Region> = regions.to_vec();
    let mut adj: Vec<BTreeMap<usize, Shared>> = vec![BTreeMap::new(); n];
    for b in borders {
        if b.a == b.b {
            continue;
        }
        for (x, y) in [(b.a, b.b), (b.b, b.a)] {
            let s = adj[x].entry(y).or_default();
            if b.across_barrier {
                s.across += b.length;
            } else {
                s.same_side += b.length;
            }
        }
    }
    let small =
        |r: &Region| r.is_neighborhood && (r.buildings < p.min_buildings || r.area < p.min_area);
    let order = |i: usize, r: &Region| (r.buildings, r.area.to_bits(), i);
    let mut queue: BTreeSet<(usize, u64, usize)> = (0..n)
        .filter(|&i| small(&stats[i]))
        .map(|i| order(i, &stats[i]))
        .collect();
    let mut into: Vec<usize> = (0..n).collect();
    let mut stuck = Vec::new();
    while let Some(entry) = queue.pop_first() {
        let r = entry.2;
        let Some(target) = best_neighbour(&adj[r], &stats, stats[r].buildings == 0) else {
            stuck.push(r);
            continue;
        };
        queue.remove(&order(target, &stats[target]));
        // Fold r into target: counts, area, borders.
        stats[target].buildings += stats[r].buildings;
        stats[target].area += stats[r].area;
        let r_adj = std::mem::take(&mut adj[r]);
        for (m, s) in r_adj {
            adj[m].remove(&r);
            if m == target {
                continue;
            }
            let t = adj[target].entry(m).or_default();
            t.same_side += s.same_side;
            t.across += s.across;
            let back = adj[m].entry(target).or_default();
            back.same_side += s.same_side;
            back.across += s.across;
        }
        into[r] = target;
        if small(&stats[target]) {
            queue.insert(order(target, &stats[target]));
        }
    }
    // Resolve chains (a → b → c) to final regions.
    for i in 0..n {
        let mut j = i;
        while into[j] != j {
            j = into[j];
        }
        into[i] = j;
    }
    stuck.sort_unstable();
    stuck.retain(|&s| into[s] == s);
    Merged { into, stuck }
}

/// The neighbour to merge into: the longest border on the same side of every
/// barrier, else the longest border across one. Ground without buildings
/// that only barriers surround (a clearing in a forest, a strip between a
/// river and a motorway) joins the barrier around it.
fn best_neighbour(adj: &BTreeMap<usize, Shared>, stats: &[Region], empty: bool) -> Option<usize> {
    let best_by = |f: fn(&Shared) -> f64, barriers: bool| {
        adj.iter()
            .filter(|(m, _)| stats[**m].is_neighborhood != barriers)
            .filter(|(_, s)| f(s) > 0.0)
            .max_by(|(ma, a), (mb, b)| f(a).total_cmp(&f(b)).then(mb.cmp(ma)))
            .map(|(m, _)| *m)
    };
    best_by(|s| s.same_side, false)
        .or_else(|| best_by(|s| s.across, false))
        .or_else(|| {
            empty
                .then(|| best_by(|s| s.same_side + s.across, true))
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(b: usize, a: f64) -> Region {
        Region {
            buildings: b,
            area: a,
            is_neighborhood: true,
        }
    }
    /// Ground of a barrier feature (water, forest) with no building.
    fn barrier(a: f64) -> Region {
        Region {
            buildings: 0,
            area: a,
            is_neighborhood: false,
        }
    }
    fn border(a: usize, b: usize, length: f64) -> Border {
        Border {
            a,
            b,
            length,
            across_barrier: false,
        }
    }
    const P: SizeParams = SizeParams {
        min_area: 10_000.0,
        min_buildings: 5,
    };

    #[test]
    fn empty_ground_inside_a_barrier_joins_it() {
        let m = merge_small(&[barrier(1e6), r(0, 100.0)], &[border(0, 1, 40.0)], P);
        assert_eq!(m.into, vec![0, 0]);
        assert!(m.stuck.is_empty());
    }

    #[test]
    fn barrier_features_do_not_take_ground_with_buildings() {
        let m = merge_small(&[barrier(1.0), r(1, 100.0)], &[border(0, 1, 10.0)], P);
        assert_eq!(m.into, vec![0, 1]);
        assert_eq!(m.stuck, vec![1]);
    }

    #[test]
    fn two_small_regions_merge_together_then_into_a_large_one() {
        let regions = [r(2, 3_000.0), r(2, 3_000.0), r(50, 50_000.0)];
        let m = merge_small(&regions, &[border(0, 1, 50.0), border(1, 2, 10.0)], P);
        assert_eq!(m.into, vec![2, 2, 2]);
        assert!(m.stuck.is_empty());
    }
}
