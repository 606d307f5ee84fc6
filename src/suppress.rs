//! Inline suppression comments, read from the syntax trees' comment leaves.
//!
//! ```text
//! # nginx-fpm-lint: ignore NFL101, include-not-found -- reason     (nginx)
//! ; nginx-fpm-lint: ignore fastcgi-pass-no-listener -- reason      (PHP-FPM)
//! # nginx-fpm-lint: ignore-file NFL105 -- reason                   (whole file)
//! ```
//!
//! A comment alone on its line covers the next line that is not itself a comment (so several
//! suppressions can be stacked); a comment after a directive covers its own line. A finding is
//! suppressed when any of its labels starts or ends on a covered line of that file, so a
//! cross-file finding can be silenced from either side. Suppressions that end up matching no
//! finding, and rule names nobody knows, are reported as NFL003 `unused-suppression`.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::lint::Selector;
use crate::project::Project;
use crate::rules::{self, RuleMeta};
use crate::source::{FileId, Language, SourceFile, Span};

/// The marker every suppression comment starts with (after `#` or `;`).
pub const MARKER: &str = "nginx-fpm-lint:";
pub const UNUSED_CODE: &str = "NFL003";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `ignore`: one line.
    Line(u32),
    /// `ignore-file`: the whole file.
    File,
}

/// One rule named in a suppression comment.
#[derive(Clone, Debug)]
pub struct Named {
    /// As written, for messages.
    pub written: String,
    /// The registry code, when the name is known.
    pub code: Option<&'static str>,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct Suppression {
    pub file: FileId,
    /// The comment leaf.
    pub comment: Span,
    pub scope: Scope,
    pub rules: Vec<Named>,
    /// The comment follows a directive on the same line.
    pub trailing: bool,
}

/// A comment that starts with the marker but does not parse as a suppression.
#[derive(Clone, Debug)]
pub struct Malformed {
    pub file: FileId,
    pub comment: Span,
    pub message: String,
}

/// Every suppression comment in the project's parsed (on-disk or in-memory) files.
pub fn collect(project: &Project) -> (Vec<Suppression>, Vec<Malformed>) {
    let mut found = Vec::new();
    let mut malformed = Vec::new();
    for (id, file) in project.sources.iter() {
        // Most files have no suppression: one substring search skips walking their trees.
        if file.is_builtin() || !file.text.contains(MARKER) {
            continue;
        }
        let mut comments = Vec::new();
        match file.language {
            Language::Nginx => {
                if let Some(tree) = project.nginx(id) {
                    comments.extend_from_slice(tree.comments());
                }
            }
            Language::PhpFpm => {
                if let Some(tree) = project.fpm(id) {
                    comments.extend_from_slice(tree.comments());
                }
            }
        }
        comments.sort();
        for span in comments {
            match parse_comment(file.slice(span)) {
                None => {}
                Some(Err(message)) => malformed.push(Malformed {
                    file: id,
                    comment: span,
                    message,
                }),
                Some(Ok((file_wide, names))) => {
                    let trailing = !line_prefix(file, span).trim().is_empty();
                    let scope = if file_wide {
                        Scope::File
                    } else if trailing {
                        Scope::Line(file.line_col(span.start as usize).line)
                    } else {
                        Scope::Line(next_code_line(file, span))
                    };
                    found.push(Suppression {
                        file: id,
                        comment: span,
                        scope,
                        rules: names
                            .into_iter()
                            .map(|n| Named {
                                code: rules::lookup(&n).map(|(c, _)| c),
                                written: n,
                                used: false,
                            })
                            .collect(),
                        trailing,
                    });
                }
            }
        }
    }
    (found, malformed)
}

/// `None`: not a suppression comment. `Some(Ok((file_wide, names)))` or the reason it is
/// malformed.
fn parse_comment(text: &str) -> Option<Result<(bool, Vec<String>), String>> {
    let body = text.trim_start_matches(['#', ';']).trim();
    let rest = body.strip_prefix(MARKER)?.trim_start();
    let (file_wide, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore") {
        (false, r)
    } else {
        return Some(Err(format!(
            "expected `ignore` or `ignore-file` after `{MARKER}`"
        )));
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return Some(Err(format!(
            "expected `ignore` or `ignore-file` after `{MARKER}`"
        )));
    }
    let names_part = rest.split_once("--").map_or(rest, |(n, _reason)| n);
    let names: Vec<String> = names_part
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Some(Err(
            "the suppression names no rule; write `ignore <code|name>[, ...] -- <reason>`".into(),
        ));
    }
    Some(Ok((file_wide, names)))
}

