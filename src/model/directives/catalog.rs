//! [`Catalog`]: the directives of one nginx build, and the settings that pick the build
//! (`nginx-modules`, `nginx-version`, `extra-directives`).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::{args, builds, ctx, nginx_table, Absence, DirectiveSpec, ModuleSpec, ValueKind};
use super::{modules, Version};

/// The module name [`DirectiveSpec::module`] carries for an `extra-directives` entry.
pub const EXTRA_MODULE: &str = "extra-directives";

/// Which modules the linted nginx has: the `nginx-modules` setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ModuleSelection {
    /// Every module in the table (the default: nothing the table knows is "unknown").
    #[default]
    All,
    /// The union of the named builds ([`builds`] bits) and the named modules. A list without
    /// a build name starts from the modules every common build has (what nginx's `configure`
    /// builds by default).
    Some {
        builds: u32,
        modules: Vec<&'static str>,
    },
}

/// The build names `nginx-modules` accepts, with their [`builds`] bit.
pub const BUILD_NAMES: &[(&str, u32)] = &[
    ("debian", builds::DEBIAN),
    ("nginx.org", builds::NGINX_ORG),
    ("openresty", builds::OPENRESTY),
];

impl FromStr for ModuleSelection {
    type Err = String;

    /// `all`, a build (`debian`, `nginx.org`, `openresty`), or a comma-separated list of
    /// builds and module names as nginx spells them (`debian,ngx_http_vhost_traffic_status_module`).
    fn from_str(s: &str) -> Result<Self, String> {
        let items: Vec<&str> = s.split(',').map(str::trim).collect();
        ModuleSelection::from_items(&items)
    }
}

impl ModuleSelection {
    /// From the items of a list (config file array or comma-separated flag).
    pub fn from_items<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut builds_bits = 0;
        let mut names = Vec::new();
        for item in items {
            let item = item.as_ref().trim();
            if item.eq_ignore_ascii_case("all") {
                return Ok(ModuleSelection::All);
            }
            if let Some((_, bit)) = BUILD_NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(item))
            {
                builds_bits |= bit;
                continue;
            }
            match modules().iter().find(|m| m.name == item) {
                Some(m) => names.push(m.name),
                None => return Err(unknown_module(item)),
            }
        }
        if builds_bits == 0 && names.is_empty() {
            return Err(
                "expected \"all\", \"debian\", \"nginx.org\", \"openresty\" or module names"
                    .to_owned(),
            );
        }
        Ok(ModuleSelection::Some {
            builds: builds_bits,
            modules: names,
        })
    }

    /// Whether `module` is selected (before `load_module` lines are counted).
    pub fn contains(&self, module: &ModuleSpec) -> bool {
        match self {
            ModuleSelection::All => true,
            ModuleSelection::Some { builds, modules } => {
                let in_base = if *builds == 0 {
                    module.builds & EVERY_BUILD == EVERY_BUILD
                } else {
                    module.builds & builds != 0
                };
                in_base || modules.contains(&module.name)
            }
        }
    }
}

const EVERY_BUILD: u32 = builds::DEBIAN | builds::NGINX_ORG | builds::OPENRESTY;

fn unknown_module(name: &str) -> String {
    let close = modules()
        .iter()
        .map(|m| m.name)
        .filter(|m| m.contains(name) || name.contains(m.trim_start_matches("ngx_")))
        .take(3)
        .collect::<Vec<_>>();
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(", "))
    };
    format!(
        "unknown nginx module {name:?}: expected \"all\", \"debian\", \"nginx.org\", \
         \"openresty\" or a module name as nginx spells it (ngx_http_lua_module){hint}; \
         declare home-grown directives with extra-directives"
    )
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl FromStr for Version {
    type Err = String;

    /// `1.25.1`, or `1.24` for `1.24.0`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected an nginx version like 1.24.0, got {s:?}");
        let parts: Vec<&str> = s.trim().split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let n = |p: &str| p.parse::<u16>().map_err(|_| bad());
        Ok(Version(
            n(parts[0])?,
            n(parts[1])?,
            parts.get(2).map_or(Ok(0), |p| n(p))?,
        ))
    }
}

/// A home-grown directive (`[[extra-directives]]`): a module of the site's own, or one the
/// table does not know. nginx's checks on it are limited to what is declared: where it may
/// stand and how many arguments it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraDirective {
    pub name: String,
    /// [`ctx`] bits.
    pub contexts: u32,
    /// [`args`] bits.
    pub args: u32,
}

