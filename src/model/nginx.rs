//! nginx as it runs: includes expanded in place, http -> server -> location inheritance, the
//! locations that hand requests to FastCGI (or a proxy), upstreams and the worker user.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::model::address::{parse_target, Target};
use crate::model::contexts::{allowed_in, BlockKind};
use crate::project::Project;
use crate::source::{FileId, Language, Span};
use crate::syntax::nginx::{Config, Directive, Siblings, Word};

/// A directive and the file it is written in.
#[derive(Clone, Copy, Debug)]
pub struct DirRef<'p> {
    pub file: FileId,
    pub directive: Directive<'p>,
}

impl<'p> DirRef<'p> {
    pub fn name(&self) -> &'p str {
        self.directive.name()
    }
    pub fn arg(&self, i: usize) -> Option<&'p str> {
        self.directive.arg(i)
    }
    pub fn is(&self, name: &str) -> bool {
        self.directive.is(name)
    }
}

/// Where a file's directives sit when nginx reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Main,
    Http,
    Server,
    Location,
}

/// A file walked as a starting point: an nginx.conf, or a file no nginx.conf includes
/// (linted in the context its content suggests).
#[derive(Clone, Debug)]
pub struct Root {
    pub file: FileId,
    pub context: Context,
    /// Directory relative includes resolve against; None: searched upward from each file.
    pub prefix: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassKind {
    Fastcgi,
    Proxy,
}

/// A location (or `if` in one) that hands requests to a backend.
#[derive(Clone, Debug)]
pub struct Site<'p> {
    pub root: usize,
    pub kind: PassKind,
    pub pass: DirRef<'p>,
    /// Enclosing block directives, outermost first (http, server, location, if).
    pub chain: Vec<DirRef<'p>>,
    /// Levels (indices into the model's level table), outermost first; the last is the site's own.
    levels: Vec<usize>,
    /// Every level above the site is in the tree: its file is reached from an nginx.conf
    /// (or read inside the http block of the nginx.conf above it). False for a snippet
    /// nothing includes: an outer level nginx would read it in may set what it lacks.
    pub parents_known: bool,
}

/// A location nginx never selects: an earlier sibling takes every request it could match.
#[derive(Clone, Copy, Debug)]
pub struct UnreachableLocation<'p> {
    pub root: usize,
    pub location: DirRef<'p>,
    /// The earlier location that wins.
    pub shadowed_by: DirRef<'p>,
    /// The include the unreachable copy was read through, when it is the same text as the
    /// winner (one snippet included twice).
    pub included_again_at: Option<(FileId, Span)>,
}

#[derive(Clone, Debug)]
pub struct Upstream<'p> {
    pub root: usize,
    pub name: &'p str,
    pub directive: DirRef<'p>,
    /// The `server` directives inside.
    pub servers: Vec<DirRef<'p>>,
}

impl<'p> Upstream<'p> {
    /// The `server` lines not marked `down` (taken out of rotation on purpose).
    pub fn live_servers(&self) -> impl Iterator<Item = &DirRef<'p>> {
        self.servers
            .iter()
            .filter(|s| !s.directive.args().skip(1).iter().any(|a| a.is("down")))
    }
}

/// A problem found while expanding includes.
#[derive(Clone, Debug)]
pub enum IncludeIssue {
    NotFound {
        file: FileId,
        span: Span,
        pattern: String,
        /// The path is a directory in the tree, not a file.
        is_directory: bool,
    },
    /// The chain of include directives that leads back to a file already being read.
    Cycle {
        chain: Vec<(FileId, Span)>,
        file: FileId,
    },
    TooDeep {
        file: FileId,
        span: Span,
    },
}

pub struct NginxModel<'p> {
    pub roots: Vec<Root>,
    pub sites: Vec<Site<'p>>,
    pub upstreams: Vec<Upstream<'p>>,
    /// `user` directives, with the root they belong to.
    pub users: Vec<(usize, DirRef<'p>)>,
    pub include_issues: Vec<IncludeIssue>,
    /// Locations nginx never selects (their insides are not walked: no sites come from them).
    pub unreachable: Vec<UnreachableLocation<'p>>,
    /// For each included file, the distinct servers (by their `server` directive; or the
    /// include directive when read above any server) whose configuration reads it.
    readers: HashMap<FileId, HashSet<(FileId, u32)>>,
    /// Each level as the runs of consecutive directives its includes split it into: a level
    /// holds a few runs where it would hold a hundred directive references (the included
    /// snippets' directives repeat in every level that includes them).
    levels: Vec<Vec<Run<'p>>>,
    /// Upstreams by name (indices into `upstreams`, in order): a lookup per site must not
    /// scan every upstream of a 10,000-site tree.
    upstream_index: HashMap<&'p str, Vec<usize>>,
    /// Levels holding an include that names no file that could be read: what such a level
    /// sets is not known, for the sites under it only.
    levels_missing_include: HashSet<usize>,
    /// For levels with many directives (an http level holding every server of the tree):
    /// the directives, and their positions by name, so looking a name up does not scan them.
    big_levels: HashMap<usize, BigLevel<'p>>,
}

/// Consecutive directives at one level of one file.
#[derive(Clone, Copy, Debug)]
struct Run<'p> {
    file: FileId,
    count: u32,
    first: Directive<'p>,
}

