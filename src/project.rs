//! One lint run's files: discovered, read, parsed, and reachable through includes.
//!
//! Include resolution never reads outside the linted paths, so results do not depend on the
//! machine the tool runs on: absolute paths under the standard config directories are mapped
//! onto the linted tree, and well-known packaged files fall back to built-in knowledge.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::discover;
use crate::model::builtin::{self, Platform};
use crate::report::Problem;
use crate::source::{
    read_shared, FileId, Language, Origin, ReadError, SourceFile, SourceMap, Text,
};
use crate::syntax::{fpm, nginx, SyntaxError};

/// Absolute config roots that mean "the directory holding nginx.conf".
const NGINX_ROOTS: &[&str] = &[
    "/etc/nginx",
    "/usr/local/etc/nginx",
    "/usr/local/nginx/conf",
    "/usr/local/openresty/nginx/conf",
    "/opt/homebrew/etc/nginx",
];

#[derive(Clone, Debug)]
pub struct Options {
    /// nginx's prefix for relative includes (default: the directory of each nginx.conf).
    pub nginx_prefix: Option<PathBuf>,
    /// Extra absolute-path mappings: `from` (as written in configs) -> directory in the tree.
    pub path_maps: Vec<(String, PathBuf)>,
    pub platform: Platform,
    /// Text to use instead of what is on disk, by canonical path: the fixer re-lints its
    /// edited files this way before anything is written.
    pub overrides: HashMap<PathBuf, String>,
    /// Files that exist only as overrides, not on disk (an editor's new, unsaved file given
    /// with `--stdin-filename`): (path as given, the canonical path it would have). They are
    /// linted as if discovery had found them.
    pub unsaved: Vec<(PathBuf, PathBuf)>,
    /// Ignore files and excludes for the directory walk (never for includes).
    pub walk: discover::WalkOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nginx_prefix: None,
            path_maps: Vec::new(),
            platform: Platform::Debian,
            overrides: HashMap::new(),
            unsaved: Vec::new(),
            walk: discover::WalkOptions::default(),
        }
    }
}

pub enum Parsed {
    Nginx(nginx::Config),
    Fpm(fpm::Config),
}

/// An nginx include as written, the includer's directory, and nginx's prefix.
type IncludeKey = (String, Option<PathBuf>, Option<PathBuf>);

/// A file read and parsed, not yet given a FileId.
struct Prepared {
    lang: Language,
    text: Arc<str>,
    /// The bytes read, when they are not `text` (see `source::Text`).
    original: Option<Arc<[u8]>>,
    parsed: Result<Parsed, SyntaxError>,
}

impl Prepared {
    /// `text` is the one copy kept, shared by the file and its tree.
    fn parse(lang: Language, text: Arc<str>) -> Prepared {
        let parsed = match lang {
            Language::Nginx => nginx::parse_shared(text.clone()).map(Parsed::Nginx),
            Language::PhpFpm => fpm::parse_shared(text.clone()).map(Parsed::Fpm),
        };
        Prepared {
            lang,
            text,
            original: None,
            parsed,
        }
    }
}

/// Read `path` (or its override) and parse it; touches nothing shared, so files can be
/// prepared on several threads.
fn prepare(
    options: &Options,
    path: &Path,
    canonical: &Path,
    force: Option<Language>,
    check_content: bool,
) -> Result<Prepared, ReadError> {
    let Text { text, original } = match options.overrides.get(canonical) {
        Some(t) => Text {
            text: Arc::from(t.as_str()),
            original: None,
        },
        None => read_shared(path)?,
    };
    if check_content && force.is_none() {
        let head = &text.as_bytes()[..text.len().min(discover::SNIFF_BYTES)];
        let sniffed = discover::sniff(head, head.len() == text.len(), false);
        if matches!(sniffed, discover::Sniff::Neither | discover::Sniff::Binary) {
            return Err(ReadError::NotConfig {
                reason: sniffed.reason(true),
            });
        }
    }
    let lang = force.unwrap_or_else(|| discover::classify(path, &text));
    Ok(Prepared {
        original,
        ..Prepared::parse(lang, text)
    })
}

