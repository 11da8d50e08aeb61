//! Per-stage benches on fixed real input, so a regression shows as a number.
//!
//! ```text
//! cargo bench --bench stages                 # every stage, about a minute
//! cargo bench --bench stages -- tessellate   # one stage
//! ```
//!
//! Input: the Liechtenstein extract (`../shared/data/osm`, or
//! `$DONGNE_SHARED_DATA/osm`) read once with examples/liechtenstein.toml
//! (14,044 buildings, 11 municipalities, every barrier kind). The stage
//! benches work on one municipality, Schaan (LI-07: 2,300 buildings, Rhine,
//! railway, forests up the mountain), in its largest enclosure where a stage
//! works per enclosure; `pipeline/*` runs the whole method in memory on Schaan
//! and on the whole country. Reading and writing are measured end to end by
//! `benches/scale.sh` instead.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dongne::geom::contains::shape_contains;
use dongne::geom::coverage;
use dongne::geom::dissolve;
use dongne::geom::overlay;
use dongne::geom::shape::Shape;
use dongne::io::config::{Config, Params};
use dongne::method::barriers::BarrierIndex;
use dongne::method::clustering::{self, ClusterParams};
use dongne::method::enclosures::{self, Piece};
use dongne::method::pipeline;
use dongne::method::size_rules::{self, Border, Region, SizeParams};
use dongne::method::tessellation;
use dongne::model::{AdminUnit, Inputs};
use geo::{BoundingRect, Coord};

const UNIT: &str = "LI-07";

struct Fixture {
    inputs: Inputs,
    params: Params,
    /// Schaan alone, with every barrier.
    one_unit: Inputs,
    unit_shapes: Vec<Shape>,
    lines: Vec<Vec<[f64; 2]>>,
    pieces: Vec<Piece>,
    /// The largest enclosure and its buildings.
    enclosure: Shape,
    sites: Vec<Coord>,
    labels: Vec<usize>,
}