impl<'p> Run<'p> {
    fn directives(self) -> impl Iterator<Item = DirRef<'p>> {
        let file = self.file;
        self.first
            .and_following()
            .take(self.count as usize)
            .map(move |directive| DirRef { file, directive })
    }
}

/// One level with its includes expanded: every directive (with the include chain it was
/// reached through, for descending) and the runs the level keeps.
struct Flat<'p> {
    directives: Vec<(DirRef<'p>, Rc<Chain>)>,
    runs: Vec<Run<'p>>,
    /// An include at this level (or in a file it includes) names no file that could be read.
    misses_include: bool,
}

struct BigLevel<'p> {
    directives: Vec<DirRef<'p>>,
    names: HashMap<&'p str, Vec<usize>>,
}

/// Resolved includes: (file, include directive offset, prefix) -> files, in nginx's order.
#[derive(Default)]
pub struct IncludeMap {
    map: HashMap<(FileId, u32, Option<PathBuf>), Vec<FileId>>,
    issues: Vec<IncludeIssue>,
    roots: Vec<Root>,
}

const MAX_DEPTH: usize = 100;

/// Phase one: find the roots and resolve (and load) every include they reach.
pub fn resolve_includes(project: &mut Project) -> IncludeMap {
    let mut map = IncludeMap::default();
    let discovered: Vec<FileId> = project.files_of(Language::Nginx).collect();
    let mut reached: BTreeSet<FileId> = BTreeSet::new();

    // nginx.conf-like files first: their prefix decides how everything else resolves.
    let entries: Vec<FileId> = discovered
        .iter()
        .copied()
        .filter(|&id| project.nginx(id).is_some_and(is_main_context))
        .collect();
    for &entry in &entries {
        let prefix = project.options.nginx_prefix.clone().or_else(|| {
            project
                .canonical_path(entry)
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        });
        walk_includes(project, &mut map, entry, prefix.clone(), &mut reached);
        map.roots.push(Root {
            file: entry,
            context: Context::Main,
            prefix,
        });
    }

    let mut prefixes: Vec<PathBuf> = map.roots.iter().filter_map(|r| r.prefix.clone()).collect();
    prefixes.dedup();
    project.set_nginx_prefixes(prefixes);

    // Files no entry reaches: those no other such file includes are roots of their own.
    let prefix = project.options.nginx_prefix.clone();
    let unreached: Vec<FileId> = discovered
        .iter()
        .copied()
        .filter(|id| !reached.contains(id))
        .collect();
    let mut included_by_unreached = BTreeSet::new();
    for &id in &unreached {
        let mut local = BTreeSet::new();
        walk_includes(project, &mut map, id, prefix.clone(), &mut local);
        local.remove(&id);
        included_by_unreached.extend(local);
    }
    for &id in &unreached {
        if included_by_unreached.contains(&id) {
            continue;
        }
        if let Some(c) = project.nginx(id) {
            let context = guess_context(c);
            map.roots.push(Root {
                file: id,
                context,
                prefix: prefix.clone(),
            });
        }
    }
    map
}

/// Load and resolve every include reachable from `file` (iteratively; cycles stop at the repeat).
fn walk_includes(
    project: &mut Project,
    map: &mut IncludeMap,
    file: FileId,
    prefix: Option<PathBuf>,
    reached: &mut BTreeSet<FileId>,
) {
    let mut queue = vec![file];
    reached.insert(file);
    while let Some(f) = queue.pop() {
        let includes = match project.nginx(f) {
            Some(c) => include_directives(c),
            None => continue,
        };
        for (offset, span, pattern) in includes {
            let key = (f, offset, prefix.clone());
            if map.map.contains_key(&key) {
                continue;
            }
            let resolved = project.resolve_nginx_include(&pattern, f, prefix.as_deref());
            if resolved.files.is_empty() && !resolved.is_glob && resolved.failed == 0 {
                map.issues.push(IncludeIssue::NotFound {
                    file: f,
                    span,
                    pattern: pattern.clone(),
                    is_directory: resolved.is_directory,
                });
            }
            for &t in &resolved.files {
                if reached.insert(t) {
                    queue.push(t);
                }
            }
            map.map.insert(key, resolved.files);
        }
    }
}

/// Every `include` in a file, at any depth: (directive offset, argument span, pattern).
fn include_directives(c: &Config) -> Vec<(u32, Span, String)> {
    let mut out = Vec::new();
    for d in c.all_directives() {
        if d.name() == "include" {
            if let Some(arg) = d.args().first() {
                out.push((d.span().start, arg.span(), arg.value().to_string()));
            }
        }
    }
    out
}

fn is_main_context(c: &Config) -> bool {
    c.directives()
        .any(|d| matches!(d.name(), "http" | "events" | "worker_processes" | "stream"))
}

