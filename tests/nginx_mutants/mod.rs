//! One-directive mutants of an nginx file, for the differential test against real `nginx -t`.
//!
//! Every mutant changes one directive of the file's own text (or adds one copy of it), in one
//! of six classes. The class says what the change was meant to do; the verdict always comes
//! from nginx, so a "neutral" change nginx refuses is judged as refused all the same.
//! Deterministic: each file draws from its own generator, seeded by its path.
#![allow(dead_code)]

use nginx_fpm_lint::syntax::nginx::{self, Directive, End, Quote};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A letter of the name deleted, inserted, substituted or two transposed.
    Typo,
    /// A copy of the directive in a block of another kind.
    Move,
    /// One argument dropped or added, or all removed.
    Args,
    /// A value nginx checks made bad (flag, size, time, number, enum, listen, address, ...).
    Value,
    /// The directive (or a location, an upstream) repeated in its block.
    Duplicate,
    /// Meant to stay valid: another value of the same kind, whitespace, a comment, two
    /// directives swapped, an argument quoted.
    Neutral,
}

pub const CLASSES: [Class; 6] = [
    Class::Typo,
    Class::Move,
    Class::Args,
    Class::Value,
    Class::Duplicate,
    Class::Neutral,
];

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Typo => "typo",
            Class::Move => "move",
            Class::Args => "args",
            Class::Value => "value",
            Class::Duplicate => "duplicate",
            Class::Neutral => "neutral",
        }
    }

    /// The share of a file's candidates of this class that become mutants: sized so the
    /// classes come out in similar numbers over the corpus and the fixtures.
    fn rate(self) -> f64 {
        match self {
            Class::Typo => 0.035,
            Class::Move => 0.046,
            Class::Args => 0.06,
            Class::Value => 0.28,
            Class::Duplicate => 0.12,
            Class::Neutral => 0.04,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Mutant {
    /// Stable: `path:line:op:hash of the text`.
    pub id: String,
    pub class: Class,
    /// The operator, e.g. `typo-transpose`, `value-size-suffix`, `move-to-if`.
    pub op: String,
    /// The directive's name in the original.
    pub directive: String,
    pub text: String,
}

/// splitmix64: small, fast and good enough to pick mutants reproducibly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// FNV-1a, 64 bits: seeds and ids that do not change between runs or platforms.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const MAX_PER_CLASS_AND_FILE: usize = 12;

const SEED: u64 = 0x6e66_6c34_3030; // fixed: the mutant set only changes with the inputs

/// A directive as the mutators see it: byte offsets into the file's text.
#[derive(Clone, Debug)]
struct Site {
    name: String,
    name_span: (usize, usize),
    name_quoted: bool,
    /// (start, end, raw text, quoted)
    args: Vec<(usize, usize, String, bool)>,
    span: (usize, usize),
    /// Offset just past `{` for a block.
    open: Option<usize>,
    raw_body: bool,
    /// The kind of the enclosing block: a directive name, or the file's own context.
    parent: String,
    /// Index of the parent block among `blocks` (None: the file's top level).
    parent_block: Option<usize>,
}

/// A place a copy can go: an existing block or the file's top level.
#[derive(Clone, Debug)]
struct Block {
    kind: String,
    /// Where inserted text goes (just past `{`, or the file's start).
    at: usize,
    span: (usize, usize),
}

fn collect(
    d: Directive<'_>,
    parent: &str,
    parent_block: Option<usize>,
    sites: &mut Vec<Site>,
    blocks: &mut Vec<Block>,
) {
    let s = d.span();
    let nw = d.name_word();
    let (open, raw_body) = match d.end() {
        End::Block { open, .. } => (Some(open.end as usize), false),
        End::Raw { .. } => (None, true),
        End::Semicolon { .. } => (None, false),
    };
    sites.push(Site {
        name: d.name().to_owned(),
        name_span: (nw.span().start as usize, nw.span().end as usize),
        name_quoted: nw.quote() != Quote::None,
        args: d
            .args()
            .iter()
            .map(|w| {
                (
                    w.span().start as usize,
                    w.span().end as usize,
                    w.raw().to_owned(),
                    w.quote() != Quote::None,
                )
            })
            .collect(),
        span: (s.start as usize, s.end as usize),
        open,
        raw_body,
        parent: parent.to_owned(),
        parent_block,
    });
    if let Some(at) = open {
        let kind = d.name().to_owned();
        blocks.push(Block {
            kind: kind.clone(),
            at,
            span: (s.start as usize, s.end as usize),
        });
        let me = blocks.len() - 1;
        for c in d.children() {
            collect(c, &kind, Some(me), sites, blocks);
        }
    }
}

fn splice(text: &str, from: usize, to: usize, with: &str) -> String {
    let mut s = String::with_capacity(text.len() + with.len());
    s.push_str(&text[..from]);
    s.push_str(with);
    s.push_str(&text[to..]);
    s
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].bytes().filter(|b| *b == b'\n').count() + 1
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `8k`, `30s`, `1m`, `500ms`: digits then letters.
fn number_with_suffix(s: &str) -> Option<(&str, &str)> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, suffix) = s.split_at(split);
    (!n.is_empty() && !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphabetic()))
        .then_some((n, suffix))
}

