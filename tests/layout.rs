//! The shape of the source tree, read from the files themselves (parsed with `syn`, as a reader sees
//! them): no function in `src/domain/` is longer than a screen, no file in `src/` over 700 lines
//! (beyond a list that only shrinks), and the modules depend on each other the way
//! `docs/architecture.md` draws them, with no pair importing each other; inside the domain, no two
//! files nor (beyond the known knots) two rooms use each other, and the `impl Gatekeeper` blocks
//! outside `gatekeeper.rs` only get fewer. Every file below `src/domain/`, in any folder, is read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Expr, Token, UseTree};

/// Lines a function body may take in `src/domain/`: about one screen, read at a glance.
const MAX_BODY_LINES: usize = 80;

/// A module by its path below the crate root: `["domain", "admin", "users"]`; `lib.rs` is `[]`.
type ModPath = Vec<String>;

struct SourceFile {
    path: PathBuf,
    module: ModPath,
    ast: syn::File,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library source file, with the module it defines (`main.rs` is its own crate and left out).
fn library_files() -> Vec<SourceFile> {
    let mut paths = Vec::new();
    collect_rs(&src_dir(), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter(|p| !p.ends_with("main.rs"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("a readable source file");
            let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let module = module_of(&path);
            SourceFile { path, module, ast }
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(path: &Path) -> ModPath {
    let relative = path.strip_prefix(src_dir()).expect("a file below src/");
    let mut module: ModPath = relative
        .with_extension("")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    module
}

fn display(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// File length

/// Lines a source file may take: a file that grows past it is split by what it holds (the SQL
/// parser by object family, the DynamoDB store by port, the directory by record).
const MAX_FILE_LINES: usize = 700;

/// Files over [`MAX_FILE_LINES`] today, each being split by work under way. The list may only
/// shrink: a file is never added, and one that is back under the limit (or gone) is taken off.
const LONG_FILES: &[&str] = &["src/domain/gatekeeper.rs"];

/// Every `.rs` file below `src/` (`main.rs` too), by its path from the crate root, and its lines.
fn source_file_lengths() -> Vec<(String, usize)> {
    let mut paths = Vec::new();
    collect_rs(&src_dir(), &mut paths);
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = fs::read_to_string(path).expect("a readable source file");
            (display(path), text.lines().count())
        })
        .collect()
}

#[test]
fn no_source_file_is_over_its_length() {
    let lengths = source_file_lengths();
    let long: Vec<String> = lengths
        .iter()
        .filter(|(path, lines)| *lines > MAX_FILE_LINES && !LONG_FILES.contains(&path.as_str()))
        .map(|(path, lines)| format!("{path}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "files in src/ over {MAX_FILE_LINES} lines:\n{}",
        long.join("\n")
    );
    let stale: Vec<&str> = LONG_FILES
        .iter()
        .copied()
        .filter(|listed| {
            !lengths
                .iter()
                .any(|(path, lines)| path == listed && *lines > MAX_FILE_LINES)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "in LONG_FILES but not over {MAX_FILE_LINES} lines (or gone): take them off:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_file_length_check_reads_main_rs_and_files_in_nested_folders() {
    let lengths = source_file_lengths();
    for expected in ["src/main.rs", "src/lib.rs", "src/store/dynamo/mod.rs"] {
        assert!(
            lengths
                .iter()
                .any(|(path, lines)| path == expected && *lines > 0),
            "{expected} not read"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Function length

/// Finds every function with a body (free, in an impl, or a trait's default) and its body's lines.
struct LongFunctions<'a> {
    file: &'a str,
    found: Vec<String>,
}

impl LongFunctions<'_> {
    fn check(&mut self, name: &syn::Ident, block: &syn::Block) {
        let span = block.brace_token.span;
        let lines = span.close().end().line - span.open().start().line + 1;
        if lines > MAX_BODY_LINES {
            let line = name.span().start().line;
            self.found
                .push(format!("{}:{line} fn {name}: {lines} lines", self.file));
        }
    }
}

impl<'ast> Visit<'ast> for LongFunctions<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.check(&item.sig.ident, &item.block);
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.check(&item.sig.ident, &item.block);
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.check(&item.sig.ident, block);
        }
        visit::visit_trait_item_fn(self, item);
    }
}

#[test]
fn no_function_in_the_domain_is_longer_than_a_screen() {
    let mut found = Vec::new();
    for file in library_files()
        .iter()
        .filter(|f| f.module.first().is_some_and(|m| m == "domain"))
    {
        let name = display(&file.path);
        let mut visitor = LongFunctions {
            file: &name,
            found: Vec::new(),
        };
        visitor.visit_file(&file.ast);
        found.extend(visitor.found);
    }
    assert!(
        found.is_empty(),
        "functions in src/domain/ over {MAX_BODY_LINES} lines; split them:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_length_check_sees_functions_in_impls_traits_and_nested_modules() {
    let long_body = "let x = 1;\n".repeat(MAX_BODY_LINES);
    let text = format!(
        "fn short() {{}}\nimpl A {{ fn in_impl() {{\n{long_body}}} }}\n\
         trait T {{ fn default() {{\n{long_body}}} }}\nmod m {{ fn nested() {{\n{long_body}}} }}"
    );
    let ast = syn::parse_file(&text).expect("valid Rust");
    let mut visitor = LongFunctions {
        file: "x.rs",
        found: Vec::new(),
    };
    visitor.visit_file(&ast);
    let names: Vec<&str> = visitor
        .found
        .iter()
        .filter_map(|f| f.split(' ').nth(2))
        .map(|n| n.trim_end_matches(':'))
        .collect();
    assert_eq!(
        names,
        ["in_impl", "default", "nested"],
        "{:?}",
        visitor.found
    );
}

// ---------------------------------------------------------------------------------------------
// Dependencies

/// What every file refers to: crate modules (resolved through `pub use` re-exports) and the external
/// crates it names.
struct Graph {
    modules: BTreeSet<ModPath>,
    /// `pub use` re-exports: (module, name) → the module the name really lives in.
    reexports: BTreeMap<(ModPath, String), ModPath>,
}

/// Where a path starts resolving: a crate module and the segments after it, or an external crate.
enum Start<'p> {
    Module(ModPath, &'p [String]),
    External(String),
}

/// One reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Module(ModPath),
    External(String),
}

impl Graph {
    fn new(files: &[SourceFile]) -> Self {
        let modules = files.iter().map(|f| f.module.clone()).collect();
        let mut graph = Graph {
            modules,
            reexports: BTreeMap::new(),
        };
        // Until nothing changes: a re-export may go through another (a shim at an old path) that a
        // later file defines.
        loop {
            let before = graph.reexports.clone();
            for file in files {
                for item in &file.ast.items {
                    if let syn::Item::Use(u) = item
                        && matches!(
                            u.vis,
                            syn::Visibility::Public(_) | syn::Visibility::Restricted(_)
                        )
                    {
                        graph.record_reexports(&file.module, &u.tree);
                    }
                }
            }
            if graph.reexports == before {
                return graph;
            }
        }
    }

    fn record_reexports(&mut self, module: &ModPath, tree: &UseTree) {
        for (path, name) in flatten_use(tree) {
            if let (Some(name), Some(Target::Module(target))) = (name, self.resolve(module, &path))
            {
                self.reexports.insert((module.clone(), name), target);
            }
        }
    }

    /// The module (or external crate) a path written in `scope` names, or `None` for a local name.
    fn resolve(&self, scope: &ModPath, path: &[String]) -> Option<Target> {
        let (mut at, rest) = match self.start(scope, path)? {
            Start::Module(at, rest) => (at, rest),
            Start::External(name) => return Some(Target::External(name)),
        };
        for segment in rest {
            let mut next = at.clone();
            next.push(segment.clone());
            if self.modules.contains(&next) {
                at = next;
            } else if let Some(target) = self.reexports.get(&(at.clone(), segment.clone())) {
                at = target.clone();
            } else {
                break;
            }
        }
        Some(Target::Module(self.file_module(&at)))
    }

    /// Where a path starts: `crate`, `super`, `self`, a child module of the scope, or an external
    /// crate. A lone name (`x`, `String`) is local and `None`.
    fn start<'p>(&self, scope: &ModPath, path: &'p [String]) -> Option<Start<'p>> {
        let first = path.first()?;
        let supers = path.iter().take_while(|s| *s == "super").count();
        let mut at = scope.clone();
        match first.as_str() {
            "crate" => return Some(Start::Module(Vec::new(), &path[1..])),
            "self" => return Some(Start::Module(at, &path[1..])),
            "super" => {
                at.truncate(at.len().saturating_sub(supers));
                return Some(Start::Module(at, &path[supers..]));
            }
            _ => {}
        }
        let mut child = self.file_module(scope);
        child.push(first.clone());
        if self.modules.contains(&child) {
            Some(Start::Module(child, &path[1..]))
        } else if path.len() > 1 && first.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some(Start::External(first.clone()))
        } else {
            None
        }
    }

    /// The module a scope lives in: a scope inside an inline `mod tests {}` is its file's module.
    fn file_module(&self, scope: &ModPath) -> ModPath {
        let mut at = scope.clone();
        while !at.is_empty() && !self.modules.contains(&at) {
            at.pop();
        }
        at
    }

    fn targets_of(&self, file: &SourceFile) -> BTreeMap<Target, String> {
        let mut refs = References {
            graph: self,
            scope: file.module.clone(),
            found: BTreeMap::new(),
        };
        refs.visit_file(&file.ast);
        refs.found
    }
}

/// Each path a `use` tree names, with the name it binds (`None` for a glob).
fn flatten_use(tree: &UseTree) -> Vec<(Vec<String>, Option<String>)> {
    match tree {
        UseTree::Path(p) => flatten_use(&p.tree)
            .into_iter()
            .map(|(mut rest, name)| {
                rest.insert(0, p.ident.to_string());
                (rest, name)
            })
            .collect(),
        UseTree::Name(n) if n.ident == "self" => vec![(Vec::new(), None)],
        UseTree::Name(n) => vec![(vec![n.ident.to_string()], Some(n.ident.to_string()))],
        UseTree::Rename(r) => vec![(vec![r.ident.to_string()], Some(r.rename.to_string()))],
        UseTree::Glob(_) => vec![(Vec::new(), None)],
        UseTree::Group(g) => g.items.iter().flat_map(flatten_use).collect(),
    }
}

/// Collects the targets of every path in a file (in `use` items, types, expressions and the
/// arguments of macros that parse as expressions), each with one example path for the message.
struct References<'g> {
    graph: &'g Graph,
    scope: ModPath,
    found: BTreeMap<Target, String>,
}

impl References<'_> {
    fn note(&mut self, path: Vec<String>) {
        if let Some(target) = self.graph.resolve(&self.scope, &path) {
            self.found.entry(target).or_insert_with(|| path.join("::"));
        }
    }
}