/// The context a file that nothing includes was written for, from its top-level directives.
pub fn guess_context(c: &Config) -> Context {
    let names: Vec<&str> = c.directives().map(Directive::name).collect();
    let any = |set: &[&str]| names.iter().any(|n| set.contains(n));
    if any(&[
        "http",
        "events",
        "worker_processes",
        "stream",
        "user",
        "pid",
    ]) {
        Context::Main
    } else if any(&[
        "server",
        "upstream",
        "map",
        "log_format",
        "geo",
        "limit_req_zone",
        "fastcgi_cache_path",
    ]) {
        Context::Http
    } else if any(&["location", "listen", "server_name", "ssl_certificate"]) {
        Context::Server
    } else if any(&[
        "fastcgi_pass",
        "proxy_pass",
        "try_files",
        "fastcgi_split_path_info",
    ]) {
        Context::Location
    } else {
        Context::Http
    }
}

/// A directive that makes its level answer every request itself, so a `fastcgi_pass` or
/// `proxy_pass` beside it never forwards one: an unconditional `return` (rewrite phase, before
/// content), or a cache purge location (`fastcgi_cache_purge zone key`, ngx_cache_purge's
/// separate-location form; the one-argument form `fastcgi_cache_purge on` / `PURGE from ...`
/// purges only PURGE requests and forwards the rest).
pub fn answers_itself(d: Directive<'_>) -> bool {
    if d.is("return") {
        return true;
    }
    let purge = ["fastcgi_cache_purge", "proxy_cache_purge"]
        .iter()
        .any(|n| d.is(n));
    purge && d.args().len() == 2 && !matches!(d.arg(0), Some("on" | "off"))
}

/// Block directives whose bodies are data, not configuration levels.
fn is_data_block(name: &str) -> bool {
    matches!(
        name,
        "types" | "map" | "geo" | "split_clients" | "charset_map" | "match" | "upstream" | "events"
    ) || name.ends_with("_by_lua_block")
}

/// Include chain for cycle detection across nested blocks: which file, through which include.
struct Chain {
    file: FileId,
    via: Option<(FileId, Span)>,
    parent: Option<Rc<Chain>>,
}

impl Chain {
    fn contains(&self, file: FileId) -> bool {
        let mut c = Some(self);
        while let Some(link) = c {
            if link.file == file {
                return true;
            }
            c = link.parent.as_deref();
        }
        false
    }

    fn includes(&self) -> Vec<(FileId, Span)> {
        let mut out = Vec::new();
        let mut c = Some(self);
        while let Some(link) = c {
            out.extend(link.via);
            c = link.parent.as_deref();
        }
        out.reverse();
        out
    }
}

/// Phase two: walk every root with includes expanded in place.
pub fn build<'p>(project: &'p Project, includes: &IncludeMap) -> NginxModel<'p> {
    let mut walker = Walker {
        project,
        includes,
        model: NginxModel {
            roots: includes.roots.clone(),
            sites: Vec::new(),
            upstreams: Vec::new(),
            users: Vec::new(),
            include_issues: includes.issues.clone(),
            unreachable: Vec::new(),
            readers: HashMap::new(),
            levels: Vec::new(),
            levels_missing_include: HashSet::new(),
            big_levels: HashMap::new(),
            upstream_index: HashMap::new(),
        },
        seen_cycles: BTreeSet::new(),
        http_levels: HashMap::new(),
        joins_level: None,
        parents_known: false,
    };
    // nginx.conf roots come first, so their http levels are known before the site files.
    for (i, root) in includes.roots.iter().enumerate() {
        let Some(config) = project.nginx(root.file) else {
            continue;
        };
        let chain = Rc::new(Chain {
            file: root.file,
            via: None,
            parent: None,
        });
        // A site file no nginx.conf in the tree includes (sites-available/ without the
        // sites-enabled/ links, made at deploy time) is read inside the http block of the
        // nginx.conf above it, so it inherits what that http level sets.
        // Its top level joins that http level: levels keep matching `chain`.
        let (mut blocks, mut levels) =
            match host_of(project, &includes.roots, i).and_then(|h| walker.http_levels.get(&h)) {
                Some((http, levels)) if root.context == Context::Http => {
                    let (http, main_level, http_level) = (*http, levels[0], levels[1]);
                    walker.joins_level = Some((
                        walker.model.levels[http_level].clone(),
                        walker.model.levels_missing_include.contains(&http_level),
                    ));
                    walker.parents_known = true;
                    (vec![http], vec![main_level])
                }
                _ => {
                    walker.parents_known = root.context == Context::Main;
                    (Vec::new(), Vec::new())
                }
            };
        walker.walk_level(
            i,
            root.file,
            config.directives(),
            chain,
            &mut blocks,
            &mut levels,
            0,
        );
    }
    let mut model = walker.model;
    model.levels.shrink_to_fit();
    model.sites.shrink_to_fit();
    for (i, u) in model.upstreams.iter().enumerate() {
        model.upstream_index.entry(u.name).or_default().push(i);
    }
    for (i, level) in model.levels.iter().enumerate() {
        if level.iter().map(|r| r.count as usize).sum::<usize>() <= BIG_LEVEL {
            continue;
        }
        let directives: Vec<DirRef> = level.iter().flat_map(|r| r.directives()).collect();
        let mut names: HashMap<&str, Vec<usize>> = HashMap::new();
        for (pos, d) in directives.iter().enumerate() {
            names.entry(d.name()).or_default().push(pos);
        }
        model.big_levels.insert(i, BigLevel { directives, names });
    }
    model
}

