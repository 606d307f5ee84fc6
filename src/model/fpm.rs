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

    /// The value is written with `${VAR}` references (supplied or not): a fix must not
    /// replace it, or the container's environment would stop counting.
    pub fn uses_env(&self) -> bool {
        !values::env_refs(self.entry().raw()).is_empty()
    }

    /// The value for a message: as written when it uses `${VAR}`, else as php-fpm reads it.
    pub fn written(&self) -> &'p str {
        let entry = self.entry();
        if self.uses_env() {
            entry.raw()
        } else {
            entry.text()
        }
    }

    /// For a message, after [`Setting::written`]: what the supplied environment makes of
    /// a `${VAR}` value (` (`dynamik` from the environment)`), else nothing.
    pub fn env_note(&self) -> String {
        if self.uses_env() && !self.is_from_env() {
            format!(" (`{}` from the environment)", self.entry().text())
        } else {
            String::new()
        }
    }

    /// The value holds a `${VAR}` reference whose value was not supplied: php-fpm reads it
    /// from its environment at start-up, so it is unknown at lint time.
    pub fn is_from_env(&self) -> bool {
        let entry = self.entry();
        entry.text().contains("${") && !values::env_refs(entry.raw()).is_empty()
    }
}

/// A pool's `listen`, as far as it is known at lint time.
#[derive(Clone, Debug)]
pub enum ListenValue<'p> {
    /// No file sets `listen` (a fragment of a pool, or php-fpm refuses it: see `Invalid`).
    Unset,
    /// Built from `${VAR}`s whose values were not supplied.
    FromEnv(Setting<'p>),
    /// Empty or not an address php-fpm can bind: php-fpm refuses the pool.
    Invalid(Setting<'p>, String),
    /// Accepted by php-fpm but not understood here: it might listen anywhere.
    Unreadable(Setting<'p>),
    Known(Listen, Setting<'p>),
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
    /// php-fpm matches plain keys case-insensitively (`PM = static` sets `pm`).
    pub fn get(&self, key: &str) -> Option<Setting<'p>> {
        self.entries
            .iter()
            .rev()
            .find(|s| s.entry().name().eq_ignore_ascii_case(key) && !s.entry().is_array())
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
        match self.listen_value() {
            ListenValue::Known(l, s) => Some((l, s)),
            _ => None,
        }
    }

    /// The pool's `listen` as php-fpm would read it.
    pub fn listen_value(&self) -> ListenValue<'p> {
        let Some(setting) = self.get("listen") else {
            return ListenValue::Unset;
        };
        if setting.is_from_env() {
            return ListenValue::FromEnv(setting);
        }
        let text = values::expand_pool(setting.text(), &self.name);
        if let Some(why) = listen_refused(&text) {
            return ListenValue::Invalid(setting, why);
        }
        let parsed = parse_listen(&text).or_else(|| {
            // `::1:9000`: php-fpm takes the host before the last colon, brackets or not.
            let (host, port) = text.trim().rsplit_once(':')?;
            parse_listen(&format!("[{host}]:{port}"))
        });
        match parsed {
            Some(l) => ListenValue::Known(l, setting),
            None => ListenValue::Unreadable(setting),
        }
    }
}

/// Why php-fpm 8.2 refuses a `listen` value, as it reports it (`fpm_conf.c`,
/// `fpm_sockets.c`); None when it is an address (a unix socket path is any other text).
pub fn listen_refused(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return Some(
            "the value is empty; php-fpm logs `no listen address have been defined!`".to_owned(),
        );
    }
    if t.starts_with('/') {
        return None;
    }
    let port_refused = |port: &str| {
        let valid = port
            .parse::<u32>()
            .is_ok_and(|p| (1..=65535).contains(&p) && port.bytes().all(|b| b.is_ascii_digit()));
        (!valid).then(|| {
            format!("`{port}` is not a port number (1 to 65535); php-fpm logs `invalid port value '{port}'`")
        })
    };
    // php-fpm splits `host:port` at the last colon (so `::1:9000` works, brackets or not);
    // a value with a colon is never a socket path. The host is resolved at start-up.
    if let Some((_, port)) = t.rsplit_once(':') {
        return port_refused(port);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return port_refused(t);
    }
    None
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
    let dir_of = |id: FileId| {
        Path::new(&project.sources.get(id).name)
            .parent()
            .map(Path::to_path_buf)
    };
    // A file with `[global]` but no `include=` among other pool files (docker's docker.conf
    // and zz-docker.conf in php-fpm.d/) is one of the files a master reads from that
    // directory, in name order, not a master of its own.
    let mains: Vec<FileId> = discovered
        .iter()
        .copied()
        .filter(|&id| {
            let Some(c) = project.fpm(id) else {
                return false;
            };
            is_main_config(c)
                && (!include_entries(c).is_empty()
                    || !discovered
                        .iter()
                        .any(|&o| o != id && project.fpm(o).is_some() && dir_of(o) == dir_of(id)))
        })
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
    // A file with a `[global]` section that another master includes (docker's docker.conf
    // and zz-docker.conf, under php-fpm.conf's `include=etc/php-fpm.d/*.conf`) is part of
    // that master, not a master of its own.
    let files_of: Vec<(FileId, BTreeSet<FileId>)> = out
        .instances
        .iter()
        .filter_map(|i| Some((i.main?, i.files.iter().skip(1).copied().collect())))
        .collect();
    let part_of_another = |m: FileId| {
        files_of.iter().any(|(other, files)| {
            *other != m && files.contains(&m) && !files_of_main(&files_of, m).contains(other)
        })
    };
    out.instances
        .retain(|i| i.main.is_none_or(|m| !part_of_another(m)));
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

fn files_of_main(files_of: &[(FileId, BTreeSet<FileId>)], main: FileId) -> BTreeSet<FileId> {
    files_of
        .iter()
        .find(|(m, _)| *m == main)
        .map(|(_, f)| f.clone())
        .unwrap_or_default()
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
        let mut state = Evaluation {
            instance: i,
            globals: Vec::new(),
            pool_index: HashMap::new(),
            current: None,
        };
        match instance.main {
            // php-fpm reads an included file in place of its `include=` line, and keeps the
            // current section across the boundary both ways: an include inside `[www]`
            // continues `[www]`, and a section the included file opens goes on after it.
            Some(main) => evaluate_file(project, includes, &mut model, &mut state, main),
            None => {
                for &file in &instance.files {
                    evaluate_file(project, includes, &mut model, &mut state, file);
                }
            }
        }
        model.globals.push(state.globals);
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

/// Where evaluating one master's files has got to.
struct Evaluation<'p> {
    instance: usize,
    globals: Vec<Setting<'p>>,
    pool_index: HashMap<String, usize>,
    current: Option<usize>,
}

fn evaluate_file<'p>(
    project: &'p Project,
    includes: &FpmIncludes,
    model: &mut FpmModel<'p>,
    state: &mut Evaluation<'p>,
    file: FileId,
) {
    let Some(config) = project.fpm(file) else {
        return;
    };
    for item in config.items() {
        match item {
            Item::Section(s) if s.is_global() => state.current = None,
            Item::Section(s) => {
                let idx = *state
                    .pool_index
                    .entry(s.name().to_string())
                    .or_insert_with(|| {
                        model.pools.push(Pool {
                            instance: state.instance,
                            name: s.name().to_string(),
                            headers: Vec::new(),
                            entries: Vec::new(),
                        });
                        model.pools.len() - 1
                    });
                model.pools[idx].headers.push((file, s.span()));
                state.current = Some(idx);
            }
            Item::Entry(entry) if entry.name() == "include" && !entry.is_array() => {
                let included = includes.map.get(&(file, entry.span().start));
                for &f in included.into_iter().flatten() {
                    evaluate_file(project, includes, model, state, f);
                }
            }
            Item::Entry(entry) => {
                let setting = Setting::new(file, entry);
                match state.current {
                    Some(p) => model.pools[p].entries.push(setting),
                    None => state.globals.push(setting),
                }
            }
            Item::Comment(_) => {}
        }
    }
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

    /// Pools whose `listen` comes from the environment (`${PHP_FPM_LISTEN}`): they might
    /// listen anywhere. A pool with no `listen` at all (a fragment) listens nowhere, and one
    /// whose `listen` php-fpm refuses does not start (fpm-listen-invalid).
    pub fn unknown_listeners(&self) -> impl Iterator<Item = &Pool<'p>> {
        self.pools.iter().filter(|p| {
            matches!(
                p.listen_value(),
                ListenValue::FromEnv(_) | ListenValue::Unreadable(_)
            )
        })
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

    fn listen_of(value: &str) -> String {
        let text = format!("[www]\nlisten = {value}\n");
        let mut p = Project::from_memory(&[("pool.d/www.conf", &text)], Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        match m.pools[0].listen_value() {
            ListenValue::Unset => "unset".into(),
            ListenValue::FromEnv(_) => "env".into(),
            ListenValue::Invalid(..) => "invalid".into(),
            ListenValue::Unreadable(_) => "unreadable".into(),
            ListenValue::Known(l, _) => l.to_string(),
        }
    }

    /// What php-fpm 8.2 does with each value (started with `-F`, see fpm-listen-invalid):
    /// `invalid port value ''`, `'0'`, `'70000'`, `'99999'`; `::1:9000` binds ::1.
    #[test]
    fn listen_values_php_fpm_refuses() {
        for v in ["", "::zz::", "0", "127.0.0.1:0", "70000", "127.0.0.1:99999"] {
            assert_eq!(listen_of(v), "invalid", "{v:?}");
        }
        assert_eq!(listen_of("::1:9000"), "[::1]:9000");
        assert_eq!(listen_of("[::1]:9000"), "[::1]:9000");
        assert_eq!(listen_of("9000"), "port 9000 on all addresses");
        assert_eq!(listen_of("/run/php/$pool.sock"), "unix:/run/php/www.sock");
        assert_eq!(listen_of("${FPM_LISTEN}"), "env");
        assert_eq!(listen_of("'${FPM_LISTEN}'"), "unix:${FPM_LISTEN}");
    }

    /// As php-fpm 8.2 reads it (checked with `php-fpm8.2 -t`): an `include=` inside `[www]`
    /// continues `[www]` in place, so a later line of the including file overrides the
    /// included one, and a section the included file opens goes on after the include.
    #[test]
    fn pool_level_include_is_read_in_place() {
        let files = [
            ("fpm/php-fpm.conf", "[global]\ninclude = pool.d/*.conf\n"),
            (
                "fpm/pool.d/www.conf",
                "[www]\nlisten = 9000\ninclude = ../common/pm.conf\npm.max_children = 7\n",
            ),
            (
                "fpm/common/pm.conf",
                "pm = static\npm.max_children = 3\n[other]\nlisten = 9001\n",
            ),
        ];
        let mut p = Project::from_memory(&files, Options::default());
        let inc = resolve_includes(&mut p);
        let m = build(&p, &inc);
        let pool = |n: &str| m.pools.iter().find(|p| p.name == n).unwrap();
        assert_eq!(pool("www").value("pm").as_deref(), Some("static"));
        assert_eq!(pool("www").value("pm.max_children").as_deref(), Some("3"));
        assert_eq!(pool("other").value("pm.max_children").as_deref(), Some("7"));
    }

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