impl<'ast> Visit<'ast> for References<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if item.content.is_some() {
            self.scope.push(item.ident.to_string());
            visit::visit_item_mod(self, item);
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        for (path, _) in flatten_use(&item.tree) {
            self.note(path);
        }
    }

    /// `pub(crate)` and `pub(in …)` name a scope, not a dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.note(path.segments.iter().map(|s| s.ident.to_string()).collect());
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(args) = mac.parse_body_with(parser) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

/// A file's module as the top-level part it belongs to: `domain`, `sql`, …, or a root file's name.
fn top_level(module: &ModPath) -> String {
    module.first().cloned().unwrap_or_else(|| "lib".to_string())
}

/// Every file's references: (file, its module, target, an example path).
fn all_references() -> Vec<(String, ModPath, Target, String)> {
    let files = library_files();
    let graph = Graph::new(&files);
    let mut out = Vec::new();
    for file in &files {
        for (target, example) in graph.targets_of(file) {
            out.push((display(&file.path), file.module.clone(), target, example));
        }
    }
    out
}

/// Which crate modules each top-level part may use besides itself (docs/architecture.md). A rule
/// `snowflake::codes` allows that module only. Parts not listed are free, but still in no cycle.
const MAY_USE: &[(&str, &[&str])] = &[
    ("domain", &["error", "snowflake::codes"]),
    ("sql", &["domain", "error"]),
    ("snowflake", &["error"]),
    ("error", &[]),
    ("store", &["domain", "error", "aws"]),
    ("secrets", &["domain", "error", "aws"]),
    ("http", &["domain", "error", "snowflake", "logging"]),
    ("entrypoints", &["http", "error", "logging"]),
    ("outbound", &["domain", "error"]),
    ("aws", &[]),
    ("logging", &["domain"]),
    (
        "app",
        &[
            "domain",
            "error",
            "http",
            "entrypoints",
            "outbound",
            "store",
            "secrets",
            "aws",
        ],
    ),
];