fn shared() -> PathBuf {
    std::env::var_os("DONGNE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

fn fixture() -> Fixture {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut cfg = Config::from_file(&repo.join("examples/liechtenstein.toml")).expect("config");
    cfg.osm = Some(shared().join("osm/liechtenstein.osm.pbf"));
    let loaded = dongne::io::inputs::load(&cfg).unwrap_or_else(|e| panic!("{e}"));
    let inputs = loaded.inputs;
    let params = cfg.params.clone();
    let k = inputs
        .admin
        .iter()
        .position(|u| u.code == UNIT)
        .unwrap_or_else(|| panic!("no admin unit {UNIT}"));
    let (frame, _) = pipeline::frame(&inputs.admin).expect("frame");
    let unit_shapes = frame[k].clone();
    let unit: &AdminUnit = &inputs.admin[k];
    let rect = overlay::grow(&unit.geom.bounding_rect().expect("rect"), 1.0);
    let index = BarrierIndex::new(&inputs.lines, &inputs.areas);
    let near = index.near(&rect);
    let (lines, areas) = (near.lines, near.areas);
    let pieces = enclosures::split(&unit_shapes, &lines, &areas).expect("split");
    let pts: Vec<Coord> = inputs
        .buildings
        .iter()
        .map(|b| overlay::snap(b.pt))
        .collect();
    // The enclosure with the most buildings.
    let (enclosure, sites) = pieces
        .iter()
        .filter(|p| p.barrier.is_none())
        .map(|p| {
            let inside: Vec<Coord> = pts
                .iter()
                .copied()
                .filter(|c| shape_contains(&p.shape, [c.x, c.y]))
                .collect();
            (p.shape.clone(), inside)
        })
        .max_by_key(|(_, s)| s.len())
        .expect("an enclosure");
    let labels = clustering::hot_spots(&sites, &cluster_params(&params));
    let one_unit = Inputs {
        admin: vec![unit.clone()],
        ..inputs.clone()
    };
    let lines_owned = lines;
    let areas_count = areas.len();
    eprintln!(
        "stages bench: {UNIT} ({}), {} barrier lines, {} areas, {} pieces; largest enclosure: \
         {} buildings in {} hot spots",
        unit.name,
        lines_owned.len(),
        areas_count,
        pieces.len(),
        sites.len(),
        labels.iter().max().map_or(0, |m| m + 1)
    );
    Fixture {
        inputs,
        params,
        one_unit,
        unit_shapes,
        lines: lines_owned,
        pieces,
        enclosure,
        sites,
        labels,
    }
}

fn cluster_params(p: &Params) -> ClusterParams {
    ClusterParams {
        eps: p.eps,
        min_buildings: p.min_buildings,
        walk_radius: p.walk_radius(),
    }
}

fn stages(c: &mut Criterion) {
    let f = fixture();
    let index = BarrierIndex::new(&f.inputs.lines, &f.inputs.areas);
    let unit = f
        .inputs
        .admin
        .iter()
        .find(|u| u.code == UNIT)
        .expect("unit");
    let rect = overlay::grow(&unit.geom.bounding_rect().expect("rect"), 1.0);
    let areas: Vec<_> = index
        .areas_in(&rect)
        .into_iter()
        .map(|i| &f.inputs.areas[i])
        .collect();

    let mut g = c.benchmark_group("stage");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("frame (11 units)", |b| {
        b.iter(|| pipeline::frame(&f.inputs.admin).unwrap())
    });
    g.bench_function("barrier index (all)", |b| {
        b.iter(|| BarrierIndex::new(&f.inputs.lines, &f.inputs.areas))
    });
    g.bench_function("enclosures::split", |b| {
        b.iter(|| enclosures::split(&f.unit_shapes, &f.lines, &areas).unwrap())
    });
    g.bench_function("clustering::hot_spots", |b| {
        let cp = cluster_params(&f.params);
        b.iter(|| clustering::hot_spots(&f.sites, &cp))
    });
    g.bench_function("tessellation::tessellate", |b| {
        b.iter(|| tessellation::tessellate(&f.enclosure, &f.sites, &f.labels).unwrap())
    });
    // The faces of one unit as the pipeline has them before the size rules:
    // the pieces, the largest enclosure replaced by its tessellation.
    let tess = tessellation::tessellate(&f.enclosure, &f.sites, &f.labels).unwrap();
    let mut faces: Vec<Shape> = f
        .pieces
        .iter()
        .filter(|p| p.shape != f.enclosure)
        .map(|p| p.shape.clone())
        .collect();
    faces.extend(tess.iter().map(|t| t.shape.clone()));
    g.bench_function("coverage::node", |b| {
        b.iter_batched(
            || faces.clone(),
            |mut fs| coverage::node(&mut fs, pipeline::node_tolerance()),
            BatchSize::LargeInput,
        )
    });
    let mut noded = faces.clone();
    coverage::node(&mut noded, pipeline::node_tolerance());
    g.bench_function("coverage::adjacency", |b| {
        b.iter(|| coverage::adjacency(&noded))
    });
    g.bench_function("coverage::dissolve (whole unit)", |b| {
        b.iter(|| dissolve::dissolve(noded.iter()))
    });
    // Size rules on the unit's face graph: every face a region, its
    // buildings counted, its borders from the adjacency.
    let adj = coverage::adjacency(&noded);
    let mut count = vec![0usize; noded.len()];
    for s in &f.sites {
        if let Some(i) = noded.iter().position(|sh| shape_contains(sh, [s.x, s.y])) {
            count[i] += 1;
        }
    }
    let regions: Vec<Region> = noded
        .iter()
        .zip(&count)
        .map(|(s, &n)| Region {
            buildings: n,
            area: overlay::shape_area(s),
            is_neighborhood: true,
        })
        .collect();
    let borders: Vec<Border> = adj
        .iter()
        .enumerate()
        .flat_map(|(i, nb)| {
            nb.iter()
                .filter(move |(j, _)| i < *j)
                .map(move |&(j, len)| Border {
                    a: i,
                    b: j,
                    length: len,
                    across_barrier: false,
                })
        })
        .collect();
    let sp = SizeParams {
        min_area: f.params.min_area,
        min_buildings: f.params.min_buildings,
    };
    g.bench_function("size_rules::merge_small", |b| {
        b.iter(|| size_rules::merge_small(&regions, &borders, sp))
    });
    g.finish();

    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("run (Schaan)", |b| {
        b.iter(|| pipeline::run(&f.one_unit, &f.params, false).unwrap())
    });
    g.bench_function("run (Liechtenstein, 11 units)", |b| {
        b.iter(|| pipeline::run(&f.inputs, &f.params, false).unwrap())
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
