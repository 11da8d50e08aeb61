//! The source tree's architecture as a test: each layer imports only those
//! below it (geom → io → method → products → cmd), and the modules of one
//! layer import each other without a cycle.

use crate::common::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The `crate::LAYER::MODULE` paths a source file names in its code
/// (comments, where docs link other layers, left out).
fn crate_paths(text: &str) -> Vec<(String, String)> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let mut parts = rest.split("::").map(|p| {
            p.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        });
        if let (Some(layer), Some(module)) = (parts.next(), parts.next()) {
            out.push((layer, module));
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Module → the modules of the same layer it imports (a folder module and
/// its files count as one).
fn imports_within(layer: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = repo().join("src").join(layer);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in rust_files(&root) {
        let rel = f.strip_prefix(&root).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for (l, m) in crate_paths(&text) {
            if l == layer && m != module {
                deps.insert(m);
            }
        }
    }
    graph
}

/// A cycle through `start`, if any, as the modules on it.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        g: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn the_modules_of_a_layer_import_each_other_without_a_cycle() {
    for layer in ["geom", "io", "method", "products"] {
        let graph = imports_within(layer);
        assert!(graph.len() > 3, "{layer}: modules not found");
        for m in graph.keys() {
            if let Some(c) = cycle_from(&graph, m) {
                panic!("import cycle in src/{layer}: {} → {m}", c.join(" → "));
            }
        }
    }
}

#[test]
fn each_layer_imports_only_those_below_it() {
    let order = ["geom", "io", "method", "products", "cmd"];
    for (k, layer) in order.iter().enumerate() {
        for f in rust_files(&repo().join("src").join(layer)) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (l, m) in crate_paths(&text) {
                if let Some(j) = order.iter().position(|o| *o == l) {
                    assert!(
                        j <= k,
                        "{} imports crate::{l}::{m}, a layer above {layer}",
                        f.display()
                    );
                }
            }
        }
    }
}
