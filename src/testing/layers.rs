//! The layering of ARCHITECTURE.md, checked: the crate's modules import only inwards (cli →
//! commands → engine → adapters → core), and no two modules import each other, directly or
//! round about. Test code is left out: it may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and its layer; a module imports only from its own layer or below.
const LAYERS: &[(&str, u8)] = &[
    // The core: pure rules and the small tools they use.
    ("model", 0),
    ("live", 0),
    ("config", 0),
    ("diag", 0),
    ("yaml", 0),
    ("escape", 0),
    ("clock", 0),
    ("fsutil", 0),
    ("plan", 0),
    ("format", 0),
    ("stop", 0),
    ("audit", 0),
    // Adapters: ClickUp, the files kept beside the members file, and the renderers.
    ("clickup", 1),
    ("state", 1),
    ("lock", 1),
    ("render", 1),
    ("review", 1),
    ("console", 1),
    // sync: the identity providers and the fragment they fill, an adapter like `clickup`.
    ("sync", 1),
    // The application layer.
    ("engine", 2),
    // The command line.
    ("commands", 3),
    ("cli", 4),
];

/// The modules each module imports (`crate::x`), test code left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in walkdir(&src) {
        let relative = entry.strip_prefix(&src).expect("below src");
        let Some(module) = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs").to_owned())
        else {
            continue;
        };
        let is_test = relative
            .components()
            .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "tests.rs")));
        if is_test || matches!(module.as_str(), "lib" | "main" | "testing") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).expect("read");
        // Inline tests sit at the end of a file.
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let used = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                used.insert(name);
            }
        }
    }
    graph
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
        .unwrap_or_else(|| panic!("module {module} has no layer in LAYERS"))
}

#[test]
fn imports_point_inwards() {
    let graph = imports();
    let outward: Vec<String> = graph
        .iter()
        .flat_map(|(from, to)| {
            to.iter()
                .filter(|to| layer(to) > layer(from))
                .map(move |to| format!("{from} → {to}"))
        })
        .collect();
    assert!(outward.is_empty(), "imports pointing outwards: {outward:?}");
}

#[test]
fn no_module_imports_itself_round_about() {
    let graph = imports();
    // Depth-first search from each module for a path back to it.
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
        while let Some(path) = stack.pop() {
            let last = path[path.len() - 1];
            for next in graph.get(last).into_iter().flatten() {
                if next == start {
                    panic!("import cycle: {} → {start}", path.join(" → "));
                }
                if seen.insert(next.as_str()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
}

#[test]
fn the_check_sees_the_imports_it_guards() {
    let graph = imports();
    assert!(graph["cli"].contains("commands"));
    assert!(graph["commands"].contains("engine"));
    assert!(graph["engine"].contains("clickup"));
    assert!(graph["clickup"].contains("plan"));
    for (name, _) in LAYERS {
        assert!(graph.contains_key(*name), "{name} not found in src/");
    }
}
