//! The method's invariants at scale (issue #4): the tiled set of 100,000
//! buildings (88 municipalities, 7,500 enclosures), checked feature by
//! feature as tests/it/real_data.rs checks the real sets, and the same output
//! on one thread and on all. Ignored by default (the set is generated, not
//! committed):
//!
//! ```text
//! cargo run --release --example gen_scale -- --kind tiled --size 100k --out target/scale/tiled-100k
//! cargo test --release --test scale -- --ignored
//! DONGNE_SCALE_CONFIG=target/scale/korea-1m/dongne.toml cargo test --release --test scale -- --ignored
//! ```

use std::path::PathBuf;
use std::time::Instant;

use dongne::io::config::Config;
use dongne::method::pipeline;
use dongne::products::invariants::{self, Violation};
use geo::Coord;

fn config_path() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("DONGNE_SCALE_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target/scale/tiled-100k/dongne.toml"))
}

#[test]
#[ignore = "needs a generated scale set; see benches/README.md"]
fn scale_set_keeps_every_invariant_and_is_thread_independent() {
    let path = config_path();
    assert!(
        path.exists(),
        "{} not found: cargo run --release --example gen_scale -- --kind tiled --size 100k \
         --out target/scale/tiled-100k (or set DONGNE_SCALE_CONFIG)",
        path.display()
    );
    let cfg = Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let inputs = &loaded.inputs;
    eprintln!(
        "read {} buildings, {} admin units in {:.1} s",
        inputs.buildings.len(),
        inputs.admin.len(),
        t.elapsed().as_secs_f64()
    );

    // Invariant 7 at scale: one thread and every thread give the same output.
    let run_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let t = Instant::now();
        let out = pool
            .install(|| pipeline::run(inputs, &cfg.params, false))
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "pipeline on {threads} thread(s): {:.1} s",
            t.elapsed().as_secs_f64()
        );
        out
    };
    let out = run_on(rayon::current_num_threads().max(2));
    let one = run_on(1);
    assert_eq!(out.features.len(), one.features.len());
    let differ = out
        .features
        .iter()
        .zip(&one.features)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differ, 0, "{differ} features differ between thread counts");

    // Invariants 1-6 and 8.
    let t = Instant::now();
    let units = crate::common::units(&inputs.admin);
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| dongne::geom::overlay::snap(b.pt))
        .collect();
    let rep = &out.report;
    let p = &cfg.params;
    let mut bad: Vec<Violation> = invariants::check_all(
        &out.features,
        &units,
        &pts,
        rep.buildings - rep.buildings_outside_admin,
        p.min_area,
        p.min_buildings,
    );
    bad.extend(invariants::no_barrier_inside(
        &out.features,
        &units,
        inputs,
        p.min_area,
        p.min_buildings,
    ));
    eprintln!(
        "{} features checked in {:.1} s",
        out.features.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(
        bad.is_empty(),
        "{} violations, first: {:#?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(rep.neighborhoods > 0);
}