/// External crates that would bring HTTP, AWS or a database into the domain or the SQL front end.
fn is_transport_crate(name: &str) -> bool {
    let prefixes = [
        "aws_sdk",
        "aws_config",
        "aws_smithy",
        "aws_types",
        "axum",
        "hyper",
        "lambda_http",
    ];
    prefixes
        .iter()
        .chain(&["tower", "rusqlite", "reqwest"])
        .any(|p| name.starts_with(p))
        || name == "http"
}

fn allowed(from: &str, target: &ModPath) -> bool {
    let Some((_, rules)) = MAY_USE.iter().find(|(part, _)| *part == from) else {
        return true;
    };
    let to = top_level(target);
    to == from
        || rules.iter().any(|rule| {
            let rule: Vec<&str> = rule.split("::").collect();
            target.len() >= rule.len() && target.iter().zip(&rule).all(|(a, b)| a == b)
        })
}

#[test]
fn top_level_modules_depend_the_way_the_architecture_document_says() {
    let mut broken = Vec::new();
    for (file, module, target, example) in all_references() {
        let from = top_level(&module);
        let bad = match &target {
            Target::Module(m) => !allowed(&from, m),
            Target::External(name) => {
                ["domain", "sql"].contains(&from.as_str()) && is_transport_crate(name)
            }
        };
        if bad {
            broken.push(format!("{file} ({from}) uses {example}"));
        }
    }
    assert!(
        broken.is_empty(),
        "dependencies against docs/architecture.md:\n{}",
        broken.join("\n")
    );
}

