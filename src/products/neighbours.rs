//! The neighbour graph of a run's output (method step 9, issue 22's first
//! part): which neighborhoods and hamlets share a border, how long it is,
//! and what lies along it. A pipeline that wants "my neighborhood and the
//! ones next to it, but not across the river" reads this instead of
//! rebuilding adjacency from polygons.
//!
//! The output is a noded coverage (units noded to each other, every vertex
//! rounded the same way), so two features share a border exactly where one
//! holds an edge a→b and the other b→a: no tolerance, no overlay.

use std::collections::BTreeMap;

use crate::geom::coverage::{self, EdgeKey, FastMap};
use crate::geom::overlay;
use crate::geom::shape::Shape;
use crate::method::barriers;
use crate::model::{BarrierKind, LineBarrier, Neighborhood};

/// What lies along a shared border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Separator {
    /// Nothing: the two meet on open ground or along a minor street.
    Nothing,
    Road,
    Rail,
    Water,
    /// The border of two admin units.
    Admin,
}

impl Separator {
    pub fn as_str(self) -> &'static str {
        match self {
            Separator::Nothing => "nothing",
            Separator::Road => "road",
            Separator::Rail => "rail",
            Separator::Water => "water",
            Separator::Admin => "admin",
        }
    }
}

/// One row of the table: `nbhd_id` borders `neighbour_id` over `shared_m`
/// metres, along `separated_by` for most of them. Every pair is listed both
/// ways.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Neighbour {
    pub nbhd_id: String,
    pub neighbour_id: String,
    pub level: u32,
    pub shared_m: f64,
    pub separated_by: Separator,
    /// Metres of the border along a hard barrier (`--hard-barriers`): a
    /// range query (`dongne range`) does not cross a border with any.
    pub hard_m: f64,
}

/// The neighbour table of `features`, level by level (features meet only
/// features of their own level), sorted by level, then `nbhd_id`, then
/// `neighbour_id`. `lines`: the run's line
/// barriers in the same CRS: an edge whose middle lies on one
/// ([`barriers::kind_on_line`], as `bounded_by` decides) runs along it.
///
/// ```
/// use dongne::model::*;
/// use dongne::products::neighbours::{neighbours, Separator};
/// use geo::{polygon, MultiPolygon};
/// let square = |id: &str, x: f64| Neighborhood {
///     id: id.into(), kind: FeatureKind::Neighborhood, admin_code: "A".into(),
///     admin_name: "A".into(), area_m2: 1e4, perimeter_m: 400.0, buildings: 9,
///     compactness: 0.78, bounded_by: String::new(), name: None,
///     level: 1, parent_id: None,
///     geom: MultiPolygon(vec![polygon![(x: x, y: 0.), (x: x + 100., y: 0.),
///         (x: x + 100., y: 100.), (x: x, y: 100.)]]),
/// };
/// let t = neighbours(&[square("A-001", 0.), square("A-002", 100.)], &[], &[]);
/// assert_eq!(t.len(), 2);
/// assert_eq!((t[0].nbhd_id.as_str(), t[0].neighbour_id.as_str()), ("A-001", "A-002"));
/// assert_eq!(t[0].shared_m, 100.0);
/// assert_eq!(t[0].separated_by, Separator::Nothing);
/// ```
pub fn neighbours(
    features: &[Neighborhood],
    lines: &[LineBarrier],
    hard: &[String],
) -> Vec<Neighbour> {
    let segments = barriers::segment_tree(lines);
    let hard: Vec<bool> = lines
        .iter()
        .map(|l| crate::products::levels::is_hard(hard, l))
        .collect();
    let levels: std::collections::BTreeSet<u32> = features.iter().map(|f| f.level).collect();
    let mut out = Vec::new();
    for level in levels {
        let of_level: Vec<&Neighborhood> = features.iter().filter(|f| f.level == level).collect();
        out.extend(level_table(&of_level, &segments, &hard, level));
    }
    out
}

