//! What nginx refuses while it reads its configuration, checked the way `ngx_conf_handler`
//! checks each directive: every directive of every root, includes expanded in place (nginx's
//! order), in the exact kind of block it sits in.
//!
//! One walk serves the five `nginx-*` language rules: the first of them to run computes the
//! [`Report`] and each takes its own findings. A file is walked once per context it is read
//! in (a snippet included by 500 servers costs once); what a block-level check needs from an
//! included file (its directives nginx refuses twice, its locations, servers and upstreams)
//! is kept as a short summary and reused at every include.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use crate::diagnostic::{Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::directives::{self, ctx, Absence, Catalog, DirectiveSpec};
use crate::model::nginx::Context;
use crate::rules::{Finding, LintContext};
use crate::source::{FileId, Span};
use crate::syntax::nginx::{Directive, End, Siblings};

/// A multiply-rotate hash over 8-byte words (as rustc's FxHash): the walk hashes short names
/// and small integer keys hundreds of thousands of times on a large tree, where SipHash's
/// flood protection buys nothing (the keys are the user's own configuration).
#[derive(Clone, Copy, Default)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ rest.len() as u64);
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// A server name on a listen address.
type NameOnAddress<'a> = (&'a str, &'a str);

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// First occurrences by key: a short list scanned (most blocks hold a few directives nginx
/// accepts once), a map once it grows (an http level holding thousands of upstreams).
struct Seen<K, V> {
    few: Vec<(K, V)>,
    many: Option<FastMap<K, V>>,
}

impl<K: Eq + std::hash::Hash, V: Copy> Seen<K, V> {
    fn new() -> Self {
        Seen {
            few: Vec::new(),
            many: None,
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        match &self.many {
            Some(m) => m.get(k).copied(),
            None => self.few.iter().find(|(x, _)| x == k).map(|(_, v)| *v),
        }
    }

    fn insert(&mut self, k: K, v: V) {
        match &mut self.many {
            Some(m) => {
                m.insert(k, v);
            }
            None => {
                self.few.push((k, v));
                if self.few.len() > 16 {
                    self.many = Some(self.few.drain(..).collect());
                }
            }
        }
    }
}

/// The findings of one walk, by rule.
#[derive(Default, Debug)]
pub struct Report {
    pub unknown: Vec<Finding>,
    pub not_allowed: Vec<Finding>,
    pub arguments: Vec<Finding>,
    pub values: Vec<Finding>,
    pub duplicates: Vec<Finding>,
}

/// The walk's findings, computed once per lint run.
pub fn report<'c>(cx: &'c LintContext<'_, '_>) -> &'c Report {
    cx.nginx_language.get_or_init(|| analyse(cx))
}

/// The directives of the build being linted: the settings' selection, plus the modules the
/// tree's `load_module` lines load.
fn catalog(cx: &LintContext<'_, '_>) -> Catalog {
    Catalog::for_project(cx.settings, cx.project)
}

/// Said by a finding in a file no nginx.conf in the tree includes.
const CONTEXT_ASSUMED: &str = "no nginx.conf in the tree includes this file, so the block it is read in is assumed from its contents";

/// What the context of a directive rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Basis {
    /// Read from an nginx.conf.
    Known,
    /// The top level of a file no nginx.conf includes: any block could include it.
    AssumedTop,
    /// A block inside such a file: known relative to the assumed top.
    Assumed,
}

impl Basis {
    fn inner(self) -> Basis {
        match self {
            Basis::Known => Basis::Known,
            _ => Basis::Assumed,
        }
    }
}

/// The `ctx` bit of a root's top level and what it rests on.
fn root_ctx(context: Context) -> (u32, Basis) {
    match context {
        Context::Main => (ctx::MAIN, Basis::Known),
        Context::Http => (ctx::HTTP, Basis::AssumedTop),
        Context::Server => (ctx::HTTP_SRV, Basis::AssumedTop),
        Context::Location => (ctx::HTTP_LOC, Basis::AssumedTop),
    }
}

