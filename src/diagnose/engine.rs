//! From log lines to causes: one streaming pass over each log, counting per cause, keeping one
//! example line of each log kind, and pairing what nginx saw (a reset connection) with what
//! php-fpm or the kernel said at the same time (a killed worker, a timed-out script).
//!
//! Memory does not grow with the logs: tallies are per cause and address, the events nginx's
//! lines are paired with (php-fpm's and the kernel's kills and timeouts) are rare, and nginx
//! lines that wait for a pairing are capped.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::logline::{self, Event, Line, LogKind, Phase};
use super::read::LogReader;
use super::time::Stamp;

/// Lines from php-fpm or the kernel within this many microseconds of an nginx line are taken
/// to be about the same request.
pub const PAIR_WINDOW_US: i64 = 2_000_000;
/// Kills, crashes and timeouts kept for pairing; a log with more is a storm, and the first ones
/// say what it is.
const MAX_ANCHORS: usize = 200_000;
/// nginx lines that wait for the end of the run to be paired.
const MAX_PENDING: usize = 20_000;

/// The causes `diagnose` tells apart, with stable ids (the JSON field `cause`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseId {
    ListenMismatch,
    BackendDown,
    SocketPermission,
    HeaderTooBig,
    ScriptNotFound,
    NoLiveUpstreams,
    PoolExhausted,
    UpstreamTimeout,
    RequestTerminated,
    WorkerCrashed,
    OomKilled,
    ClientNotAllowed,
    FpmStartFailed,
    UpstreamReset,
    PhpFatal,
}

impl CauseId {
    pub const ALL: [CauseId; 15] = [
        CauseId::ListenMismatch,
        CauseId::BackendDown,
        CauseId::SocketPermission,
        CauseId::HeaderTooBig,
        CauseId::ScriptNotFound,
        CauseId::NoLiveUpstreams,
        CauseId::PoolExhausted,
        CauseId::UpstreamTimeout,
        CauseId::RequestTerminated,
        CauseId::WorkerCrashed,
        CauseId::OomKilled,
        CauseId::ClientNotAllowed,
        CauseId::FpmStartFailed,
        CauseId::UpstreamReset,
        CauseId::PhpFatal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CauseId::ListenMismatch => "listen-mismatch",
            CauseId::BackendDown => "backend-down",
            CauseId::SocketPermission => "socket-permission",
            CauseId::HeaderTooBig => "header-too-big",
            CauseId::ScriptNotFound => "script-not-found",
            CauseId::NoLiveUpstreams => "no-live-upstreams",
            CauseId::PoolExhausted => "pool-exhausted",
            CauseId::UpstreamTimeout => "upstream-timeout",
            CauseId::RequestTerminated => "request-terminated",
            CauseId::WorkerCrashed => "worker-crashed",
            CauseId::OomKilled => "oom-killed",
            CauseId::ClientNotAllowed => "client-not-allowed",
            CauseId::FpmStartFailed => "fpm-start-failed",
            CauseId::UpstreamReset => "upstream-reset",
            CauseId::PhpFatal => "php-fatal",
        }
    }

    /// The HTTP status the users got.
    pub fn status(self) -> u16 {
        match self {
            CauseId::ScriptNotFound => 404,
            CauseId::UpstreamTimeout => 504,
            CauseId::PhpFatal => 500,
            _ => 502,
        }
    }
}

/// One line quoted as evidence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    pub file: String,
    pub line: u64,
    pub text: String,
}

/// What the logs say about one cause at one address (or pool).
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub count: u64,
    pub first_seen: Option<Stamp>,
    pub last_seen: Option<Stamp>,
    /// The first line of each log kind that shows it.
    pub evidence: BTreeMap<LogKind, Evidence>,
    /// The upstream address nginx dialled (`unix:/run/php/x.sock`, `127.0.0.1:9000`).
    pub address: Option<String>,
    /// The `server:` and `host:` fields of the first nginx line, to pick the server block.
    pub server: Option<String>,
    pub host: Option<String>,
    /// The request path of the first nginx line, to pick the location.
    pub path: Option<String>,
    /// Pools php-fpm named (`[pool www]`).
    pub pools: Vec<String>,
    /// The errno nginx reported, where one did.
    pub errno: Option<u32>,
    /// Whether a status other than the cause's usual one was seen (e.g. 504 for a pool that
    /// exhausted while connecting).
    pub timed_out_connecting: bool,
    /// Extra facts worth showing (the signal, the killed process, the refused entry).
    pub notes: Vec<String>,
}

