//! Shards: the units of one run split among N processes
//! (`generate --shard K/N`), and their part files put back together
//! (`dongne merge`).
//!
//! Units are independent by the method, so a shard computes its units
//! exactly as a single run would; what needs every unit (noding their
//! shared boundaries, numbering, the change report, writing) is done once,
//! by the merge, from the units' results. The merged layer is therefore
//! byte-identical to a single run's.
//!
//! Assignment is deterministic: units in Hilbert order of their centres
//! (neighbours together, so a shard reads one compact window), cut into N
//! runs of about equal weight (buildings + 1 per unit).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::geom::shape::{shapes_rect, Shape};
use crate::io::cache::{seal, unseal, KeyHasher, Unsealed};
use crate::io::reproject::WorkingCrs;
use crate::method::report::RunReport;
use crate::method::unit::UnitOut;

/// Shard `k` of `n` (1-based, as given: `--shard 2/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N.
    ///
    /// ```
    /// use dongne::method::shards::Shard;
    /// assert_eq!("2/8".parse::<Shard>(), Ok(Shard { k: 2, n: 8 }));
    /// assert!("0/8".parse::<Shard>().is_err());
    /// ```
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("'{s}': expected K/N with 1 ≤ K ≤ N, e.g. 1/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// The shard (1..=n) of each unit.
pub fn assign(units: &[Vec<Shape>], per_unit: &[Vec<usize>], n: usize) -> Vec<usize> {
    let centres: Vec<Option<(f64, f64)>> = units
        .iter()
        .map(|s| shapes_rect(s).map(|r| (r.center().x, r.center().y)))
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in centres.iter().flatten() {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let side = ((x1 - x0).max(y1 - y0)).max(1e-9);
    let mut order: Vec<(u64, usize)> = centres
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let d = c.map_or(0, |(x, y)| {
                let cell = |v: f64, lo: f64| (((v - lo) / side) * 65535.0).round() as u32;
                hilbert(cell(x, x0), cell(y, y0))
            });
            (d, i)
        })
        .collect();
    order.sort_unstable();
    let weight = |i: usize| per_unit[i].len() as u64 + 1;
    let total: u64 = (0..units.len()).map(weight).sum();
    let mut shard = vec![1; units.len()];
    let mut before = 0u64;
    for (_, i) in order {
        // The shard whose share of the total weight this unit starts in.
        shard[i] = 1 + ((before as u128 * n as u128) / total.max(1) as u128) as usize;
        before += weight(i);
    }
    shard
}

/// Index of a cell on the Hilbert curve of a 65,536 × 65,536 grid.
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    let mut d: u64 = 0;
    let mut s: u32 = 1 << 15;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = 0xFFFF - x;
                y = 0xFFFF - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

/// What opens every part file.
const MAGIC: &[u8] = b"dongne-part 1\n";

/// A shard's part file: its units' results and what the merge checks them
/// against.
#[derive(Serialize, Deserialize)]
pub struct Part {
    pub shard: (usize, usize),
    /// SHA-256 of the parameters, the working CRS and the unit list: every
    /// part of one merge must agree.
    pub run_key: String,
    pub crs: WorkingCrs,
    pub names: Vec<(String, String)>,
    pub report: RunReport,
    pub units: Vec<(usize, UnitOut)>,
}

impl Part {
    /// The part of `shard`: the units it computed (`None`: another
    /// shard's), the run's unit names and report.
    pub fn of(
        units: Vec<Option<UnitOut>>,
        names: Vec<(String, String)>,
        report: RunReport,
        shard: Shard,
        params_json: &str,
        crs: &WorkingCrs,
    ) -> Part {
        let units = units
            .into_iter()
            .enumerate()
            .filter_map(|(i, u)| u.map(|u| (i, u)))
            .collect();
        Part {
            shard: (shard.k, shard.n),
            run_key: run_key(params_json, crs, &names),
            crs: crs.clone(),
            names,
            report,
            units,
        }
    }