/// The context of the block a directive opens, for blocks whose body is directives nginx
/// reads with the context flags this table models. None: not judged inside (data blocks such
/// as `map` or `types`, other modules' own blocks, a block nginx refuses here).
fn child_ctx(name: &str, outer: u32) -> Option<u32> {
    Some(match (name, outer) {
        ("events", ctx::MAIN) => ctx::EVENTS,
        ("http", ctx::MAIN) => ctx::HTTP,
        ("mail", ctx::MAIN) => ctx::MAIL,
        ("stream", ctx::MAIN) => ctx::STREAM,
        ("server", ctx::HTTP) => ctx::HTTP_SRV,
        ("upstream", ctx::HTTP) => ctx::HTTP_UPS,
        ("location", ctx::HTTP_SRV | ctx::HTTP_LOC) => ctx::HTTP_LOC,
        ("if", ctx::HTTP_SRV) => ctx::HTTP_SIF,
        ("if", ctx::HTTP_LOC) => ctx::HTTP_LIF,
        ("limit_except", ctx::HTTP_LOC) => ctx::HTTP_LMT,
        ("server", ctx::MAIL) => ctx::MAIL_SRV,
        ("server", ctx::STREAM) => ctx::STREAM_SRV,
        ("upstream", ctx::STREAM) => ctx::STREAM_UPS,
        _ => return None,
    })
}

/// How nginx's documentation names a context.
fn ctx_names(bits: u32) -> Vec<&'static str> {
    [
        (ctx::MAIN, "main"),
        (ctx::EVENTS, "events"),
        (ctx::HTTP, "http"),
        (ctx::HTTP_SRV, "server"),
        (ctx::HTTP_LOC, "location"),
        (ctx::HTTP_SIF, "if in server"),
        (ctx::HTTP_LIF, "if in location"),
        (ctx::HTTP_LMT, "limit_except"),
        (ctx::HTTP_UPS, "upstream"),
        (ctx::MAIL, "mail"),
        (ctx::MAIL_SRV, "mail server"),
        (ctx::STREAM, "stream"),
        (ctx::STREAM_SRV, "stream server"),
        (ctx::STREAM_UPS, "stream upstream"),
    ]
    .into_iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, name)| name)
    .collect()
}

/// What a block-level check needs of one directive of the block.
#[derive(Clone, Debug)]
enum Kind {
    /// nginx refuses a second one in the same block.
    RefusesDuplicate,
    /// A prefix (`/x`, `^~ /x`) or exact (`= /x`) location.
    Location {
        exact: bool,
    },
    Upstream,
    /// A `server` line inside an upstream.
    UpstreamServer,
    /// A directive in an upstream from another module (it may add servers of its own).
    UpstreamOther,
    Listen,
    ServerName,
    /// An http `server { }` block, summarised.
    Server(Rc<ServerInfo>),
}

#[derive(Clone, Debug)]
struct Item<'p> {
    file: FileId,
    directive: Directive<'p>,
    name: &'p str,
    kind: Kind,
}

/// A top level with its includes expanded: the items a block check needs, and whether an
/// include in it named a file that could not be read (what the block holds is then unknown).
#[derive(Default)]
struct Summary<'p> {
    items: Vec<Item<'p>>,
    incomplete: bool,
}

/// One listen address as nginx prints it (`0.0.0.0:80`, `[::]:443`, `unix:/run/x.sock`).
#[derive(Clone, Debug)]
struct Listen {
    addr: String,
    default_server: bool,
    file: FileId,
    span: Span,
}

#[derive(Debug)]
struct ServerInfo {
    listens: Vec<Listen>,
    /// Plain names (no regex, no wildcard), lowercased as nginx stores them.
    names: Vec<(String, FileId, Span)>,
}

struct Walk<'c, 'x, 'p> {
    cx: &'c LintContext<'x, 'p>,
    catalog: &'c Catalog,
    prefixes: Vec<Option<PathBuf>>,
    /// (file, ctx, prefix, assumed) -> its top level's summary.
    memo: FastMap<(FileId, u32, usize, Basis), Rc<Summary<'p>>>,
    /// The catalog's entries by name, looked up once per distinct name.
    specs: FastMap<&'p str, &'c [DirectiveSpec]>,
    /// Files being read, for include cycles (reported by include-cycle).
    reading: Vec<FileId>,
    /// The include directives (file, argument) the file being read was reached through.
    via: Vec<(FileId, Span)>,
    out: Report,
}

