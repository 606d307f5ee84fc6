//! Shared by the buffer rules (NFL201, NFL202, NFL205): nginx's upstream buffer settings as
//! `ngx_http_fastcgi_merge_loc_conf` / `ngx_http_proxy_merge_loc_conf` merge and check them,
//! and edits that raise them while keeping the result acceptable to `nginx -t`.
//!
//! nginx 1.22's checks, in its order, for every server, location and `if` level (never the http
//! level itself), with `largest = max(buffer_size, one of buffers)`:
//! at least 2 buffers; busy (default 2 × largest) >= largest; busy <= (number − 1) × one buffer;
//! temp_file_write_size (default 2 × largest) >= largest; max_temp_file_size (default 1024m)
//! is 0 or >= largest. The defaults of buffer_size and of one buffer are one memory page.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::Label;
use crate::fix::insert::{nginx_lines_after, nginx_lines_in_block};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::nginx::{Context, DirRef, PassKind, Site};
use crate::model::units::{format_size, parse_size};
use crate::rules::{Finding, LintContext};
use crate::source::{FileId, Span};

/// One memory page on x86-64, the default of `*_buffer_size` and of one `*_buffers` buffer.
pub const PAGE: u64 = 4096;

/// The largest number nginx reads for a size (`NGX_MAX_SIZE_T_VALUE`) or a count of buffers
/// (`ngx_atoi`'s `NGX_MAX_INT_T_VALUE`): anything above is "invalid value" in `nginx -t`.
const NGX_MAX: u64 = i64::MAX as u64;

/// What the header-buffer fix raises the number of buffers to, and one buffer to, when the
/// user has not set `*_buffers` (the common `16 16k`).
const FIX_BUFFERS: (u64, u64) = (16, 16 * 1024);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Fastcgi,
    Proxy,
}

/// The settings, by index into [`Family::names`].
pub const BUFFER_SIZE: usize = 0;
pub const BUFFERS: usize = 1;
pub const BUSY: usize = 2;
pub const TEMP_WRITE: usize = 3;
pub const MAX_TEMP: usize = 4;

impl Family {
    pub fn names(self) -> [&'static str; 5] {
        match self {
            Family::Fastcgi => [
                "fastcgi_buffer_size",
                "fastcgi_buffers",
                "fastcgi_busy_buffers_size",
                "fastcgi_temp_file_write_size",
                "fastcgi_max_temp_file_size",
            ],
            Family::Proxy => [
                "proxy_buffer_size",
                "proxy_buffers",
                "proxy_busy_buffers_size",
                "proxy_temp_file_write_size",
                "proxy_max_temp_file_size",
            ],
        }
    }

    pub fn name(self, which: usize) -> &'static str {
        self.names()[which]
    }

    fn kind(self) -> PassKind {
        match self {
            Family::Fastcgi => PassKind::Fastcgi,
            Family::Proxy => PassKind::Proxy,
        }
    }

    fn upstream_word(self) -> &'static str {
        match self {
            Family::Fastcgi => "FastCGI",
            Family::Proxy => "a proxied server",
        }
    }
}

/// The merged values at one level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Values {
    pub buffer_size: u64,
    pub num: u64,
    pub size: u64,
    pub busy: Option<u64>,
    pub temp_write: Option<u64>,
    pub max_temp: Option<u64>,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            buffer_size: PAGE,
            num: 8,
            size: PAGE,
            busy: None,
            temp_write: None,
            max_temp: None,
        }
    }
}

/// A combination `nginx -t` rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Problem {
    TooFewBuffers,
    BusyBelowLargest,
    BusyAboveBuffers,
    TempWriteBelowLargest,
    MaxTempBelowLargest,
}

impl Values {
    pub fn largest(&self) -> u64 {
        self.buffer_size.max(self.size)
    }
    pub fn busy(&self) -> u64 {
        self.busy.unwrap_or(self.largest().saturating_mul(2))
    }
    pub fn temp_write(&self) -> u64 {
        self.temp_write.unwrap_or(self.largest().saturating_mul(2))
    }
    /// `(number - 1) × one buffer`, computed in `size_t` as nginx does: it wraps, so a huge
    /// count can make nginx refuse the busy size (`fastcgi_buffers 4611686018427387905 4` is
    /// refused by nginx 1.22, `4611686018427387904 4` accepted).
    pub fn all_but_one(&self) -> u64 {
        self.num.saturating_sub(1).wrapping_mul(self.size)
    }