pub struct Project {
    pub options: Options,
    pub sources: SourceMap,
    /// Parsed trees by FileId (None for files that failed to parse).
    parsed: Vec<Option<Parsed>>,
    pub problems: Vec<Problem>,
    /// Canonical lint roots (directories); includes resolve only inside them.
    roots: Vec<PathBuf>,
    by_canonical: HashMap<PathBuf, FileId>,
    /// Canonical paths that could not be read: reached again (a symlink, an include), the
    /// file is not read, nor its problem reported, a second time.
    unreadable: std::collections::HashSet<PathBuf>,
    /// Include resolution asks the same paths again and again (every site includes the same
    /// snippets): glob results and canonical paths are read once per run.
    glob_cache: HashMap<PathBuf, Arc<[(PathBuf, PathBuf)]>>,
    canonicalizer: discover::Canonicalizer,
    /// nginx includes by (pattern, includer's directory, prefix): files and failures.
    include_cache: HashMap<IncludeKey, Resolved>,
    builtins: HashMap<&'static str, FileId>,
    /// Canonical path by FileId (None for built-in and in-memory files).
    canonical: Vec<Option<PathBuf>>,
    /// Files found by discovery, in order (includes loaded later are not listed here).
    pub discovered: Vec<FileId>,
    /// Symlinks whose absolute target is not in the tree (each an `Origin::Link` file).
    pub dangling_links: Vec<DanglingLink>,
    /// Files the walk looked at and did not take, with why (for `--show-files`).
    pub skipped: Vec<discover::Skipped>,
    /// Canonical paths of files taken for their content, not their name.
    pub by_content: std::collections::HashSet<PathBuf>,
    /// The first file whose include reached each file (for `--show-files`).
    pub included_by: HashMap<FileId, FileId>,
    /// Directories holding an nginx.conf in the tree: where `/etc/nginx/...` may live for files
    /// no nginx.conf includes (site templates deployed next to one).
    nginx_prefixes: Vec<PathBuf>,
    cwd: PathBuf,
}

/// A symlink in the tree whose absolute target is not in the tree.
#[derive(Clone, Debug)]
pub struct DanglingLink {
    /// The `Origin::Link` file standing for the link: its name is the link's path, its text
    /// the target as written.
    pub file: FileId,
    /// Where the target was looked for in the tree, best first (empty when nowhere maps).
    pub tried: Vec<PathBuf>,
}

/// Where a path's bytes are, once symlinks with absolute targets are mapped onto the tree.
enum LinkTarget {
    /// Not such a link (or only relative links): read it as it is.
    AsIs,
    /// Read this file of the tree instead.
    Mapped(PathBuf),
    /// The target is not in the tree.
    Dangling {
        target: PathBuf,
        tried: Vec<PathBuf>,
    },
}

/// Links followed in one chain before giving up (the kernel's own limit is 40).
const MAX_LINK_HOPS: usize = 16;

/// What an include resolved to.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub files: Vec<FileId>,
    /// The pattern had glob characters (nginx accepts a glob that matches nothing).
    pub is_glob: bool,
    /// Files that matched but could not be read or parsed (reported as problems).
    pub failed: usize,
    /// Nothing matched, but the path names a directory in the tree (`include conf.d;`): nginx
    /// fails on it with "(21: Is a directory)", php-fpm with a parse error.
    pub is_directory: bool,
}

impl Project {
    fn empty(options: Options, cwd: PathBuf) -> Project {
        Project {
            options,
            sources: SourceMap::default(),
            parsed: Vec::new(),
            problems: Vec::new(),
            roots: Vec::new(),
            by_canonical: HashMap::new(),
            unreadable: Default::default(),
            glob_cache: HashMap::new(),
            canonicalizer: discover::Canonicalizer::default(),
            include_cache: HashMap::new(),
            builtins: HashMap::new(),
            canonical: Vec::new(),
            discovered: Vec::new(),
            dangling_links: Vec::new(),
            skipped: Vec::new(),
            by_content: Default::default(),
            included_by: HashMap::new(),
            nginx_prefixes: Vec::new(),
            cwd,
        }
    }