/// Pairs (a, b), a < b, where a uses b and b uses a, among the given edges.
fn mutual(edges: &BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    edges
        .iter()
        .filter(|(a, b)| a < b && edges.contains(&(b.clone(), a.clone())))
        .cloned()
        .collect()
}

/// The cycle through `start`, if there is one (depth-first; the graph has a few dozen nodes).
fn cycle_through(start: &str, edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().expect("a non-empty path").clone();
        for (_, next) in edges.iter().filter(|(a, _)| *a == last) {
            if next == start {
                return Some([path.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push([path.clone(), vec![next.clone()]].concat());
            }
        }
    }
    None
}

#[test]
fn no_top_level_module_depends_on_itself_through_others() {
    let edges: BTreeSet<(String, String)> = all_references()
        .into_iter()
        .filter_map(|(_, module, target, _)| match target {
            Target::Module(m) => Some((top_level(&module), top_level(&m))),
            Target::External(_) => None,
        })
        .filter(|(a, b)| a != b)
        .collect();
    let nodes: BTreeSet<&String> = edges.iter().map(|(a, _)| a).collect();
    let cycles: Vec<String> = nodes
        .iter()
        .filter_map(|n| cycle_through(n, &edges))
        .map(|c| c.join(" → "))
        .collect();
    assert!(
        cycles.is_empty(),
        "top-level modules in a cycle:\n{}",
        cycles.join("\n")
    );
}

/// Files in `src/domain/` that use each other today: none. A parent module that dispatches to its
/// children, which use the parent's shared helpers, is not counted; any other pair is a knot to
/// untie, and none may appear. (`impl Gatekeeper` blocks in their own files use `gatekeeper.rs`;
/// what `gatekeeper.rs` needs from them lives apart: `login/input.rs`, `login/verified.rs`,
/// `query/login_history.rs`.) Files are compared across folders too, folder by folder, below.
const KNOWN_MUTUAL_DOMAIN_FILES: &[(&str, &str)] = &[];

#[test]
fn files_in_the_domain_that_use_each_other_are_the_known_ones() {
    let edges: BTreeSet<(String, String)> = all_references()
        .into_iter()
        .filter(|(_, module, _, _)| top_level(module) == "domain")
        .filter_map(|(_, module, target, _)| match target {
            Target::Module(m) if top_level(&m) == "domain" && m != module => {
                Some((module.join("::"), m.join("::")))
            }
            _ => None,
        })
        .filter(|(a, b)| !is_parent(a, b) && !is_parent(b, a))
        .collect();
    let found: Vec<(String, String)> = mutual(&edges).into_iter().collect();
    let known: Vec<(String, String)> = KNOWN_MUTUAL_DOMAIN_FILES
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(found, known, "domain files that use each other");
}

/// Whether module `a` is `b`'s parent (`domain::admin` of `domain::admin::users`).
fn is_parent(a: &str, b: &str) -> bool {
    b.strip_prefix(a)
        .is_some_and(|rest| rest.starts_with("::") && !rest[2..].contains("::"))
}

#[test]
fn the_dependency_reader_resolves_crate_super_child_and_reexported_paths() {
    let modules: BTreeSet<ModPath> = [vec![], vec!["a"], vec!["a", "b"], vec!["c"]]
        .into_iter()
        .map(|m| m.into_iter().map(String::from).collect())
        .collect();
    let mut graph = Graph {
        modules,
        reexports: BTreeMap::new(),
    };
    graph.reexports.insert(
        (vec!["a".into()], "Thing".into()),
        vec!["a".into(), "b".into()],
    );
    let at = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<ModPath>();
    let path = |p: &str| p.split("::").map(String::from).collect::<Vec<_>>();
    let module = |m: &[&str]| Some(Target::Module(at(m)));
    let scope = at(&["a", "b", "tests"]);
    assert_eq!(graph.resolve(&scope, &path("crate::c::f")), module(&["c"]));
    assert_eq!(
        graph.resolve(&at(&["a", "b"]), &path("super::x")),
        module(&["a"])
    );
    assert_eq!(
        graph.resolve(&at(&["a"]), &path("b::f")),
        module(&["a", "b"])
    );
    assert_eq!(
        graph.resolve(&at(&["c"]), &path("crate::a::Thing")),
        module(&["a", "b"])
    );
    assert_eq!(
        graph.resolve(&at(&["c"]), &path("axum::Router")),
        Some(Target::External("axum".into()))
    );
    assert_eq!(
        graph.resolve(&scope, &path("super::super::c::f")),
        module(&["a"])
    );
    assert_eq!(graph.resolve(&at(&["c"]), &path("String")), None);
}

#[test]
fn the_rules_catch_a_forbidden_arrow_and_a_cycle() {
    let module = |m: &str| m.split("::").map(String::from).collect::<ModPath>();
    assert!(!allowed("domain", &module("store::memory")));
    assert!(!allowed("domain", &module("snowflake")));
    assert!(allowed("domain", &module("snowflake::codes")));
    assert!(allowed("domain", &module("domain::admin")));
    assert!(!allowed("sql", &module("http")));
    assert!(!allowed("outbound", &module("store")));
    assert!(allowed("app", &module("store::sqlite")) && !allowed("app", &module("sql")));
    assert!(is_transport_crate("aws_sdk_dynamodb") && is_transport_crate("http"));
    assert!(!is_transport_crate("aws_lc_rs") && !is_transport_crate("serde"));
    let edges: BTreeSet<(String, String)> =
        [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "c")]
            .iter()
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .collect();
    assert_eq!(
        cycle_through("a", &edges).map(|c| c.join(" ")),
        Some("a b c a".to_string())
    );
    assert_eq!(cycle_through("e", &edges), None);
    let pairs: Vec<(String, String)> = mutual(&edges).into_iter().collect();
    assert_eq!(pairs, [("c".to_string(), "d".to_string())]);
    assert!(is_parent("domain::admin", "domain::admin::users"));
    let modules: BTreeSet<ModPath> = ["domain", "domain::login", "domain::login::workload::aws"]
        .iter()
        .map(|m| module(m))
        .collect();
    let folders = domain_folders(&modules);
    assert_eq!(
        room_of(&module("domain::login::workload::aws"), &folders),
        "domain::login"
    );
    assert_eq!(room_of(&module("domain::login"), &folders), "domain::login");
    assert_eq!(room_of(&module("domain::audit"), &folders), "domain::audit");
    assert!(!is_parent("domain", "domain::admin::users"));
}