/// The line being read, quoted only if a tally keeps it.
pub struct Seen<'a> {
    pub file: &'a str,
    pub line: u64,
    pub text: &'a str,
}

impl Seen<'_> {
    fn evidence(&self) -> Evidence {
        Evidence {
            file: self.file.to_owned(),
            line: self.line,
            text: self.text.chars().take(400).collect(),
        }
    }
}

/// The request fields of an nginx line that a cause keeps.
#[derive(Clone, Copy, Default)]
struct Req<'a> {
    address: Option<&'a str>,
    server: Option<&'a str>,
    host: Option<&'a str>,
    request: Option<&'a str>,
}

impl<'a> Req<'a> {
    fn of(line: &Line<'a>) -> Req<'a> {
        Req {
            address: line.fields.upstream_address(),
            server: line.fields.server,
            host: line.fields.host,
            request: line.fields.request,
        }
    }
}

/// [`Req`] kept for a line that waits for the end of the run.
struct OwnedReq {
    address: Option<String>,
    server: Option<String>,
    host: Option<String>,
    request: Option<String>,
}

impl OwnedReq {
    fn of(r: Req<'_>) -> Self {
        OwnedReq {
            address: r.address.map(str::to_owned),
            server: r.server.map(str::to_owned),
            host: r.host.map(str::to_owned),
            request: r.request.map(str::to_owned),
        }
    }
    fn borrow(&self) -> Req<'_> {
        Req {
            address: self.address.as_deref(),
            server: self.server.as_deref(),
            host: self.host.as_deref(),
            request: self.request.as_deref(),
        }
    }
}

impl Tally {
    fn add(&mut self, kind: LogKind, stamp: Option<Stamp>, seen: &Seen<'_>) {
        self.count += 1;
        if let Some(s) = stamp.filter(|s| !s.is_uptime()) {
            if self.first_seen.is_none_or(|f| s < f) {
                self.first_seen = Some(s);
            }
            if self.last_seen.is_none_or(|l| s > l) {
                self.last_seen = Some(s);
            }
        }
        self.evidence.entry(kind).or_insert_with(|| seen.evidence());
    }

    /// Count a line whose evidence is already quoted.
    fn add_evidence(&mut self, kind: LogKind, stamp: Option<Stamp>, evidence: &Evidence) {
        self.add(
            kind,
            stamp,
            &Seen {
                file: &evidence.file,
                line: evidence.line,
                text: &evidence.text,
            },
        );
    }

    /// Keep the first nginx line's request fields: they pick the server and location.
    fn request(&mut self, r: Req<'_>) {
        if let Some(a) = r.address {
            if self.address.as_deref() != Some(a) {
                self.address = Some(a.to_owned());
            }
        }
        if self.server.is_none() && self.host.is_none() {
            self.server = r.server.map(str::to_owned);
            self.host = r.host.map(str::to_owned);
            self.path = r
                .request
                .and_then(|q| q.split(' ').nth(1))
                .map(|t| t.split('?').next().unwrap_or(t).to_owned());
        }
    }

    fn add_pool(&mut self, pool: &str) {
        if !pool.is_empty() && !self.pools.iter().any(|p| p == pool) && self.pools.len() < 16 {
            self.pools.push(pool.to_owned());
        }
    }

    fn note(&mut self, note: &str) {
        if self.notes.len() < 8 && !self.notes.iter().any(|n| n == note) {
            self.notes.push(note.to_owned());
        }
    }
}

/// A php-fpm or kernel event an nginx line may be paired with.
#[derive(Clone, Debug)]
struct Anchor {
    /// Wall clock, in microseconds; None for raw dmesg until a pid pairing gives it one.
    at: Option<i64>,
    what: AnchorKind,
    evidence: Evidence,
    kind: LogKind,
    stamp: Option<Stamp>,
    /// Some nginx line was explained by it.
    paired: bool,
}

#[derive(Clone, Debug)]
enum AnchorKind {
    ExecTimeout { pool: String, request: String },
    Signal { pool: String, pid: u32, signal: u32 },
    Oom { pid: u32, comm: String },
    Disallowed { address: String },
}

