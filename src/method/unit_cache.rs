//! Unit results kept between runs (`generate --cache DIR`).
//!
//! A unit's result is a function of the unit's own inputs (the method's
//! units are independent): its framed polygon, code and name, its
//! buildings (point, footprint, land-use class, fid), the barrier lines and
//! areas in its window, the name sources within reach, the parameters and
//! dongne's version. Their SHA-256
//! is the key ([`crate::io::cache`]); a unit whose key is found is not
//! computed again. The noding between units, the ids and the writing run
//! on every run, so the output is byte-identical with or without the cache.

use crate::error::Result;
use crate::geom::overlay;
use crate::geom::shape::{shapes_rect, Shape};
use crate::io::cache::{Cache, KeyHasher};
use crate::io::reproject::Coords;
use crate::method::barriers;
use crate::method::unit::{UnitCtx, UnitOut};
use crate::model::AdminUnit;

/// The unit's result from the cache, or computed by `run` and stored.
pub(crate) fn cached(
    cache: &Cache,
    unit: &AdminUnit,
    shapes: &[Shape],
    bids: &[usize],
    ctx: &UnitCtx,
    run: impl FnOnce() -> Result<UnitOut>,
) -> Result<UnitOut> {
    let key = unit_key(unit, shapes, bids, ctx);
    if let Some(bytes) = cache.get(&key) {
        if let Ok(out) = bincode::deserialize::<UnitOut>(&bytes) {
            return Ok(out);
        }
    }
    let out = run()?;
    let bytes = bincode::serialize(&out)
        .map_err(|e| crate::error::Error::internal(format!("cache entry: {e}")))?;
    cache.put(&key, &bytes)?;
    Ok(out)
}

/// Everything the unit's run reads, in a fixed order.
fn unit_key(
    unit: &AdminUnit,
    shapes: &[Shape],
    bids: &[usize],
    ctx: &UnitCtx,
) -> crate::io::cache::Key {
    let mut h = KeyHasher::default();
    h.str(&serde_json::to_string(ctx.params).unwrap_or_default());
    h.str(&unit.code);
    h.str(&unit.name);
    feed_shapes(&mut h, shapes);
    h.u64(bids.len() as u64);
    for &b in bids {
        let p = ctx.pts[b];
        h.f64(p.x);
        h.f64(p.y);
        let building = &ctx.buildings[b];
        h.u64(building.outline.len() as u64);
        for c in &building.outline {
            h.f64(c.x);
            h.f64(c.y);
        }
        h.u64(ctx.landuse[b] as u64);
    }
    // The barrier window, as the unit's run takes it.
    if let Some(rect) = shapes_rect(shapes) {
        let rect = overlay::grow(&rect, 1.0);
        let lines = ctx.index.lines_in(&rect);
        h.u64(lines.len() as u64);
        for i in lines {
            let l = &ctx.index.lines[i];
            h.str(l.kind.as_str());
            h.str(&l.class);
            h.f64(l.width_m);
            h.u64(u64::from(l.covered));
            for c in barriers::polyline(l) {
                h.f64(c[0]);
                h.f64(c[1]);
            }
        }
        let areas = ctx.index.areas_in(&rect);
        h.u64(areas.len() as u64);
        for i in areas {
            let a = &ctx.index.areas[i];
            h.str(a.kind.as_str());
            for ring in barriers::outlines(a) {
                h.u64(ring.len() as u64);
                for c in ring {
                    h.f64(c[0]);
                    h.f64(c[1]);
                }
            }
        }
    }
    // The name sources within reach, as the unit's naming takes them.
    if let Some(rect) = shapes_rect(shapes) {
        let names = ctx.names.near(&rect);
        h.u64(names.len() as u64);
        for n in names {
            h.str(&n.name);
            h.str(n.name_en.as_deref().unwrap_or(""));
            h.str(&n.source);
            h.u64(n.tier as u64);
            h.u64(u64::from(n.rank));
            let mut k = 0u64;
            n.geom.visit(&mut |c| {
                h.f64(c.x);
                h.f64(c.y);
                k += 1;
            });
            h.u64(k);
        }
    }
    h.finish()
}

fn feed_shapes(h: &mut KeyHasher, shapes: &[Shape]) {
    h.u64(shapes.len() as u64);
    for s in shapes {
        h.u64(s.len() as u64);
        for ring in s {
            h.u64(ring.len() as u64);
            for c in ring {
                h.f64(c[0]);
                h.f64(c[1]);
            }
        }
    }
}