// ---------------------------------------------------------------------------------------------
// Rooms of the domain

/// The folders of `src/domain/` (`domain::login`, …): modules with a module below them, except
/// `domain` itself.
fn domain_folders(modules: &BTreeSet<ModPath>) -> BTreeSet<ModPath> {
    modules
        .iter()
        .filter(|m| m.len() >= 3 && m[0] == "domain")
        .map(|m| m[..2].to_vec())
        .collect()
}

/// What a domain module counts as when rooms are compared: its folder below `domain/` (the folder's
/// `mod.rs` and every file in it), or itself for a file directly in `domain/`.
fn room_of(module: &ModPath, folders: &BTreeSet<ModPath>) -> String {
    match module.get(..2) {
        Some(top) if folders.contains(top) => top.join("::"),
        _ => module.join("::"),
    }
}

/// Rooms of the domain (a folder, or a file directly in `domain/`) that use each other today, each a
/// knot for a later step of the redesign: the `impl Gatekeeper` blocks in `login/` use
/// `gatekeeper.rs`, which calls them and needs their types; `login/` and `query/` share the login
/// history (`query/login_history.rs` holds the record `login/` writes); sessions and statements
/// (`session/parameters.rs` takes `query/statement.rs` types); credentials on the `User` record;
/// policy records read through the directory. The list may shrink, never grow.
const KNOWN_MUTUAL_DOMAIN_ROOMS: &[(&str, &str)] = &[
    ("domain::credentials", "domain::directory"),
    ("domain::directory", "domain::policy"),
    ("domain::gatekeeper", "domain::login"),
    ("domain::login", "domain::query"),
    ("domain::login", "domain::session"),
    ("domain::query", "domain::session"),
];