    pub fn load(paths: &[PathBuf], options: Options) -> Project {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let mut project = Project::empty(options, cwd);
        for p in paths {
            if let Ok(c) = std::fs::canonicalize(p) {
                let dir = if c.is_dir() {
                    c
                } else {
                    c.parent().map(Path::to_path_buf).unwrap_or(c)
                };
                project.roots.push(dir);
            }
        }
        let unsaved = project.options.unsaved.clone();
        let on_disk: Vec<PathBuf> = paths
            .iter()
            .filter(|p| !unsaved.iter().any(|(u, _)| u == *p))
            .cloned()
            .collect();
        let (mut found, walk_problems, skipped) =
            discover::discover_with(&on_disk, &project.options.walk);
        project.skipped = skipped;
        for (path, canonical) in unsaved {
            if !found.iter().any(|f| f.canonical == canonical) {
                found.push(discover::Found {
                    path,
                    canonical,
                    explicit: true,
                    by_content: false,
                    is_symlink: false,
                    aliases: Vec::new(),
                });
            }
        }
        // Absolute symlinks (an /etc dump's `sites-enabled/x -> /etc/nginx/sites-available/x`)
        // are resolved onto the tree, never on this machine.
        let mut kept = Vec::with_capacity(found.len());
        let mut seen = std::collections::HashSet::new();
        for mut f in found {
            let target = if f.is_symlink {
                project.map_link(&f.path)
            } else {
                LinkTarget::AsIs
            };
            match target {
                LinkTarget::AsIs => {}
                LinkTarget::Mapped(target) => {
                    f.canonical = std::fs::canonicalize(&target).unwrap_or_else(|_| target.clone());
                    f.path = target;
                }
                LinkTarget::Dangling { target, tried } => {
                    project.add_dangling_link(&f.path, &target, tried);
                    continue;
                }
            }
            if seen.insert(f.canonical.clone()) {
                kept.push(f);
            }
        }
        let found = kept;
        crate::timings::mark("discover");
        for w in walk_problems {
            project.problems.push(Problem {
                path: project.display(&w.path),
                at: None,
                bytes: None,
                span: None,
                message: w.message,
            });
        }
        // Reading and parsing are independent per file: done on every core, then registered
        // in discovery order so FileIds and reports do not depend on scheduling.
        let prepared = crate::parallel::map(&found, |f| {
            // A file found by its name is still looked at: a redis.conf is not nginx's.
            let check = !project.options.overrides.contains_key(&f.canonical);
            prepare(&project.options, &f.path, &f.canonical, None, check)
        });
        crate::timings::mark("read and parse");
        for (f, prepared) in found.iter().zip(prepared) {
            if let (Err(ReadError::NotConfig { reason }), false) = (&prepared, f.explicit) {
                project.skipped.push(discover::Skipped {
                    path: f.path.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
            if f.by_content {
                project.by_content.insert(f.canonical.clone());
            }
            if let Some(id) = project.register(&f.path, &f.canonical, prepared) {
                project.discovered.push(id);
                for alias in &f.aliases {
                    project.by_canonical.insert(alias.clone(), id);
                }
            } else {
                project.unreadable.extend(f.aliases.iter().cloned());
            }
        }
        crate::timings::mark("register files");
        project
    }

    /// A project from in-memory files (tests, stdin). Names are used as paths.
    pub fn from_memory(files: &[(&str, &str)], options: Options) -> Project {
        let mut project = Project::empty(options, PathBuf::from("/"));
        for (name, text) in files {
            let lang = discover::classify(Path::new(name), text);
            let id = project.add_text(name.to_string(), Origin::Memory, lang, text.to_string());
            project.by_canonical.insert(PathBuf::from(name), id);
            project.discovered.push(id);
        }
        project
    }

    fn display(&self, path: &Path) -> String {
        let shown = path.strip_prefix(&self.cwd).unwrap_or(path);
        let s = shown.to_string_lossy();
        s.strip_prefix("./").unwrap_or(&s).to_owned()
    }

    /// Read and parse a file once (keyed by canonical path).
    fn load_file(
        &mut self,
        path: &Path,
        canonical: &Path,
        force: Option<Language>,
    ) -> Option<FileId> {
        if let Some(&id) = self.by_canonical.get(canonical) {
            return Some(id);
        }
        if self.unreadable.contains(canonical) {
            return None;
        }
        let prepared = prepare(&self.options, path, canonical, force, false);
        self.register(path, canonical, prepared)
    }

    /// Add a file [`prepare`]d earlier, unless its canonical path is already in.
    fn register(
        &mut self,
        path: &Path,
        canonical: &Path,
        prepared: Result<Prepared, ReadError>,
    ) -> Option<FileId> {
        if let Some(&id) = self.by_canonical.get(canonical) {
            return Some(id);
        }
        if self.unreadable.contains(canonical) {
            return None;
        }
        let name = self.display(path);
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.unreadable.insert(canonical.to_path_buf());
                self.problems.push(Problem {
                    path: name,
                    at: e.at(),
                    bytes: e.offset().map(|o| crate::source::Span::new(o, o + 1)),
                    span: None,
                    message: e.to_string(),
                });
                return None;
            }
        };
        let id = self.push_parsed(name, Origin::Disk(path.to_path_buf()), prepared);
        self.by_canonical.insert(canonical.to_path_buf(), id);
        self.canonical[id.0 as usize] = Some(canonical.to_path_buf());
        Some(id)
    }

    fn add_text(&mut self, name: String, origin: Origin, lang: Language, text: String) -> FileId {
        let prepared = Prepared::parse(lang, text.into());
        self.push_parsed(name, origin, prepared)
    }

    fn push_parsed(&mut self, name: String, origin: Origin, prepared: Prepared) -> FileId {
        let Prepared {
            lang,
            text,
            original,
            parsed,
        } = prepared;
        let id = self
            .sources
            .add(SourceFile::new(name.clone(), origin, lang, text).with_original(original));
        self.canonical.push(None);
        match parsed {
            Ok(p) => self.parsed.push(Some(p)),
            Err(e) => {
                self.problems.push(Problem {
                    path: name,
                    at: Some(e.at),
                    bytes: None,
                    span: Some((id, e.span)),
                    message: e.message,
                });
                self.parsed.push(None);
            }
        }
        id
    }

    /// Take in another run's files (a second deployment linted on its own), so one report can
    /// show both. Their ids move up by the returned offset; `other`'s problems and discovered
    /// files come along, renumbered.
    pub fn absorb(&mut self, other: Project) -> u32 {
        let offset = self.sources.append(other.sources);
        let shift = |id: FileId| FileId(id.0 + offset);
        self.parsed.resize_with(offset as usize, || None);
        self.parsed.extend(other.parsed);
        self.canonical.resize_with(offset as usize, || None);
        self.canonical.extend(other.canonical);
        for (path, id) in other.by_canonical {
            self.by_canonical.entry(path).or_insert(shift(id));
        }
        self.unreadable.extend(other.unreadable);
        self.discovered
            .extend(other.discovered.into_iter().map(shift));
        self.skipped.extend(other.skipped);
        self.by_content.extend(other.by_content);
        for (file, by) in other.included_by {
            self.included_by.entry(shift(file)).or_insert(shift(by));
        }
        self.dangling_links
            .extend(other.dangling_links.into_iter().map(|mut d| {
                d.file = shift(d.file);
                d
            }));
        self.problems
            .extend(other.problems.into_iter().map(|mut p| {
                p.span = p.span.map(|(id, span)| (shift(id), span));
                p
            }));
        offset
    }

    /// Free the parsed trees, keeping texts, names and problems: for a caller that is done
    /// with the models (`nginx` and `fpm` return None afterwards).
    pub fn release_trees(&mut self) {
        self.parsed = Vec::new();
    }

    pub fn nginx(&self, id: FileId) -> Option<&nginx::Config> {
        match self.parsed.get(id.0 as usize)? {
            Some(Parsed::Nginx(c)) => Some(c),
            _ => None,
        }
    }

    pub fn fpm(&self, id: FileId) -> Option<&fpm::Config> {
        match self.parsed.get(id.0 as usize)? {
            Some(Parsed::Fpm(c)) => Some(c),
            _ => None,
        }
    }

    /// Expand `${VAR}` in every PHP-FPM file with the values given for php-fpm's environment.
    pub fn expand_fpm_env(&mut self, env: &std::collections::BTreeMap<String, String>) {
        if env.is_empty() {
            return;
        }
        for parsed in self.parsed.iter_mut() {
            if let Some(Parsed::Fpm(c)) = parsed {
                c.expand_env(env);
            }
        }
    }

    pub fn files_of(&self, lang: Language) -> impl Iterator<Item = FileId> + '_ {
        self.discovered
            .iter()
            .copied()
            .filter(move |&id| self.sources.get(id).language == lang)
    }