fn analyse(cx: &LintContext<'_, '_>) -> Report {
    let catalog = catalog(cx);
    let mut walk = Walk {
        cx,
        catalog: &catalog,
        prefixes: Vec::new(),
        memo: FastMap::default(),
        specs: FastMap::default(),
        reading: Vec::new(),
        via: Vec::new(),
        out: Report::default(),
    };
    for root in &cx.nginx.roots {
        let Some(config) = cx.project.nginx(root.file) else {
            continue;
        };
        if cx.project.sources.get(root.file).is_builtin() {
            continue;
        }
        let (ctx, assumed) = root_ctx(root.context);
        if assumed != Basis::Known && looks_like_data(config.directives()) {
            continue;
        }
        let prefix = match walk.prefixes.iter().position(|p| *p == root.prefix) {
            Some(i) => i,
            None => {
                walk.prefixes.push(root.prefix.clone());
                walk.prefixes.len() - 1
            }
        };
        let summary = walk.file(root.file, ctx, prefix, assumed);
        walk.check_level(ctx, &summary.items, summary.incomplete, assumed);
    }
    let mut out = walk.out;
    // A file read both from an nginx.conf and from a root of assumed context: the certain
    // finding stands.
    for list in [
        &mut out.unknown,
        &mut out.not_allowed,
        &mut out.arguments,
        &mut out.values,
        &mut out.duplicates,
    ] {
        let certain: HashSet<(FileId, Span)> = list
            .iter()
            .filter(|f| f.severity.is_none())
            .map(|f| (f.labels[0].file, f.labels[0].span))
            .collect();
        list.retain(|f| {
            f.severity.is_none() || !certain.contains(&(f.labels[0].file, f.labels[0].span))
        });
    }
    out
}

