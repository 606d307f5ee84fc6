//! GitHub Actions workflow commands: one annotation per finding and per unreadable file.
//!
//! ```text
//! ::error file=sites/app.conf,line=7,col=22,endLine=7,endColumn=51,title=NFL101 fastcgi-pass-no-listener::message
//! ```
//!
//! Severities map to `error`, `warning` and `notice`. Escaping follows GitHub's runner: in the
//! message `%`, `\r` and `\n` become `%25`, `%0D`, `%0A`; in property values `:` and `,` are
//! escaped too (`%3A`, `%2C`). Annotations in built-in files (not in the repository) are given
//! at the finding's first label in a real file.

use super::{primary_label, Report};
use crate::diagnostic::Severity;

pub fn render(report: &Report<'_>) -> String {
    let mut out = String::new();
    for p in report.problems {
        let mut props = format!("file={}", property(&p.path));
        if let Some(at) = p.at {
            props.push_str(&format!(",line={},col={}", at.line, at.column));
        }
        // A syntax error's span, as for findings.
        if let Some((file, span)) = p.span {
            let end = report.sources.get(file).line_col(span.end as usize);
            props.push_str(&format!(",endLine={},endColumn={}", end.line, end.column));
        }
        out.push_str(&format!(
            "::error {props},title={}::{}\n",
            property("syntax or read error"),
            data(&p.message)
        ));
    }
    for d in report.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let label = primary_label(d)
            .filter(|l| !report.sources.get(l.file).is_builtin())
            .or_else(|| {
                d.labels
                    .iter()
                    .find(|l| !report.sources.get(l.file).is_builtin())
            })
            .or(primary_label(d));
        let mut props = String::new();
        if let Some(l) = label {
            let f = report.sources.get(l.file);
            let start = f.line_col(l.span.start as usize);
            let end = f.line_col(l.span.end as usize);
            props = format!(
                "file={},line={},col={},endLine={},endColumn={},",
                property(&f.name),
                start.line,
                start.column,
                end.line,
                end.column
            );
        }
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} {props}title={}::{}\n",
            property(&format!("{} {}", d.code, d.name)),
            data(&message)
        ));
    }
    out
}

/// Escape a message (the part after `::`).
pub fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`file=`, `title=`).
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(data("50% a\r\nb: c,d"), "50%25 a%0D%0Ab: c,d");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
