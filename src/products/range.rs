//! How far "my neighborhood" reaches (Daangn's 동네 범위): the
//! neighborhoods within k steps of one, over the neighbour table, not
//! across a hard barrier unless asked.
//!
//! The table is the one `generate --neighbours` wrote: inside a GeoPackage
//! (table `neighbours`), or the file beside the layer
//! ([`crate::io::write::beside`]), or any CSV given. Steps are counted
//! within the start's own level.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use gdal::vector::LayerAccess;

use crate::error::{Error, Result};
use crate::io::config::LayerConfig;
use crate::io::{gdal_errors, read};
use crate::products::neighbours::TABLE_NAME;

/// One row of a neighbour table as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub level: u32,
    pub separated_by: String,
    pub hard_m: f64,
}

/// What a step may cross.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RangeOptions {
    /// Cross borders that run along a hard barrier too.
    pub across_hard: bool,
    /// Stay within the start's admin unit (do not cross `admin` borders).
    pub within_unit: bool,
}

/// The neighborhoods within `steps` steps of `start` (itself at 0), each
/// with its fewest steps, in order of steps, then id.
///
/// ```
/// use dongne::products::range::{within_steps, Edge, RangeOptions};
/// let e = |a: &str, b: &str, sep: &str, hard: f64| Edge {
///     from: a.into(), to: b.into(), level: 1, separated_by: sep.into(), hard_m: hard };
/// let table = vec![e("A", "B", "road", 0.0), e("B", "A", "road", 0.0),
///     e("B", "C", "water", 120.0), e("C", "B", "water", 120.0)];
/// let r = within_steps(&table, "A", 2, RangeOptions::default());
/// assert_eq!(r, vec![("A".to_string(), 0), ("B".to_string(), 1)]);
/// let r = within_steps(&table, "A", 2, RangeOptions { across_hard: true, ..Default::default() });
/// assert_eq!(r.len(), 3);
/// ```
pub fn within_steps(
    table: &[Edge],
    start: &str,
    steps: u32,
    opts: RangeOptions,
) -> Vec<(String, u32)> {
    let mut next: BTreeMap<&str, Vec<&Edge>> = BTreeMap::new();
    for e in table {
        next.entry(e.from.as_str()).or_default().push(e);
    }
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    seen.insert(start.to_string(), 0);
    let mut queue = VecDeque::from([(start.to_string(), 0u32)]);
    while let Some((id, k)) = queue.pop_front() {
        if k == steps {
            continue;
        }
        for e in next.get(id.as_str()).into_iter().flatten() {
            if (e.hard_m > 0.0 && !opts.across_hard)
                || (opts.within_unit && e.separated_by == "admin")
            {
                continue;
            }
            if !seen.contains_key(&e.to) {
                seen.insert(e.to.clone(), k + 1);
                queue.push_back((e.to.clone(), k + 1));
            }
        }
    }
    let mut out: Vec<(String, u32)> = seen.into_iter().collect();
    out.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    out
}

/// Where the neighbour table of a layer is: `given`, else inside a
/// GeoPackage, else the CSV beside the layer's file.
pub fn table_source(layer: &LayerConfig, given: Option<&Path>) -> Result<LayerConfig> {
    if let Some(p) = given {
        return Ok(LayerConfig {
            path: p.to_path_buf(),
            ..Default::default()
        });
    }
    let path = &layer.path;
    // Where `generate --neighbours` put it: inside a GeoPackage, else beside.
    let Some(beside) = crate::io::write::beside(path, TABLE_NAME)? else {
        return Ok(LayerConfig {
            path: path.clone(),
            layer: Some(TABLE_NAME.to_string()),
            ..Default::default()
        });
    };
    if !beside.exists() {
        return Err(Error::input(format!(
            "no neighbour table: {} does not exist",
            beside.display()
        ))
        .file(path.display().to_string())
        .hint(
            "write it with dongne generate --neighbours, or give it with --neighbours FILE.csv",
        ));
    }
    Ok(LayerConfig {
        path: beside,
        ..Default::default()
    })
}

/// Reads a neighbour table (a GeoPackage table or a CSV, through GDAL).
pub fn read_table(spec: &LayerConfig) -> Result<Vec<Edge>> {
    let mut opened = read::open_layer(spec).map_err(|e| {
        e.hint("write the table with dongne generate --neighbours, or give it with --neighbours FILE.csv")
    })?;
    let mut idx = Vec::new();
    for name in ["nbhd_id", "neighbour_id", "level", "separated_by"] {
        idx.push(opened.field_index(name, "neighbour table")?);
    }
    let hard_idx = opened.find_field(&["hard_m"]);
    gdal_errors::take_gdal_errors();
    let source = opened.source.clone();
    let mut out = Vec::new();
    for (position, f) in opened.layer.features().enumerate() {
        let fid = read::feature_id(&f, position);
        let text = |k: usize| f.field_as_string(k).ok().flatten().unwrap_or_default();
        let level_text = text(idx[2]);
        let level: u32 = level_text.trim().parse().map_err(|_| {
            source
                .error(format!("level '{level_text}' is not a whole number"))
                .feature(fid)
                .hint("give the table dongne generate --neighbours wrote")
        })?;
        let separated_by = text(idx[3]);
        let hard_m = match hard_idx {
            Some(k) => {
                let t = text(k);
                t.trim().parse::<f64>().map_err(|_| {
                    source
                        .error(format!("hard_m '{t}' is not a number"))
                        .feature(fid)
                        .hint("give the table dongne generate --neighbours wrote")
                })?
            }
            // A table written before hard_m: water and rail are hard.
            None if matches!(separated_by.as_str(), "water" | "rail") => 1.0,
            None => 0.0,
        };
        out.push(Edge {
            from: text(idx[0]),
            to: text(idx[1]),
            level,
            separated_by,
            hard_m,
        });
    }
    gdal_errors::check_read_errors(&source)?;
    Ok(out)
}