    /// The file's bytes: the body behind a checked header
    /// ([`crate::io::cache::seal`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body =
            bincode::serialize(self).map_err(|e| Error::internal(format!("part file: {e}")))?;
        Ok(seal(MAGIC, &body))
    }

    /// Reads a part file, checking its header, version and checksum.
    pub fn read(path: &std::path::Path) -> Result<Part> {
        let file = path.display().to_string();
        let bad = |why: &str| {
            Error::input(format!("not a complete dongne part file: {why}"))
                .file(file.clone())
                .hint("give dongne merge the files written by dongne generate --shard K/N; rerun the shard that wrote this one")
        };
        let bytes = std::fs::read(path)
            .map_err(|e| Error::input(format!("cannot read: {e}")).file(file.clone()))?;
        let body = match unseal(MAGIC, &bytes) {
            Ok(body) => body,
            Err(Unsealed::NotOurs) => return Err(bad("no part header")),
            Err(Unsealed::Damaged) => return Err(bad("checksum mismatch (cut short or damaged)")),
            Err(Unsealed::OtherVersion(v)) => {
                return Err(Error::input(format!(
                    "written by dongne {v}, this is dongne {}",
                    env!("CARGO_PKG_VERSION")
                ))
                .file(file)
                .hint("write every part and merge them with the same dongne version"))
            }
        };
        bincode::deserialize(body).map_err(|e| bad(&e.to_string()))
    }
}

/// The parts of one run put back together.
pub struct Merged {
    /// Every unit's result, in frame order.
    pub units: Vec<Option<UnitOut>>,
    pub names: Vec<(String, String)>,
    pub report: RunReport,
    pub crs: WorkingCrs,
}

/// Every part of one run, checked and put back together: all shards 1..=N
/// present once, all of the same run.
pub fn merge(parts: Vec<(String, Part)>) -> Result<Merged> {
    let Some((first_file, first)) = parts.first() else {
        return Err(Error::input("no part files given").hint("dongne merge PART... -o OUT"));
    };
    let n = first.shard.1;
    let mut seen = vec![None::<String>; n];
    for (file, p) in &parts {
        if p.run_key != first.run_key || p.shard.1 != n {
            return Err(Error::input(format!(
                "part {}/{} is of another run than {first_file} (other inputs, parameters or shard count)",
                p.shard.0, p.shard.1
            ))
            .file(file.clone())
            .hint("merge the parts of one run only"));
        }
        let slot = &mut seen[p.shard.0 - 1];
        if let Some(other) = slot {
            return Err(Error::input(format!(
                "shard {}/{n} given twice (also {other})",
                p.shard.0
            ))
            .file(file.clone()));
        }
        *slot = Some(file.clone());
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| seen[k - 1].is_none())
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(
            Error::input(format!("shards missing: {}", missing.join(", ")))
                .hint("run dongne generate --shard K/N for each, then merge all N part files"),
        );
    }
    let crs = first.crs.clone();
    let names = first.names.clone();
    let report = first.report.clone();
    let mut units: Vec<Option<UnitOut>> = (0..names.len()).map(|_| None).collect();
    for (_, p) in parts {
        for (i, u) in p.units {
            units[i] = Some(u);
        }
    }
    Ok(Merged {
        units,
        names,
        report,
        crs,
    })
}

fn run_key(params_json: &str, crs: &WorkingCrs, names: &[(String, String)]) -> String {
    let mut h = KeyHasher::default();
    h.str(params_json);
    h.str(&crs.wkt);
    for (code, name) in names {
        h.str(code);
        h.str(name);
    }
    h.finish().hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_visits_neighbours_in_turn() {
        // The first cells of the curve: (0,0), (0,1), (1,1), (1,0) in some
        // orientation: consecutive indices are grid neighbours.
        let mut cells: Vec<(u64, (u32, u32))> = (0..4u32)
            .flat_map(|x| (0..4u32).map(move |y| (hilbert(x << 14, y << 14), (x, y))))
            .collect();
        cells.sort_unstable();
        for w in cells.windows(2) {
            let (a, b) = (w[0].1, w[1].1);
            assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} → {b:?}");
        }
    }

    #[test]
    fn shards_are_balanced_by_buildings() {
        let unit = |x: f64| {
            vec![vec![vec![
                [x, 0.0],
                [x + 1.0, 0.0],
                [x + 1.0, 1.0],
                [x, 1.0],
            ]]]
        };
        let units: Vec<Vec<Shape>> = (0..8).map(|i| unit(i as f64 * 2.0)).collect();
        let per_unit: Vec<Vec<usize>> = vec![vec![0; 9]; 8];
        let s = assign(&units, &per_unit, 4);
        for k in 1..=4 {
            assert_eq!(s.iter().filter(|&&v| v == k).count(), 2, "{s:?}");
        }
    }
}
