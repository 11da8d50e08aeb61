//! The change report: what happened to each feature between two runs, and
//! how its split and merge entries are ranked and built.

use super::*;

/// What happened to a feature between the two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Split,
    Merged,
    Reshaped,
    Added,
    Removed,
    Renamed,
}

/// One entry of the change report (see the module docs for each kind).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// `neighborhood`, or the barrier kind of a barrier feature.
    pub feature_kind: String,
    pub admin_code: String,
    pub previous: Vec<String>,
    pub current: Vec<String>,
    pub overlap: Vec<f64>,
    /// `renamed` entries only: written beside the ids, not nested, so the
    /// other kinds' JSON is unchanged.
    #[serde(flatten)]
    pub names: Option<Rename>,
}

/// Yesterday's and today's name of a `renamed` feature (`null`: unnamed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    pub previous_name: Option<String>,
    pub current_name: Option<String>,
}

/// Counts: `kept` features kept their id and (nearly) their shape; the
/// others count entries of the report. `ids_carried` + `ids_new` =
/// `current_features`. A rename is about the name alone: a `renamed`
/// feature is also `kept`, `reshaped`, or in a split or merge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeSummary {
    pub previous_features: usize,
    pub current_features: usize,
    pub kept: usize,
    pub reshaped: usize,
    pub split: usize,
    pub merged: usize,
    pub added: usize,
    pub removed: usize,
    pub renamed: usize,
    pub ids_carried: usize,
    pub ids_new: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    pub majority: f64,
    pub reshaped_iou: f64,
    pub reshaped_min_m2: f64,
}

/// What `--changes` writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeReport {
    /// The previous run's file, as given.
    pub previous: String,
    pub thresholds: Thresholds,
    pub summary: ChangeSummary,
    /// Sorted by kind (split, merged, reshaped, added, removed, renamed),
    /// then by the first id of the entry.
    pub changes: Vec<Change>,
}

impl ChangeReport {
    /// `ids against y.gpkg: 540 kept, 2 reshaped, 1 split, 0 merged, 3 added, 1 removed, 4 renamed`
    pub fn one_line(&self) -> String {
        let s = &self.summary;
        format!(
            "ids against {}: {} kept, {} reshaped, {} split, {} merged, {} added, {} removed, {} renamed",
            self.previous, s.kept, s.reshaped, s.split, s.merged, s.added, s.removed, s.renamed
        )
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| Error::internal(format!("change report: {e}")))
    }
}

pub(super) fn ratio(x: f64) -> f64 {
    let f = 10f64.powi(RATIO_DECIMALS);
    let r = (x * f).round() / f;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// A change of the report about `item` (the feature it is filed under).
pub(super) fn change_of(
    kind: ChangeKind,
    item: &Item,
    previous: Vec<String>,
    current: Vec<String>,
    overlap: Vec<f64>,
) -> Change {
    Change {
        kind,
        feature_kind: item.kind.clone(),
        admin_code: item.admin_code.clone(),
        previous,
        current,
        overlap,
        names: None,
    }
}

/// A `renamed` entry for each today's feature that kept an id of
/// `previous` under another name; none when yesterday's layer has no
/// `name` field (written before features had names).
pub(super) fn renames(
    current: &[Neighborhood],
    cur: &[Item],
    previous: &Previous,
    carried: &[Option<usize>],
) -> Vec<Change> {
    if !previous.has_names {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, c) in current.iter().enumerate() {
        let Some(j) = carried[i] else {
            continue;
        };
        let before = previous.features[j].name.clone();
        let now = c.name.as_ref().and_then(|n| non_empty(&n.name));
        if before != now {
            let mut change = change_of(
                ChangeKind::Renamed,
                &cur[i],
                vec![previous.features[j].id.clone()],
                vec![c.id.clone()],
                vec![],
            );
            change.names = Some(Rename {
                previous_name: before,
                current_name: now,
            });
            out.push(change);
        }
    }
    out
}

/// A name as compared: a Shapefile reads an unset text field back as
/// empty, so empty and unset are the same.
pub(super) fn non_empty(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_string())
}

/// Splits (one previous feature, several current pieces) or merges (the
/// reverse), seen from the side of the one: for each with two members or
/// more, its members ranked. Both sides are marked as listed in the report.
pub(super) fn fans(
    members: &[Vec<usize>],
    keeper: &[Option<usize>],
    area: impl Fn(usize, usize) -> f64,
    one_listed: &mut [bool],
    member_listed: &mut [bool],
) -> Vec<(usize, Vec<(usize, f64)>)> {
    let mut out = Vec::new();
    for (k, m) in members.iter().enumerate() {
        if m.len() < 2 {
            continue;
        }
        let order = ranked(m, keeper[k], |x| area(k, x));
        one_listed[k] = true;
        for &(x, _) in &order {
            member_listed[x] = true;
        }
        out.push((k, order));
    }
    out
}

/// The ids of ranked members and their shares of `area`, as the report
/// lists them.
pub(super) fn members_of(
    order: &[(usize, f64)],
    id: impl Fn(usize) -> String,
    area: f64,
) -> (Vec<String>, Vec<f64>) {
    order.iter().map(|&(m, a)| (id(m), ratio(a / area))).unzip()
}

/// The members of a split or merge with their shared area, in the order the
/// change report lists them: the one that keeps the id first, then by share
/// (largest first), then by position.
pub(super) fn ranked(
    members: &[usize],
    keeper: Option<usize>,
    area: impl Fn(usize) -> f64,
) -> Vec<(usize, f64)> {
    let mut order: Vec<(usize, f64)> = members.iter().map(|&m| (m, area(m))).collect();
    order.sort_by(|x, y| {
        let kx = keeper == Some(x.0);
        let ky = keeper == Some(y.0);
        ky.cmp(&kx).then(y.1.total_cmp(&x.1)).then(x.0.cmp(&y.0))
    });
    order
}