/// Levels longer than this get a name index (an http level holding thousands of servers).
/// A site's own levels, a few dozen directives with their snippets expanded, are scanned:
/// indexing each of them cost more memory than the whole level.
const BIG_LEVEL: usize = 512;

/// The nginx.conf root whose directory is the nearest one holding root `i`'s file.
fn host_of(project: &Project, roots: &[Root], i: usize) -> Option<usize> {
    let path = project.canonical_path(roots[i].file)?;
    roots
        .iter()
        .enumerate()
        .filter(|(h, r)| *h != i && r.context == Context::Main)
        .filter_map(|(h, r)| {
            let dir = project.canonical_path(r.file)?.parent()?;
            path.starts_with(dir)
                .then_some((dir.components().count(), h))
        })
        .max()
        .map(|(_, h)| h)
}

struct Walker<'p, 'i> {
    project: &'p Project,
    includes: &'i IncludeMap,
    model: NginxModel<'p>,
    seen_cycles: BTreeSet<(FileId, u32)>,
    /// Per nginx.conf root: its `http` directive and the levels down to the http block.
    http_levels: HashMap<usize, (DirRef<'p>, Vec<usize>)>,
    /// Directives the next level starts with: a hosted site file's top level is the host's
    /// http level plus its own directives.
    joins_level: Option<(Vec<Run<'p>>, bool)>,
    /// Whether the root being walked is read where every outer level is in the tree.
    parents_known: bool,
}

/// The kind of block a root's top level is, from the context it is read in.
fn root_kind(context: Context) -> BlockKind {
    match context {
        Context::Main => BlockKind::Main,
        Context::Http => BlockKind::Http,
        Context::Server => BlockKind::Server,
        Context::Location => BlockKind::Location,
    }
}

/// The kind of the innermost block of `blocks`, read from a root of `context`.
fn block_kind(context: Context, blocks: &[DirRef<'_>]) -> BlockKind {
    blocks
        .iter()
        .fold(root_kind(context), |k, b| BlockKind::of_block(b.name(), k))
}

/// What makes two sibling locations compete for the same requests.
enum LocationKey<'p> {
    Regex { caseless: bool, pattern: &'p str },
    Named(&'p str),
}

fn location_key<'p>(d: &DirRef<'p>) -> Option<LocationKey<'p>> {
    let args = d.directive.args();
    match (
        args.first().map(|w| w.value()),
        args.get(1).map(|w| w.value()),
        args.len(),
    ) {
        (Some(m @ ("~" | "~*")), Some(_), 2) => Some(LocationKey::Regex {
            caseless: m == "~*",
            pattern: d.directive.arg(1)?,
        }),
        (Some(name), None, 1) if name.starts_with('@') => {
            Some(LocationKey::Named(d.directive.arg(0)?))
        }
        _ => None,
    }
}

/// Whether an earlier sibling location `first` takes every request `later` could match.
/// nginx tries regex locations in order and uses the first that matches; a named location is
/// looked up by name, first one first. (Prefix and exact duplicates `nginx -t` refuses itself.)
fn shadows(first: &LocationKey<'_>, later: &LocationKey<'_>) -> bool {
    match (first, later) {
        (
            LocationKey::Regex {
                caseless: c1,
                pattern: p1,
            },
            LocationKey::Regex {
                caseless: c2,
                pattern: p2,
            },
        ) => {
            // A caseless regex matches whatever its case-sensitive twin does, unless the
            // pattern switches case handling itself.
            p1 == p2 && (c1 == c2 || (*c1 && !p1.contains("(?")))
        }
        (LocationKey::Named(a), LocationKey::Named(b)) => a == b,
        _ => false,
    }
}

impl<'p> Walker<'p, '_> {
    /// One configuration level: flatten it (includes in place), record it, then descend.
    #[allow(clippy::too_many_arguments)]
    fn walk_level(
        &mut self,
        root: usize,
        file: FileId,
        items: Siblings<'p>,
        chain: Rc<Chain>,
        blocks: &mut Vec<DirRef<'p>>,
        levels: &mut Vec<usize>,
        depth: usize,
    ) {
        let (runs, misses_include) = self.joins_level.take().unwrap_or_default();
        let mut flat = Flat {
            directives: Vec::new(),
            runs,
            misses_include,
        };
        self.flatten(root, file, items, chain, blocks, &mut flat, depth);
        let Flat {
            directives: flat,
            mut runs,
            misses_include,
        } = flat;
        runs.shrink_to_fit();
        let level = self.model.levels.len();
        self.model.levels.push(runs);
        if misses_include {
            self.model.levels_missing_include.insert(level);
        }
        levels.push(level);
        let (sites_before, http_levels_before) = (self.model.sites.len(), self.http_levels.len());
        if blocks.len() == 1
            && blocks[0].name() == "http"
            && self.model.roots[root].context == Context::Main
        {
            self.http_levels
                .entry(root)
                .or_insert((blocks[0], levels.clone()));
        }

        // Whether every request this level handles is answered before it could be passed on.
        let mut answered: Option<bool> = None;
        let kind = block_kind(self.model.roots[root].context, blocks);
        let mut locations: Vec<(LocationKey<'p>, DirRef<'p>)> = Vec::new();
        for (d, link) in &flat {
            match d.name() {
                "user" if blocks.is_empty() => self.model.users.push((root, *d)),
                // Where nginx refuses the pass (`proxy_pass` at server level), `nginx -t`
                // fails: the directive is no site to give advice about.
                "fastcgi_pass" | "proxy_pass" if allowed_in(d.name(), kind) == Some(false) => {}
                "fastcgi_pass" | "proxy_pass" => {
                    let kind = if d.name() == "fastcgi_pass" {
                        PassKind::Fastcgi
                    } else {
                        PassKind::Proxy
                    };
                    let answered = *answered.get_or_insert_with(|| {
                        flat.iter().any(|(x, _)| answers_itself(x.directive))
                            || self.server_answers_itself(blocks, levels)
                    });
                    if answered {
                        continue;
                    }
                    self.model.sites.push(Site {
                        root,
                        kind,
                        pass: *d,
                        chain: blocks.clone(),
                        levels: levels.clone(),
                        parents_known: self.parents_known,
                    });
                }
                "location" => {
                    if let Some(key) = location_key(d) {
                        if let Some((_, first)) = locations.iter().find(|(k, _)| shadows(k, &key)) {
                            let same_text = first.file == d.file
                                && first.directive.span().start == d.directive.span().start;
                            self.model.unreachable.push(UnreachableLocation {
                                root,
                                location: *d,
                                shadowed_by: *first,
                                included_again_at: link.via.filter(|_| same_text),
                            });
                            continue;
                        }
                        locations.push((key, *d));
                    }
                }
                _ => {}
            }
            let Some(block) = d.directive.block() else {
                continue;
            };
            if d.name() == "upstream" {
                let servers = block
                    .directives()
                    .filter(|s| s.name() == "server")
                    .map(|s| DirRef {
                        file: d.file,
                        directive: s,
                    })
                    .collect();
                let name = d.directive.arg(0).unwrap_or("");
                self.model.upstreams.push(Upstream {
                    root,
                    name,
                    directive: *d,
                    servers,
                });
                continue;
            }
            if is_data_block(d.name()) {
                continue;
            }
            if depth >= MAX_DEPTH {
                self.model.include_issues.push(IncludeIssue::TooDeep {
                    file: d.file,
                    span: d.directive.name_word().span(),
                });
                continue;
            }
            blocks.push(*d);
            self.walk_level(
                root,
                d.file,
                block.directives(),
                link.clone(),
                blocks,
                levels,
                depth + 1,
            );
            blocks.pop();
        }
        levels.pop();
        // Only sites (and the http levels hosted site files join) look levels up: a block with
        // none under it (a redirect server, a static-files location) need not be kept.
        if self.model.sites.len() == sites_before && self.http_levels.len() == http_levels_before {
            self.model.levels.truncate(level);
            // Its sub-levels had no sites either, so they were dropped (and unmarked) already.
            self.model.levels_missing_include.remove(&level);
        }
    }

    /// The enclosing server's own level holds an unconditional `return`: nginx runs it in the
    /// server rewrite phase, before any location is chosen, for every request.
    fn server_answers_itself(&self, blocks: &[DirRef<'p>], levels: &[usize]) -> bool {
        let Some(pos) = blocks.iter().rposition(|b| b.name() == "server") else {
            return false;
        };
        // The site's own level was checked already; levels[i + 1] is the block of blocks[i].
        if pos + 2 == levels.len() {
            return false;
        }
        levels.get(pos + 1).is_some_and(|&l| {
            self.model.levels[l]
                .iter()
                .flat_map(|r| r.directives())
                .any(|d| d.is("return"))
        })
    }

    /// The directives of one level, with `include` replaced by the included files' directives.
    #[allow(clippy::too_many_arguments)]
    fn flatten(
        &mut self,
        root: usize,
        file: FileId,
        items: Siblings<'p>,
        chain: Rc<Chain>,
        blocks: &[DirRef<'p>],
        out: &mut Flat<'p>,
        depth: usize,
    ) {
        // The run this call is extending: consecutive directives other than includes.
        let mut open: Option<usize> = None;
        for d in items {
            if d.name() != "include" {
                out.directives
                    .push((DirRef { file, directive: d }, chain.clone()));
                match open {
                    Some(k) => out.runs[k].count += 1,
                    None => {
                        out.runs.push(Run {
                            file,
                            count: 1,
                            first: d,
                        });
                        open = Some(out.runs.len() - 1);
                    }
                }
                continue;
            }
            open = None;
            let prefix = self.model.roots[root].prefix.clone();
            let targets = self
                .includes
                .map
                .get(&(file, d.span().start, prefix))
                .map_or(&[][..], Vec::as_slice);
            // A glob that matches nothing is fine for nginx; a named file that is not there
            // (or did not parse) leaves this level partly unknown.
            if targets.is_empty() && !d.arg(0).is_some_and(crate::project::has_glob) {
                out.misses_include = true;
            }
            for &t in targets {
                let span = d.args().first().map_or(d.span(), |a| a.span());
                if chain.contains(t) {
                    if self.seen_cycles.insert((file, d.span().start)) {
                        let mut links = chain.includes();
                        links.push((file, span));
                        self.model.include_issues.push(IncludeIssue::Cycle {
                            chain: links,
                            file: t,
                        });
                    }
                    continue;
                }
                if depth >= MAX_DEPTH {
                    self.model
                        .include_issues
                        .push(IncludeIssue::TooDeep { file, span });
                    continue;
                }
                let Some(config) = self.project.nginx(t) else {
                    continue;
                };
                let reader = blocks
                    .iter()
                    .rev()
                    .find(|b| b.name() == "server")
                    .map_or((file, d.span().start), |s| {
                        (s.file, s.directive.span().start)
                    });
                self.model.readers.entry(t).or_default().insert(reader);
                let link = Rc::new(Chain {
                    file: t,
                    via: Some((file, span)),
                    parent: Some(chain.clone()),
                });
                self.flatten(root, t, config.directives(), link, blocks, out, depth + 1);
            }
        }
    }
}

impl<'p> NginxModel<'p> {
    /// The directives named `name` in effect at a site: those of the innermost level that sets
    /// any. This is nginx's merge rule for plain and array directives alike: a level that sets
    /// one `fastcgi_param` inherits none from outer levels.
    ///
    /// A level where nginx does not allow the directive (`fastcgi_buffer_size` in an `if`)
    /// is skipped: `nginx -t` refuses it, so it sets nothing the rules could judge.
    pub fn effective(&self, site: &Site<'p>, name: &str) -> Vec<DirRef<'p>> {
        site.levels
            .iter()
            .enumerate()
            .rev()
            .map(|(i, &level)| (i, self.all_named(level, name)))
            .find(|(i, found)| !found.is_empty() && self.allowed_at(site, *i, name))
            .map(|(_, found)| found)
            .unwrap_or_default()
    }

    /// The kind of block a site's level `i` is (0: the root file's top level).
    pub fn level_kind(&self, site: &Site<'p>, i: usize) -> BlockKind {
        block_kind(
            self.roots[site.root].context,
            &site.chain[..i.min(site.chain.len())],
        )
    }

    /// Whether nginx allows directive `name` at a site's level `i` (unknown directives: yes).
    pub fn allowed_at(&self, site: &Site<'p>, i: usize, name: &str) -> bool {
        allowed_in(name, self.level_kind(site, i)) != Some(false)
    }

    /// Whether every level above the site is in the tree (see [`Site::parents_known`]):
    /// findings that rest on a directive being absent are only errors where this holds.
    pub fn levels_above_known(&self, site: &Site<'p>) -> bool {
        site.parents_known
    }

    /// Whether the levels from the innermost `block` (e.g. "server") down to the site are all
    /// in the tree, which is all a check confined to them needs: true where
    /// [`levels_above_known`](Self::levels_above_known) holds or the site's own file holds
    /// such a block around it.
    pub fn known_from(&self, site: &Site<'p>, block: &str) -> bool {
        site.parents_known || site.chain.iter().any(|d| d.name() == block)
    }

    /// Whether adding the first `name` directive at a site's level `i` would cut off ones the
    /// level inherits now ([`stops_inheritance`](crate::model::contexts::stops_inheritance)
    /// directives, such as `fastcgi_param`): an outer level sets some, or the levels above
    /// are not in the tree and may. A fix must then carry the inherited ones along.
    pub fn would_cut_inheritance(&self, site: &Site<'p>, i: usize, name: &str) -> bool {
        if !crate::model::contexts::stops_inheritance(name) {
            return false;
        }
        let Some(&level) = site.levels.get(i) else {
            return false;
        };
        self.all_named(level, name).is_empty()
            && (!site.parents_known
                || site.levels[..i]
                    .iter()
                    .any(|&outer| !self.all_named(outer, name).is_empty()))
    }

    /// How many distinct servers read `file` through includes: an edit to a file more than
    /// one server reads changes all of them.
    pub fn servers_reading(&self, file: FileId) -> usize {
        self.readers.get(&file).map_or(0, HashSet::len)
    }

    /// The directives of one level (by id), includes expanded, in order.
    pub fn level(&self, level: usize) -> impl Iterator<Item = DirRef<'p>> + '_ {
        self.levels[level].iter().flat_map(|r| r.directives())
    }

    /// The directives named `name` at one level (by id), in order.
    pub fn all_named(&self, level: usize, name: &str) -> Vec<DirRef<'p>> {
        match self.big_levels.get(&level) {
            Some(big) => big.names.get(name).map_or_else(Vec::new, |pos| {
                pos.iter().map(|&p| big.directives[p]).collect()
            }),
            None => self.level(level).filter(|d| d.is(name)).collect(),
        }
    }

    /// The last directive named `name` at one level (by id): the one nginx keeps.
    pub fn last_named(&self, level: usize, name: &str) -> Option<DirRef<'p>> {
        match self.big_levels.get(&level) {
            Some(big) => big
                .names
                .get(name)
                .and_then(|pos| pos.last())
                .map(|&p| big.directives[p]),
            None => self.level(level).filter(|d| d.is(name)).last(),
        }
    }

    /// Whether an include in one of the site's levels (its own block or any enclosing one)
    /// names a file that could not be read: what that file sets is unknown here.
    pub fn site_misses_include(&self, site: &Site<'p>) -> bool {
        site.levels
            .iter()
            .any(|l| self.levels_missing_include.contains(l))
    }

    /// A FastCGI application that is not PHP-FPM: the address names another daemon
    /// (fcgiwrap's `/run/fcgiwrap.socket`, mailman, munin, cgit, uwsgi, hhvm...), or the
    /// location hands its backend a CGI script (`SCRIPT_FILENAME` naming a
    /// `.cgi`/`.pl`/`.py` file or a `cgi-bin` path). Such a pass is never joined to pools.
    pub fn passes_to_other_fastcgi_app(&self, site: &Site<'p>, target: &Target) -> bool {
        const DAEMONS: &[&str] = &[
            "fcgiwrap",
            "mailman",
            "munin",
            "cgit",
            "gitweb",
            "uwsgi",
            "hhvm",
            "smokeping",
            "nagios",
            "icinga",
            "awstats",
            "mapserv",
            "spawn-fcgi",
            "fcgi-cgi",
        ];
        let named = match target {
            Target::Unix(path) => path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase(),
            Target::Tcp { host, .. } => format!("{host:?}").to_ascii_lowercase(),
            Target::Upstream(name) | Target::Dynamic(name) => name.to_ascii_lowercase(),
        };
        if DAEMONS.iter().any(|d| named.contains(d)) {
            return true;
        }
        self.effective(site, "fastcgi_param").iter().any(|d| {
            d.arg(0) == Some("SCRIPT_FILENAME")
                && d.arg(1).is_some_and(|v| {
                    let v = v.to_ascii_lowercase();
                    [".cgi", ".pl", ".py"].iter().any(|e| v.ends_with(e)) || v.contains("cgi-bin")
                })
        })
    }

    /// A site's level ids, outermost first (as `site_levels`, for `all_named`/`last_named`).
    pub fn site_level_ids<'s>(&self, site: &'s Site<'p>) -> &'s [usize] {
        &site.levels
    }

    pub fn upstream(&self, root: usize, name: &str) -> Option<&Upstream<'p>> {
        let candidates = self.upstream_index.get(name)?;
        candidates
            .iter()
            .map(|&i| &self.upstreams[i])
            .find(|u| u.root == root)
            .or_else(|| candidates.first().map(|&i| &self.upstreams[i]))
    }

    /// A location serving php-fpm's own status or ping page (`location ~ ^/(status|ping)$`):
    /// php-fpm answers it without running a script, with a few small headers.
    pub fn is_fpm_status_page(&self, site: &Site<'p>) -> bool {
        let Some(loc) = site.chain.iter().rev().find(|d| d.name() == "location") else {
            return false;
        };
        let mentions = |what: &str| {
            loc.directive
                .args()
                .iter()
                .any(|a| a.value().to_ascii_lowercase().contains(what))
        };
        (mentions("status") || mentions("ping")) && !mentions(".php")
    }

    pub fn fastcgi_sites(&self) -> impl Iterator<Item = &Site<'p>> {
        self.sites.iter().filter(|s| s.kind == PassKind::Fastcgi)
    }