    /// The first check nginx fails, in nginx's order.
    pub fn problem(&self) -> Option<Problem> {
        let largest = self.largest();
        if self.num < 2 {
            Some(Problem::TooFewBuffers)
        } else if self.busy() < largest {
            Some(Problem::BusyBelowLargest)
        } else if self.busy() > self.all_but_one() {
            Some(Problem::BusyAboveBuffers)
        } else if self.temp_write() < largest {
            Some(Problem::TempWriteBelowLargest)
        } else if self.max_temp.is_some_and(|m| m != 0 && m < largest) {
            Some(Problem::MaxTempBelowLargest)
        } else {
            None
        }
    }
}

impl Problem {
    /// nginx's own words (`[emerg]` in `nginx -t`).
    pub fn nginx_message(self, f: Family) -> String {
        let [bs, bufs, busy, temp, max_temp] = f.names();
        let largest = format!("the maximum of the value of \"{bs}\" and one of the \"{bufs}\"");
        match self {
            Problem::TooFewBuffers => format!("there must be at least 2 \"{bufs}\""),
            Problem::BusyBelowLargest => {
                format!("\"{busy}\" must be equal to or greater than {largest}")
            }
            Problem::BusyAboveBuffers => format!(
                "\"{busy}\" must be less than the size of all \"{bufs}\" minus one buffer"
            ),
            Problem::TempWriteBelowLargest => {
                format!("\"{temp}\" must be equal to or greater than {largest}")
            }
            Problem::MaxTempBelowLargest => format!(
                "\"{max_temp}\" must be equal to zero to disable temporary files usage or must be equal to or greater than {largest}"
            ),
        }
    }

    /// The settings the verdict depends on, the problem's own first.
    pub fn involves(self) -> &'static [usize] {
        match self {
            Problem::TooFewBuffers => &[BUFFERS],
            Problem::BusyBelowLargest | Problem::BusyAboveBuffers => &[BUSY, BUFFER_SIZE, BUFFERS],
            Problem::TempWriteBelowLargest => &[TEMP_WRITE, BUFFER_SIZE, BUFFERS],
            Problem::MaxTempBelowLargest => &[MAX_TEMP, BUFFER_SIZE, BUFFERS],
        }
    }
}

/// Identifies a level across sites: the block directive that opens it, or (level 0) the root
/// file itself.
pub type LevelKey = (FileId, u32);

pub fn level_key(cx: &LintContext<'_, '_>, site: &Site<'_>, level: usize) -> LevelKey {
    if level == 0 {
        (cx.nginx.roots[site.root].file, u32::MAX)
    } else {
        let d = site.chain[level - 1];
        (d.file, d.directive.span().start)
    }
}

/// Planned changes: new arguments for existing directives, new directives at a level.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    replaced: HashMap<(FileId, u32), String>,
    inserted: Vec<(LevelKey, usize, String)>,
    /// Levels whose replaced directives live there: with `inserted`'s, every level the plan
    /// changes, so only the sites under them need re-checking.
    replaced_levels: Vec<LevelKey>,
}

impl Plan {
    fn touched(&self) -> impl Iterator<Item = &LevelKey> {
        self.inserted
            .iter()
            .map(|(k, _, _)| k)
            .chain(&self.replaced_levels)
    }
}

/// Sites by the levels they sit in, for re-checking only what a plan changes.
pub struct SitesByLevel(HashMap<LevelKey, Vec<usize>>);

impl SitesByLevel {
    /// Indexes into `cx.nginx.sites` of the sites with `key` among their levels.
    pub fn sites(&self, key: LevelKey) -> impl Iterator<Item = usize> + '_ {
        self.0.get(&key).into_iter().flatten().copied()
    }

    pub fn new(cx: &LintContext<'_, '_>) -> Self {
        let mut map: HashMap<LevelKey, Vec<usize>> = HashMap::new();
        for (i, site) in cx.nginx.sites.iter().enumerate() {
            for level in 0..cx.nginx.site_level_ids(site).len() {
                map.entry(level_key(cx, site, level)).or_default().push(i);
            }
        }
        SitesByLevel(map)
    }
}