/// An nginx reset that found nothing to pair with yet.
struct Pending {
    at: Option<i64>,
    stamp: Option<Stamp>,
    req: OwnedReq,
    evidence: Evidence,
}

/// Everything read from the logs.
#[derive(Default)]
pub struct Findings {
    pub tallies: BTreeMap<(CauseId, String), Tally>,
    pub lines_read: u64,
    pub lines_unknown: u64,
    /// Lines outside `--since`/`--until`.
    pub lines_outside: u64,
}

/// Reads logs and tallies causes.
pub struct Engine {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Boot time (wall-clock microseconds), to place raw dmesg lines; known with `--host`.
    pub boot: Option<i64>,
    anchors: Vec<Anchor>,
    pending: Vec<Pending>,
    /// Tallies by cause, then key: looked up by `&str`, no key built per line.
    tallies: HashMap<CauseId, HashMap<String, Tally>>,
    pub out: Findings,
}

impl Engine {
    pub fn new(since: Option<i64>, until: Option<i64>, boot: Option<i64>) -> Self {
        Engine {
            since,
            until,
            boot,
            anchors: Vec::new(),
            pending: Vec::new(),
            tallies: HashMap::new(),
            out: Findings::default(),
        }
    }

    /// Read every log: those without nginx lines first, so nginx's resets meet the kills and
    /// timeouts they pair with.
    pub fn read_all(&mut self, logs: &[PathBuf]) -> Vec<(PathBuf, String)> {
        let mut errors = Vec::new();
        let mut order: Vec<(bool, &PathBuf)> = Vec::new();
        for path in logs {
            match has_nginx_lines(path) {
                Ok(nginx) => order.push((nginx, path)),
                Err(e) => errors.push((path.clone(), e.to_string())),
            }
        }
        // Standard input cannot be read twice: it was not sniffed, read it last.
        order.sort_by_key(|(nginx, path)| (*nginx || path.as_os_str() == "-", false));
        for (_, path) in order {
            if let Err(e) = self.read_one(path) {
                errors.push((path.clone(), e.to_string()));
            }
        }
        self.finish();
        errors
    }

    fn read_one(&mut self, path: &std::path::Path) -> std::io::Result<()> {
        let name = path.display().to_string();
        let mut reader = LogReader::open(path)?;
        // nginx continues a multi-line FastCGI stderr message on the following lines: those
        // belong to the line before, not to "unknown".
        let mut in_continuation = false;
        while let Some((line_no, text)) = reader.next_line()? {
            self.out.lines_read += 1;
            let Some(line) = logline::parse(&text) else {
                if !text.trim().is_empty() && !in_continuation {
                    self.out.lines_unknown += 1;
                }
                continue;
            };
            // Only a FastCGI stderr text spans lines (its quote closes on a later line).
            in_continuation = line.kind == LogKind::Nginx
                && matches!(line.event, Event::PhpFatal { .. } | Event::Other)
                && starts_fastcgi_stderr(&text)
                && text.matches('"').count() % 2 == 1;
            if matches!(line.event, Event::Other) {
                continue;
            }
            let mut line = line;
            let at = line.stamp.and_then(|s| s.to_clock(self.boot));
            // A raw dmesg stamp placed on the clock by the boot time is shown as a clock time.
            if let Some(at) = at {
                line.stamp = Some(Stamp::Clock(at));
            }
            if let Some(at) = at {
                if self.since.is_some_and(|s| at < s) || self.until.is_some_and(|u| at > u) {
                    self.out.lines_outside += 1;
                    continue;
                }
            }
            let seen = Seen {
                file: &name,
                line: line_no,
                text: &text,
            };
            self.take(line, at, &seen);
        }
        Ok(())
    }

    fn tally(&mut self, cause: CauseId, key: &str) -> &mut Tally {
        let by_key = self.tallies.entry(cause).or_default();
        if !by_key.contains_key(key) {
            by_key.insert(key.to_owned(), Tally::default());
        }
        by_key.get_mut(key).expect("inserted above")
    }

