//! The colours a neighborhood layer is drawn in, shared by the layer style
//! written into a GeoPackage ([`crate::io::style`]) and the preview picture
//! ([`crate::products::preview`]): neighbours never share a fill.

use geo::MultiPolygon;
use rayon::slice::ParallelSliceMut;

/// Neighborhood fills: soft, distinct, and away from the blues and greens
/// of water, parks and forest.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (246, 200, 159),
    (244, 166, 166),
    (205, 180, 232),
    (247, 224, 139),
    (169, 216, 208),
    (235, 185, 216),
    (220, 201, 166),
    (195, 205, 234),
    (249, 183, 122),
    (217, 231, 176),
];

/// `#rrggbb`, as QML and SVG write a colour.
pub fn hex(c: (u8, u8, u8)) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// The feature kinds with their legend labels, in legend order: the QGIS
/// style's categories and the preview's legend.
pub const KINDS: [(&str, &str); 6] = [
    ("neighborhood", "neighborhood"),
    ("hamlet", "hamlet"),
    ("water", "water"),
    ("park", "park"),
    ("mountain", "mountain / forest"),
    ("open", "open ground"),
];

/// Fill of a feature kind other than `neighborhood`.
pub fn kind_colour(kind: &str) -> (u8, u8, u8) {
    match kind {
        "hamlet" => (226, 170, 110),
        "water" => (127, 179, 224),
        "park" => (150, 205, 130),
        "mountain" => (88, 135, 92),
        "open" => (236, 228, 204),
        _ => (200, 200, 200),
    }
}

/// A colour class per feature (an index into [`PALETTE`]) such that
/// features sharing a vertex differ: greedy, in the given order, smallest
/// free class first. Only `is_coloured` features take part (barrier
/// features have colours of their own). More than 10 classes are only
/// needed around a vertex shared by 10 features; then the class least used
/// among the neighbours is reused.
pub fn colour_classes(geoms: &[&MultiPolygon<f64>], is_coloured: &[bool]) -> Vec<usize> {
    // (vertex, feature) pairs, sorted: a feature meets another once per
    // vertex they share (the count weighs the fallback when all ten classes
    // are taken). A sort, not a hash map: a national layer has millions of
    // vertices, and this runs for every GeoPackage written.
    let mut at: Vec<(u64, u64, u32)> = Vec::new();
    for (i, g) in geoms.iter().enumerate() {
        if !is_coloured[i] {
            continue;
        }
        for p in &g.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                at.extend(
                    r.0.iter()
                        .map(|c| ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits(), i as u32)),
                );
            }
        }
    }
    at.par_sort_unstable();
    at.dedup();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); geoms.len()];
    for fs in at.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        for a in fs {
            for b in fs {
                if a.2 != b.2 {
                    adj[a.2 as usize].push(b.2 as usize);
                }
            }
        }
    }
    let mut class = vec![usize::MAX; geoms.len()];
    for i in 0..geoms.len() {
        if !is_coloured[i] {
            continue;
        }
        let mut used = [0usize; PALETTE.len()];
        for &j in &adj[i] {
            if class[j] != usize::MAX {
                used[class[j]] += 1;
            }
        }
        class[i] = used.iter().position(|&u| u == 0).unwrap_or_else(|| {
            (0..PALETTE.len())
                .min_by_key(|&k| (used[k], k))
                .unwrap_or(0)
        });
    }
    class
        .iter()
        .map(|&c| if c == usize::MAX { 0 } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    fn sq(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0)
        ]])
    }

    #[test]
    fn neighbours_never_share_a_colour() {
        // A 4×4 chessboard of unit squares: corner neighbours count too.
        let geoms: Vec<_> = (0..16)
            .map(|i| sq((i % 4) as f64, (i / 4) as f64))
            .collect();
        let refs: Vec<_> = geoms.iter().collect();
        let c = colour_classes(&refs, &[true; 16]);
        for i in 0..16usize {
            for j in 0..16usize {
                let (dx, dy) = ((i % 4).abs_diff(j % 4), (i / 4).abs_diff(j / 4));
                if i != j && dx <= 1 && dy <= 1 {
                    assert_ne!(c[i], c[j], "{i} and {j}");
                }
            }
        }
        assert_eq!(c[..4], [0, 1, 0, 1]);
    }
}