/// The table of one level's features.
fn level_table(
    features: &[&Neighborhood],
    segments: &barriers::SegmentTree,
    hard: &[bool],
    level: u32,
) -> Vec<Neighbour> {
    let settled: Vec<usize> = (0..features.len())
        .filter(|&i| features[i].kind.is_settled())
        .collect();
    // On the grid, as the kernel walks faces: an edge and its reverse in
    // two features are their shared border.
    let shapes: Vec<Vec<Shape>> = features
        .iter()
        .map(|f| overlay::shapes_of(&f.geom))
        .collect();
    let edges = |i: usize, g: &mut dyn FnMut([f64; 2], [f64; 2])| {
        for s in &shapes[i] {
            coverage::for_each_edge(s, &mut *g);
        }
    };
    let mut owner: FastMap<EdgeKey, usize> = FastMap::default();
    for &i in &settled {
        edges(i, &mut |a, b| {
            owner.insert((coverage::key(a), coverage::key(b)), i);
        });
    }
    // (a, b) with a < b → length per separator, and along hard barriers.
    let mut pairs: BTreeMap<(usize, usize), (BTreeMap<Separator, f64>, f64)> = BTreeMap::new();
    for &i in &settled {
        edges(i, &mut |a, b| {
            let Some(&j) = owner.get(&(coverage::key(b), coverage::key(a))) else {
                return;
            };
            if j <= i {
                return;
            }
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            let sep = if features[i].admin_code != features[j].admin_code {
                Separator::Admin
            } else {
                along(mid, segments)
            };
            let len = coverage::dist(a, b);
            let e = pairs.entry((i, j)).or_default();
            *e.0.entry(sep).or_default() += len;
            if barriers::kind_on_line(segments, mid, |l| hard[l]).is_some() {
                e.1 += len;
            }
        });
    }
    let mut out = Vec::with_capacity(2 * pairs.len());
    for ((i, j), (by, hard_len)) in pairs {
        let shared: f64 = by.values().sum();
        // The separator along most of the border; on a tie the stronger.
        let sep = by
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(b.0)))
            .map(|(s, _)| *s)
            .unwrap_or(Separator::Nothing);
        let shared_m = (shared * 100.0).round() / 100.0;
        let hard_m = (hard_len * 100.0).round() / 100.0;
        for (x, y) in [(i, j), (j, i)] {
            out.push(Neighbour {
                nbhd_id: features[x].id.clone(),
                neighbour_id: features[y].id.clone(),
                level,
                shared_m,
                separated_by: sep,
                hard_m,
            });
        }
    }
    out.sort_by(|a, b| (&a.nbhd_id, &a.neighbour_id).cmp(&(&b.nbhd_id, &b.neighbour_id)));
    out
}

/// The kind of barrier line `p` lies on, or nothing.
fn along(p: [f64; 2], segments: &barriers::SegmentTree) -> Separator {
    match barriers::kind_on_line(segments, p, |_| true) {
        Some(BarrierKind::Water) => Separator::Water,
        Some(BarrierKind::Rail) => Separator::Rail,
        Some(BarrierKind::Road) => Separator::Road,
        _ => Separator::Nothing,
    }
}

/// The table as the writers take it ([`crate::io::write::Table`]): inside
/// a GeoPackage or PostGIS, a CSV or Parquet file beside other formats.
pub fn as_table(rows: &[Neighbour]) -> crate::io::write::Table {
    use crate::io::geoparquet::Column;
    crate::io::write::Table {
        name: TABLE_NAME,
        columns: vec![
            Column::Text("nbhd_id", rows.iter().map(|r| r.nbhd_id.clone()).collect()),
            Column::Text(
                "neighbour_id",
                rows.iter().map(|r| r.neighbour_id.clone()).collect(),
            ),
            Column::Integer("level", rows.iter().map(|r| i64::from(r.level)).collect()),
            Column::Real("shared_m", rows.iter().map(|r| r.shared_m).collect()),
            Column::Text(
                "separated_by",
                rows.iter()
                    .map(|r| r.separated_by.as_str().to_string())
                    .collect(),
            ),
            Column::Real("hard_m", rows.iter().map(|r| r.hard_m).collect()),
        ],
    }
}

/// The table's name: a GeoPackage table, a PostGIS table `{table}_neighbours`,
/// a file `{stem}.neighbours.csv` (or `.parquet`) beside other formats.
pub const TABLE_NAME: &str = "neighbours";
