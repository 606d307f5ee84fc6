//! SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.
//!
//! One run. `tool.driver.rules` lists every rule with its documentation (the text `explain`
//! prints) and a link to its section of `docs/rules.md`. Each finding is a result whose
//! `locations` hold the primary label, `relatedLocations` the other labels, and `fixes` the
//! fix as replacements. Paths are relative to `%SRCROOT%`, the working directory the tool ran
//! in (GitHub resolves them against the repository root, so run it from there). Columns count
//! Unicode code points (`columnKind`). Files that could not be read or parsed are reported as
//! tool execution notifications, and `executionSuccessful` is false.

use serde_json::{json, Value};

use super::{primary_label, Report};
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::docs;
use crate::rules::{self, RULES};
use crate::source::{SourceMap, Span};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

pub fn render(report: &Report<'_>) -> String {
    let mut out =
        serde_json::to_string_pretty(&to_value(report)).expect("JSON values always serialize");
    out.push('\n');
    out
}

pub fn to_value(report: &Report<'_>) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(code, rule)| {
            let m = rule.meta();
            let text = rules::docs_text(m);
            // GitHub code scanning truncates descriptions beyond 1024 characters.
            let summary: String = docs::summary(m.docs).chars().take(1000).collect();
            json!({
                "id": code,
                "name": m.name,
                "shortDescription": {"text": summary},
                "fullDescription": {"text": summary},
                "help": {"text": text.trim(), "markdown": text.trim()},
                "helpUri": docs::rule_url(m.name),
                "defaultConfiguration": {"level": level(m.severity)},
                "properties": {"tags": [category(m)]},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| result(report.sources, d))
        .collect();
    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let mut n = json!({
                "level": "error",
                "message": {"text": p.message},
            });
            let mut loc = json!({"physicalLocation": {"artifactLocation": artifact(&p.path)}});
            match (p.span, p.at) {
                // A syntax error: the whole span, as for a finding.
                (Some((file, span)), _) => {
                    loc["physicalLocation"]["region"] = region(report.sources, file, span);
                }
                (None, Some(at)) => {
                    let mut region = json!({"startLine": at.line, "startColumn": at.column});
                    if let Some(b) = p.bytes {
                        region["byteOffset"] = json!(b.start);
                        region["byteLength"] = json!(b.len());
                    }
                    loc["physicalLocation"]["region"] = region;
                }
                (None, None) => {}
            }
            n["locations"] = json!([loc]);
            n
        })
        .collect();
    let cwd = std::env::current_dir()
        .ok()
        .map(|d| file_uri(&d.to_string_lossy(), true));
    let mut run = json!({
        "tool": {"driver": {
            "name": "nginx-fpm-lint",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": docs::REPOSITORY_URL,
            "rules": rules,
        }},
        "invocations": [{
            "executionSuccessful": report.problems.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(cwd) = cwd {
        run["originalUriBaseIds"] = json!({ SRCROOT: {"uri": cwd} });
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    })
}

fn category(m: &rules::RuleMeta) -> Value {
    serde_json::to_value(m.category).unwrap_or(Value::Null)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result(map: &SourceMap, d: &Diagnostic) -> Value {
    let index = RULES.iter().position(|(c, _)| *c == d.code);
    // GitHub shows only a result's location; a finding whose primary label is in a built-in
    // (packaged, not in the repository) file is shown at its first label in a real file.
    let primary = primary_label(d)
        .filter(|l| !map.get(l.file).is_builtin())
        .or_else(|| d.labels.iter().find(|l| !map.get(l.file).is_builtin()))
        .or(primary_label(d));
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\n\nhelp: ");
        text.push_str(help);
    }
    let mut r = json!({
        "ruleId": d.code,
        "level": level(d.severity),
        "message": {"text": text},
        "locations": primary.map(|l| vec![location(map, l)]).unwrap_or_default(),
    });
    if let Some(i) = index {
        r["ruleIndex"] = json!(i);
    }
    let related: Vec<Value> = d
        .labels
        .iter()
        .filter(|l| Some(*l) != primary)
        .enumerate()
        .map(|(i, l)| {
            let mut v = location(map, l);
            v["id"] = json!(i);
            v
        })
        .collect();
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    if let Some(fix) = &d.fix {
        // One artifactChange per file, in edit order (edits are sorted by file).
        let mut changes: Vec<(crate::source::FileId, Vec<Value>)> = Vec::new();
        for e in &fix.edits {
            let replacement = json!({
                "deletedRegion": region(map, e.file, e.span),
                "insertedContent": {"text": e.replacement},
            });
            match changes.last_mut() {
                Some((f, list)) if *f == e.file => list.push(replacement),
                _ => changes.push((e.file, vec![replacement])),
            }
        }
        r["fixes"] = json!([{
            "description": {"text": format!("{} ({})", fix.message, applicability(fix.applicability))},
            "artifactChanges": changes.into_iter().map(|(f, replacements)| json!({
                "artifactLocation": artifact(&map.get(f).name),
                "replacements": replacements,
            })).collect::<Vec<_>>(),
        }]);
    }
    r
}

fn applicability(a: crate::fix::Applicability) -> &'static str {
    match a {
        crate::fix::Applicability::Safe => "safe",
        crate::fix::Applicability::Unsafe => "unsafe",
        crate::fix::Applicability::DisplayOnly => "display only",
    }
}

fn location(map: &SourceMap, l: &Label) -> Value {
    let f = map.get(l.file);
    let mut v = json!({
        "physicalLocation": {
            "artifactLocation": artifact(&f.name),
            "region": region(map, l.file, l.span),
        }
    });
    if !l.message.is_empty() {
        v["message"] = json!({"text": l.message});
    }
    v
}

fn region(map: &SourceMap, file: crate::source::FileId, span: Span) -> Value {
    let f = map.get(file);
    let start = f.line_col(span.start as usize);
    let end = f.line_col(span.end as usize);
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column,
    })
}

/// A relative path under `%SRCROOT%`, or an absolute `file:` URI.
fn artifact(name: &str) -> Value {
    if name.starts_with('/') {
        json!({"uri": file_uri(name, false)})
    } else if name.starts_with('<') {
        // A built-in file such as `<builtin debian>/etc/nginx/fastcgi_params`: not in the
        // repository; given as a relative URI that will not resolve rather than dropped.
        json!({"uri": percent_encode(name)})
    } else {
        json!({"uri": percent_encode(name), "uriBaseId": SRCROOT})
    }
}

fn file_uri(path: &str, dir: bool) -> String {
    let mut s = format!("file://{}", percent_encode(path));
    if dir && !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Percent-encode what may not appear in a URI path (RFC 3986), keeping `/`.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn encodes_uri_paths() {
        assert_eq!(percent_encode("sites/a b#1.conf"), "sites/a%20b%231.conf");
        assert_eq!(percent_encode("<builtin>"), "%3Cbuiltin%3E");
    }
}
