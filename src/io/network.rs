//! The barrier lines as the method takes them (method step 2), where the data
//! has gaps. Run once on the loaded layers, so that every stage and check of
//! a run sees the same network:
//!
//! - **Culverts.** A waterway underground (OSM `tunnel=culvert`, `covered=yes`,
//!   or a layer's `tunnel_field`) for at most `culvert_length` metres passes
//!   under a road: the water still separates its banks, so the piece stays a
//!   barrier. Pieces that join end to end make one stretch; a longer stretch
//!   is a stream built over and is dropped. (Roads and rail underground are
//!   dropped by the reader: no barrier on the surface.)
//! - **Dangling ends.** A line ending within `snap_distance` of another
//!   barrier line, an area barrier or an admin unit's edge is extended to
//!   meet it ([`crate::geom::snap`]).
//!
//! Bridges need nothing: a road on a bridge is a line like any other, and the
//! river under it stays.

use std::collections::HashMap;

use geo::{Euclidean, Length, LineString};
use serde::Serialize;

use crate::geom::snap::close_gaps;
use crate::io::config::Params;
use crate::model::Inputs;

/// What closing the network did to one layer's lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NetworkCounts {
    /// Covered stretches (culverts) kept as barriers.
    pub culverts_kept: usize,
    /// Covered stretches longer than `culvert_length`, dropped.
    pub covered_dropped: usize,
    /// Line ends extended to meet another barrier or a unit's edge.
    pub ends_snapped: usize,
}

/// Drops the long covered stretches, then extends the dangling ends.
/// `layers` gives each layer's range in `inputs.lines` (as read); the counts
/// come back per layer, in that order.
pub fn close(
    inputs: &mut Inputs,
    params: &Params,
    layers: &[std::ops::Range<usize>],
) -> Vec<NetworkCounts> {
    let mut counts = vec![NetworkCounts::default(); layers.len()];
    let layer_of = |i: usize| layers.iter().position(|r| r.contains(&i));

    let (keep, stretches) = culverts(&inputs.lines, params.culvert_length);
    for (first, kept) in stretches {
        if let Some(k) = layer_of(first) {
            if kept {
                counts[k].culverts_kept += 1;
            } else {
                counts[k].covered_dropped += 1;
            }
        }
    }
    let mut layer: Vec<Option<usize>> = (0..inputs.lines.len()).map(layer_of).collect();
    let mut it = keep.iter();
    inputs.lines.retain(|_| *it.next().unwrap_or(&true));
    let mut it = keep.iter();
    layer.retain(|_| *it.next().unwrap_or(&true));

    let lines: Vec<&LineString<f64>> = inputs.lines.iter().map(|l| &l.geom).collect();
    let rings: Vec<&LineString<f64>> = inputs
        .admin
        .iter()
        .flat_map(|u| &u.geom.0)
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .collect();
    let areas: Vec<&geo::Polygon<f64>> = inputs.areas.iter().map(|a| &a.geom).collect();
    let ext = close_gaps(&lines, &rings, &areas, params.snap_distance);
    // The extensions were found on the network as read; now applied.
    for ((l, [start, end]), k) in inputs.lines.iter_mut().zip(ext).zip(layer) {
        let n = start.is_some() as usize + end.is_some() as usize;
        if let Some(k) = k {
            counts[k].ends_snapped += n;
        }
        if let Some(p) = start {
            l.geom.0.insert(0, p);
        }
        if let Some(p) = end {
            l.geom.0.push(p);
        }
    }
    counts
}

/// Which lines stay (covered ones only in a short stretch), and each covered
/// stretch as (its first line, kept). A stretch is a run of covered pieces
/// joined end to end.
fn culverts(lines: &[crate::model::LineBarrier], max_len: f64) -> (Vec<bool>, Vec<(usize, bool)>) {
    let covered: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].covered).collect();
    // Union-find over the covered pieces, joined where they share an end.
    let mut parent: Vec<usize> = (0..covered.len()).collect();
    fn root(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    let mut at_end: HashMap<(u64, u64), usize> = HashMap::new();
    for (k, &i) in covered.iter().enumerate() {
        let c = &lines[i].geom.0;
        for p in [c.first(), c.last()].into_iter().flatten() {
            let key = ((p.x + 0.0).to_bits(), (p.y + 0.0).to_bits());
            match at_end.get(&key) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, j), root(&mut parent, k));
                    // The smaller root wins: the same stretches whatever the order.
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    at_end.insert(key, k);
                }
            }
        }
    }
    let mut length: HashMap<usize, f64> = HashMap::new();
    for (k, &i) in covered.iter().enumerate() {
        *length.entry(root(&mut parent, k)).or_default() += Euclidean.length(&lines[i].geom);
    }
    let mut keep = vec![true; lines.len()];
    let mut stretches = Vec::new();
    for (k, &i) in covered.iter().enumerate() {
        let r = root(&mut parent, k);
        let kept = length[&r] <= max_len;
        keep[i] = kept;
        if r == k {
            stretches.push((i, kept));
        }
    }
    (keep, stretches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BarrierKind, LineBarrier};
    use geo::line_string;

    fn water(geom: LineString<f64>, covered: bool) -> LineBarrier {
        LineBarrier {
            fid: 0,
            kind: BarrierKind::Water,
            class: "stream".into(),
            width_m: 3.0,
            geom,
            covered,
        }
    }

    #[test]
    fn short_culverts_stay_and_long_covered_stretches_go() {
        let lines = vec![
            water(line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0)], false),
            // A 15 m culvert under a road.
            water(line_string![(x: 100.0, y: 0.0), (x: 115.0, y: 0.0)], true),
            water(line_string![(x: 115.0, y: 0.0), (x: 300.0, y: 0.0)], false),
            // 800 m covered, in two pieces of 400 m.
            water(line_string![(x: 300.0, y: 0.0), (x: 700.0, y: 0.0)], true),
            water(line_string![(x: 700.0, y: 0.0), (x: 1100.0, y: 0.0)], true),
        ];
        let (keep, stretches) = culverts(&lines, 50.0);
        assert_eq!(keep, [true, true, true, false, false]);
        assert_eq!(stretches, [(1, true), (3, false)]);
    }
}
