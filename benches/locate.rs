//! Lookup rate of `dongne locate`: points per second on one core, after the
//! layer is loaded and the index built.
//!
//! ```text
//! cargo bench --bench locate                       # Liechtenstein, generated first
//! DONGNE_BENCH_LAYER=out/jamsil.gpkg cargo bench --bench locate
//! DONGNE_BENCH_POINTS=20000000 cargo bench --bench locate
//! ```
//!
//! Without `DONGNE_BENCH_LAYER`, the bench runs `examples/liechtenstein.toml`
//! (843 features: 543 neighborhoods, 300 forests, rivers, parks, some with
//! thousands of vertices) into a temporary GeoPackage. Points are uniform in
//! the layer's extent (a fixed seed), so about half fall in the forests and
//! mountains and some outside the country: the mix a real batch of addresses
//! would not have, but the hardest for the index (large, jagged polygons).
//! A plain bench (no criterion): one number is what matters, and it is
//! printed with what it was measured on.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use dongne::geom::shape::union_rect;
use dongne::io::config::{Config, LayerConfig};
use dongne::products::locate::{self, Index};
use geo::BoundingRect;

/// The goal of issue #5: one million points a second on one core.
const GOAL: f64 = 1.0e6;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temporary folder");
    let path = match std::env::var_os("DONGNE_BENCH_LAYER") {
        Some(p) => PathBuf::from(p),
        None => {
            let cfg = Config::from_file(&repo.join("examples/liechtenstein.toml"))
                .unwrap_or_else(|e| panic!("{e}"));
            let t = Instant::now();
            let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
            let out = dongne::method::pipeline::run(&loaded.inputs, &cfg.params, false)
                .unwrap_or_else(|e| panic!("{e}"));
            let p = tmp.path().join("liechtenstein.gpkg");
            dongne::io::write::write(&p, &out.features, &loaded.crs, None)
                .unwrap_or_else(|e| panic!("{e}"));
            eprintln!(
                "generated {} in {:.1} s",
                p.display(),
                t.elapsed().as_secs_f64()
            );
            p
        }
    };
    let n: usize = std::env::var("DONGNE_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);

    let t = Instant::now();
    let layer = locate::read_neighborhoods(&LayerConfig {
        path: path.clone(),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = Index::new(&layer.geoms);
    let build_s = t.elapsed().as_secs_f64();
    let vertices: usize = layer.geoms.iter().map(geo::CoordsIter::coords_count).sum();

    let ext = union_rect(layer.geoms.iter().map(|g| g.bounding_rect())).expect("extent");
    // A fixed-seed generator (PCG-style LCG): the same points on every run.
    let mut s: u64 = 0x5eed_d09e;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let pts: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            (
                ext.min().x + next() * ext.width(),
                ext.min().y + next() * ext.height(),
            )
        })
        .collect();

    // Warm up, then the timed pass (this thread only: one core).
    let mut inside = 0usize;
    for &(x, y) in pts.iter().take(100_000) {
        inside += black_box(index.locate(x, y)).is_some() as usize;
    }
    black_box(inside);
    let t = Instant::now();
    let mut inside = 0usize;
    let mut on_edge = 0usize;
    for &(x, y) in &pts {
        if let Some(f) = black_box(index.locate(black_box(x), black_box(y))) {
            inside += 1;
            on_edge += f.on_edge as usize;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let rate = n as f64 / secs;

    println!("layer      {} ({})", path.display(), layer.crs_label);
    println!(
        "features   {} ({} vertices); read {:.3} s, index built in {:.3} s",
        layer.info.len(),
        vertices,
        read_s,
        build_s
    );
    println!(
        "points     {n} uniform in the extent: {inside} in a feature ({on_edge} on an edge), {} outside",
        n - inside
    );
    println!(
        "lookup     {secs:.3} s on one core: {:.2} M points/s ({:.0} ns/point); goal {:.1} M/s: {}",
        rate / 1e6,
        1e9 / rate,
        GOAL / 1e6,
        if rate >= GOAL { "met" } else { "NOT met" }
    );
}
