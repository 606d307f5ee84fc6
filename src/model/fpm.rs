//! PHP-FPM as it runs: each master (an instance) reads its php-fpm.conf and the files it
//! includes in order; a pool section may be spread over several files and the last value wins.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::model::address::{normalize_socket_path, parse_listen, reaches, Listen, Reach, Target};
use crate::project::Project;
use crate::source::{FileId, Language, Span};
use crate::syntax::fpm::{values, Config, Entry, Item};

/// One php-fpm master: the files it reads, in order.
#[derive(Clone, Debug)]
pub struct Instance {
    /// php-fpm.conf, or None for pool files no php-fpm.conf in the tree includes (grouped by
    /// directory, read in name order as `include=.../*.conf` would).
    pub main: Option<FileId>,
    pub files: Vec<FileId>,
}

/// One `key = value` in effect.
#[derive(Clone, Copy)]
pub struct Setting<'p> {
    pub file: FileId,
    // The entry's tree and index rather than its handle, which padding makes 16 bytes: a large
    // run holds hundreds of thousands of settings.
    index: u32,
    config: &'p Config,
}

impl std::fmt::Debug for Setting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setting")
            .field("file", &self.file)
            .field("entry", &self.entry())
            .finish()
    }
}

impl<'p> Setting<'p> {
    fn new(file: FileId, entry: Entry<'p>) -> Self {
        Setting {
            file,
            index: entry.index(),
            config: entry.config(),
        }
    }

    pub fn entry(&self) -> Entry<'p> {
        self.config.entry(self.index as usize)
    }

    /// The value php-fpm uses (quotes removed; `$pool` expanded by [`Pool::get`] callers).
    pub fn text(&self) -> &'p str {
        self.entry().text()
    }
    pub fn value_span(&self) -> Span {
        self.entry().value_span()
    }
    pub fn key(&self) -> &'p str {
        self.entry().name()
    }
}

#[derive(Clone, Debug)]
pub struct Pool<'p> {
    pub instance: usize,
    pub name: String,
    /// Every `[name]` header of this pool, in load order.
    pub headers: Vec<(FileId, Span)>,
    /// Entries in load order; later ones override earlier ones.
    pub entries: Vec<Setting<'p>>,
}

impl<'p> Pool<'p> {
    /// The setting in effect for a plain key (`listen`, `pm.max_children`): the last one.
    pub fn get(&self, key: &str) -> Option<Setting<'p>> {
        self.entries
            .iter()
            .rev()
            .find(|s| s.entry().name() == key && !s.entry().is_array())
            .copied()
    }

    /// The setting in effect for an array key (`php_admin_value[memory_limit]`).
    pub fn get_array(&self, base: &str, offset: &str) -> Option<Setting<'p>> {
        self.entries
            .iter()
            .rev()
            .find(|s| s.entry().name() == base && s.entry().offset_name() == Some(offset))
            .copied()
    }

    /// A value with `$pool` expanded, as php-fpm does for pool settings.
    pub fn value(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|s| values::expand_pool(s.text(), &self.name).into_owned())
    }

    /// The pool's first header: where a finding about the pool as a whole points.
    pub fn header(&self) -> (FileId, Span) {
        self.headers[0]
    }

    /// What the pool listens on, if `listen` is set and readable at lint time.
    pub fn listen(&self) -> Option<(Listen, Setting<'p>)> {
        let setting = self.get("listen")?;
        let text = values::expand_pool(setting.text(), &self.name);
        if !values::env_refs(setting.text()).is_empty() {
            return None;
        }
        parse_listen(&text).map(|l| (l, setting))
    }
}

#[derive(Clone, Debug)]
pub enum FpmIssue {
    IncludeNotFound {
        file: FileId,
        span: Span,
        pattern: String,
        /// The path is a directory in the tree, not a file.
        is_directory: bool,
    },
    IncludeCycle {
        chain: Vec<(FileId, Span)>,
        file: FileId,
    },
}

pub struct FpmModel<'p> {
    pub instances: Vec<Instance>,
    pub pools: Vec<Pool<'p>>,
    /// `[global]` settings per instance, in load order.
    pub globals: Vec<Vec<Setting<'p>>>,
    pub issues: Vec<FpmIssue>,
    /// Pools by what they listen on, so joining a site costs its candidates, not every pool.
    index: ListenIndex,
    /// On Debian, the pool `/run/php/php-fpm.sock` leads to: the `www` pool of a
    /// `pool.d/www.conf` listening on a unix socket (the highest PHP version's, as
    /// update-alternatives picks). See [`crate::model::platform::DEBIAN_DEFAULT_SOCKET`].
    debian_default_socket: Option<usize>,
}

#[derive(Default)]
struct ListenIndex {
    /// Each pool's parsed `listen` (None: unset or known only at start-up).
    listens: Vec<Option<Listen>>,
    unix: HashMap<String, Vec<usize>>,
    tcp: HashMap<u16, Vec<usize>>,
}

