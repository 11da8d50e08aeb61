//! Hot spots: the buildings of one enclosure grouped by distance.
//!
//! DBSCAN (geo's `Dbscan`) finds the dense groups; an isolated building joins
//! the group of its nearest clustered neighbour, since every building must end
//! up in some neighborhood. A group wider than a walk is then cut in two along
//! its longer axis, repeatedly, so no hot spot is bigger than people walk.
//! Clustering never looks beyond one enclosure, so a hot spot never crosses a
//! barrier.

use std::collections::HashMap;

use geo::{Coord, Dbscan, Point};
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Parameters of the clustering, in metres.
#[derive(Debug, Clone, Copy)]
pub struct ClusterParams {
    pub eps: f64,
    pub min_buildings: usize,
    /// Farthest a building of one hot spot may lie from the hot spot's centre.
    pub walk_radius: f64,
}

/// Labels each point with its hot spot, `0..k`, numbered in order of first
/// appearance so the result depends only on the input order.
///
/// ```
/// use dongne::method::clustering::{hot_spots, ClusterParams};
/// use geo::Coord;
/// let mut pts: Vec<Coord> = (0..5).map(|i| Coord { x: i as f64, y: 0.0 }).collect();
/// pts.extend((0..5).map(|i| Coord { x: 500.0 + i as f64, y: 0.0 }));
/// let p = ClusterParams { eps: 10.0, min_buildings: 3, walk_radius: 800.0 };
/// assert_eq!(hot_spots(&pts, &p), vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
/// ```
pub fn hot_spots(points: &[Coord], p: &ClusterParams) -> Vec<usize> {
    if points.is_empty() {
        return Vec::new();
    }
    let found = dbscan_capped(points, p.eps, p.min_buildings.max(1));
    let mut labels = join_noise(points, &found);
    split_wide(points, &mut labels, p);
    renumber(&mut labels);
    labels
}

/// Hot spots that never mix land-use classes: the buildings of each class
/// are clustered apart, so where residential blocks meet an industrial
/// estate the Voronoi fill draws a boundary between them. This is the soft
/// split of the land-use layer: it moves boundaries, it cuts no enclosure,
/// and the size rules may still merge a small group into its neighbour.
///
/// ```
/// use dongne::method::clustering::{hot_spots_by_class, ClusterParams};
/// use geo::Coord;
/// let pts: Vec<Coord> = (0..10).map(|i| Coord { x: i as f64 * 5.0, y: 0.0 }).collect();
/// let p = ClusterParams { eps: 10.0, min_buildings: 3, walk_radius: 800.0 };
/// // One row of houses, the east half in another land-use class.
/// let labels = hot_spots_by_class(&pts, &p, |i| usize::from(i >= 5));
/// assert_eq!(labels, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
/// ```
pub fn hot_spots_by_class(
    points: &[Coord],
    p: &ClusterParams,
    class: impl Fn(usize) -> usize,
) -> Vec<usize> {
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..points.len() {
        groups.entry(class(i)).or_default().push(i);
    }
    if groups.len() <= 1 {
        return hot_spots(points, p);
    }
    let mut labels = vec![0; points.len()];
    let mut next = 0;
    for members in groups.values() {
        let sub: Vec<Coord> = members.iter().map(|&i| points[i]).collect();
        let l = hot_spots(&sub, p);
        let k = l.iter().max().map_or(0, |m| m + 1);
        for (&i, li) in members.iter().zip(l) {
            labels[i] = next + li;
        }
        next += k;
    }
    renumber(&mut labels);
    labels
}

/// DBSCAN with each location's copies capped at `min_pts`: a point is core
/// when at least `min_pts` points lie within `eps`, and capping every
/// location's multiplicity at `min_pts` changes no such count's side of
/// `min_pts` (a location with `min_pts` copies still reaches it alone; below
/// the cap nothing changed). So the clusters are exactly DBSCAN's, the
/// copies left out take the label of their location's first, and 100,000
/// buildings at one spot (a geocoder's fallback point) cost what five do,
/// where DBSCAN alone went quadratic (481 s, issue 13).
fn dbscan_capped(points: &[Coord], eps: f64, min_pts: usize) -> Vec<Option<usize>> {
    let mut first: HashMap<(u64, u64), (usize, usize)> = HashMap::new();
    let mut kept: Vec<Point> = Vec::new();
    let mut slot: Vec<usize> = Vec::with_capacity(points.len());
    for c in points {
        let key = ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits());
        let e = first.entry(key).or_insert((kept.len(), 0));
        if e.1 < min_pts {
            slot.push(kept.len());
            kept.push(Point(*c));
        } else {
            slot.push(e.0);
        }
        e.1 += 1;
    }
    let found = kept.dbscan(eps, min_pts);
    slot.iter().map(|&k| found[k]).collect()
}