    fn take(&mut self, line: Line<'_>, at: Option<i64>, seen: &Seen<'_>) {
        let kind = line.kind;
        let stamp = line.stamp;
        let req = Req::of(&line);
        let address = req.address.unwrap_or_default();
        match line.event {
            Event::ConnectFailed { errno, address: a } => {
                let addr = a.unwrap_or(address);
                let cause = match errno {
                    // Connecting found no socket file (2), nobody on the port or a socket file
                    // with no master behind it (111): resolved against the config later.
                    2 | 111 => CauseId::BackendDown,
                    13 => CauseId::SocketPermission,
                    // The pool's accept queue (listen.backlog) is full.
                    11 => CauseId::PoolExhausted,
                    _ => CauseId::BackendDown,
                };
                let t = self.tally(cause, addr);
                t.add(kind, stamp, seen);
                t.request(Req {
                    address: Some(addr),
                    ..req
                });
                t.errno.get_or_insert(errno);
            }
            Event::TimedOut { phase } => {
                let cause = if phase == Phase::Connecting {
                    CauseId::PoolExhausted
                } else {
                    CauseId::UpstreamTimeout
                };
                let t = self.tally(cause, address);
                t.add(kind, stamp, seen);
                t.request(req);
                t.errno.get_or_insert(110);
                if phase == Phase::Connecting {
                    t.timed_out_connecting = true;
                }
            }
            Event::TooBigHeader | Event::PrimaryScriptUnknown | Event::NoLiveUpstreams => {
                let cause = match line.event {
                    Event::TooBigHeader => CauseId::HeaderTooBig,
                    Event::PrimaryScriptUnknown => CauseId::ScriptNotFound,
                    _ => CauseId::NoLiveUpstreams,
                };
                let t = self.tally(cause, address);
                t.add(kind, stamp, seen);
                t.request(req);
            }
            Event::PhpFatal { message } => {
                let t = self.tally(CauseId::PhpFatal, address);
                t.add(kind, stamp, seen);
                t.request(req);
                t.note(message);
            }
            Event::Reset { .. } | Event::PrematurelyClosed => {
                if !self.pair(req, at, stamp, seen) {
                    if self.pending.len() < MAX_PENDING {
                        self.pending.push(Pending {
                            at,
                            stamp,
                            req: OwnedReq::of(req),
                            evidence: seen.evidence(),
                        });
                    } else {
                        self.unexplained_reset(req, stamp, seen);
                    }
                }
            }
            Event::UpstreamDisabled => {}
            Event::ExecutionTimedOut { pool, request, .. } => self.anchor(
                AnchorKind::ExecTimeout {
                    pool: pool.to_owned(),
                    request: request.to_owned(),
                },
                at,
                kind,
                stamp,
                seen.evidence(),
            ),
            Event::ChildSignal { pool, pid, signal } => {
                // SIGTERM and SIGQUIT are php-fpm's own (a timeout, a reload): the timeout
                // line says more than the signal.
                if signal != 15 && signal != 3 {
                    self.anchor(
                        AnchorKind::Signal {
                            pool: pool.to_owned(),
                            pid,
                            signal,
                        },
                        at,
                        kind,
                        stamp,
                        seen.evidence(),
                    )
                }
            }
            Event::OomKilled { pid, comm, .. } => self.anchor(
                AnchorKind::Oom {
                    pid,
                    comm: comm.to_owned(),
                },
                at,
                kind,
                stamp,
                seen.evidence(),
            ),
            Event::ConnectionDisallowed { address } => self.anchor(
                AnchorKind::Disallowed {
                    address: address.to_owned(),
                },
                at,
                kind,
                stamp,
                seen.evidence(),
            ),
            Event::MaxChildrenReached { pool, value } => {
                let t = self.tally(CauseId::PoolExhausted, &format!("pool:{pool}"));
                t.add(kind, stamp, seen);
                t.add_pool(pool);
                if let Some(v) = value {
                    t.note(&format!("pool [{pool}] reached pm.max_children ({v})"));
                }
            }
            Event::SeemsBusy { pool } => {
                let t = self.tally(CauseId::PoolExhausted, &format!("pool:{pool}"));
                t.add(kind, stamp, seen);
                t.add_pool(pool);
            }
            Event::MaxProcessesReached => {
                let t = self.tally(CauseId::PoolExhausted, "process.max");
                t.add(kind, stamp, seen);
                t.note("php-fpm reached process.max ([global])");
            }
            Event::BindFailed { address, errno } => {
                let t = self.tally(CauseId::FpmStartFailed, address);
                t.add(kind, stamp, seen);
                t.address = Some(address.to_owned());
                t.errno = errno;
            }
            Event::ConfigRefused { message } => {
                let t = self.tally(CauseId::FpmStartFailed, "config");
                t.add(kind, stamp, seen);
                t.note(message);
            }
            Event::InitFailed => {
                let t = self.tally(CauseId::FpmStartFailed, "config");
                t.add(kind, stamp, seen);
            }
            Event::FpmStarted { .. } | Event::FpmStopped | Event::Other => {}
        }
    }