/// Directives whose arguments name files, hosts or users: a changed value there is judged by
/// the host, not by nginx's reading of the configuration.
const HOST_ARGS: &[&str] = &[
    "include",
    "fastcgi_pass",
    "proxy_pass",
    "uwsgi_pass",
    "scgi_pass",
    "grpc_pass",
    "memcached_pass",
    "resolver",
    "user",
    "load_module",
    "ssl_certificate",
    "ssl_certificate_key",
    "ssl_trusted_certificate",
    "ssl_client_certificate",
    "ssl_dhparam",
    "ssl_password_file",
    "auth_basic_user_file",
    "geoip_country",
    "geoip_city",
    "geoip2",
    "pid",
    "lock_file",
];

/// Every mutant of `text` (a file whose context is `file_ctx`: main, main-snippet, http,
/// server, location or upstream), sampled per class. Empty when the text does not parse.
pub fn mutants(rel: &str, text: &str, file_ctx: &str) -> Vec<Mutant> {
    let Ok(config) = nginx::parse(text) else {
        return Vec::new();
    };
    let top = match file_ctx {
        "main-snippet" => "main",
        c => c,
    };
    let mut sites = Vec::new();
    let mut blocks = Vec::new();
    for d in config.directives() {
        collect(d, top, None, &mut sites, &mut blocks);
    }
    let mut rng = Rng::new(fnv(rel.as_bytes()) ^ SEED);
    let mut pools: Vec<Vec<(Class, String, usize, String)>> = vec![Vec::new(); CLASSES.len()];
    let mut push = |class: Class, op: &str, site: &Site, new: String| {
        if new != text {
            pools[class as usize].push((class, op.to_owned(), site.span.0, new));
        }
    };

    // The targets of moves: the first block of each kind, and new blocks opened where a
    // file of this context can open them.
    let mut targets: Vec<(String, usize, String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let top_at = config
        .directives()
        .next()
        .map_or(text.len(), |d| d.span().start as usize);
    let top_block = Block {
        kind: top.to_owned(),
        at: top_at,
        span: (0, text.len()),
    };
    for b in std::iter::once(&top_block).chain(blocks.iter()) {
        if seen.insert(b.kind.clone()) {
            targets.push((b.kind.clone(), b.at, String::new(), String::new()));
        }
        let open = |kind: &str, head: &str| {
            (
                kind.to_owned(),
                b.at,
                format!("{head} {{ "),
                " }".to_owned(),
            )
        };
        match b.kind.as_str() {
            "server" if seen.insert("+server".into()) => {
                targets.push(open("location", "location /nfl-moved/"));
                targets.push(open("if-in-server", "if ($arg_nfl_moved)"));
            }
            "location" if seen.insert("+location".into()) => {
                targets.push(open("if-in-location", "if ($arg_nfl_moved)"))
            }
            "http" if seen.insert("+http".into()) => targets.push(open("server", "server")),
            "main" if file_ctx == "main-snippet" => targets.push(open("http", "http")),
            _ => {}
        }
    }
    let mut unique = std::collections::BTreeSet::new();
    targets.retain(|t| unique.insert(t.0.clone()));

    for (i, s) in sites.iter().enumerate() {
        if s.raw_body {
            continue;
        }
        let (a, b) = s.span;
        let own = &text[a..b];
        let is_block = s.open.is_some();

        // (a) name typos
        let name: Vec<char> = s.name.chars().collect();
        if !s.name_quoted && name.len() >= 2 && name.iter().all(|c| c.is_ascii()) {
            let (na, nb) = s.name_span;
            let typo = |chars: Vec<char>| chars.into_iter().collect::<String>();
            let k = rng.below(name.len());
            let mut del = name.clone();
            del.remove(k);
            push(
                Class::Typo,
                "typo-delete",
                s,
                splice(text, na, nb, &typo(del)),
            );
            let letter = (b'a' + rng.below(26) as u8) as char;
            let mut ins = name.clone();
            ins.insert(rng.below(name.len() + 1), letter);
            push(
                Class::Typo,
                "typo-insert",
                s,
                splice(text, na, nb, &typo(ins)),
            );
            let mut sub = name.clone();
            let k = rng.below(name.len());
            let mut c = (b'a' + rng.below(26) as u8) as char;
            if c == sub[k] {
                c = if c == 'z' { 'a' } else { (c as u8 + 1) as char };
            }
            sub[k] = c;
            push(
                Class::Typo,
                "typo-substitute",
                s,
                splice(text, na, nb, &typo(sub)),
            );
            let k = rng.below(name.len() - 1);
            if name[k] != name[k + 1] {
                let mut tr = name.clone();
                tr.swap(k, k + 1);
                push(
                    Class::Typo,
                    "typo-transpose",
                    s,
                    splice(text, na, nb, &typo(tr)),
                );
            }
        }

        // A copied `include` copies a whole file, not one directive.
        let is_include = s.name == "include";

        // (b) copies into blocks of another kind
        if !is_include && (!is_block || own.len() <= 400) {
            for (kind, at, head, tail) in &targets {
                let inside_self = *at > a && *at < b;
                if *kind == s.parent || inside_self {
                    continue;
                }
                let insert = format!("\n{head}{own}{tail}\n");
                push(
                    Class::Move,
                    &format!("move-to-{kind}"),
                    s,
                    splice(text, *at, *at, &insert),
                );
            }
        }

        // (c) argument counts
        if let Some(last) = s.args.last() {
            let prev_end = if s.args.len() >= 2 {
                s.args[s.args.len() - 2].1
            } else {
                s.name_span.1
            };
            push(
                Class::Args,
                "args-drop-last",
                s,
                splice(text, prev_end, last.1, ""),
            );
            if s.args.len() >= 2 {
                push(
                    Class::Args,
                    "args-remove-all",
                    s,
                    splice(text, s.name_span.1, last.1, ""),
                );
            }
            push(
                Class::Args,
                "args-add-one",
                s,
                splice(text, last.1, last.1, &format!(" {}", last.2)),
            );
        } else if !is_block {
            push(
                Class::Args,
                "args-add-one",
                s,
                splice(text, s.name_span.1, s.name_span.1, " nfl_extra"),
            );
        }

        // (d) bad values
        let host_args = HOST_ARGS.contains(&s.name.as_str());
        for (k, (wa, wb, raw, quoted)) in s.args.iter().enumerate() {
            let set = |with: &str| splice(text, *wa, *wb, with);
            let word = raw.as_str();
            match (s.name.as_str(), k) {
                ("listen", _) => {
                    let port = word.rsplit(':').next().unwrap_or("");
                    if is_number(port) && !word.starts_with("unix:") {
                        let new = format!("{}99999", &word[..word.len() - port.len()]);
                        push(Class::Value, "value-listen-port", s, set(&new));
                    }
                    if k == s.args.len() - 1 {
                        push(
                            Class::Value,
                            "value-listen-param",
                            s,
                            splice(text, *wb, *wb, " nfl_param"),
                        );
                    }
                    continue;
                }
                ("fastcgi_pass", 0) => {
                    if let Some(path) = word.strip_prefix("unix:") {
                        push(Class::Value, "value-pass-no-unix", s, set(path));
                    }
                    continue;
                }
                ("return", 0) if is_number(word) => {
                    push(Class::Value, "value-return-code", s, set("999"));
                    continue;
                }
                ("if", _) if word == "=" || word == "!=" => {
                    push(Class::Value, "value-if-double-equals", s, set("=="));
                    continue;
                }
                ("if", _) | ("location", _) | ("rewrite", 0)
                    if k + 1 < s.args.len() || s.name == "rewrite" =>
                {
                    // The word after a regex operator, or rewrite's pattern: an unbalanced group.
                    let regex_next = matches!(word, "~" | "~*" | "!~" | "!~*");
                    if s.name == "rewrite" {
                        push(
                            Class::Value,
                            "value-broken-regex",
                            s,
                            set(&broken_regex(raw, *quoted)),
                        );
                    } else if regex_next {
                        let (na, nb, nraw, nq) = &s.args[k + 1];
                        if s.name != "if" || !nraw.ends_with(')') {
                            push(
                                Class::Value,
                                "value-broken-regex",
                                s,
                                splice(text, *na, *nb, &broken_regex(nraw, *nq)),
                            );
                        }
                    }
                    continue;
                }
                _ => {}
            }
            if *quoted || host_args || is_block {
                continue;
            }
            if word == "on" || word == "off" {
                push(
                    Class::Value,
                    "value-flag",
                    s,
                    set(if word == "on" { "yes" } else { "no" }),
                );
            } else if let Some((n, _)) = number_with_suffix(word) {
                push(Class::Value, "value-unit-suffix", s, set(&format!("{n}x")));
            } else if is_number(word) {
                push(Class::Value, "value-number", s, set("abc"));
            } else if !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                push(Class::Value, "value-enum", s, set("nfl_nonmember"));
            }
        }

        // (e) duplicates
        if is_include {
            // Not one directive: see the copies above.
        } else if !is_block {
            push(
                Class::Duplicate,
                "duplicate-directive",
                s,
                splice(text, b, b, &format!("\n{own}")),
            );
        } else if matches!(s.name.as_str(), "location" | "upstream") && own.len() <= 2000 {
            push(
                Class::Duplicate,
                &format!("duplicate-{}", s.name),
                s,
                splice(text, b, b, &format!("\n{own}")),
            );
        }

        // (f) neutral changes
        let na = s.name_span.0;
        push(
            Class::Neutral,
            "neutral-comment",
            s,
            splice(text, na, na, "# nfl: a comment\n"),
        );
        if let Some(first) = s.args.first() {
            push(
                Class::Neutral,
                "neutral-whitespace",
                s,
                splice(text, s.name_span.1, first.0, " \t  "),
            );
            let k = rng.below(s.args.len());
            let (wa, wb, raw, quoted) = &s.args[k];
            if !quoted && !raw.contains(['"', '\'', '{', '}', ';']) && !raw.ends_with('\\') {
                push(
                    Class::Neutral,
                    "neutral-quote",
                    s,
                    splice(text, *wa, *wb, &format!("\"{raw}\"")),
                );
            }
            if !host_args && !is_block {
                if let Some((wa, wb, raw, _)) =
                    s.args.iter().find(|w| !w.3 && other_value(&w.2).is_some())
                {
                    let new = other_value(raw).unwrap();
                    push(
                        Class::Neutral,
                        "neutral-other-value",
                        s,
                        splice(text, *wa, *wb, &new),
                    );
                }
            }
        }
        // Swapped with the next directive of the same block, both simple.
        if let Some(next) = sites.get(i + 1) {
            if !is_block
                && next.open.is_none()
                && !next.raw_body
                && next.parent_block == s.parent_block
                && next.name != s.name
            {
                let between = &text[b..next.span.0];
                let other = &text[next.span.0..next.span.1];
                push(
                    Class::Neutral,
                    "neutral-swap",
                    s,
                    splice(text, a, next.span.1, &format!("{other}{between}{own}")),
                );
            }
        }
    }

    let mut out = Vec::new();
    let mut texts = std::collections::HashSet::new();
    for (c, pool) in pools.iter_mut().enumerate() {
        rng.shuffle(pool);
        // Rounded up or down at random, in proportion: small files add up to the rate too.
        let want = pool.len() as f64 * CLASSES[c].rate();
        let take = want.floor() as usize + usize::from(rng.chance(want.fract()));
        // A long list (mime.types, an IP allow-list) must not outweigh the configs.
        let take = take.min(MAX_PER_CLASS_AND_FILE);
        for (class, op, at, new) in pool.drain(..).take(take) {
            if !texts.insert(fnv(new.as_bytes())) {
                continue;
            }
            let directive = sites
                .iter()
                .find(|s| s.span.0 == at)
                .map_or_else(String::new, |s| s.name.clone());
            out.push(Mutant {
                id: format!(
                    "{rel}:{}:{op}:{:08x}",
                    line_of(text, at),
                    fnv(new.as_bytes()) as u32
                ),
                class,
                op,
                directive,
                text: new,
            });
        }
    }
    out
}

/// An unbalanced group at the end of a regex, inside its quotes if it has them.
fn broken_regex(raw: &str, quoted: bool) -> String {
    if quoted && raw.len() >= 2 {
        let (body, quote) = raw.split_at(raw.len() - 1);
        format!("{body}({quote}")
    } else {
        format!("{raw}(")
    }
}

/// Another value of the same kind: the other flag, twice the size or time, the number plus one.
fn other_value(word: &str) -> Option<String> {
    match word {
        "on" => return Some("off".into()),
        "off" => return Some("on".into()),
        _ => {}
    }
    if let Some((n, suffix)) = number_with_suffix(word) {
        let n: u64 = n.parse().ok()?;
        return Some(format!("{}{suffix}", n.checked_mul(2)?));
    }
    if is_number(word) && word.len() < 9 {
        let n: u64 = word.parse().ok()?;
        return Some((n + 1).to_string());
    }
    None
}
