//! Parallel reprojection of a stage, points on surface of footprints, and
//! the repair of invalid polygons.

use gdal::spatial_ref::SpatialRef;
use geo::{BooleanOps, MakeValid};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use crate::error::Result;
use crate::io::reproject::{Coords, SrsDefinition, Transformer, WorkingCrs};
use crate::model::Source;

use super::*;

impl<'a> ParTransform<'a> {
    pub(super) fn new(
        srs: &SpatialRef,
        crs: &'a WorkingCrs,
        source: &'a Source,
    ) -> Result<ParTransform<'a>> {
        let one = Transformer::to_working(srs, crs)?.with_source(source.clone());
        Ok(ParTransform {
            one,
            definition: SrsDefinition::of(srs),
            crs,
            source,
        })
    }

    pub(super) fn run<T: Coords + Send>(
        &self,
        items: &mut [T],
        fid_of: impl Fn(&T) -> Option<i64> + Sync,
    ) -> Result<()> {
        const MIN_CHUNK: usize = 1 << 16;
        let threads = rayon::current_num_threads();
        let chunk = items.len().div_ceil(4 * threads).max(MIN_CHUNK);
        let Some(def) = self
            .definition
            .as_ref()
            .filter(|_| threads > 1 && items.len() > chunk)
        else {
            return self.one.transform_all(items, fid_of);
        };
        let results: Vec<Result<()>> = items
            .par_chunks_mut(chunk)
            .map(|part| {
                let srs = def.rebuild()?;
                Transformer::to_working(&srs, self.crs)?
                    .with_source(self.source.clone())
                    .transform_all(part, &fid_of)
            })
            .collect();
        results.into_iter().collect()
    }
}

/// A point inside a (multi)polygon, the GEOS way: a horizontal line through
/// the middle of a polygon's height, moved off every vertex, crosses its
/// rings; between crossings 2k and 2k+1 it is inside, and the middle of the
/// widest such interval (over all parts) is the point. Linear in the number
/// of vertices; geo's `InteriorPoint` runs a full `relate` per polygon, which
/// dominated the reading of a million footprints. A polygon without area
/// gives its first vertex; `None` only without any vertex.
pub(super) fn point_on_surface(polygons: &[Polygon<f64>], xs: &mut Vec<f64>) -> Option<Coord<f64>> {
    let mut best: Option<(f64, Coord<f64>)> = None;
    for p in polygons {
        if let Some((width, c)) = widest_scan_interval(p, xs) {
            let wider = match best {
                Some((w, _)) => width > w,
                None => true,
            };
            if wider {
                best = Some((width, c));
            }
        }
    }
    best.map(|(_, c)| c).or_else(|| {
        polygons
            .iter()
            .find_map(|p| p.exterior().0.first().copied())
    })
}

pub(super) fn widest_scan_interval(
    p: &Polygon<f64>,
    xs: &mut Vec<f64>,
) -> Option<(f64, Coord<f64>)> {
    let ext = &p.exterior().0;
    let (lo, hi) = ext
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
            (lo.min(c.y), hi.max(c.y))
        });
    if hi <= lo {
        return None;
    }
    // Halfway between the nearest vertex heights around the centre: no
    // vertex lies on the scan line, so every crossing is a proper one.
    let centre = (lo + hi) / 2.0;
    let (mut below, mut above) = (lo, hi);
    p.visit(&mut |c: Coord<f64>| {
        if c.y <= centre && c.y > below {
            below = c.y;
        }
        if c.y > centre && c.y < above {
            above = c.y;
        }
    });
    let y = (below + above) / 2.0;
    xs.clear();
    for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
        for w in ring.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.y > y) != (b.y > y) {
                xs.push(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
            }
        }
    }
    xs.sort_by(f64::total_cmp);
    xs.chunks_exact(2)
        .map(|pair| {
            (
                pair[1] - pair[0],
                Coord {
                    x: (pair[0] + pair[1]) / 2.0,
                    y,
                },
            )
        })
        .filter(|(width, _)| *width > 0.0)
        .fold(None, |best: Option<(f64, Coord<f64>)>, cand| match best {
            Some(b) if b.0 >= cand.0 => Some(b),
            _ => Some(cand),
        })
}

pub(super) fn plural_of(expected: &str) -> String {
    match expected {
        "a line" => "lines".into(),
        "a polygon" => "polygons".into(),
        "a polygon or a line" => "polygons or lines".into(),
        _ => "points or polygons".into(),
    }
}

/// Items in FID order; ties keep their read order, so the order never
/// depends on anything but the file.
pub(super) fn by_fid<T>(mut v: Vec<Tagged<T>>, fid: impl Fn(&T) -> i64) -> impl Iterator<Item = T> {
    v.sort_by_key(|t| (fid(&t.item), t.ord));
    v.into_iter().map(|t| t.item)
}

/// Repairs polygons the GEOS "structure" way: each ring alone is made valid
/// (even-odd), shells are unioned and holes subtracted. Unlike even-odd on all
/// rings together, two overlapping parts of a multipolygon stay filled.
pub(super) fn repair(polygons: &[Polygon<f64>]) -> std::result::Result<MultiPolygon<f64>, String> {
    let ring_area = |ring: &LineString<f64>| -> std::result::Result<MultiPolygon<f64>, String> {
        Polygon::new(ring.clone(), vec![])
            .make_valid()
            .map_err(|e| e.to_string())
    };
    let mut shells = MultiPolygon::<f64>(vec![]);
    let mut holes = MultiPolygon::<f64>(vec![]);
    for p in polygons {
        shells = shells.union(&ring_area(p.exterior())?);
        for h in p.interiors() {
            holes = holes.union(&ring_area(h)?);
        }
    }
    let fixed = if holes.0.is_empty() {
        shells
    } else {
        shells.difference(&holes)
    };
    Ok(fixed)
}