/// A file of data rather than directives (a `map` body, a list of types) that nothing in the
/// tree includes: its "directives" are keys (`example.com`, `text/html`, `~^/old`, `default`).
fn looks_like_data(items: Siblings<'_>) -> bool {
    items.into_iter().any(|d| {
        let name = d.name();
        matches!(name, "default" | "hostnames" | "volatile" | "ranges")
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

impl<'c, 'p> Walk<'c, '_, 'p> {
    /// A file's top level read in `ctx`: walked the first time, its summary reused after.
    fn file(&mut self, file: FileId, ctx: u32, prefix: usize, assumed: Basis) -> Rc<Summary<'p>> {
        let key = (file, ctx, prefix, assumed);
        if let Some(s) = self.memo.get(&key) {
            return s.clone();
        }
        let mut summary = Summary::default();
        if let Some(config) = self.cx.project.nginx(file) {
            self.reading.push(file);
            self.level(
                file,
                config.directives(),
                ctx,
                prefix,
                assumed,
                &mut summary,
            );
            self.reading.pop();
        }
        let summary = Rc::new(summary);
        self.memo.insert(key, summary.clone());
        summary
    }

    /// The directives of one level of one file, in order: each checked, includes read in
    /// place, blocks walked and checked, and what the level's own check needs collected.
    fn level(
        &mut self,
        file: FileId,
        items: Siblings<'p>,
        ctx: u32,
        prefix: usize,
        assumed: Basis,
        out: &mut Summary<'p>,
    ) {
        for d in items {
            let name = d.name();
            let spec = self.directive(file, d, name, ctx, assumed);
            if spec.is_some() && matches!(name, "access_log" | "use") {
                super::nginx_data_blocks::single_directive(file, d, ctx, &mut self.out);
            }
            if name == "include" && d.args().len() == 1 {
                self.include(file, d, ctx, prefix, assumed, out);
                continue;
            }
            if let Some(kind) = item_kind(d, name, ctx, spec) {
                out.items.push(Item {
                    file,
                    directive: d,
                    name,
                    kind,
                });
            }
            let Some(block) = d.block() else { continue };
            if spec.is_none() {
                continue;
            }
            let Some(inner) = child_ctx(name, ctx) else {
                let prefix = &self.prefixes[prefix];
                super::nginx_data_blocks::check_data_block(
                    self.cx,
                    prefix,
                    file,
                    d,
                    ctx,
                    &mut self.out,
                );
                continue;
            };
            if inner == ctx::HTTP_LOC {
                super::nginx_data_blocks::nested_locations(file, d, &mut self.out);
            }
            let mut body = Summary::default();
            let basis = assumed.inner();
            self.level(file, block.directives(), inner, prefix, basis, &mut body);
            self.check_level(inner, &body.items, body.incomplete, basis);
            if inner == ctx::HTTP_SRV {
                out.items.push(Item {
                    file,
                    directive: d,
                    name,
                    kind: Kind::Server(Rc::new(server_info(&body.items))),
                });
            }
            if (inner == ctx::HTTP_UPS || inner == ctx::STREAM_UPS) && !body.incomplete {
                self.empty_upstream(file, d, &body.items);
            }
        }
    }

    fn include(
        &mut self,
        file: FileId,
        d: Directive<'p>,
        ctx: u32,
        prefix: usize,
        assumed: Basis,
        out: &mut Summary<'p>,
    ) {
        let targets = self
            .cx
            .nginx_includes
            .resolved(file, d.span().start, &self.prefixes[prefix])
            .unwrap_or(&[]);
        if targets.is_empty() && !d.arg(0).is_some_and(crate::project::has_glob) {
            out.incomplete = true;
        }
        for &t in targets {
            if self.reading.contains(&t) || self.reading.len() > 100 {
                out.incomplete = true;
                continue;
            }
            let arg = d.args().first().map_or(d.span(), |a| a.span());
            self.via.push((file, arg));
            let s = self.file(t, ctx, prefix, assumed);
            self.via.pop();
            out.items.extend(s.items.iter().cloned());
            out.incomplete |= s.incomplete;
        }
    }

    /// `ngx_conf_handler`'s checks of one directive in a block of kind `ctx`; the entry nginx
    /// would use when the directive is allowed there.
    fn directive(
        &mut self,
        file: FileId,
        d: Directive<'p>,
        name: &'p str,
        ctx: u32,
        assumed: Basis,
    ) -> Option<&'c DirectiveSpec> {
        let specs: &'c [DirectiveSpec] = match self.specs.get(name) {
            Some(s) => s,
            None => {
                let s = self.catalog.specs(name);
                self.specs.insert(name, s);
                s
            }
        };
        if specs.is_empty() {
            let f = self.unknown(file, d, ctx);
            self.out.unknown.push(f);
            return None;
        }
        let Some(spec) = specs.iter().find(|s| s.contexts & ctx != 0) else {
            let mut f = not_allowed(file, d, ctx, specs, assumed);
            // A snippet may be included in other blocks too: say which include brings it here.
            if let Some(&(inc_file, inc_span)) = self.via.last() {
                let here = ctx_names(ctx).join("");
                f = f.label(Label::secondary(
                    inc_file,
                    inc_span,
                    format!("included here, in {here}"),
                ));
            }
            self.out.not_allowed.push(f);
            return None;
        };
        // Where the context is assumed, another entry of the name may be the one nginx uses:
        // only a shape no entry accepts is certain.
        let shape_problem = |s: &DirectiveSpec| shape_problem(s, d);
        let problem = match shape_problem(spec) {
            Some(p)
                if assumed == Basis::Known || specs.iter().all(|s| shape_problem(s).is_some()) =>
            {
                Some(p)
            }
            _ => None,
        };
        if let Some((message, span)) = problem {
            self.out.arguments.push(
                Finding::new(message, Label::primary(file, span, "as nginx counts it"))
                    .help(shape_help(spec)),
            );
            return Some(spec);
        }
        if assumed == Basis::Known || specs.len() == 1 {
            if let Some(p) = directives::values::check_for_version(spec, d, self.catalog.version())
            {
                // The message is nginx's own, naming the directive.
                self.out.values.push(Finding::new(
                    p.message,
                    Label::primary(file, p.span, "nginx refuses this value"),
                ));
            }
        }
        Some(spec)
    }

    fn unknown(&self, file: FileId, d: Directive<'p>, ctx: u32) -> Finding {
        let name = d.name();
        let word = d.name_word().span();
        let mut f = Finding::new(
            format!("unknown directive \"{name}\""),
            Label::primary(file, word, "nginx does not know this directive"),
        );
        let close = close_names(self.catalog, name, ctx);
        let mut help = Vec::new();
        let given = self
            .catalog
            .version()
            .map(|v| format!(" ({}.{}.{})", v.0, v.1, v.2))
            .unwrap_or_default();
        match self.catalog.absence(name) {
            Some(Absence::NewerThan(v)) => help.push(format!(
                "`{name}` came in nginx {}.{}.{}, after the `nginx-version` given{given}",
                v.0, v.1, v.2
            )),
            Some(Absence::RemovedIn(v)) => help.push(format!(
                "`{name}` was removed in nginx {}.{}.{}, at or before the `nginx-version` given{given}",
                v.0, v.1, v.2
            )),
            Some(Absence::ModuleNotSelected(m)) => help.push(format!(
                "`{name}` belongs to {m}, which is not in the `nginx-modules` selection, and no `load_module` line loads it"
            )),
            None => {}
        }
        if !close.is_empty() {
            let list: Vec<String> = close.iter().map(|n| format!("`{n}`")).collect();
            help.push(format!("did you mean {}?", list.join(" or ")));
        }
        let unheard_of = self.catalog.absence(name).is_none();
        let could_be_a_directive = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if unheard_of && close.is_empty() && could_be_a_directive && self.catalog.is_complete() {
            // Nothing like it anywhere, yet shaped like a directive name: more likely a module
            // or patch outside the table (a custom build) than a typo, so not certain enough
            // for an error. A MIME type or a hex code out of its block is no directive at all.
            help.push(format!(
                "no directive of nginx or of the {} modules known here is close to it; if your nginx is built with a module or patch that adds it, declare it with `extra-directives`",
                directives::modules().len()
            ));
            f = f.severity(Severity::Warning);
        }
        if unheard_of && !self.catalog.is_complete() {
            help.push(format!(
                "not certain: the tree loads modules whose directives are not known here ({}); declare their directives with `extra-directives`",
                self.catalog.unknown_load_modules().join(", ")
            ));
            f = f.severity(Severity::Warning);
        }
        if !help.is_empty() {
            f = f.help(help.join("; "));
        }
        if let [only] = close.as_slice() {
            f = f.fix(Some(Fix::new(
                format!("rename `{name}` to `{only}`"),
                Applicability::Unsafe,
                vec![Edit::replace(file, word, *only)],
            )));
        }
        f
    }

    /// `no servers are inside upstream`: an upstream with no `server` line, where nothing
    /// else in it (another module's directive, an unreadable include) may provide one.
    fn empty_upstream(&mut self, file: FileId, d: Directive<'p>, items: &[Item<'p>]) {
        let provided = items
            .iter()
            .any(|i| matches!(i.kind, Kind::UpstreamServer | Kind::UpstreamOther));
        if provided {
            return;
        }
        // nginx names the line of the upstream's closing brace.
        let end = match d.end() {
            End::Block { close, .. } => close,
            _ => d.name_word().span(),
        };
        self.out.duplicates.push(
            Finding::new(
                "no servers are inside upstream",
                Label::primary(file, end, "no `server` before the end of the upstream"),
            )
            .label(Label::secondary(
                file,
                d.name_word().span(),
                "this upstream",
            ))
            .help(
                "add a `server` line (nginx refuses an upstream with none), or remove the upstream",
            ),
        );
    }

    /// The checks of one block once its includes are read: directives nginx refuses twice,
    /// duplicate locations, and (at the http level) upstreams and listen sockets.
    fn check_level(&mut self, ctx: u32, items: &[Item<'p>], _incomplete: bool, assumed: Basis) {
        let mut first: Seen<&str, &Item<'p>> = Seen::new();
        let mut locations: Seen<(bool, &str), &Item<'p>> = Seen::new();
        let mut upstreams: Seen<String, &Item<'p>> = Seen::new();
        for item in items {
            match item.kind {
                Kind::RefusesDuplicate => {
                    let name = item.name;
                    match first.get(&name) {
                        Some(earlier) => {
                            // Only certain where the entry nginx uses is known.
                            let certain = assumed == Basis::Known
                                || self.catalog.specs(name).iter().all(|s| s.refuses_duplicate);
                            if certain {
                                self.out.duplicates.push(duplicate(
                                    format!("\"{name}\" directive is duplicate"),
                                    item,
                                    earlier,
                                    "nginx accepts one per block",
                                    assumed,
                                ));
                            }
                        }
                        None => {
                            first.insert(name, item);
                        }
                    }
                }
                Kind::Location { exact } => {
                    let Some(uri) = location_uri(item.directive) else {
                        continue;
                    };
                    match locations.get(&(exact, uri)) {
                        Some(earlier) => self.out.duplicates.push(duplicate(
                            format!("duplicate location \"{uri}\""),
                            item,
                            earlier,
                            if exact {
                                "two exact (`=`) locations for one URI"
                            } else {
                                "two prefix locations (`^~` or none) for one URI"
                            },
                            assumed,
                        )),
                        None => {
                            locations.insert((exact, uri), item);
                        }
                    }
                }
                Kind::Upstream => {
                    let Some(name) = item.directive.arg(0) else {
                        continue;
                    };
                    // nginx compares upstream names ignoring case.
                    match upstreams.get(&name.to_ascii_lowercase()) {
                        Some(earlier) => self.out.duplicates.push(duplicate(
                            format!("duplicate upstream \"{name}\""),
                            item,
                            earlier,
                            "upstream names must differ (case is ignored)",
                            assumed,
                        )),
                        None => {
                            upstreams.insert(name.to_ascii_lowercase(), item);
                        }
                    }
                }
                _ => {}
            }
        }
        if ctx == ctx::HTTP {
            self.servers(items, assumed);
        }
    }

    /// Listen sockets across the servers of one http block: two default servers for one
    /// address, one address twice in a server, one name twice on one address (a warning).
    fn servers(&mut self, items: &[Item<'p>], basis: Basis) {
        let mut defaults: Seen<&str, &Listen> = Seen::new();
        let mut names: FastMap<NameOnAddress, (FileId, Span)> = FastMap::default();
        for item in items {
            let Kind::Server(info) = &item.kind else {
                continue;
            };
            let mut own: Vec<(&str, &Listen)> = Vec::new();
            for l in &info.listens {
                if let Some(&(_, earlier)) = own.iter().find(|(a, _)| *a == l.addr) {
                    let f = Finding::new(
                        format!("a duplicate listen {}", l.addr),
                        Label::primary(l.file, l.span, "the same address again"),
                    )
                    .label(Label::secondary(earlier.file, earlier.span, "first here"))
                    .help("a server listens on an address once: remove one `listen`");
                    let f = across_assumed_include(f, basis, l.file, earlier.file);
                    self.out.duplicates.push(f);
                    continue;
                }
                own.push((&l.addr, l));
                if l.default_server {
                    match defaults.get(&l.addr.as_str()) {
                        Some(earlier) => {
                            let f = Finding::new(
                                format!("a duplicate default server for {}", l.addr),
                                Label::primary(l.file, l.span, "a second default server"),
                            )
                            .label(Label::secondary(
                                earlier.file,
                                earlier.span,
                                "the default server already",
                            ))
                            .help("one server per address may be `default_server`: remove the flag from one");
                            let f = across_assumed_include(f, basis, l.file, earlier.file);
                            self.out.duplicates.push(f);
                        }
                        None => {
                            defaults.insert(&l.addr, l);
                        }
                    }
                }
            }
            // nginx compares names across servers only: one server may repeat its own.
            let mut added: Vec<(NameOnAddress, (FileId, Span))> = Vec::new();
            for (addr, _) in &own {
                for (name, file, span) in &info.names {
                    match names.get(&(*addr, name.as_str())) {
                        Some(&(f0, s0)) => self.out.duplicates.push(
                            Finding::new(
                                format!("conflicting server name \"{name}\" on {addr}, ignored"),
                                Label::primary(*file, *span, "ignored by nginx"),
                            )
                            .label(Label::secondary(f0, s0, "this server gets the requests"))
                            .severity(Severity::Warning)
                            .help("nginx starts, but only the first server with this name on this address answers it"),
                        ),
                        None => added.push(((*addr, name.as_str()), (*file, *span))),
                    }
                }
            }
            names.extend(added);
        }
    }
}

/// What a block check needs to know of `d`, in a block of kind `ctx` where nginx uses `spec`.
fn item_kind(d: Directive<'_>, name: &str, ctx: u32, spec: Option<&DirectiveSpec>) -> Option<Kind> {
    let spec = spec?;
    // Most directives are none of these: a length test rules them out before any compare.
    if matches!(name.len(), 6 | 8 | 11) {
        match (name, ctx) {
            ("location", ctx::HTTP_SRV | ctx::HTTP_LOC) => {
                return location_kind(d).map(|exact| Kind::Location { exact })
            }
            ("upstream", ctx::HTTP) if d.block().is_some() => return Some(Kind::Upstream),
            ("server", ctx::HTTP_UPS | ctx::STREAM_UPS) => return Some(Kind::UpstreamServer),
            ("listen", ctx::HTTP_SRV) => return Some(Kind::Listen),
            ("server_name", ctx::HTTP_SRV) => return Some(Kind::ServerName),
            _ => {}
        }
    }
    if ctx == ctx::HTTP_UPS || ctx == ctx::STREAM_UPS {
        let upstream_module = spec.module.starts_with("ngx_http_upstream")
            || spec.module.starts_with("ngx_stream_upstream");
        if !upstream_module {
            return Some(Kind::UpstreamOther);
        }
    }
    spec.refuses_duplicate.then_some(Kind::RefusesDuplicate)
}

/// Whether a location is exact (`= /x`) or prefix (`/x`, `^~ /x`); None for regex and named
/// ones, which nginx does not compare.
fn location_kind(d: Directive<'_>) -> Option<bool> {
    let args = d.args();
    let first = args.first()?.value();
    match (first, args.len()) {
        ("=", 2) => Some(true),
        ("^~", 2) => Some(false),
        (_, 1) if first.starts_with('~') || first.starts_with('@') => None,
        (_, 1) if first.starts_with('=') => Some(true),
        (_, 1) => Some(false),
        _ => None,
    }
}

/// The URI of a prefix or exact location, as nginx compares it.
fn location_uri<'p>(d: Directive<'p>) -> Option<&'p str> {
    let args = d.args();
    if args.len() == 2 {
        return Some(args.get(1)?.value());
    }
    let first = args.first()?.value();
    Some(
        first
            .strip_prefix("^~")
            .or_else(|| first.strip_prefix('='))
            .unwrap_or(first),
    )
}