/// The context names `extra-directives` accepts, with their [`ctx`] bits.
pub const CONTEXT_NAMES: &[(&str, u32)] = &[
    ("main", ctx::MAIN),
    ("events", ctx::EVENTS),
    ("http", ctx::HTTP),
    ("server", ctx::HTTP_SRV),
    ("location", ctx::HTTP_LOC),
    ("upstream", ctx::HTTP_UPS),
    ("if", ctx::HTTP_SIF | ctx::HTTP_LIF),
    ("if-in-server", ctx::HTTP_SIF),
    ("if-in-location", ctx::HTTP_LIF),
    ("limit_except", ctx::HTTP_LMT),
    ("mail", ctx::MAIL),
    ("mail-server", ctx::MAIL_SRV),
    ("stream", ctx::STREAM),
    ("stream-server", ctx::STREAM_SRV),
    ("stream-upstream", ctx::STREAM_UPS),
    ("other", ctx::OTHER),
];

/// `contexts = [...]` of an extra directive: [`CONTEXT_NAMES`].
pub fn parse_contexts<S: AsRef<str>>(names: &[S]) -> Result<u32, String> {
    let mut bits = 0;
    for name in names {
        let name = name.as_ref();
        let Some((_, bit)) = CONTEXT_NAMES.iter().find(|(n, _)| *n == name) else {
            let known: Vec<&str> = CONTEXT_NAMES.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown context {name:?}: expected one of {}",
                known.join(", ")
            ));
        };
        bits |= bit;
    }
    if bits == 0 {
        return Err("contexts is empty: name at least one block it may stand in".to_owned());
    }
    Ok(bits)
}

/// `args = "..."` of an extra directive: a count `0` to `7`, several joined by `|` (`1|2`),
/// `1+` or `2+` (one or two and more), `any`, `flag` (`on`/`off`); and `block` (`block`,
/// `1|block`, `0|block`) for a directive that opens a `{ }` block.
pub fn parse_args(shape: &str) -> Result<u32, String> {
    let mut bits = 0;
    for part in shape.split('|').map(str::trim) {
        bits |= match part {
            "any" => args::ANY,
            "flag" => args::FLAG,
            "block" => args::BLOCK,
            "1+" => args::ONE_MORE,
            "2+" => args::TWO_MORE,
            n => match n.parse::<usize>().ok().and_then(|n| args::TAKE.get(n)) {
                Some(bit) => *bit,
                None => {
                    return Err(format!(
                        "bad argument shape {shape:?}: expected counts 0 to 7 joined by | \
                         (\"1|2\"), \"1+\", \"2+\", \"any\" or \"flag\", optionally with \
                         \"|block\""
                    ))
                }
            },
        };
    }
    if bits == args::BLOCK {
        // `args = "block"`: a block with no arguments, as `events { }`.
        bits |= args::NOARGS;
    }
    Ok(bits)
}

/// The directives of one nginx build: the table filtered by the `nginx-modules` selection,
/// the `load_module` lines of the tree and the `nginx-version`, plus `extra-directives`.
/// Built once per run.
///
/// - [`specs`](Catalog::specs): the entries of a name this build has (empty: nginx would say
///   `unknown directive`, or [`absence`](Catalog::absence) says why the build lacks it).
/// - [`names_in`](Catalog::names_in): the names valid in a context, for "did you mean".
/// - [`is_complete`](Catalog::is_complete): false when a `load_module` names a module the
///   table does not know; an unknown name is then not certain to be an error.
pub struct Catalog {
    names: Cow<'static, [&'static str]>,
    /// `starts[i]..starts[i + 1]`: the entries of `names[i]`.
    starts: Cow<'static, [u16]>,
    entries: Cow<'static, [DirectiveSpec]>,
    selection: ModuleSelection,
    /// Modules added by `load_module` lines.
    loaded: HashSet<&'static str>,
    version: Option<Version>,
    unknown_load_modules: Vec<String>,
}

impl Catalog {
    /// Every module in the table, every version (`nginx-modules = "all"`, no version, no
    /// extra directives, no `load_module` counted).
    pub fn all() -> Catalog {
        Catalog {
            names: Cow::Borrowed(nginx_table::NAMES),
            starts: Cow::Borrowed(nginx_table::NAME_STARTS),
            entries: Cow::Borrowed(nginx_table::DIRECTIVES),
            selection: ModuleSelection::All,
            loaded: HashSet::new(),
            version: None,
            unknown_load_modules: Vec::new(),
        }
    }