    /// The canonical path a file was read from (None for built-in and in-memory files).
    pub fn canonical_path(&self, id: FileId) -> Option<&Path> {
        self.canonical.get(id.0 as usize)?.as_deref()
    }

    /// The canonical directories being linted (empty for in-memory projects).
    pub fn lint_roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Where a file sits, as its layout tells the platform (`/etc/php/8.2/fpm/php-fpm.conf`):
    /// its canonical path (the lint root's own directories count: linting /etc/php/8.2/fpm
    /// shows Debian), or the name of an in-memory file with a leading `/`. None for built-in
    /// files.
    pub fn tree_path(&self, id: FileId) -> Option<String> {
        let source = self.sources.get(id);
        if source.is_builtin() {
            return None;
        }
        Some(match self.canonical_path(id) {
            Some(path) => path.to_string_lossy().into_owned(),
            None => format!("/{}", source.name.trim_start_matches('/')),
        })
    }

    fn disk_path(&self, id: FileId) -> Option<PathBuf> {
        self.canonical_path(id).map(Path::to_path_buf)
    }

    /// `glob_paths` inside the lint roots, each match with its canonical path; memoized.
    fn matches_in_roots(&mut self, pattern: &Path) -> Arc<[(PathBuf, PathBuf)]> {
        if let Some(hit) = self.glob_cache.get(pattern) {
            return Arc::clone(hit);
        }
        let inside: Vec<PathBuf> = glob_paths(pattern)
            .into_iter()
            .filter(|p| self.inside_roots(p))
            .collect();
        let mut found: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(inside.len());
        for m in inside {
            let m = match self.map_link(&m) {
                LinkTarget::AsIs => m,
                LinkTarget::Mapped(target) => target,
                LinkTarget::Dangling { target, tried } => {
                    self.add_dangling_link(&m, &target, tried);
                    continue;
                }
            };
            let canonical = self
                .canonicalizer
                .canonicalize(&m)
                .unwrap_or_else(|_| m.clone());
            found.push((m, canonical));
        }
        let found: Arc<[(PathBuf, PathBuf)]> = found.into();
        self.glob_cache
            .insert(pattern.to_path_buf(), Arc::clone(&found));
        found
    }