/// A server's listen addresses and plain names, from its level.
fn server_info(items: &[Item<'_>]) -> ServerInfo {
    let mut info = ServerInfo {
        listens: Vec::new(),
        names: Vec::new(),
    };
    for item in items {
        match item.kind {
            Kind::Listen => {
                let args = item.directive.args();
                let Some(first) = args.first() else { continue };
                let Some(addr) = listen_addr(first.value()) else {
                    continue;
                };
                // A QUIC listen (nginx 1.25+) is a UDP socket: `listen 443 quic` beside
                // `listen 443 ssl` is no duplicate. Such listens are left out of the checks.
                if args.iter().skip(1).any(|a| a.is("quic")) {
                    continue;
                }
                let default_server = args
                    .iter()
                    .skip(1)
                    .any(|a| a.is("default_server") || a.is("default"));
                info.listens.push(Listen {
                    addr,
                    default_server,
                    file: item.file,
                    span: item.directive.span(),
                });
            }
            Kind::ServerName => {
                for w in item.directive.args().iter() {
                    let n = w.value();
                    let plain =
                        !n.starts_with('~') && !n.starts_with('.') && !n.contains(['*', '$']);
                    if plain {
                        info.names
                            .push((n.to_ascii_lowercase(), item.file, w.span()));
                    }
                }
            }
            _ => {}
        }
    }
    info
}

/// A `listen` address as nginx prints it; None for a host name (resolved at start).
fn listen_addr(a: &str) -> Option<String> {
    if a.starts_with("unix:") {
        return Some(a.to_owned());
    }
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = a.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) if port_ok(p) => p,
            None if tail.is_empty() => "80",
            _ => return None,
        };
        if host != "::" && !host.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return None;
        }
        return Some(format!("[{}]:{port}", host.to_ascii_lowercase()));
    }
    if port_ok(a) {
        return Some(format!("0.0.0.0:{a}"));
    }
    let (host, port) = match a.rsplit_once(':') {
        Some((h, p)) if port_ok(p) => (h, p),
        Some(_) => return None,
        None => (a, "80"),
    };
    let host = if host == "*" { "0.0.0.0" } else { host };
    let ipv4 = host.split('.').count() == 4
        && host
            .split('.')
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok());
    ipv4.then(|| format!("{host}:{port}"))
}

