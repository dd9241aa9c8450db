//! The relay's module graph is acyclic, like the crate graph (issue 21):
//! each module of relay/src may use only modules that do not use it back,
//! directly or through others, so that each can be read (and tested) on top
//! of the ones below it. Reads every `crate::…` path in relay/src (but in
//! comments), one node per top-level module (`engine/*` is `engine`), and
//! fails naming the circle when there is one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The modules each module's code names through `crate::`.
fn graph(files: &[(String, String)]) -> Graph {
    let mut graph = Graph::new();
    for (module, text) in files {
        let uses = graph.entry(module.clone()).or_default();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                // `crate::{a, b::C}`: the first segment of each path at the top level.
                Some(group) => {
                    let (mut depth, mut end) = (0, group.len());
                    for (i, c) in group.char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' if depth == 0 => {
                                end = i;
                                break;
                            }
                            '}' => depth -= 1,
                            _ => {}
                        }
                    }
                    let mut names = Vec::new();
                    let mut depth = 0;
                    let mut start = true;
                    for (i, c) in group[..end].char_indices() {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            ',' if depth == 0 => start = true,
                            c if start && (c.is_alphanumeric() || c == '_') => {
                                names.push(ident(&group[i..]));
                                start = false;
                            }
                            _ => {}
                        }
                    }
                    names
                }
                None => vec![ident(rest)],
            };
            for name in names {
                if !name.is_empty() && name != module.as_str() {
                    uses.insert(name.to_string());
                }
            }
        }
    }
    graph
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// A circle in `graph`, as the modules along it (the first repeated last).
fn circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|n| n == node) {
            let mut circle = path[i..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Every `.rs` file under `dir`, named by its top-level module.
fn sources(dir: &Path, module: Option<&str>, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            sources(&path, Some(module.unwrap_or(&stem)), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let name = module.map_or(stem, str::to_string);
            // lib.rs declares every module and main.rs uses the library from outside.
            if name != "lib" && name != "main" {
                out.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
}

#[test]
fn the_checker_finds_a_circle_and_reads_grouped_uses() {
    let file = |m: &str, t: &str| (m.to_string(), t.to_string());
    let files = [
        file(
            "a",
            "use crate::{b, c::{X, Y}};\n// crate::d in a comment\nfn f() { crate::e::g() }",
        ),
        file("b", "use crate::c::Z;"),
        file("c", "use crate::event::T;"),
        file("d", "use crate::a;"),
    ];
    let g = graph(&files);
    let a: Vec<&str> = g["a"].iter().map(String::as_str).collect();
    assert_eq!(a, ["b", "c", "e"]);
    assert_eq!(circle(&g), None);
    let files = [
        files[0].clone(),
        files[1].clone(),
        file("c", "fn f() -> crate::a::T {}"),
    ];
    assert_eq!(circle(&graph(&files)).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn the_relay_modules_form_no_circle() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), None, &mut files);
    let g = graph(&files);
    assert!(g.len() > 15 && g["conn"].contains("outbox"), "read relay/src: {g:?}");
    if let Some(circle) = circle(&g) {
        panic!(
            "relay/src has an import circle: {} (move what both need into a module below them)",
            circle.join(" -> ")
        );
    }
}