/// The merged values at a site's level `depth`, with where each came from (level, directive).
#[derive(Clone, Debug)]
pub struct Effective<'p> {
    pub values: Values,
    pub from: [Option<(usize, DirRef<'p>)>; 5],
}

impl Effective<'_> {
    pub fn explicit(&self, which: usize) -> bool {
        self.from[which].is_some()
    }
}

/// The values in effect at `depth` of `site` (with `plan` applied); None when a value cannot
/// be read (a variable, a typo `nginx -t` reports on its own).
pub fn effective<'p>(
    cx: &LintContext<'_, 'p>,
    site: &Site<'p>,
    depth: usize,
    family: Family,
    plan: &Plan,
) -> Option<Effective<'p>> {
    let levels = cx.nginx.site_level_ids(site);
    let mut values = Values::default();
    let mut from = [None; 5];
    for (which, name) in family.names().into_iter().enumerate() {
        let mut args: Option<(String, Option<(usize, DirRef<'p>)>)> = None;
        for level in (0..=depth.min(levels.len() - 1)).rev() {
            let key = level_key(cx, site, level);
            if let Some((_, _, a)) = plan
                .inserted
                .iter()
                .find(|(k, w, _)| *k == key && *w == which)
            {
                args = Some((a.clone(), None));
                break;
            }
            // A level where nginx refuses the directive sets nothing (`nginx -t` fails there).
            let found = cx
                .nginx
                .last_named(levels[level], name)
                .filter(|_| cx.nginx.allowed_at(site, level, name));
            if let Some(d) = found {
                let text = match plan.replaced.get(&(d.file, d.directive.span().start)) {
                    Some(a) => a.clone(),
                    None => d
                        .directive
                        .args()
                        .iter()
                        .map(|w| w.value())
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                args = Some((text, Some((level, d))));
                break;
            }
        }
        let Some((text, origin)) = args else { continue };
        from[which] = origin;
        let words: Vec<&str> = text.split_whitespace().collect();
        match which {
            BUFFERS => {
                let [n, s] = words[..] else { return None };
                // nginx refuses a count or a size of 0 ("invalid value"): nothing to check.
                values.num = n.parse().ok().filter(|n| (1..=NGX_MAX).contains(n))?;
                values.size = parse_size(s).filter(|&s| s > 0)?;
            }
            _ => {
                let [v] = words[..] else { return None };
                let v = parse_size(v)?;
                match which {
                    BUFFER_SIZE => values.buffer_size = v,
                    BUSY => values.busy = Some(v),
                    TEMP_WRITE => values.temp_write = Some(v),
                    _ => values.max_temp = Some(v),
                }
            }
        }
    }
    Some(Effective { values, from })
}

/// Whether nginx checks the buffers at a site's level `depth` (server, location, `if`; the http
/// level is only merged into them). A file no nginx.conf includes is checked at its top level
/// when it holds a server's or a location's directives.
pub fn is_checked_level(cx: &LintContext<'_, '_>, site: &Site<'_>, depth: usize) -> bool {
    if depth == 0 {
        matches!(
            cx.nginx.roots[site.root].context,
            Context::Server | Context::Location
        )
    } else {
        matches!(
            site.chain[depth - 1].name(),
            "server" | "location" | "if" | "limit_except"
        )
    }
}

/// New values that pass every check, raising `buffer_size` to at least `want` when given and
/// touching as little as possible: the number of buffers first (their size is kept when the
/// user chose it), then busy, temp-file-write and max-temp sizes that are too small.
pub fn solve(current: &Values, buffers_explicit: bool, want: Option<u64>) -> Values {
    let mut v = *current;
    if let Some(w) = want {
        v.buffer_size = v.buffer_size.max(w);
    }
    if !buffers_explicit && v.buffer_size > PAGE {
        // Page-sized buffers for 32k headers would mean many tiny buffers: use the usual 16k.
        (v.num, v.size) = (v.num.max(FIX_BUFFERS.0), v.size.max(FIX_BUFFERS.1));
    }
    let largest = v.largest();
    if let Some(b) = v.busy {
        v.busy = Some(b.max(largest));
    }
    let busy = v.busy();
    let needed = busy.div_ceil(v.size).saturating_add(1);
    v.num = v.num.max(needed).max(2);
    if v.num > NGX_MAX
        || v.num
            .checked_sub(1)
            .and_then(|n| n.checked_mul(v.size))
            .is_none()
    {
        // A count nginx refuses, or one whose product wraps: two buffers large enough to
        // hold the busy size instead (busy <= 2^64 - 2, so one half fits a size nginx reads).
        v.size = v.size.max(busy.div_ceil(2));
        v.num = busy.div_ceil(v.size).saturating_add(1).max(2);
    }
    let largest = v.largest();
    if let Some(t) = v.temp_write {
        v.temp_write = Some(t.max(largest));
    }
    if let Some(m) = v.max_temp {
        if m != 0 {
            v.max_temp = Some(m.max(largest));
        }
    }
    debug_assert_eq!(v.problem(), None, "{v:?}");
    v
}

/// The directive arguments for one setting of `v`.
fn args_of(v: &Values, which: usize) -> Option<String> {
    Some(match which {
        BUFFER_SIZE => format_size(v.buffer_size),
        BUFFERS => format!("{} {}", v.num, format_size(v.size)),
        BUSY => format_size(v.busy?),
        TEMP_WRITE => format_size(v.temp_write?),
        _ => format_size(v.max_temp?),
    })
}

/// Where new directives go: at the top of a block, or right after a directive.
#[derive(Clone, Copy)]
pub enum Anchor<'p> {
    InBlock(DirRef<'p>),
    After(DirRef<'p>),
}

/// How the settings that differ between `old` and `new` are written: a directive set at the
/// target level or deeper is rewritten in place; otherwise a new directive goes at `anchor`
/// (in the target level), overriding what it inherits.
pub struct Change<'p> {
    pub plan: Plan,
    pub edits: Vec<Edit>,
    /// `name args` of each changed setting, for messages.
    pub lines: Vec<String>,
    _p: std::marker::PhantomData<&'p ()>,
}

pub fn change<'p>(
    cx: &LintContext<'_, 'p>,
    site: &Site<'p>,
    family: Family,
    eff: &Effective<'p>,
    new: &Values,
    target: (usize, LevelKey),
    anchor: Anchor<'p>,
) -> Option<Change<'p>> {
    let (target_level, target_key) = target;
    let mut plan = Plan::default();
    let mut edits = Vec::new();
    let mut lines = Vec::new();
    let mut inserted = Vec::new();
    for which in [BUFFER_SIZE, BUFFERS, BUSY, TEMP_WRITE, MAX_TEMP] {
        let old_args = args_of(&eff.values, which);
        let new_args = args_of(new, which);
        if old_args == new_args {
            continue;
        }
        let new_args = new_args?;
        let name = family.name(which);
        lines.push(format!("{name} {new_args}"));
        match eff.from[which] {
            Some((level, d)) if level >= target_level => {
                let args = d.directive.args();
                let span = args.first()?.span().cover(args.last()?.span());
                if cx.project.sources.get(d.file).is_builtin() {
                    return None;
                }
                plan.replaced
                    .insert((d.file, d.directive.span().start), new_args.clone());
                plan.replaced_levels.push(level_key(cx, site, level));
                edits.push(Edit::replace(d.file, span, new_args));
            }
            _ => {
                plan.inserted.push((target_key, which, new_args.clone()));
                inserted.push(format!("{name} {new_args};"));
            }
        }
    }
    if !inserted.is_empty() {
        let (owner, edit) = match anchor {
            Anchor::InBlock(owner) => {
                let text = &cx.project.sources.get(owner.file).text;
                (
                    owner,
                    nginx_lines_in_block(owner.file, text, owner.directive, &inserted)?,
                )
            }
            Anchor::After(d) => {
                let text = &cx.project.sources.get(d.file).text;
                (d, nginx_lines_after(d.file, text, d.directive, &inserted))
            }
        };
        if cx.project.sources.get(owner.file).is_builtin() {
            return None;
        }
        edits.push(edit);
    }
    if edits.is_empty() {
        return None;
    }
    Some(Change {
        plan,
        edits,
        lines,
        _p: std::marker::PhantomData,
    })
}