/// A second one of something nginx wants once.
fn duplicate(
    message: String,
    item: &Item<'_>,
    earlier: &Item<'_>,
    why: &str,
    basis: Basis,
) -> Finding {
    let f = Finding::new(
        message,
        Label::primary(item.file, item.directive.name_word().span(), why),
    )
    .label(Label::secondary(
        earlier.file,
        earlier.directive.name_word().span(),
        "first here",
    ))
    .help("nginx refuses to start or reload; keep one");
    across_assumed_include(f, basis, item.file, earlier.file)
}

/// Two files brought together by an include of a file no nginx.conf includes: that include
/// was resolved without the prefix nginx would use, so the pair is not certain.
fn across_assumed_include(f: Finding, basis: Basis, a: FileId, b: FileId) -> Finding {
    if basis == Basis::Known || a == b {
        return f;
    }
    let help = format!(
        "{}. Not certain: {CONTEXT_ASSUMED}, and its includes were resolved without the nginx.conf that sets their prefix",
        f.help.as_deref().unwrap_or_default()
    );
    f.severity(Severity::Warning).help(help)
}

fn not_allowed(
    file: FileId,
    d: Directive<'_>,
    ctx: u32,
    specs: &[DirectiveSpec],
    assumed: Basis,
) -> Finding {
    let name = d.name();
    let allowed = specs.iter().fold(0, |acc, s| acc | s.contexts);
    let places = ctx_names(allowed);
    let here = ctx_names(ctx).join("");
    let mut help = if places.is_empty() {
        format!("`{name}` is not allowed in any block this linter models")
    } else {
        format!(
            "`{name}` is allowed in: {}; move it there",
            places.join(", ")
        )
    };
    let mut f = Finding::new(
        format!("\"{name}\" directive is not allowed here"),
        Label::primary(file, d.name_word().span(), format!("not allowed in {here}")),
    );
    match assumed {
        Basis::Known => {}
        Basis::AssumedTop => {
            help = format!(
                "{help}. Not certain: {CONTEXT_ASSUMED} ({here}); another block may include it"
            );
            f = f.severity(Severity::Info);
        }
        Basis::Assumed => {
            help = format!("{help}. Not certain: {CONTEXT_ASSUMED}");
            f = f.severity(Severity::Warning);
        }
    }
    f.help(help)
}