    /// Follow `path`'s symlinks the way nginx would on the deployed machine, but inside the
    /// tree: an absolute target is mapped like an absolute include (`--map`, the standard
    /// config roots, the tree mirroring the file system from some directory down). Relative
    /// links are left to the file system, as before.
    fn map_link(&self, path: &Path) -> LinkTarget {
        let mut current = path.to_path_buf();
        let mut mapped = false;
        for _ in 0..MAX_LINK_HOPS {
            let Ok(target) = std::fs::read_link(&current) else {
                break;
            };
            let dir = current.parent().unwrap_or(Path::new("")).to_path_buf();
            if target.is_relative() {
                current = normalize(&dir.join(&target));
                continue;
            }
            if self.inside_roots(&target) {
                current = target;
                continue;
            }
            let from_dir = std::fs::canonicalize(&dir).ok();
            let tried = self.candidate_paths_from(
                &target.to_string_lossy(),
                from_dir.as_deref(),
                None,
                NGINX_ROOTS,
            );
            let hit = tried
                .iter()
                .find(|c| self.inside_roots(c) && std::fs::symlink_metadata(c).is_ok())
                .cloned();
            match hit {
                Some(c) => {
                    current = c;
                    mapped = true;
                }
                None => return LinkTarget::Dangling { target, tried },
            }
        }
        if mapped {
            LinkTarget::Mapped(current)
        } else {
            LinkTarget::AsIs
        }
    }

