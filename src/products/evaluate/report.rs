//! The evaluation as a table for people and as CSV.

use super::*;

/// The side-by-side table for people.
pub fn table(e: &Evaluation) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} buildings, {} hot spots, {:.1} km of separating barrier; walk radius {:.0} m; H3 resolution {} ({:.0} m² a cell here); {}",
        e.buildings,
        e.hot_spots,
        e.separating_barrier_m / 1000.0,
        e.walk_radius_m,
        e.h3_resolution,
        e.h3_cell_area_m2,
        e.working_crs
    );
    let _ = write!(s, "{:<34}", "");
    for p in &e.partitions {
        let _ = write!(s, "{:>12}", p.name);
    }
    s.push('\n');
    let pct = |v: f64| format!("{:.1}%", 100.0 * v);
    type Cell = Box<dyn Fn(&PartitionStats) -> String>;
    let rows: [(&str, Cell); 10] = [
        ("units", Box::new(|p| p.units.to_string())),
        (
            "units with buildings",
            Box::new(|p| p.units_with_buildings.to_string()),
        ),
        (
            "median area (m²)",
            Box::new(|p| format!("{:.0}", p.median_area_m2)),
        ),
        (
            "p90 area (m²)",
            Box::new(|p| format!("{:.0}", p.p90_area_m2)),
        ),
        (
            "mean compactness (4πA/P²)",
            Box::new(|p| format!("{:.3}", p.mean_compactness)),
        ),
        (
            "barrier length inside a unit",
            Box::new(move |p| pct(p.barrier_inside_share)),
        ),
        (
            "hot spots split across units",
            Box::new(move |p| format!("{} ({})", p.hot_spots_split, pct(p.hot_spots_split_share))),
        ),
        (
            "buildings beyond the walk",
            Box::new(move |p| pct(p.buildings_far_share)),
        ),
        (
            "units in more than one piece",
            Box::new(|p| p.units_in_pieces.to_string()),
        ),
        ("footprints cut", Box::new(|p| p.footprints_cut.to_string())),
    ];
    for (label, f) in rows.iter() {
        let _ = write!(s, "{:<34}", label);
        for p in &e.partitions {
            let _ = write!(s, "{:>12}", f(p));
        }
        s.push('\n');
    }
    if let Some(n) = &e.naming {
        let _ = writeln!(s, "{}", naming_line(n));
    }
    s
}

/// One CSV row per partition: its figures, then the run's. The naming
/// shares are dongne's: empty on the other rows, and on every row when
/// the layer has no `name_source` field.
pub fn csv(e: &Evaluation) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    // In memory: writing cannot fail.
    let _ = w.write_record([
        "partition",
        "units",
        "units_with_buildings",
        "median_area_m2",
        "p90_area_m2",
        "mean_compactness",
        "barrier_inside_m",
        "barrier_inside_share",
        "hot_spots_split",
        "hot_spots_split_share",
        "buildings_far",
        "buildings_far_share",
        "units_in_pieces",
        "footprints_cut",
        "separating_barrier_m",
        "hot_spots",
        "buildings",
        "named_from_source_share",
        "named_fallback_share",
    ]);
    for p in &e.partitions {
        let naming = e.naming.as_ref().filter(|_| p.name == "dongne");
        let share =
            |f: fn(&Naming) -> f64| naming.map_or(String::new(), |n| format!("{:.6}", f(n)));
        let _ = w.write_record([
            p.name.clone(),
            p.units.to_string(),
            p.units_with_buildings.to_string(),
            format!("{:.1}", p.median_area_m2),
            format!("{:.1}", p.p90_area_m2),
            format!("{:.4}", p.mean_compactness),
            format!("{:.1}", p.barrier_inside_m),
            format!("{:.6}", p.barrier_inside_share),
            p.hot_spots_split.to_string(),
            format!("{:.6}", p.hot_spots_split_share),
            p.buildings_far.to_string(),
            format!("{:.6}", p.buildings_far_share),
            p.units_in_pieces.to_string(),
            p.footprints_cut.to_string(),
            format!("{:.1}", e.separating_barrier_m),
            e.hot_spots.to_string(),
            e.buildings.to_string(),
            share(|n| n.from_source_share),
            share(|n| n.fallback_share),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