/// nginx's refusal of a directive's shape: its terminator, then its argument count.
fn shape_problem(spec: &DirectiveSpec, d: Directive<'_>) -> Option<(String, Span)> {
    use directives::args;
    let wants_block = spec.args & args::BLOCK != 0;
    match (wants_block, d.end()) {
        (false, End::Block { open, .. } | End::Raw { open, .. }) => {
            return Some((
                format!("directive \"{}\" is not terminated by \";\"", d.name()),
                open,
            ))
        }
        (true, End::Semicolon { span }) => {
            return Some((
                format!("directive \"{}\" has no opening \"{{\"", d.name()),
                span,
            ))
        }
        _ => {}
    }
    let args = d.args();
    let n = args.len();
    if directives::arg_count_ok(spec.args, n) {
        return None;
    }
    let span = if n == 0 {
        d.name_word().span()
    } else {
        args.span()
    };
    Some((
        format!("invalid number of arguments in \"{}\" directive", d.name()),
        span,
    ))
}

/// The argument shape nginx expects, in words.
fn shape_help(spec: &DirectiveSpec) -> String {
    use directives::args;
    let a = spec.args;
    let takes = if a & args::ANY != 0 {
        "any number of arguments".to_owned()
    } else if a & args::FLAG != 0 {
        "one argument, `on` or `off`".to_owned()
    } else if a & args::ONE_MORE != 0 {
        "one or more arguments".to_owned()
    } else if a & args::TWO_MORE != 0 {
        "two or more arguments".to_owned()
    } else {
        let counts: Vec<String> = (0..8)
            .filter(|&n| directives::arg_count_ok(a, n))
            .map(|n| n.to_string())
            .collect();
        match counts.as_slice() {
            [] => "no arguments this linter knows of".to_owned(),
            [one] if one == "1" => "exactly 1 argument".to_owned(),
            [one] => format!("exactly {one} arguments"),
            many => format!("{} arguments", many.join(" or ")),
        }
    };
    let block = if a & args::BLOCK != 0 {
        ", then a `{ }` block"
    } else {
        ", then `;`"
    };
    format!("`{}` takes {takes}{block}", spec.name)
}