/// Whether every checked level of every site stays acceptable to `nginx -t` under `plan`
/// (levels that were already rejected are another finding's business).
pub fn plan_keeps_nginx_t_happy(
    cx: &LintContext<'_, '_>,
    sites_by_level: &SitesByLevel,
    family: Family,
    plan: &Plan,
) -> bool {
    let empty = Plan::default();
    let mut affected: Vec<usize> = plan
        .touched()
        .flat_map(|k| sites_by_level.0.get(k).into_iter().flatten().copied())
        .collect();
    affected.sort_unstable();
    affected.dedup();
    // A level id is one block as read under one chain of outer blocks: the sites under an
    // http-level edit share their outer levels, which need checking once.
    let mut checked = std::collections::HashSet::new();
    affected
        .into_iter()
        .map(|i| &cx.nginx.sites[i])
        .all(|site| {
            let ids = cx.nginx.site_level_ids(site);
            (0..ids.len()).all(|level| {
                if !checked.insert(ids[level]) || !is_checked_level(cx, site, level) {
                    return true;
                }
                // A level that sets none of these and gets nothing from the plan has the
                // values of its parent: when that is checked too, the verdict is the same.
                let inherits_all = level > 0
                    && is_checked_level(cx, site, level - 1)
                    && family
                        .names()
                        .iter()
                        .all(|n| cx.nginx.last_named(ids[level], n).is_none())
                    && !plan
                        .inserted
                        .iter()
                        .any(|(k, _, _)| *k == level_key(cx, site, level));
                if inherits_all {
                    return true;
                }
                let before = effective(cx, site, level, family, &empty);
                let after = effective(cx, site, level, family, plan);
                match (before, after) {
                    (Some(b), Some(a)) => {
                        b.values.problem().is_some() || a.values.problem().is_none()
                    }
                    _ => true,
                }
            })
        })
}