    /// Stand a file in for a dangling link, once per link.
    fn add_dangling_link(&mut self, link: &Path, target: &Path, tried: Vec<PathBuf>) {
        let name = self.display(link);
        if self
            .dangling_links
            .iter()
            .any(|d| self.sources.get(d.file).name == name)
        {
            return;
        }
        let file = self.sources.add(SourceFile::new(
            name,
            Origin::Link,
            discover::classify(link, ""),
            target.to_string_lossy().into_owned(),
        ));
        self.parsed.push(None);
        self.canonical.push(None);
        self.dangling_links.push(DanglingLink { file, tried });
    }

    fn inside_roots(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
    }

    /// Record where nginx.conf files sit. Includes resolved so far were looked up without
    /// them, so their memoised results are dropped.
    pub fn set_nginx_prefixes(&mut self, prefixes: Vec<PathBuf>) {
        self.nginx_prefixes = prefixes;
        self.include_cache.clear();
    }

    /// Resolve an nginx `include` written in `from`, whose entry point (if known) has `prefix`.
    pub fn resolve_nginx_include(
        &mut self,
        pattern: &str,
        from: FileId,
        prefix: Option<&Path>,
    ) -> Resolved {
        let prefix = self
            .options
            .nginx_prefix
            .clone()
            .or_else(|| prefix.map(Path::to_path_buf));
        let mut resolved = if self.is_in_memory() {
            self.memory_matches(pattern, from)
        } else {
            // Where a pattern leads depends only on the includer's directory: thousands of
            // sites in one directory including the same snippet resolve it once.
            let key = (
                pattern.to_owned(),
                self.disk_path(from)
                    .and_then(|p| p.parent().map(Path::to_path_buf)),
                prefix.clone(),
            );
            match self.include_cache.get(&key) {
                Some(hit) => hit.clone(),
                None => {
                    let candidates =
                        self.candidate_paths(pattern, from, prefix.as_deref(), NGINX_ROOTS);
                    let r = self.load_first_match(candidates, Language::Nginx);
                    self.include_cache.insert(key, r.clone());
                    r
                }
            }
        };
        resolved.is_glob = has_glob(pattern);
        if resolved.files.is_empty() && resolved.failed == 0 {
            if let Some(b) = builtin::lookup(pattern, self.options.platform) {
                resolved.files.push(self.builtin_file(b));
            }
        }
        self.note_includer(&resolved, from);
        resolved
    }

    fn note_includer(&mut self, resolved: &Resolved, from: FileId) {
        for &file in &resolved.files {
            if file != from {
                self.included_by.entry(file).or_insert(from);
            }
        }
    }

    /// Resolve a php-fpm `include=` written in `from`.
    pub fn resolve_fpm_include(&mut self, pattern: &str, from: FileId) -> Resolved {
        let mut resolved = if self.is_in_memory() {
            self.memory_matches(pattern, from)
        } else {
            let candidates = self.candidate_paths(pattern, from, None, &[]);
            self.load_first_match(candidates, Language::PhpFpm)
        };
        resolved.is_glob = has_glob(pattern);
        self.note_includer(&resolved, from);
        resolved
    }