    /// The directives of each level a site sits in (includes expanded), outermost first:
    /// index 0 is the root file's top level, index `i > 0` the block of `site.chain[i - 1]`.
    pub fn site_levels(&self, site: &Site<'p>) -> Vec<Cow<'_, [DirRef<'p>]>> {
        site.levels
            .iter()
            .map(|&l| match self.big_levels.get(&l) {
                // Shared by every site under it (an http level of 10,000 servers): not copied.
                Some(big) => Cow::Borrowed(big.directives.as_slice()),
                None => Cow::Owned(self.level(l).collect()),
            })
            .collect()
    }

    /// Where a site connects: its own `fastcgi_pass`/`proxy_pass` address, or the servers of
    /// the upstream it names (`down` ones left out), each with the directive that writes it.
    pub fn pass_targets(&self, site: &Site<'p>) -> Vec<(DirRef<'p>, Word<'p>, Target)> {
        let Some(word) = site.pass.directive.args().first() else {
            return Vec::new();
        };
        match parse_target(word.value()) {
            Target::Upstream(name) => match self.upstream(site.root, &name) {
                Some(u) => u
                    .live_servers()
                    .filter_map(|s| {
                        let w = s.directive.args().first()?;
                        Some((*s, w, parse_target(w.value())))
                    })
                    .collect(),
                None => vec![(site.pass, word, Target::Upstream(name))],
            },
            t => vec![(site.pass, word, t)],
        }
    }
}

impl IncludeMap {
    /// The files one include directive (by its offset in `file`) resolved to when read under
    /// `prefix` (a root's), in nginx's order; None when it was never resolved.
    pub fn resolved(
        &self,
        file: FileId,
        directive_offset: u32,
        prefix: &Option<PathBuf>,
    ) -> Option<&[FileId]> {
        self.map
            .get(&(file, directive_offset, prefix.clone()))
            .map(Vec::as_slice)
    }