/// The text between the start of the comment's line and the comment.
fn line_prefix(file: &SourceFile, span: Span) -> &str {
    let start = file.text[..span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    &file.text[start..span.start as usize]
}

/// The first line after the comment's that is not a comment-only line (stacked suppressions).
fn next_code_line(file: &SourceFile, span: Span) -> u32 {
    let mut line = file.line_col(span.start as usize).line;
    let marker = match file.language {
        Language::Nginx => '#',
        Language::PhpFpm => ';',
    };
    for text in file.text.lines().skip(line as usize) {
        line += 1;
        if !text.trim_start().starts_with(marker) {
            break;
        }
    }
    line
}

/// Lines `label` starts and ends on.
fn label_lines(file: &SourceFile, l: &Label) -> (u32, u32) {
    (
        file.line_col(l.span.start as usize).line,
        file.line_col(l.span.end as usize).line,
    )
}

fn covers(s: &Suppression, file: &SourceFile, l: &Label) -> bool {
    if s.file != l.file {
        return false;
    }
    match s.scope {
        Scope::File => true,
        Scope::Line(line) => {
            let (a, b) = label_lines(file, l);
            (a..=b).contains(&line)
        }
    }
}

/// Drop suppressed findings and add NFL003 for suppressions that matched nothing (when NFL003
/// is selected). `select` says which rules ran: a suppression of a rule that did not run is not
/// called unused.
pub fn apply(
    project: &Project,
    diagnostics: Vec<Diagnostic>,
    select: Selector<'_>,
) -> Vec<Diagnostic> {
    let (mut sups, malformed) = collect(project);
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let mut suppressed = false;
        for s in sups.iter_mut() {
            let file = project.sources.get(s.file);
            if !d.labels.iter().any(|l| covers(s, file, l)) {
                continue;
            }
            for named in s.rules.iter_mut().filter(|n| n.code == Some(d.code)) {
                named.used = true;
                suppressed = true;
            }
        }
        if !suppressed {
            kept.push(d);
        }
    }

    let Some((code, unused_rule)) = rules::lookup(UNUSED_CODE) else {
        return kept;
    };
    let meta: &RuleMeta = unused_rule.meta();
    let Some(severity) = select(code, meta) else {
        return kept;
    };
    let mut extra = Vec::new();
    for m in malformed {
        extra.push(unused(
            code,
            meta,
            severity,
            m.file,
            m.comment,
            format!("malformed suppression comment: {}", m.message),
            None,
        ));
    }
    for s in &sups {
        let enabled = |c: &str| {
            rules::lookup(c)
                .and_then(|(c, r)| select(c, r.meta()))
                .is_some()
        };
        let mut problems = Vec::new();
        let mut all_unused = true;
        for n in &s.rules {
            match n.code {
                None => {
                    problems.push(format!(
                        "unknown rule `{}`{}",
                        n.written,
                        rules::did_you_mean(&n.written)
                    ));
                    // Probably a typo for a rule that does fire: for the author to correct.
                    all_unused = false;
                }
                // Whether it is used is known only after this pass; never call it unused.
                Some(UNUSED_CODE) => all_unused = false,
                Some(c) if !n.used && enabled(c) => {
                    let name = rules::lookup(c).map_or("", |(_, r)| r.meta().name);
                    problems.push(format!("`{}` ({c} {name}) suppresses nothing", n.written));
                }
                // A rule that is off (config, --ignore) may fire again when it is turned on.
                Some(_) if !n.used => {}
                Some(_) => all_unused = false,
            }
        }
        if problems.is_empty() {
            continue;
        }
        let file = project.sources.get(s.file);
        let fix = all_unused.then(|| {
            Fix::new(
                "delete the suppression comment",
                Applicability::Safe,
                vec![Edit::delete(s.file, deletion_span(file, s))],
            )
        });
        extra.push(unused(
            code,
            meta,
            severity,
            s.file,
            s.comment,
            format!("suppression comment: {}", problems.join("; ")),
            fix,
        ));
    }
    // NFL003 findings can be silenced too, with `ignore-file NFL003`.
    extra.retain(|d| {
        !sups.iter().any(|s| {
            s.scope == Scope::File
                && s.rules.iter().any(|n| n.code == Some(UNUSED_CODE))
                && covers(s, project.sources.get(s.file), &d.labels[0])
        })
    });
    kept.extend(extra);
    kept.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    });
    kept
}

fn unused(
    code: &'static str,
    meta: &RuleMeta,
    severity: Severity,
    file: FileId,
    comment: Span,
    message: String,
    fix: Option<Fix>,
) -> Diagnostic {
    Diagnostic {
        code,
        name: meta.name,
        severity,
        message,
        labels: vec![Label::primary(file, comment, "this comment")],
        help: Some(
            "delete the comment, or name a rule that fires on the line it covers \
             (`nginx-fpm-lint rules` lists them)"
                .into(),
        ),
        fix,
    }
}

/// What deleting the comment removes: the whole line for a comment alone on its line, the
/// comment and the blanks before it for a trailing one.
fn deletion_span(file: &SourceFile, s: &Suppression) -> Span {
    let text = &file.text;
    let (start, end) = (s.comment.start as usize, s.comment.end as usize);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let prefix = line_prefix(file, s.comment);
    if s.trailing {
        let kept = prefix.trim_end().len();
        Span::new(start - prefix.len() + kept, end)
    } else if text[end..line_end].trim().is_empty() {
        Span::new(start - prefix.len(), line_end)
    } else {
        Span::new(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_comment;

    #[test]
    fn parses_the_forms() {
        assert_eq!(parse_comment("# just a comment"), None);
        assert_eq!(
            parse_comment("# nginx-fpm-lint: ignore NFL101, include-cycle -- why"),
            Some(Ok((false, vec!["NFL101".into(), "include-cycle".into()])))
        );
        assert_eq!(
            parse_comment("; nginx-fpm-lint: ignore-file NFL105"),
            Some(Ok((true, vec!["NFL105".into()])))
        );
        assert!(matches!(
            parse_comment("# nginx-fpm-lint: ignore -- no names"),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_comment("# nginx-fpm-lint: ignored NFL101"),
            Some(Err(_))
        ));
    }
}
