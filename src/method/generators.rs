//! The Voronoi generators of an enclosure (method step 5, polygon → point):
//! each building's point and, for a footprint the boundary between two hot
//! spots could enter, points along its outline, so that the boundary passes
//! between buildings, never through one.

use geo::Coord;

use crate::geom::coverage;
use crate::geom::overlay;
use crate::model::Building;

/// Spacing of the generators along a footprint's outline (metres). The
/// boundary between two hot spots runs along the bisectors of outline
/// points; between footprints a few metres apart, points this close keep it
/// off both buildings (it can only cut a corner by a fraction of a spacing).
pub const OUTLINE_STEP: f64 = 2.0;

/// What an enclosure is tessellated with.
pub(crate) struct Generators {
    pub(crate) sites: Vec<Coord>,
    pub(crate) labels: Vec<usize>,
    /// Footprint outlines on the grid, with their building's label.
    pub(crate) footprints: Vec<(Vec<[f64; 2]>, usize)>,
}

/// The Voronoi generators of an enclosure's buildings with their hot-spot
/// labels: every building's point and, for a footprint within reach of
/// another hot spot ([`near_another_hot_spot`]), points along its outline
/// every [`OUTLINE_STEP`] metres, all on the grid, and those footprints to
/// keep whole. Outlines only when the enclosure holds more than one hot
/// spot: with one, nothing is drawn between buildings.
pub(crate) fn generators(
    members: &[usize],
    sites: &[Coord],
    labels: &[usize],
    buildings: &[Building],
) -> Generators {
    let mut g = Generators {
        sites: sites.to_vec(),
        labels: labels.to_vec(),
        footprints: Vec::new(),
    };
    if labels.windows(2).all(|w| w[0] == w[1]) {
        return g;
    }
    let near = near_another_hot_spot(members, sites, labels, buildings);
    for ((&b, &l), near) in members.iter().zip(labels).zip(near) {
        let ring = &buildings[b].outline;
        if !near {
            // No point of this footprint is nearer another hot spot's
            // generators than its own point: its outline changes nothing
            // the boundary between hot spots could cut.
            continue;
        }
        for (k, a) in ring.iter().enumerate() {
            let c = ring[(k + 1) % ring.len()];
            for p in coverage::points_along([a.x, a.y], [c.x, c.y], OUTLINE_STEP, false) {
                g.sites.push(overlay::snap(Coord { x: p[0], y: p[1] }));
                g.labels.push(l);
            }
        }
        if ring.len() >= 3 {
            let snapped = ring.iter().map(|c| overlay::snap_pt([c.x, c.y])).collect();
            g.footprints.push((snapped, l));
        }
    }
    g
}

/// For each building, whether a building of another hot spot stands close
/// enough that the boundary between them could enter its footprint. With
/// `r` the distance from a building's point to its farthest outline corner,
/// every point of footprint `b` is within `r_b` of `b`'s point and at least
/// `d - r_b - r_c` from every generator of `c` (its point and outline, all
/// within `r_c` of `c`'s point, `d` apart from `b`'s): so `b` is out of
/// reach when `d > 2 r_b + r_c` for every `c` of another hot spot. Hot
/// spots are clusters of buildings closer than `eps`, so most buildings are
/// out of reach; only those at the edge of a hot spot near another keep
/// their outline generators: on the Liechtenstein footprints 1,363 of the
/// 13,345 in enclosures of more than one hot spot, which made the
/// tessellation stage about three times faster.
fn near_another_hot_spot(
    members: &[usize],
    sites: &[Coord],
    labels: &[usize],
    buildings: &[Building],
) -> Vec<bool> {
    use crate::geom::shape::{box_tree, rect_to_aabb};
    let radius: Vec<f64> = members
        .iter()
        .zip(sites)
        .map(|(&b, s)| {
            buildings[b]
                .outline
                .iter()
                .map(|c| (c.x - s.x).hypot(c.y - s.y))
                .fold(0.0, f64::max)
        })
        .collect();
    // Each building as the box of its reach `r_c` about its point: a
    // building `c` within `2 r_b + r_c + step` of `b` has its box meet `b`'s
    // point grown by `2 r_b + step` (and a hair, for rounding). One large
    // footprint no longer widens every building's search.
    let square = |s: &Coord, r: f64| overlay::grow(&geo::Rect::new(*s, *s), r);
    let tree = box_tree(sites.iter().zip(&radius).map(|(s, &r)| Some(square(s, r))));
    (0..members.len())
        .map(|k| {
            let env = rect_to_aabb(&square(&sites[k], 2.0 * radius[k] + OUTLINE_STEP + 1e-6));
            tree.locate_in_envelope_intersecting(&env).any(|g| {
                let c = g.data;
                labels[c] != labels[k]
                    && (sites[c].x - sites[k].x).hypot(sites[c].y - sites[k].y)
                        <= 2.0 * radius[k] + radius[c] + OUTLINE_STEP
            })
        })
        .collect()
}