    /// The files an include directive (by its offset in `file`) resolved to, under any prefix.
    pub fn targets(&self, file: FileId, directive_offset: u32) -> Vec<FileId> {
        let mut out: Vec<FileId> = self
            .map
            .iter()
            .filter(|((f, o, _), _)| *f == file && *o == directive_offset)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Options;

    fn model_of(files: &[(&str, &str)], check: impl FnOnce(&NginxModel<'_>)) {
        let mut p = Project::from_memory(files, Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        check(&m);
    }

    #[test]
    fn array_directives_inherit_only_when_the_level_sets_none() {
        let conf = "events {}\nhttp {\n  fastcgi_param A 1;\n  fastcgi_buffer_size 16k;\n  server {\n    location /a { fastcgi_pass 127.0.0.1:9000; }\n    location /b { fastcgi_param B 2; fastcgi_pass 127.0.0.1:9000; }\n  }\n}\n";
        model_of(&[("nginx.conf", conf)], |m| {
            let sites: Vec<_> = m.fastcgi_sites().collect();
            assert_eq!(sites.len(), 2);
            let a: Vec<_> = m
                .effective(sites[0], "fastcgi_param")
                .iter()
                .map(|d| d.arg(0).unwrap())
                .collect();
            let b: Vec<_> = m
                .effective(sites[1], "fastcgi_param")
                .iter()
                .map(|d| d.arg(0).unwrap())
                .collect();
            assert_eq!(a, ["A"]);
            assert_eq!(b, ["B"]);
            assert_eq!(
                m.effective(sites[1], "fastcgi_buffer_size")[0].arg(0),
                Some("16k")
            );
            assert_eq!(
                sites[1].chain.iter().map(|d| d.name()).collect::<Vec<_>>(),
                ["http", "server", "location"]
            );
        });
    }

    #[test]
    fn levels_above_known_and_inheritance_cut() {
        let conf = "events {}\nhttp {\n  fastcgi_param A 1;\n  server {\n    location /a { fastcgi_pass 127.0.0.1:9000; }\n    location /b { fastcgi_param B 2; fastcgi_pass 127.0.0.1:9000; }\n  }\n}\n";
        let snippet = "location /c { fastcgi_pass 127.0.0.1:9000; }\n";
        model_of(&[("nginx.conf", conf), ("c.conf", snippet)], |m| {
            let sites: Vec<_> = m.fastcgi_sites().collect();
            assert_eq!(sites.len(), 3);
            let (a, b, c) = (sites[0], sites[1], sites[2]);
            assert!(m.levels_above_known(a) && m.levels_above_known(b));
            assert!(!m.levels_above_known(c));
            // Levels: main, http, server, location.
            assert!(m.would_cut_inheritance(a, 3, "fastcgi_param"));
            assert!(!m.would_cut_inheritance(b, 3, "fastcgi_param"));
            assert!(!m.would_cut_inheritance(a, 1, "fastcgi_param"));
            assert!(!m.would_cut_inheritance(a, 3, "fastcgi_buffer_size"));
            // The snippet's parents may set some: adding one there may cut them off.
            assert!(m.would_cut_inheritance(c, 1, "fastcgi_param"));
            assert_eq!(m.servers_reading(c.pass.file), 0);
        });
    }

    #[test]
    fn builtin_fastcgi_params_resolve_without_the_file() {
        let conf = "events {}\nhttp { server { location ~ \\.php$ { include fastcgi_params; fastcgi_pass unix:/run/php/php8.2-fpm.sock; } } }\n";
        model_of(&[("nginx.conf", conf)], |m| {
            let site = m.fastcgi_sites().next().unwrap();
            let params = m.effective(site, "fastcgi_param");
            assert!(params.len() > 10);
            assert!(params.iter().all(|d| d.arg(0) != Some("SCRIPT_FILENAME")));
        });
    }

    #[test]
    fn unreached_files_get_a_guessed_context() {
        let site = "server { listen 80; location / { proxy_pass http://app; } }";
        let snippet = "fastcgi_pass unix:/run/x.sock;";
        model_of(&[("site.conf", site), ("php.conf", snippet)], |m| {
            let ctx: Vec<_> = m.roots.iter().map(|r| r.context).collect();
            assert_eq!(ctx, [Context::Http, Context::Location]);
            assert_eq!(m.sites.len(), 2);
        });
    }

    #[test]
    fn site_files_nothing_includes_inherit_the_http_level_above_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sites-available")).unwrap();
        std::fs::write(
            root.join("nginx.conf"),
            "events {}\nhttp {\n    fastcgi_buffer_size 32k;\n    include sites-enabled/*;\n}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("sites-available/app.conf"),
            "server {\n    location ~ \\.php$ { fastcgi_pass unix:/run/php.sock; }\n}\n",
        )
        .unwrap();
        let mut p = Project::load(&[root.to_path_buf()], Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        let site = m.fastcgi_sites().next().unwrap();
        assert_eq!(
            m.effective(site, "fastcgi_buffer_size")[0].arg(0),
            Some("32k")
        );
        let chain: Vec<_> = site.chain.iter().map(|d| d.name()).collect();
        assert_eq!(chain, ["http", "server", "location"]);
        // Levels line up with the chain: level i > 0 is the body of chain[i - 1].
        let levels = m.site_levels(site);
        assert_eq!(levels.len(), chain.len() + 1);
        assert!(levels[1].iter().any(|d| d.name() == "fastcgi_buffer_size"));
        assert!(levels[1].iter().any(|d| d.name() == "server"));
    }
}