impl ListenIndex {
    fn new(pools: &[Pool<'_>]) -> Self {
        let mut index = ListenIndex::default();
        for (i, pool) in pools.iter().enumerate() {
            let listen = pool.listen().map(|(l, _)| l);
            match &listen {
                Some(Listen::Unix(path)) => index
                    .unix
                    .entry(normalize_socket_path(path).to_owned())
                    .or_default()
                    .push(i),
                Some(Listen::Tcp { port, .. }) => index.tcp.entry(*port).or_default().push(i),
                None => {}
            }
            index.listens.push(listen);
        }
        index
    }
}

/// Resolved `include=` entries: (file, entry offset) -> files.
#[derive(Default)]
pub struct FpmIncludes {
    map: HashMap<(FileId, u32), Vec<FileId>>,
    issues: Vec<FpmIssue>,
    instances: Vec<Instance>,
}

fn include_entries(c: &Config) -> Vec<(u32, Span, String)> {
    c.entries()
        .filter(|(_, e)| e.name() == "include" && !e.is_array())
        .map(|(_, e)| (e.span().start, e.value_span(), e.text().to_owned()))
        .collect()
}

fn is_main_config(c: &Config) -> bool {
    c.sections().any(|s| s.is_global())
        || c.entries_before_sections()
            .any(|e| matches!(e.name(), "include" | "pid" | "error_log" | "daemonize"))
}

/// Phase one: find the masters and load every file they include.
pub fn resolve_includes(project: &mut Project) -> FpmIncludes {
    let mut out = FpmIncludes::default();
    let discovered: Vec<FileId> = project.files_of(Language::PhpFpm).collect();
    let mut reached = BTreeSet::new();
    let mains: Vec<FileId> = discovered
        .iter()
        .copied()
        .filter(|&id| project.fpm(id).is_some_and(is_main_config))
        .collect();
    for &main in &mains {
        let mut order = Vec::new();
        load_in_order(project, &mut out, main, &mut Vec::new(), &mut order);
        reached.extend(order.iter().copied());
        out.instances.push(Instance {
            main: Some(main),
            files: order,
        });
    }
    // Pool files no php-fpm.conf includes: one master per directory, files in name order.
    let mut by_dir: BTreeMap<String, Vec<FileId>> = BTreeMap::new();
    for &id in &discovered {
        if reached.contains(&id) || project.fpm(id).is_none() {
            continue;
        }
        let name = &project.sources.get(id).name;
        let dir = Path::new(name)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        by_dir.entry(dir).or_default().push(id);
    }
    for (_, mut files) in by_dir {
        files.sort_by(|a, b| {
            project
                .sources
                .get(*a)
                .name
                .cmp(&project.sources.get(*b).name)
        });
        out.instances.push(Instance { main: None, files });
    }
    out
}

/// Depth-first, as php-fpm reads: a file's entries, with each include's files read in place.
fn load_in_order(
    project: &mut Project,
    out: &mut FpmIncludes,
    file: FileId,
    stack: &mut Vec<(FileId, Span)>,
    order: &mut Vec<FileId>,
) {
    order.push(file);
    let includes = match project.fpm(file) {
        Some(c) => include_entries(c),
        None => return,
    };
    for (offset, span, pattern) in includes {
        let resolved = project.resolve_fpm_include(&pattern, file);
        if resolved.files.is_empty() && !resolved.is_glob && resolved.failed == 0 {
            out.issues.push(FpmIssue::IncludeNotFound {
                file,
                span,
                pattern: pattern.clone(),
                is_directory: resolved.is_directory,
            });
        }
        let mut kept = Vec::new();
        for t in resolved.files {
            if t == file || stack.iter().any(|&(f, _)| f == t) {
                let mut chain = stack.clone();
                chain.push((file, span));
                out.issues.push(FpmIssue::IncludeCycle { chain, file: t });
                continue;
            }
            kept.push(t);
            stack.push((file, span));
            load_in_order(project, out, t, stack, order);
            stack.pop();
        }
        out.map.insert((file, offset), kept);
    }
}

/// Phase two: evaluate each instance's files in order into pools.
pub fn build<'p>(project: &'p Project, includes: &FpmIncludes) -> FpmModel<'p> {
    let mut model = FpmModel {
        instances: includes.instances.clone(),
        pools: Vec::new(),
        globals: Vec::new(),
        issues: includes.issues.clone(),
        index: ListenIndex::default(),
        debian_default_socket: None,
    };
    for (i, instance) in includes.instances.iter().enumerate() {
        let mut globals = Vec::new();
        let mut pool_index: HashMap<String, usize> = HashMap::new();
        // php-fpm keeps the current section across included files.
        let mut current: Option<usize> = None;
        for &file in &instance.files {
            let Some(config) = project.fpm(file) else {
                continue;
            };
            for item in config.items() {
                match item {
                    Item::Section(s) if s.is_global() => current = None,
                    Item::Section(s) => {
                        let idx = *pool_index.entry(s.name().to_string()).or_insert_with(|| {
                            model.pools.push(Pool {
                                instance: i,
                                name: s.name().to_string(),
                                headers: Vec::new(),
                                entries: Vec::new(),
                            });
                            model.pools.len() - 1
                        });
                        model.pools[idx].headers.push((file, s.span()));
                        current = Some(idx);
                    }
                    Item::Entry(entry) => {
                        let setting = Setting::new(file, entry);
                        match current {
                            Some(p) => model.pools[p].entries.push(setting),
                            None => globals.push(setting),
                        }
                    }
                    Item::Comment(_) => {}
                }
            }
        }
        model.globals.push(globals);
    }
    model.index = ListenIndex::new(&model.pools);
    if project.options.platform == crate::model::builtin::Platform::Debian {
        model.debian_default_socket = debian_default_socket(project, &model);
    }
    model
}