    fn anchor(
        &mut self,
        what: AnchorKind,
        at: Option<i64>,
        kind: LogKind,
        stamp: Option<Stamp>,
        evidence: Evidence,
    ) {
        if self.anchors.len() >= MAX_ANCHORS {
            // Still counted, just not paired.
            let (cause, key) = anchor_cause(&what);
            self.tally(cause, &key).add_evidence(kind, stamp, &evidence);
            return;
        }
        self.anchors.push(Anchor {
            at,
            what,
            evidence,
            kind,
            stamp,
            paired: false,
        });
    }

    /// Pair an nginx reset with a php-fpm or kernel event close in time; false if none.
    fn pair(
        &mut self,
        req: Req<'_>,
        at: Option<i64>,
        stamp: Option<Stamp>,
        seen: &Seen<'_>,
    ) -> bool {
        let Some(at) = at else {
            return false;
        };
        let request = req.request.map(request_without_protocol);
        // Each kill or timeout ends one request: it explains one nginx line at most. Among
        // the candidates the most telling kind wins, then the closest in time.
        let mut best: Option<((u8, i64), usize)> = None;
        for (i, a) in self.anchors.iter().enumerate() {
            let Some(t) = a.at else { continue };
            if a.paired || (t - at).abs() > PAIR_WINDOW_US {
                continue;
            }
            let rank = match &a.what {
                AnchorKind::ExecTimeout { request: r, .. } => match request {
                    Some(q) if !r.is_empty() && q == r => 0,
                    Some(_) if !r.is_empty() => continue,
                    _ => 2,
                },
                AnchorKind::Oom { .. } => 1,
                AnchorKind::Signal { signal: 9, .. } => 3,
                AnchorKind::Signal { .. } => 2,
                AnchorKind::Disallowed { .. } => 4,
            };
            let key = (rank, (t - at).abs());
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, i));
            }
        }
        let Some((_, i)) = best else {
            return false;
        };
        self.anchors[i].paired = true;
        let a = self.anchors[i].clone();
        let (cause, key) = anchor_cause(&a.what);
        let t = self.tally(cause, &key);
        t.add(LogKind::Nginx, stamp, seen);
        t.request(req);
        t.errno.get_or_insert(104);
        t.evidence.entry(a.kind).or_insert(a.evidence);
        true
    }

    fn unexplained_reset(&mut self, req: Req<'_>, stamp: Option<Stamp>, seen: &Seen<'_>) {
        let t = self.tally(CauseId::UpstreamReset, req.address.unwrap_or_default());
        t.add(LogKind::Nginx, stamp, seen);
        t.request(req);
    }

    /// Give raw-dmesg kills the time of php-fpm's line for the same pid, pair what waited,
    /// and tally the kills and timeouts no nginx line was paired with.
    fn finish(&mut self) {
        let signal_times: Vec<(u32, Option<i64>)> = self
            .anchors
            .iter()
            .filter_map(|a| match a.what {
                AnchorKind::Signal { pid, signal: 9, .. } => Some((pid, a.at)),
                _ => None,
            })
            .collect();
        let oom_pids: Vec<u32> = self
            .anchors
            .iter()
            .filter_map(|a| match a.what {
                AnchorKind::Oom { pid, .. } => Some(pid),
                _ => None,
            })
            .collect();
        for a in &mut self.anchors {
            if let AnchorKind::Oom { pid, .. } = a.what {
                if a.at.is_none() {
                    a.at = signal_times
                        .iter()
                        .find(|(p, _)| *p == pid)
                        .and_then(|(_, t)| *t);
                }
            }
        }
        // The kernel's kill and php-fpm's SIGKILL line are one event: if nginx's line was
        // paired with the one, the other is accounted for too.
        let paired_kills: Vec<u32> = self
            .anchors
            .iter()
            .filter_map(|a| match a.what {
                AnchorKind::Signal { pid, signal: 9, .. } if a.paired => Some(pid),
                _ => None,
            })
            .collect();
        for a in &mut self.anchors {
            if let AnchorKind::Oom { pid, .. } = a.what {
                a.paired |= paired_kills.contains(&pid);
            }
        }
        for p in std::mem::take(&mut self.pending) {
            let seen = Seen {
                file: &p.evidence.file,
                line: p.evidence.line,
                text: &p.evidence.text,
            };
            if !self.pair(p.req.borrow(), p.at, p.stamp, &seen) {
                self.unexplained_reset(p.req.borrow(), p.stamp, &seen);
            }
        }
        for a in std::mem::take(&mut self.anchors) {
            // A SIGKILL that the kernel's OOM line already accounts for is the same event.
            if let AnchorKind::Signal { pid, signal: 9, .. } = a.what {
                if oom_pids.contains(&pid) {
                    let t = self.tally(CauseId::OomKilled, "");
                    t.evidence.entry(a.kind).or_insert(a.evidence);
                    continue;
                }
            }
            let (cause, key) = anchor_cause(&a.what);
            let t = self.tally(cause, &key);
            if a.paired {
                t.evidence.entry(a.kind).or_insert(a.evidence.clone());
            } else {
                t.add_evidence(a.kind, a.stamp, &a.evidence);
            }
            match &a.what {
                AnchorKind::Signal { pool, pid, signal } => {
                    t.add_pool(pool);
                    t.note(&format!(
                        "php-fpm worker {pid} of pool [{pool}] died on signal {signal} ({})",
                        signal_name(*signal)
                    ));
                }
                AnchorKind::ExecTimeout { pool, .. } => t.add_pool(pool),
                AnchorKind::Oom { pid, comm } => {
                    t.note(&format!("the kernel killed process {pid} ({comm})"))
                }
                AnchorKind::Disallowed { address } => {
                    t.note(&format!("php-fpm dropped connections from {address}"))
                }
            }
        }
        for (cause, by_key) in std::mem::take(&mut self.tallies) {
            for (key, tally) in by_key {
                self.out.tallies.insert((cause, key), tally);
            }
        }
    }
}