#[test]
fn rooms_of_the_domain_that_use_each_other_are_the_known_ones() {
    let files = library_files();
    let modules: BTreeSet<ModPath> = files.iter().map(|f| f.module.clone()).collect();
    let folders = domain_folders(&modules);
    let edges: BTreeSet<(String, String)> = all_references()
        .into_iter()
        .filter(|(_, module, _, _)| top_level(module) == "domain" && module.len() > 1)
        .filter_map(|(_, module, target, _)| match target {
            Target::Module(m) if top_level(&m) == "domain" && m.len() > 1 => {
                Some((room_of(&module, &folders), room_of(&m, &folders)))
            }
            _ => None,
        })
        .filter(|(a, b)| a != b)
        .collect();
    let found: Vec<(String, String)> = mutual(&edges).into_iter().collect();
    let known: Vec<(String, String)> = KNOWN_MUTUAL_DOMAIN_ROOMS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(found, known, "rooms of the domain that use each other");
}

// ---------------------------------------------------------------------------------------------
// The Gatekeeper's size

/// `impl Gatekeeper` blocks outside `domain/gatekeeper.rs` today: login methods and the recording of
/// the login history (statements run in `query::Queries`). Each moves into a type of its own in a
/// later step, so the number may only go down.
const IMPL_GATEKEEPER_ELSEWHERE: usize = 5;

/// Finds inherent `impl Gatekeeper` blocks (a trait's impl for it is not counted).
struct GatekeeperImpls {
    found: usize,
}

impl<'ast> Visit<'ast> for GatekeeperImpls {
    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if item.trait_.is_none()
            && let syn::Type::Path(p) = &*item.self_ty
            && p.path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Gatekeeper")
        {
            self.found += 1;
        }
        visit::visit_item_impl(self, item);
    }
}

#[test]
fn impl_gatekeeper_blocks_outside_its_file_only_go_down() {
    let mut found = Vec::new();
    for file in library_files() {
        if file.module == ["domain", "gatekeeper"] {
            continue;
        }
        let mut visitor = GatekeeperImpls { found: 0 };
        visitor.visit_file(&file.ast);
        found.extend(std::iter::repeat_n(display(&file.path), visitor.found));
    }
    assert!(
        found.len() <= IMPL_GATEKEEPER_ELSEWHERE,
        "{} `impl Gatekeeper` blocks outside domain/gatekeeper.rs, at most {IMPL_GATEKEEPER_ELSEWHERE}:\n{}",
        found.len(),
        found.join("\n")
    );
    assert!(
        found.len() == IMPL_GATEKEEPER_ELSEWHERE,
        "fewer `impl Gatekeeper` blocks outside domain/gatekeeper.rs ({}): lower \
         IMPL_GATEKEEPER_ELSEWHERE to match",
        found.len()
    );
}