    /// Built by `from_memory`: no directory on disk, names are paths.
    fn is_in_memory(&self) -> bool {
        self.roots.is_empty()
            && self
                .sources
                .iter()
                .all(|(_, f)| !matches!(f.origin, Origin::Disk(_)))
    }

    /// Includes between in-memory files: the pattern (absolute ones with their leading `/`
    /// dropped, then tried from the includer's directory upward) matched against the names.
    fn memory_matches(&self, pattern: &str, from: FileId) -> Resolved {
        let mut resolved = Resolved::default();
        let rel = pattern.trim_start_matches('/');
        let from_name = Path::new(&self.sources.get(from).name).to_path_buf();
        let bases: Vec<PathBuf> = from_name
            .ancestors()
            .skip(1)
            .map(Path::to_path_buf)
            .collect();
        for base in bases {
            let candidate = normalize(&base.join(rel));
            let Ok(glob) = globset::GlobBuilder::new(&candidate.to_string_lossy())
                .literal_separator(true)
                .build()
            else {
                continue;
            };
            let matcher = glob.compile_matcher();
            let mut hits: Vec<(&PathBuf, FileId)> = self
                .by_canonical
                .iter()
                .filter(|(name, _)| matcher.is_match(name))
                .map(|(n, &id)| (n, id))
                .collect();
            if hits.is_empty() {
                continue;
            }
            hits.sort();
            resolved.files.extend(hits.into_iter().map(|(_, id)| id));
            break;
        }
        resolved.is_directory &= resolved.files.is_empty() && resolved.failed == 0;
        resolved
    }

    /// Load the files of the first candidate pattern that matches anything inside the roots,
    /// as `lang` whatever their content looks like (an include says what they are).
    fn load_first_match(&mut self, candidates: Vec<PathBuf>, lang: Language) -> Resolved {
        let mut resolved = Resolved {
            is_directory: candidates
                .iter()
                .any(|c| !has_glob(&c.to_string_lossy()) && self.inside_roots(c) && c.is_dir()),
            ..Resolved::default()
        };
        for candidate in candidates {
            let matches = self.matches_in_roots(&candidate);
            if matches.is_empty() {
                continue;
            }
            for (m, canonical) in matches.iter() {
                let parsed = self
                    .load_file(m, canonical, Some(lang))
                    .filter(|&id| self.parsed.get(id.0 as usize).is_some_and(Option::is_some));
                match parsed {
                    Some(id) => resolved.files.push(id),
                    None => resolved.failed += 1,
                }
            }
            break;
        }
        resolved
    }

    fn builtin_file(&mut self, b: &'static builtin::Builtin) -> FileId {
        if let Some(&id) = self.builtins.get(b.rel_path) {
            return id;
        }
        let platform = self.options.platform;
        let id = self.add_text(
            b.display_name(platform),
            Origin::Builtin {
                distro: platform.as_str(),
            },
            Language::Nginx,
            b.text.to_owned(),
        );
        self.builtins.insert(b.rel_path, id);
        id
    }

    /// Where a pattern might live, best first: user mappings, the standard config roots mapped
    /// onto `prefix`, `prefix` itself, then the including file's directory and its ancestors
    /// (inside the lint roots), then ever shorter tails of an absolute path.
    fn candidate_paths(
        &self,
        pattern: &str,
        from: FileId,
        prefix: Option<&Path>,
        std_roots: &[&str],
    ) -> Vec<PathBuf> {
        let from_dir = self
            .disk_path(from)
            .and_then(|p| p.parent().map(Path::to_path_buf));
        self.candidate_paths_from(pattern, from_dir.as_deref(), prefix, std_roots)
    }