/// Whether an nginx line's message is a FastCGI stderr text (which may span lines): it follows
/// the `*N ` connection number.
fn starts_fastcgi_stderr(text: &str) -> bool {
    text.find('*')
        .and_then(|i| text[i..].split_once(' '))
        .is_some_and(|(_, m)| m.starts_with("FastCGI sent in stderr"))
}

/// `GET /index.php?sleep=4 HTTP/1.1` -> `GET /index.php?sleep=4`, as php-fpm logs it.
fn request_without_protocol(r: &str) -> &str {
    match r.rsplit_once(' ') {
        Some((head, proto)) if proto.starts_with("HTTP/") => head,
        _ => r,
    }
}

fn anchor_cause(what: &AnchorKind) -> (CauseId, String) {
    match what {
        AnchorKind::ExecTimeout { pool, .. } => {
            (CauseId::RequestTerminated, format!("pool:{pool}"))
        }
        // A SIGKILL with no kernel line: most often the OOM killer whose log was not given.
        AnchorKind::Signal { signal: 9, .. } | AnchorKind::Oom { .. } => {
            (CauseId::OomKilled, String::new())
        }
        AnchorKind::Signal { pool, .. } => (CauseId::WorkerCrashed, format!("pool:{pool}")),
        AnchorKind::Disallowed { .. } => (CauseId::ClientNotAllowed, String::new()),
    }
}

pub fn signal_name(signal: u32) -> &'static str {
    match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        _ => "signal",
    }
}