/// Gives every noise point the label of the nearest clustered point; with no
/// cluster at all, the enclosure's buildings form one hot spot.
fn join_noise(points: &[Coord], found: &[Option<usize>]) -> Vec<usize> {
    let clustered: Vec<GeomWithData<[f64; 2], usize>> = points
        .iter()
        .zip(found)
        .filter_map(|(c, l)| l.map(|l| GeomWithData::new([c.x, c.y], l)))
        .collect();
    if clustered.is_empty() {
        return vec![0; points.len()];
    }
    let tree = RTree::bulk_load(clustered);
    points
        .iter()
        .zip(found)
        .map(|(c, l)| {
            l.unwrap_or_else(|| {
                tree.nearest_neighbor(&[c.x, c.y])
                    .map(|n| n.data)
                    .unwrap_or(0)
            })
        })
        .collect()
}

/// Cuts hot spots wider than a walk at the median of their longer axis until
/// each fits, or until a part would fall below the minimum building count.
fn split_wide(points: &[Coord], labels: &mut [usize], p: &ClusterParams) {
    let mut next = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); next];
    for (i, &l) in labels.iter().enumerate() {
        groups[l].push(i);
    }
    let mut stack: Vec<Vec<usize>> = groups.into_iter().filter(|g| !g.is_empty()).collect();
    while let Some(g) = stack.pop() {
        if g.len() < 2 * p.min_buildings.max(1) || radius(points, &g) <= p.walk_radius {
            continue;
        }
        let (a, b) = halve(points, g);
        for &i in &b {
            labels[i] = next;
        }
        next += 1;
        stack.push(a);
        stack.push(b);
    }
}

/// Centre of a group of buildings: the mean of their points.
pub fn centre(points: &[Coord], members: &[usize]) -> Coord {
    let n = members.len().max(1) as f64;
    let (sx, sy) = members.iter().fold((0.0, 0.0), |(sx, sy), &i| {
        (sx + points[i].x, sy + points[i].y)
    });
    Coord {
        x: sx / n,
        y: sy / n,
    }
}

/// Distance from the centre to the farthest member.
pub fn radius(points: &[Coord], members: &[usize]) -> f64 {
    let c = centre(points, members);
    members
        .iter()
        .map(|&i| ((points[i].x - c.x).powi(2) + (points[i].y - c.y).powi(2)).sqrt())
        .fold(0.0, f64::max)
}

fn halve(points: &[Coord], mut g: Vec<usize>) -> (Vec<usize>, Vec<usize>) {
    let span = |f: fn(&Coord) -> f64| {
        let (lo, hi) = g.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &i| {
            (lo.min(f(&points[i])), hi.max(f(&points[i])))
        });
        hi - lo
    };
    let by_x = span(|c| c.x) >= span(|c| c.y);
    // Ties broken by index so the cut is the same on every run.
    g.sort_by(|&i, &j| {
        let (a, b) = (points[i], points[j]);
        let (ka, kb) = if by_x { (a.x, b.x) } else { (a.y, b.y) };
        ka.total_cmp(&kb).then(i.cmp(&j))
    });
    let b = g.split_off(g.len() / 2);
    (g, b)
}

fn renumber(labels: &mut [usize]) {
    let mut map = std::collections::HashMap::new();
    for l in labels.iter_mut() {
        let n = map.len();
        *l = *map.entry(*l).or_insert(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ClusterParams {
        ClusterParams {
            eps: 20.0,
            min_buildings: 3,
            walk_radius: 800.0,
        }
    }

    #[test]
    fn isolated_building_joins_nearest_cluster() {
        let mut pts: Vec<Coord> = (0..4)
            .map(|i| Coord {
                x: i as f64 * 5.0,
                y: 0.0,
            })
            .collect();
        pts.extend((0..4).map(|i| Coord {
            x: 300.0 + i as f64 * 5.0,
            y: 0.0,
        }));
        pts.push(Coord { x: 250.0, y: 0.0 }); // noise, nearer the second group
        let l = hot_spots(&pts, &params());
        assert_eq!(l, vec![0, 0, 0, 0, 1, 1, 1, 1, 1]);
    }

    #[test]
    fn too_few_buildings_form_one_hot_spot() {
        let pts = vec![Coord { x: 0.0, y: 0.0 }, Coord { x: 500.0, y: 0.0 }];
        assert_eq!(hot_spots(&pts, &params()), vec![0, 0]);
    }

    #[test]
    fn duplicate_points_share_a_hot_spot() {
        let pts = vec![Coord { x: 1.0, y: 1.0 }; 6];
        assert_eq!(hot_spots(&pts, &params()), vec![0; 6]);
    }

    #[test]
    fn a_street_longer_than_a_walk_is_cut_until_each_part_fits() {
        // 2 km of houses every 10 m: one DBSCAN cluster, far wider than a walk.
        let pts: Vec<Coord> = (0..200)
            .map(|i| Coord {
                x: i as f64 * 10.0,
                y: 0.0,
            })
            .collect();
        let p = ClusterParams {
            walk_radius: 400.0,
            ..params()
        };
        let l = hot_spots(&pts, &p);
        let k = l.iter().max().unwrap() + 1;
        assert!(k >= 3, "{k} hot spots");
        for lab in 0..k {
            let m: Vec<usize> = (0..pts.len()).filter(|&i| l[i] == lab).collect();
            assert!(radius(&pts, &m) <= 400.0);
        }
    }
}