/// Directive names valid in `ctx` within a small edit distance of `name`, closest first.
fn close_names(catalog: &Catalog, name: &str, ctx: u32) -> Vec<&'static str> {
    let limit = (name.chars().count() / 5).clamp(1, 3);
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    for candidate in catalog.names_in(ctx) {
        if candidate.len().abs_diff(name.len()) > limit {
            continue;
        }
        let d = damerau_levenshtein(name, candidate);
        if d <= limit {
            found.push((d, candidate));
        }
    }
    found.sort();
    found.truncate(3);
    found.into_iter().map(|(_, n)| n).collect()
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment).
fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_count_as_one_edit() {
        assert_eq!(damerau_levenshtein("fastcgi_pas", "fastcgi_pass"), 1);
        assert_eq!(damerau_levenshtein("fastcig_pass", "fastcgi_pass"), 1);
        assert_eq!(damerau_levenshtein("root", "root"), 0);
        assert_eq!(damerau_levenshtein("abc", ""), 3);
    }

    #[test]
    fn listen_addresses_as_nginx_prints_them() {
        assert_eq!(listen_addr("80").as_deref(), Some("0.0.0.0:80"));
        assert_eq!(listen_addr("*:8080").as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(listen_addr("127.0.0.1").as_deref(), Some("127.0.0.1:80"));
        assert_eq!(listen_addr("[::]:443").as_deref(), Some("[::]:443"));
        assert_eq!(
            listen_addr("unix:/run/a.sock").as_deref(),
            Some("unix:/run/a.sock")
        );
        assert_eq!(listen_addr("localhost:80"), None);
    }
}