    /// [`candidate_paths`](Self::candidate_paths) from a directory (canonical) rather than a file.
    fn candidate_paths_from(
        &self,
        pattern: &str,
        from_dir: Option<&Path>,
        prefix: Option<&Path>,
        std_roots: &[&str],
    ) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let from_dir = from_dir.map(Path::to_path_buf);
        let mut ancestors: Vec<PathBuf> = Vec::new();
        if let Some(dir) = &from_dir {
            for a in dir.ancestors() {
                if !self.inside_roots(a) {
                    break;
                }
                ancestors.push(a.to_path_buf());
            }
        }
        if pattern.starts_with('/') {
            for (from_prefix, to) in &self.options.path_maps {
                if let Some(rest) = strip_dir_prefix(pattern, from_prefix) {
                    out.push(to.join(rest));
                }
            }
            for root in std_roots {
                if let Some(rest) = strip_dir_prefix(pattern, root) {
                    if let Some(p) = prefix {
                        out.push(p.join(rest));
                    }
                    out.extend(ancestors.iter().map(|a| a.join(rest)));
                    if prefix.is_none() {
                        out.extend(self.nginx_prefixes.iter().map(|p| p.join(rest)));
                    }
                }
            }
            // The tree mirrors the file system from some directory down: when the including
            // file sits at `<tree>/etc/php/8.2/fpm/php-fpm.conf`, `/etc/php/8.2/fpm/pool.d/*.conf`
            // means `<tree>/etc/php/8.2/fpm/pool.d/*.conf`. Only a leading run of the pattern's
            // directories that the includer's own path ends with counts; looser guesses
            // (any matching tail) include unrelated files.
            let dirs: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
            let dirs = &dirs[..dirs.len().saturating_sub(1)];
            if let Some(from_dir) = &from_dir {
                for j in (1..=dirs.len()).rev() {
                    let lead = Path::new(&dirs[..j].join("/")).to_path_buf();
                    for anc in from_dir.ancestors() {
                        if anc.ends_with(&lead) {
                            if let Some(mount) = strip_components(anc, j) {
                                out.push(mount.join(pattern.trim_start_matches('/')));
                            }
                        }
                    }
                }
            }
        } else {
            if let Some(p) = prefix {
                out.push(p.join(pattern));
            }
            out.extend(ancestors.iter().map(|a| a.join(pattern)));
        }
        out.into_iter().map(|p| normalize(&p)).collect()
    }
}

/// `path` without its last `n` components.
fn strip_components(path: &Path, n: usize) -> Option<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..n {
        if !p.pop() {
            return None;
        }
    }
    Some(p)
}

fn strip_dir_prefix<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    let dir = dir.trim_end_matches('/');
    path.strip_prefix(dir)?.strip_prefix('/')
}

pub fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Lexically remove `.` and `..` (no file system access, so no escape through symlinks).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Expand a glob the way glob(3) does for nginx: component by component, sorted, hidden files
/// only when the component itself starts with '.'.
pub fn glob_paths(pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::new()];
    let comps: Vec<Component> = pattern.components().collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let s = comp.as_os_str().to_string_lossy();
        let mut next = Vec::new();
        if !has_glob(&s) {
            for base in current {
                let p = base.join(comp.as_os_str());
                if last || p.is_dir() {
                    next.push(p);
                }
            }
        } else {
            let Ok(matcher) = globset::GlobBuilder::new(&s)
                .literal_separator(true)
                .build()
            else {
                return Vec::new();
            };
            let matcher = matcher.compile_matcher();
            for base in current {
                let Ok(entries) = std::fs::read_dir(&base) else {
                    continue;
                };
                let mut names: Vec<String> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| (!n.starts_with('.') || s.starts_with('.')) && matcher.is_match(n))
                    .collect();
                names.sort();
                for n in names {
                    let p = base.join(&n);
                    if last || p.is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    // A symlink counts whatever it points to on this machine: the project maps its target.
    current
        .into_iter()
        .filter(|p| p.is_file() || (discover::is_symlink(p) && !p.is_dir()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_sorted_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.conf", "a.conf", ".hidden.conf", "c.txt"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        let got: Vec<String> = glob_paths(&dir.path().join("*.conf"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, ["a.conf", "b.conf"]);
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