/// The words of a block directive's header (`location ~ \.php$`), for labels.
pub fn header_span(d: &DirRef<'_>) -> Span {
    d.directive.words().span()
}

fn header_text(d: &DirRef<'_>) -> String {
    d.directive
        .words()
        .iter()
        .map(|w| w.value())
        .collect::<Vec<_>>()
        .join(" ")
}

/// NFL201 and NFL205: sites whose response headers must fit a buffer smaller than
/// `settings.min_header_buffer`.
pub fn header_buffer_findings(cx: &LintContext<'_, '_>, family: Family) -> Vec<Finding> {
    // No larger than nginx reads: a fix must write a value `nginx -t` accepts.
    let min = cx.settings.min_header_buffer.min(NGX_MAX);
    let bs_name = family.name(BUFFER_SIZE);
    // php-fpm's status and ping pages send a handful of small headers.
    let checked = |s: &Site<'_>| s.kind == family.kind() && !cx.nginx.is_fpm_status_page(s);
    let sites: Vec<&Site<'_>> = cx.nginx.sites.iter().filter(|s| checked(s)).collect();
    let empty = Plan::default();
    let sites_by_level = SitesByLevel::new(cx);
    // Indexes that keep this linear in the number of sites.
    let mut by_pass: HashMap<LevelKey, Vec<&Site<'_>>> = HashMap::new();
    for &s in &sites {
        by_pass
            .entry((s.pass.file, s.pass.directive.span().start))
            .or_default()
            .push(s);
    }
    let mut server_wide_cache: HashMap<(usize, LevelKey), bool> = HashMap::new();
    let mut http_wide_cache: HashMap<LevelKey, bool> = HashMap::new();
    let mut group_at: HashMap<LevelKey, usize> = HashMap::new();

    // Sites grouped by the place one fix covers them all.
    struct Group<'s, 'p> {
        site: &'s Site<'p>,
        eff: Effective<'p>,
        target: (usize, LevelKey),
        anchor: Anchor<'p>,
        block: Option<DirRef<'p>>,
        sites: Vec<&'s Site<'p>>,
        /// For a snippet included into several locations: each location's level, where the
        /// lines added to the snippet land.
        shared_levels: Vec<LevelKey>,
    }
    let mut groups: Vec<Group<'_, '_>> = Vec::new();
    for &site in &sites {
        let Some(eff) = effective(cx, site, site.chain.len(), family, &empty) else {
            continue;
        };
        if eff.values.buffer_size >= min {
            continue;
        }
        let own = site.chain.len();
        let pass_key = (site.pass.file, site.pass.directive.span().start);
        // A snippet holding the fastcgi_pass, included into several locations that all have
        // the default and set none of these themselves: one edit in the snippet covers them.
        let sharing: &[&Site<'_>] = by_pass.get(&pass_key).map_or(&[], Vec::as_slice);
        let in_location_snippet = |s: &Site<'_>| {
            s.chain
                .last()
                .is_some_and(|l| l.name() == "location" && l.file != s.pass.file)
        };
        let shared = eff.from[BUFFER_SIZE].is_none()
            && sharing.len() > 1
            && sharing.iter().all(|s| {
                in_location_snippet(s)
                    && effective(cx, s, s.chain.len(), family, &empty).is_some_and(|e| {
                        e.values.buffer_size < min
                            && e.from.iter().flatten().all(|(lvl, _)| *lvl < s.chain.len())
                    })
            });
        let (target, anchor, block) = if let Some((level, d)) = eff.from[BUFFER_SIZE] {
            ((level, level_key(cx, site, level)), Anchor::After(d), None)
        } else if shared {
            ((own, pass_key), Anchor::After(site.pass), None)
        } else {
            // The default: the whole server when every such site in it has the default and
            // sets none of these below the server, else the site's location.
            let server = site.chain.iter().rposition(|d| d.name() == "server");
            let location = site.chain.iter().rposition(|d| d.name() == "location");
            // Every such site of several servers of an http block has the default and sets
            // none of these below http: one line at http level, not one per server.
            let http_wide =
                site.chain
                    .iter()
                    .position(|d| d.name() == "http")
                    .filter(|&k| {
                        let key = level_key(cx, site, k + 1);
                        *http_wide_cache.entry(key).or_insert_with(|| {
                            let mine: Vec<&Site<'_>> = sites_by_level
                                .sites(key)
                                .map(|i| &cx.nginx.sites[i])
                                .filter(|s| checked(s))
                                .filter(|s| s.chain.len() > k && level_key(cx, s, k + 1) == key)
                                .collect();
                            let mut servers: Vec<LevelKey> = mine
                                .iter()
                                .filter_map(|s| {
                                    let i = s.chain.iter().rposition(|d| d.name() == "server")?;
                                    Some(level_key(cx, s, i + 1))
                                })
                                .collect();
                            servers.sort_unstable();
                            servers.dedup();
                            servers.len() > 1
                                && mine.iter().all(|s| {
                                    s.parents_known
                                        && effective(cx, s, s.chain.len(), family, &empty)
                                            .is_some_and(|e| {
                                                e.values.buffer_size < min
                                                    && e.from
                                                        .iter()
                                                        .flatten()
                                                        .all(|(lvl, _)| *lvl <= k + 1)
                                            })
                                })
                        })
                    });
            let server_wide = server.filter(|&k| {
                let key = level_key(cx, site, k + 1);
                *server_wide_cache.entry((k, key)).or_insert_with(|| {
                    let mine: Vec<&Site<'_>> = sites_by_level
                        .sites(key)
                        .map(|i| &cx.nginx.sites[i])
                        .filter(|s| checked(s))
                        .filter(|s| s.chain.len() > k && level_key(cx, s, k + 1) == key)
                        .collect();
                    mine.len() > 1
                        && mine.iter().all(|s| {
                            effective(cx, s, s.chain.len(), family, &empty).is_some_and(|e| {
                                e.values.buffer_size < min
                                    && e.from.iter().flatten().all(|(lvl, _)| *lvl <= k + 1)
                            })
                        })
                })
            });
            match http_wide.or(server_wide).or(location).or(server) {
                Some(i) => (
                    (i + 1, level_key(cx, site, i + 1)),
                    Anchor::InBlock(site.chain[i]),
                    Some(site.chain[i]),
                ),
                None => {
                    // A location's directives in a file nothing includes: its top level.
                    let levels = cx.nginx.site_levels(site);
                    let first = *levels[0].first().unwrap_or(&site.pass);
                    ((0, level_key(cx, site, 0)), Anchor::After(first), None)
                }
            }
        };
        match group_at.get(&target.1) {
            Some(&g) => groups[g].sites.push(site),
            None => {
                group_at.insert(target.1, groups.len());
                groups.push(Group {
                    site,
                    eff,
                    target,
                    anchor,
                    block,
                    sites: vec![site],
                    shared_levels: if shared {
                        sharing
                            .iter()
                            .map(|s| level_key(cx, s, s.chain.len()))
                            .collect()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
    }

    let too_big = "upstream sent too big header while reading response header from upstream";
    let help: Arc<str> = format!(
        "nginx logs `{too_big}` and answers 502 Bad Gateway when response headers (cookies, CSP, long redirects) outgrow the buffer. Raise `{bs_name}` to fit your app's largest headers ({} covers most; a 40 KB Set-Cookie burst needs more) and `{}` with it so that `nginx -t` still accepts the result.",
        format_size(min),
        family.name(BUFFERS),
    )
    .into();
    let mut out = Vec::new();
    for g in groups {
        let bs = g.eff.values.buffer_size;
        let upstream = family.upstream_word();
        let (mut finding, subject) = match (g.eff.from[BUFFER_SIZE], g.block) {
            (Some((_, d)), _) => {
                let w = d.directive.args().first().expect("a size was read from it");
                (
                    Finding::new(
                        format!(
                            "`{bs_name} {}` is below {}: response headers from {upstream} larger than that answer 502",
                            w.value(),
                            format_size(min)
                        ),
                        Label::primary(d.file, w.span(), format!("{} bytes", bs)),
                    ),
                    format!("`{bs_name} {}`", w.value()),
                )
            }
            (None, Some(block)) => (
                Finding::new(
                    if block.name() == "http" {
                        let mut servers: Vec<LevelKey> = g
                            .sites
                            .iter()
                            .filter_map(|s| {
                                let i = s.chain.iter().rposition(|d| d.name() == "server")?;
                                Some(level_key(cx, s, i + 1))
                            })
                            .collect();
                        servers.sort_unstable();
                        servers.dedup();
                        format!(
                            "{} locations in {} servers of this `http` block pass to {upstream} with the default `{bs_name}` (4k or 8k, one memory page): larger response headers answer 502",
                            g.sites.len(),
                            servers.len()
                        )
                    } else if block.name() == "server" {
                        format!(
                            "{} locations of this `server` pass to {upstream} with the default `{bs_name}` (4k or 8k, one memory page): larger response headers answer 502",
                            g.sites.len()
                        )
                    } else {
                        format!(
                            "`{}` passes to {upstream} with the default `{bs_name}` (4k or 8k, one memory page): larger response headers answer 502",
                            header_text(&block)
                        )
                    },
                    Label::primary(
                        block.file,
                        header_span(&block),
                        format!("no `{bs_name}` here or above"),
                    ),
                ),
                format!("`{}`", header_text(&block)),
            ),
            (None, None) if !g.shared_levels.is_empty() => (
                Finding::new(
                    format!(
                        "`{}` in this snippet serves {} locations, all with the default `{bs_name}` (4k or 8k, one memory page): larger response headers answer 502",
                        header_text(&g.site.pass),
                        g.shared_levels.len()
                    ),
                    Label::primary(
                        g.site.pass.file,
                        header_span(&g.site.pass),
                        format!("no `{bs_name}` in effect in any location including this"),
                    ),
                ),
                "every location including this snippet".to_owned(),
            ),
            (None, None) => (
                Finding::new(
                    format!(
                        "`{}` passes to {upstream} with the default `{bs_name}` (4k or 8k, one memory page): larger response headers answer 502",
                        header_text(&g.site.pass)
                    ),
                    Label::primary(
                        g.site.pass.file,
                        header_span(&g.site.pass),
                        format!("no `{bs_name}` in effect here"),
                    ),
                ),
                "this location".to_owned(),
            ),
        };
        let mut seen_pass = Vec::new();
        for s in &g.sites {
            let key = (s.pass.file, s.pass.directive.span().start);
            if seen_pass.contains(&key) {
                continue;
            }
            seen_pass.push(key);
            if seen_pass.len() > 3 {
                continue;
            }
            finding = finding.label(Label::secondary(
                s.pass.file,
                header_span(&s.pass),
                "response headers come back through here",
            ));
        }
        finding = finding.help(help.clone());
        // The default rests on no outer level setting the size: where the levels above are
        // not in the tree, say so, and add nothing that could lower a larger outer value.
        if g.eff.from[BUFFER_SIZE].is_none() && g.sites.iter().any(|s| !s.parents_known) {
            finding.message = format!("{}; {}", finding.message, crate::rules::PARENTS_UNKNOWN);
            out.push(finding.severity(crate::diagnostic::Severity::Info));
            continue;
        }
        // Where nginx -t already fails, fastcgi-buffers-invalid's fix goes first: two fixes
        // adding the same directive to one block in one round would make a duplicate.
        let mut seen_levels = std::collections::HashSet::new();
        let already_invalid = g.sites.iter().any(|s| {
            let ids = cx.nginx.site_level_ids(s);
            (0..=s.chain.len()).any(|level| {
                seen_levels.insert(ids[level])
                    && is_checked_level(cx, s, level)
                    && effective(cx, s, level, family, &empty)
                        .is_some_and(|e| e.values.problem().is_some())
            })
        });
        let new = solve(&g.eff.values, g.eff.explicit(BUFFERS), Some(min));
        // Top-level lines are only valid where the file is read inside a server or location.
        let top_level_ok = g.target.0 > 0
            || matches!(
                cx.nginx.roots[g.site.root].context,
                Context::Server | Context::Location
            );
        let planned = if already_invalid || !top_level_ok {
            None
        } else {
            change(cx, g.site, family, &g.eff, &new, g.target, g.anchor).map(|mut c| {
                // Lines added to the snippet land in every including location.
                let added: Vec<(usize, String)> = c
                    .plan
                    .inserted
                    .iter()
                    .filter(|(k, _, _)| *k == g.target.1)
                    .map(|(_, w, a)| (*w, a.clone()))
                    .collect();
                for &key in &g.shared_levels {
                    for (w, a) in &added {
                        c.plan.inserted.push((key, *w, a.clone()));
                    }
                }
                c
            })
        };
        let fix = planned.and_then(|c| {
            if !plan_keeps_nginx_t_happy(cx, &sites_by_level, family, &c.plan) {
                return None;
            }
            // Every site of the group must end up with the larger buffer.
            let ok = g.sites.iter().all(|s| {
                effective(cx, s, s.chain.len(), family, &c.plan)
                    .is_some_and(|e| e.values.buffer_size >= min && e.values.problem().is_none())
            });
            ok.then(|| {
                Fix::new(
                    format!("set `{}` for {subject}", c.lines.join("; ")),
                    Applicability::Safe,
                    c.edits,
                )
            })
        });
        out.push(finding.fix(fix));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(buffer_size: u64, num: u64, size: u64, busy: Option<u64>) -> Values {
        Values {
            buffer_size,
            num,
            size,
            busy,
            ..Values::default()
        }
    }

    #[test]
    fn nginx_checks() {
        const K: u64 = 1024;
        assert_eq!(Values::default().problem(), None);
        assert_eq!(
            v(32 * K, 8, 4 * K, None).problem(),
            Some(Problem::BusyAboveBuffers)
        );
        assert_eq!(v(14 * K, 8, 4 * K, None).problem(), None); // 28k fits exactly
        assert_eq!(
            v(15 * K, 8, 4 * K, None).problem(),
            Some(Problem::BusyAboveBuffers)
        );
        assert_eq!(
            v(PAGE, 1, 64 * K, None).problem(),
            Some(Problem::TooFewBuffers)
        );
        assert_eq!(
            v(8 * K, 8, 4 * K, Some(6 * K)).problem(),
            Some(Problem::BusyBelowLargest)
        );
        assert_eq!(v(PAGE, 3, 4 * K, None).problem(), None);
        assert_eq!(
            v(PAGE, 2, 4 * K, None).problem(),
            Some(Problem::BusyAboveBuffers)
        );
    }

    #[test]
    fn solve_always_satisfies_nginx() {
        const K: u64 = 1024;
        for bs in [4 * K, 8 * K, 32 * K, 100 * K] {
            for (num, size) in [
                (1, 64 * K),
                (2, 4 * K),
                (8, 4 * K),
                (64, 4 * K),
                (4, 256 * K),
            ] {
                for busy in [None, Some(2 * K), Some(64 * K), Some(1024 * K)] {
                    for temp in [None, Some(K), Some(1024 * K)] {
                        for max_temp in [None, Some(0), Some(2 * K)] {
                            let cur = Values {
                                buffer_size: bs,
                                num,
                                size,
                                busy,
                                temp_write: temp,
                                max_temp,
                            };
                            for explicit in [false, true] {
                                for want in [None, Some(32 * K)] {
                                    let new = solve(&cur, explicit, want);
                                    assert_eq!(new.problem(), None, "{cur:?} -> {new:?}");
                                    assert!(new.buffer_size >= want.unwrap_or(0));
                                    if explicit {
                                        assert_eq!(new.size, size, "keeps the user's buffer size");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