/// Whether a log holds nginx lines (sniffed from its first lines).
fn has_nginx_lines(path: &std::path::Path) -> std::io::Result<bool> {
    if path.as_os_str() == "-" {
        return Ok(true);
    }
    let mut r = LogReader::open(path)?;
    for _ in 0..200 {
        match r.next_line()? {
            Some((_, l)) => {
                if logline::parse(&l).is_some_and(|l| l.kind == LogKind::Nginx) {
                    return Ok(true);
                }
            }
            None => break,
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(logs: &[(&str, &str)]) -> Findings {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = logs
            .iter()
            .map(|(name, text)| {
                let p = dir.path().join(name);
                std::fs::write(&p, text).unwrap();
                p
            })
            .collect();
        let mut e = Engine::new(None, None, None);
        assert!(e.read_all(&paths).is_empty());
        e.out
    }

    fn causes(f: &Findings) -> Vec<(CauseId, u64)> {
        f.tallies.iter().map(|((c, _), t)| (*c, t.count)).collect()
    }

    // Lines as a real nginx 1.22 + php-fpm 8.2 run wrote them (a worker killed with SIGSEGV, a
    // script killed by request_terminate_timeout); the first nginx line's time and errno were
    // set to what that run gives when fastcgi_read_timeout outlasts the terminate timeout.
    const NGINX: &str = r#"2026/12/03 10:32:14 [error] 22528#22528: *13 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /index.php?sleep=4 HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080"
2026/12/03 10:32:15 [error] 22528#22528: *15 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /index.php?segv=1 HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080"
2026/12/03 10:32:16 [crit] 22528#22528: *17 connect() to unix:/tmp/rs/run/fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 127.0.0.1, server: , request: "GET /index.php HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080"
2026/12/03 10:32:10 [error] 22528#22528: *7 FastCGI sent in stderr: "PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function undefined_fn() in /tmp/rs/www/index.php:4
Stack trace:
#0 {main}
  thrown in /tmp/rs/www/index.php on line 4" while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /index.php?fatal=1 HTTP/1.1", upstream: "fastcgi://unix:/tmp/rs/run/fpm.sock:", host: "127.0.0.1:18080"
"#;
    const FPM: &str = r#"[03-Dec-2026 10:32:09] NOTICE: fpm is running, pid 22525
[03-Dec-2026 10:32:14] WARNING: [pool www] child 22529, script '/tmp/rs/www/index.php' (request: "GET /index.php?sleep=4") execution timed out (3.882834 sec), terminating
[03-Dec-2026 10:32:14] WARNING: [pool www] child 22529 exited on signal 15 (SIGTERM) after 5.007521 seconds from start
[03-Dec-2026 10:32:15] WARNING: [pool www] child 22899 exited on signal 11 (SIGSEGV) after 0.134914 seconds from start
"#;

    #[test]
    fn resets_pair_with_what_php_fpm_said() {
        // nginx's log given first: the order of --log flags must not matter.
        let f = run(&[("error.log", NGINX), ("fpm.log", FPM)]);
        assert_eq!(
            causes(&f),
            [
                (CauseId::BackendDown, 1),
                (CauseId::RequestTerminated, 1),
                (CauseId::WorkerCrashed, 1),
                (CauseId::PhpFatal, 1),
            ]
        );
        let crashed = &f.tallies[&(CauseId::WorkerCrashed, "pool:www".to_owned())];
        assert_eq!(crashed.evidence.len(), 2, "{crashed:?}");
        assert_eq!(crashed.evidence[&LogKind::Fpm].line, 4);
        assert_eq!(crashed.evidence[&LogKind::Nginx].line, 2);
        assert_eq!(f.lines_read, 11);
        // The fatal error's stack trace lines continue an nginx line: not unknown.
        assert_eq!(f.lines_unknown, 0);
    }

    #[test]
    fn without_php_fpm_log_a_reset_is_unexplained() {
        let f = run(&[("error.log", NGINX)]);
        assert!(causes(&f).contains(&(CauseId::UpstreamReset, 2)));
    }

    #[test]
    fn oom_kill_by_pid_from_raw_dmesg() {
        let kern = "[  472.991234] Memory cgroup out of memory: Killed process 4242 (php-fpm8.2) total-vm:512000kB\n";
        let fpm = "[03-Dec-2026 10:40:00] WARNING: [pool www] child 4242 exited on signal 9 (SIGKILL) after 3.1 seconds from start\n";
        let nginx = r#"2026/12/03 10:40:00 [error] 9#9: *3 upstream prematurely closed FastCGI stdout while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /big.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "localhost""#;
        let f = run(&[("kern", kern), ("fpm", fpm), ("err", nginx)]);
        assert_eq!(causes(&f), [(CauseId::OomKilled, 1)]);
        let t = &f.tallies[&(CauseId::OomKilled, String::new())];
        assert_eq!(t.evidence.len(), 3);
    }
}
