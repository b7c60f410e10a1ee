//! Imports point one way (DESIGN.md): the modules of `api/src` form no
//! circle. Each file is a module (`customers/store.rs` is
//! `customers::store`, a folder's `mod.rs` is the folder); every `crate::…`
//! and `super::…` path in a file is an edge to the module it names. A cycle
//! fails the test with its path, so a domain calling back into another
//! that already depends on it is caught the day it is written.
use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src").flatten() {
        let p = entry.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `customers/store.rs` → ["customers", "store"]; `tasks/mod.rs` → ["tasks"].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// Expands one `use` tree (`a::{b, c::{d}}`) into full paths.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = if head.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}{head}::")
        };
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner[start..i], &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&inner[start..], &base, out);
    } else if !tree.is_empty() {
        out.push(format!(
            "{prefix}{}",
            tree.split(" as ").next().unwrap_or(tree).trim()
        ));
    }
}

/// Every module path a file refers to.
fn references(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // `use` statements, with their groups.
    let mut rest = text;
    while let Some(i) = rest.find("use ") {
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        let stmt = &after[..end];
        if stmt.starts_with("crate::")
            || stmt.starts_with("super::")
            || stmt.starts_with("crate::{")
        {
            expand(stmt, "", &mut paths);
        }
        rest = &after[end..];
    }
    // Inline paths.
    for key in ["crate::", "super::"] {
        let mut r = text;
        while let Some(i) = r.find(key) {
            let tail: String = r[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(tail);
            r = &r[i + key.len()..];
        }
    }
    paths
}

/// The module a path names, given the modules that exist.
fn target(path: &str, from: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut abs: Vec<String> = match segs.first() {
        Some(&"crate") => Vec::new(),
        Some(&"super") => {
            let mut m = from.to_vec();
            m.pop();
            m
        }
        _ => return None,
    };
    let mut best = None;
    for s in segs.iter().skip(1) {
        if *s == "super" {
            abs.pop();
            continue;
        }
        abs.push(s.to_string());
        if modules.contains(&abs) {
            best = Some(abs.clone());
        }
    }
    best
}

fn cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        n: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let at = stack.iter().position(|x| x == m).unwrap_or(0);
                    let mut c = stack[at..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n) {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_modules_of_the_server_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in &files {
        let from = module_of(&src, f);
        let text = fs::read_to_string(f).expect("read");
        // Unit tests at the bottom of a file may reach anything.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        let edges = graph.entry(from.clone()).or_default();
        for r in references(code) {
            if let Some(t) = target(&r, &from, &modules) {
                // The crate root only declares modules; a folder's own
                // `mod.rs` declaring its files is not a dependency either.
                if !t.is_empty() && t != from && !from.starts_with(&t) {
                    edges.insert(t);
                }
            }
        }
    }
    if let Some(c) = cycle(&graph) {
        let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
        panic!(
            "modules import each other in a circle: {}",
            names.join(" → ")
        );
    }
}