    /// The build the settings describe (`nginx-modules`, `nginx-version`,
    /// `extra-directives`), with the modules the tree's `load_module` lines load:
    /// `load_modules` are their arguments as written (`modules/ngx_http_echo_module.so`);
    /// only the file name counts.
    pub fn new<S: AsRef<str>>(
        settings: &crate::settings::Settings,
        load_modules: impl IntoIterator<Item = S>,
    ) -> Catalog {
        Catalog::build(
            &settings.nginx_modules,
            settings.nginx_version,
            &settings.extra_directives,
            load_modules,
        )
    }

    /// The build of a linted tree: as [`new`](Catalog::new), with the `load_module` lines at
    /// the top level of every nginx file of `project`.
    pub fn for_project(
        settings: &crate::settings::Settings,
        project: &crate::project::Project,
    ) -> Catalog {
        let mut loads = Vec::new();
        for id in project.files_of(crate::source::Language::Nginx) {
            let Some(config) = project.nginx(id) else {
                continue;
            };
            for d in config.directives() {
                if d.is("load_module") {
                    loads.extend(d.args().first().map(|w| w.value().to_owned()));
                }
            }
        }
        Catalog::new(settings, loads)
    }

    /// As [`new`](Catalog::new), from the parts.
    pub fn build<S: AsRef<str>>(
        selection: &ModuleSelection,
        version: Option<Version>,
        extra: &[ExtraDirective],
        load_modules: impl IntoIterator<Item = S>,
    ) -> Catalog {
        let mut loaded = HashSet::new();
        let mut unknown_load_modules = Vec::new();
        for path in load_modules {
            let path = path.as_ref();
            let file = path.rsplit('/').next().unwrap_or(path);
            let mut found = false;
            for m in modules() {
                if m.dynamic_file == Some(file) {
                    loaded.insert(m.name);
                    found = true;
                }
            }
            if !found && !unknown_load_modules.iter().any(|u| u == file) {
                unknown_load_modules.push(file.to_owned());
            }
        }
        let mut catalog = Catalog {
            selection: selection.clone(),
            loaded,
            version,
            unknown_load_modules,
            ..Catalog::all()
        };
        if catalog.selection == ModuleSelection::All && version.is_none() && extra.is_empty() {
            return catalog;
        }
        let mut entries: Vec<DirectiveSpec> = nginx_table::DIRECTIVES
            .iter()
            .filter(|d| catalog.has(d))
            .copied()
            .collect();
        for e in extra {
            // Names live as long as the run: a catalog is built once per run.
            let name: &'static str = Box::leak(e.name.clone().into_boxed_str());
            entries.push(DirectiveSpec {
                name,
                module: EXTRA_MODULE,
                contexts: e.contexts,
                args: e.args,
                value: ValueKind::Custom,
                refuses_duplicate: false,
                since: Version(0, 0, 0),
                until: None,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(b.name).then(a.module.cmp(b.module)));
        let mut names = Vec::new();
        let mut starts = Vec::new();
        for (i, d) in entries.iter().enumerate() {
            if names.last() != Some(&d.name) {
                names.push(d.name);
                starts.push(i as u16);
            }
        }
        starts.push(entries.len() as u16);
        catalog.names = Cow::Owned(names);
        catalog.starts = Cow::Owned(starts);
        catalog.entries = Cow::Owned(entries);
        catalog
    }

    /// Whether this build has the table entry `d` (module selected or loaded, version in
    /// range).
    fn has(&self, d: &DirectiveSpec) -> bool {
        self.module_selected(d.module) && self.version_reason(d).is_none()
    }

    fn module_selected(&self, module: &str) -> bool {
        if self.selection == ModuleSelection::All || self.loaded.contains(module) {
            return true;
        }
        modules()
            .binary_search_by(|m| m.name.cmp(module))
            .is_ok_and(|i| self.selection.contains(&modules()[i]))
    }

    fn version_reason(&self, d: &DirectiveSpec) -> Option<Absence> {
        let v = self.version?;
        if v < d.since {
            return Some(Absence::NewerThan(d.since));
        }
        match d.until {
            Some(until) if v >= until => Some(Absence::RemovedIn(until)),
            _ => None,
        }
    }

    /// The entries named `name` that this build has: one per module defining it (`listen`
    /// has http's, mail's and stream's). Empty when nginx would answer `unknown directive`
    /// (if [`is_complete`](Catalog::is_complete)).
    pub fn specs(&self, name: &str) -> &[DirectiveSpec] {
        match self.names.binary_search(&name) {
            Ok(i) => &self.entries[self.starts[i] as usize..self.starts[i + 1] as usize],
            Err(_) => &[],
        }
    }

    /// Why the table knows `name` but this build lacks it; None when the build has it or
    /// the table does not know it at all. A version reason wins over a module one when some
    /// entry's module is selected (`ssl` with `nginx-version = "1.25.1"` is `RemovedIn`).
    pub fn absence(&self, name: &str) -> Option<Absence> {
        if !self.specs(name).is_empty() {
            return None;
        }
        let table = super::lookup(name);
        table
            .iter()
            .filter(|d| self.module_selected(d.module))
            .find_map(|d| self.version_reason(d))
            .or_else(|| table.first().map(|d| Absence::ModuleNotSelected(d.module)))
    }

    /// The names this build allows in a context (`ctx` bits; any of them), sorted: the
    /// candidates for "did you mean".
    pub fn names_in(&self, context: u32) -> impl Iterator<Item = &'static str> + '_ {
        self.names
            .iter()
            .copied()
            .filter(move |n| self.specs(n).iter().any(|d| d.contexts & context != 0))
    }

    /// Every name this build has, sorted.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// False when the build may hold directives the table cannot know (a `load_module` of a
    /// module outside the table): "unknown directive" is then not certain.
    pub fn is_complete(&self) -> bool {
        self.unknown_load_modules.is_empty()
    }

    /// The files of `load_module` lines that name no module of the table (`ngx_foo.so`), for
    /// saying why a finding is not certain.
    pub fn unknown_load_modules(&self) -> &[String] {
        &self.unknown_load_modules
    }

    /// The `nginx-version` the build is checked against, if one was given.
    pub fn version(&self) -> Option<Version> {
        self.version
    }
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(sel: &str, version: Option<&str>) -> Catalog {
        Catalog::build(
            &sel.parse().unwrap(),
            version.map(|v| v.parse().unwrap()),
            &[],
            Vec::<&str>::new(),
        )
    }

    #[test]
    fn all_has_every_entry_of_the_table() {
        let all = Catalog::all();
        assert_eq!(all.specs("fastcgi_pass").len(), 1);
        assert_eq!(all.specs("more_set_headers").len(), 1);
        assert_eq!(all.absence("fastcgi_pass"), None);
        assert_eq!(all.absence("fastcgi_pas"), None);
        assert!(all.specs("fastcgi_pas").is_empty());
        assert!(all.is_complete());
    }

    #[test]
    fn versions_add_and_remove_directives() {
        // http2 came in 1.25.1; `ssl` went in 1.25.1 (nginx's CHANGES).
        let old = catalog("all", Some("1.24.0"));
        assert!(old.specs("http2").is_empty());
        assert_eq!(
            old.absence("http2"),
            Some(Absence::NewerThan(Version(1, 25, 1)))
        );
        assert!(!old.specs("ssl").is_empty());
        let new = catalog("all", Some("1.25.1"));
        assert_eq!(new.specs("http2").len(), 1);
        assert_eq!(
            new.absence("ssl"),
            Some(Absence::RemovedIn(Version(1, 25, 1)))
        );
    }

    #[test]
    fn builds_select_their_modules() {
        let deb = catalog("debian", None);
        assert!(!deb.specs("more_set_headers").is_empty());
        assert!(!deb.specs("fastcgi_pass").is_empty());
        assert!(!deb.specs("nchan_publisher").is_empty());
        // HTTP/3 is not in Debian 12's build; vts is packaged by none of the builds.
        assert_eq!(
            deb.absence("http3"),
            Some(Absence::ModuleNotSelected("ngx_http_v3_module"))
        );
        assert!(deb.specs("vhost_traffic_status_zone").is_empty());
        let org = catalog("nginx.org", None);
        assert!(org.specs("more_set_headers").is_empty());
        assert!(!org.specs("js_import").is_empty());
        assert!(!org.specs("http3").is_empty());
        let or = catalog("openresty", None);
        assert!(!or.specs("content_by_lua_block").is_empty());
        assert!(!or.specs("set_unescape_uri").is_empty());
        assert!(or.specs("js_import").is_empty());
        // A list of modules adds them to what every build has.
        let list = catalog("ngx_http_vhost_traffic_status_module", None);
        assert!(!list.specs("vhost_traffic_status_zone").is_empty());
        assert!(!list.specs("fastcgi_pass").is_empty());
        assert!(list.specs("more_set_headers").is_empty());
        let both = catalog("nginx.org, ngx_http_headers_more_filter_module", None);
        assert!(!both.specs("more_set_headers").is_empty());
        assert!(!both.specs("http3").is_empty());
        assert!("ngx_http_nope".parse::<ModuleSelection>().is_err());
        assert!("".parse::<ModuleSelection>().is_err());
    }

    #[test]
    fn load_module_adds_its_module_and_unknown_ones_make_it_incomplete() {
        let c = Catalog::build(
            &"nginx.org".parse().unwrap(),
            None,
            &[],
            [
                "modules/ngx_http_headers_more_filter_module.so",
                "/usr/lib/nginx/modules/ngx_foo_module.so",
            ],
        );
        assert!(!c.specs("more_set_headers").is_empty());
        assert!(!c.is_complete());
        assert_eq!(c.unknown_load_modules(), ["ngx_foo_module.so"]);
        let stream = Catalog::build(
            &"openresty".parse().unwrap(),
            None,
            &[],
            ["modules/ngx_mail_module.so"],
        );
        assert!(!stream.specs("smtp_auth").is_empty());
        assert!(stream.is_complete());
    }

    #[test]
    fn a_project_s_load_module_lines_count() {
        let project = crate::project::Project::from_memory(
            &[(
                "etc/nginx/nginx.conf",
                "load_module modules/ngx_http_echo_module.so;\n\
                 load_module \"/usr/lib/nginx/modules/ngx_x_module.so\";\n\
                 events {}\nhttp {}\n",
            )],
            crate::project::Options::default(),
        );
        let settings = crate::settings::Settings {
            nginx_modules: "nginx.org".parse().unwrap(),
            ..Default::default()
        };
        let c = Catalog::for_project(&settings, &project);
        assert!(!c.specs("echo").is_empty());
        assert!(c.specs("more_set_headers").is_empty());
        assert_eq!(c.unknown_load_modules(), ["ngx_x_module.so"]);
    }

    #[test]
    fn extra_directives_join_the_build() {
        let extra = [ExtraDirective {
            name: "my_auth".to_owned(),
            contexts: parse_contexts(&["server", "location"]).unwrap(),
            args: parse_args("1|2").unwrap(),
        }];
        let c = Catalog::build(&ModuleSelection::All, None, &extra, Vec::<&str>::new());
        let spec = c.specs("my_auth");
        assert_eq!(spec.len(), 1);
        assert_eq!(spec[0].module, EXTRA_MODULE);
        assert_eq!(spec[0].contexts, ctx::HTTP_SRV | ctx::HTTP_LOC);
        assert_eq!(spec[0].args, args::TAKE1 | args::TAKE2);
        assert!(!c.specs("fastcgi_pass").is_empty());
        assert!(c.names_in(ctx::HTTP_LOC).any(|n| n == "my_auth"));
        assert!(!c.names_in(ctx::MAIN).any(|n| n == "my_auth"));
        assert_eq!(parse_args("block").unwrap(), args::BLOCK | args::NOARGS);
        assert_eq!(parse_args("1+").unwrap(), args::ONE_MORE);
        assert!(parse_args("9").is_err());
        assert!(parse_contexts(&["servr"]).is_err());
    }

    #[test]
    fn names_in_a_context() {
        let all = Catalog::all();
        let loc: Vec<_> = all.names_in(ctx::HTTP_LOC).collect();
        assert!(loc.contains(&"fastcgi_pass"));
        assert!(!loc.contains(&"worker_processes"));
        assert!(all.names_in(ctx::MAIN).any(|n| n == "worker_processes"));
    }

    #[test]
    fn versions_parse() {
        assert_eq!("1.25.1".parse(), Ok(Version(1, 25, 1)));
        assert_eq!("1.24".parse(), Ok(Version(1, 24, 0)));
        assert!("1".parse::<Version>().is_err());
        assert!("1.x.2".parse::<Version>().is_err());
        assert_eq!(Version(1, 25, 1).to_string(), "1.25.1");
    }
}
