//! Where the names of a layer came from: how many neighborhoods and hamlets
//! carry a name people use (a place node, a land-use or building name, the
//! user's names layer) and how many only the made-up `fallback`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::products::locate::NeighborhoodLayer;

/// The `name_source` of a name made up where no source named the feature.
pub const FALLBACK: &str = "fallback";

/// The names of a layer's neighborhoods and hamlets, by source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Naming {
    /// Neighborhoods and hamlets.
    pub features: usize,
    /// Named from a real source.
    pub from_source: usize,
    pub from_source_share: f64,
    pub fallback: usize,
    pub fallback_share: f64,
    /// Without a name or without a source (a layer edited by hand).
    pub unnamed: usize,
    /// The real sources and how many names each gave.
    pub by_source: BTreeMap<String, usize>,
}

/// The naming figures of `layer`; `None` when it has no `name_source` field
/// (written before features had names), as its names then say nothing.
pub fn naming(layer: &NeighborhoodLayer) -> Option<Naming> {
    if !layer.has_name_source {
        return None;
    }
    let mut n = Naming {
        features: 0,
        from_source: 0,
        from_source_share: 0.0,
        fallback: 0,
        fallback_share: 0.0,
        unnamed: 0,
        by_source: BTreeMap::new(),
    };
    for i in &layer.info {
        if i.kind != "neighborhood" && i.kind != "hamlet" {
            continue;
        }
        n.features += 1;
        match i.name_source.as_str() {
            _ if i.name.is_empty() => n.unnamed += 1,
            "" => n.unnamed += 1,
            FALLBACK => n.fallback += 1,
            source => {
                n.from_source += 1;
                *n.by_source.entry(source.to_string()).or_default() += 1;
            }
        }
    }
    let share = |k: usize| {
        if n.features == 0 {
            0.0
        } else {
            k as f64 / n.features as f64
        }
    };
    n.from_source_share = share(n.from_source);
    n.fallback_share = share(n.fallback);
    Some(n)
}

/// `names: 18 of 22 from a source (81.8%: place=quarter 15, building 3), 3
/// by fallback (13.6%), 1 unnamed`
pub fn naming_line(n: &Naming) -> String {
    let sources: Vec<String> = n
        .by_source
        .iter()
        .map(|(s, k)| format!("{s} {k}"))
        .collect();
    let listed = if sources.is_empty() {
        String::new()
    } else {
        format!(": {}", sources.join(", "))
    };
    let mut line = format!(
        "names: {} of {} from a source ({:.1}%{listed}), {} by fallback ({:.1}%)",
        n.from_source,
        n.features,
        100.0 * n.from_source_share,
        n.fallback,
        100.0 * n.fallback_share
    );
    if n.unnamed > 0 {
        line.push_str(&format!(", {} unnamed", n.unnamed));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Source;
    use crate::products::locate::FeatureInfo;

    fn layer(rows: &[(&str, &str, &str)], has_name_source: bool) -> NeighborhoodLayer {
        NeighborhoodLayer {
            source: Source::default(),
            crs_wkt: None,
            crs_label: "none".into(),
            info: rows
                .iter()
                .enumerate()
                .map(|(k, (kind, name, source))| FeatureInfo {
                    fid: k as i64,
                    nbhd_id: format!("A-{k:03}"),
                    kind: kind.to_string(),
                    admin_code: "A".into(),
                    admin_name: String::new(),
                    name: name.to_string(),
                    name_source: source.to_string(),
                    level: 1,
                })
                .collect(),
            geoms: vec![geo::MultiPolygon(vec![]); rows.len()],
            has_name_source,
        }
    }

    #[test]
    fn shares_of_real_sources_and_fallback_over_neighborhoods_and_hamlets() {
        let l = layer(
            &[
                ("neighborhood", "잠실동", "place=quarter"),
                ("neighborhood", "신천동", "place=quarter"),
                ("neighborhood", "파크리오", "landuse=residential"),
                ("hamlet", "외딴집", "building"),
                ("neighborhood", "잠실4동 1", "fallback"),
                ("hamlet", "잠실4동 2", "fallback"),
                ("neighborhood", "", ""),
                ("neighborhood", "이름만", ""),
                // Barrier features have no name and are not counted.
                ("water", "", ""),
                ("park", "", ""),
            ],
            true,
        );
        let n = naming(&l).unwrap();
        assert_eq!(
            n,
            Naming {
                features: 8,
                from_source: 4,
                from_source_share: 0.5,
                fallback: 2,
                fallback_share: 0.25,
                unnamed: 2,
                by_source: [
                    ("building".to_string(), 1),
                    ("landuse=residential".to_string(), 1),
                    ("place=quarter".to_string(), 2),
                ]
                .into_iter()
                .collect(),
            }
        );
        assert_eq!(
            naming_line(&n),
            "names: 4 of 8 from a source (50.0%: building 1, landuse=residential 1, place=quarter 2), 2 by fallback (25.0%), 2 unnamed"
        );
        assert_eq!(naming(&layer(&[("neighborhood", "", "")], false)), None);
    }
}