/// The pool Debian's `php-fpm-socket-helper` links `/run/php/php-fpm.sock` to: each
/// `phpX.Y-fpm.service` runs `php-fpm-socket-helper install /run/php/php-fpm.sock
/// /etc/php/X.Y/fpm/pool.d/www.conf XY` after start, which reads that file's `listen` and,
/// when it is a socket, installs it as the `php-fpm.sock` alternative with priority XY.
fn debian_default_socket(project: &Project, model: &FpmModel<'_>) -> Option<usize> {
    use crate::model::platform::path_php_version;
    model
        .pools
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name == "www")
        .filter_map(|(i, p)| {
            let (listen, setting) = p.listen()?;
            if !matches!(listen, Listen::Unix(_)) {
                return None;
            }
            // The helper reads the listen line of pool.d/www.conf itself.
            let path = project.tree_path(setting.file)?;
            if !path.ends_with("pool.d/www.conf") {
                return None;
            }
            let version = path_php_version(&path).unwrap_or_default();
            let key: Vec<u32> = version.split('.').filter_map(|x| x.parse().ok()).collect();
            Some((key, i))
        })
        .max()
        .map(|(_, i)| i)
}

impl<'p> FpmModel<'p> {
    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// Every pool's listener that can be read at lint time.
    pub fn listeners(&self) -> Vec<(&Pool<'p>, Listen, Setting<'p>)> {
        self.pools
            .iter()
            .filter_map(|p| p.listen().map(|(l, s)| (p, l, s)))
            .collect()
    }

    /// Pools whose `listen` is set but not known at lint time (`${PHP_FPM_LISTEN}`): they
    /// might listen anywhere. A pool with no `listen` at all (a fragment) listens nowhere.
    pub fn unknown_listeners(&self) -> impl Iterator<Item = &Pool<'p>> {
        self.pools
            .iter()
            .filter(|p| p.get("listen").is_some() && p.listen().is_none())
    }

    /// The pools nginx reaches connecting to `target` (`Reach::PortOnly` included), with
    /// each pool's index in `pools`.
    pub fn pools_reached(&self, target: &Target) -> Vec<(usize, &Pool<'p>, Listen, Reach)> {
        if let (Target::Unix(path), Some(i)) = (target, self.debian_default_socket) {
            let direct = self.index.unix.contains_key(normalize_socket_path(path));
            if !direct
                && normalize_socket_path(path) == crate::model::platform::DEBIAN_DEFAULT_SOCKET
            {
                return self.index.listens[i]
                    .clone()
                    .map(|listen| (i, &self.pools[i], listen, Reach::Yes))
                    .into_iter()
                    .collect();
            }
        }
        let candidates = match target {
            Target::Unix(path) => self.index.unix.get(normalize_socket_path(path)),
            Target::Tcp { port, .. } => self.index.tcp.get(port),
            _ => None,
        };
        candidates
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let listen = self.index.listens[i].clone()?;
                let reach = reaches(target, &listen);
                (reach != Reach::No).then_some((i, &self.pools[i], listen, reach))
            })
            .collect()
    }

    /// The pool `/run/php/php-fpm.sock` leads to on Debian, if the tree shows one.
    pub fn debian_default_socket_pool(&self) -> Option<&Pool<'p>> {
        self.debian_default_socket.map(|i| &self.pools[i])
    }

    /// Whether any pool listens on a TCP port.
    pub fn has_tcp_listener(&self) -> bool {
        !self.index.tcp.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Options;

    #[test]
    fn a_setting_is_two_words() {
        assert_eq!(std::mem::size_of::<Setting<'_>>(), 16);
    }

    #[test]
    fn later_files_override_and_pool_expands() {
        let files = [
            (
                "php-fpm.d/www.conf",
                "[www]\nuser = www-data\nlisten = /run/php/$pool.sock\npm = dynamic\n",
            ),
            ("php-fpm.d/zz-docker.conf", "[www]\nlisten = 9000\n"),
        ];
        let mut p = Project::from_memory(&files, Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        assert_eq!(m.pools.len(), 1);
        assert_eq!(m.pools[0].headers.len(), 2);
        assert_eq!(m.pools[0].value("listen").as_deref(), Some("9000"));
        assert_eq!(m.pools[0].value("user").as_deref(), Some("www-data"));
    }
}
