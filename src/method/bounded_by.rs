//! What bounds each feature (the `bounded_by` field): the unit's edge, the
//! area barrier across, or the barrier line an edge between two enclosures
//! runs along.

use crate::geom::coverage;
use crate::method::barriers;
use crate::method::faces::FaceTable;
use crate::model::{BarrierKind, FeatureKind};

/// The barrier segments a unit sees: those of its lines (`line_ids`,
/// sorted), looked up in the run's one segment index.
pub(crate) struct UnitSegments<'a> {
    pub(crate) tree: &'a barriers::SegmentTree,
    pub(crate) line_ids: &'a [usize],
}

impl UnitSegments<'_> {
    /// The kind of the unit's barrier line that `p` lies on
    /// ([`barriers::kind_on_line`]). `None` off every line: an edge between
    /// two enclosures that follows no line is an area barrier's own
    /// outline, and a line hundreds of metres away does not bound it.
    ///
    /// One index for the run, skipping other units' lines, instead of an
    /// index of the unit's segments built per unit (a fifth of the run's
    /// time on the Korea frame).
    fn on_line(&self, p: [f64; 2]) -> Option<BarrierKind> {
        barriers::kind_on_line(self.tree, p, |line| {
            self.line_ids.binary_search(&line).is_ok()
        })
    }
}

/// What bounds a feature: `admin` where no other feature of the unit lies
/// across, the area-barrier kind across, or, where the neighbour lies in
/// another enclosure, the kind of the barrier line the edge runs along (for
/// an area barrier off every line, its own kind: the edge is its outline).
pub(crate) fn bounded_by(
    fis: &[usize],
    t: &FaceTable,
    idx: &coverage::EdgeIndex,
    segs: &UnitSegments,
) -> String {
    let FaceTable {
        faces,
        group: face_group,
        piece: face_piece,
        region: face_region,
        regions,
    } = *t;
    let me = face_group[fis[0]];
    let mut kinds: std::collections::BTreeSet<&'static str> = Default::default();
    for &fi in fis {
        coverage::for_each_edge(&faces[fi], |a, b| match idx.across(a, b) {
            None => {
                kinds.insert("admin");
            }
            Some(fj) if face_group[fj] == me => {}
            Some(fj) => {
                if let FeatureKind::Barrier(k) = regions[face_region[fj]].kind {
                    kinds.insert(k.as_str());
                } else if face_piece[fj] != face_piece[fi] {
                    let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
                    // Off every line, the edge is this area barrier's own
                    // outline (a forest's edge against a neighborhood).
                    let own = match regions[face_region[fi]].kind {
                        FeatureKind::Barrier(k) => Some(k),
                        FeatureKind::Neighborhood | FeatureKind::Hamlet => None,
                    };
                    if let Some(k) = segs.on_line(mid).or(own) {
                        kinds.insert(k.as_str());
                    }
                }
            }
        });
    }
    kinds.into_iter().collect::<Vec<_>>().join(",")
}
