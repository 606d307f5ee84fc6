//! Human output: miette's graphical snippets, one block per finding, then a summary line.
//!
//! miette attaches one source text to a diagnostic, but our findings can span files (an nginx
//! `fastcgi_pass` and the FPM `listen` it should match). So each finding is drawn as miette's
//! report for the primary label's file, followed by one snippet per other file (each a miette
//! rendering with that file as source, minus its message line), then help and fix. miette's
//! `related` diagnostics would also work but repeat a message line per file, which reads as a
//! second finding.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{primary_label, Problem, Report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::source::{FileId, SourceMap};

/// How to draw human output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanOptions {
    /// Emit ANSI colors.
    pub color: bool,
    /// Terminal width in columns; long messages wrap to it.
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

/// Render every problem and finding, then the summary line.
pub fn render(report: &Report<'_>, opts: &HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let r = Renderer {
        handler: GraphicalReportHandler::new_themed(theme.clone()).with_width(opts.width),
        theme,
        width: opts.width,
        sources: report.sources,
    };

    let mut out = String::new();
    // Problems first: they mean the findings below may be incomplete.
    for p in report.problems {
        r.problem(&mut out, p);
        out.push('\n');
    }
    for d in report.diagnostics {
        r.diagnostic(&mut out, d);
        out.push('\n');
    }
    out.push_str(&report.summary().line());
    out.push('\n');
    out
}

struct Renderer<'a> {
    handler: GraphicalReportHandler,
    theme: GraphicalTheme,
    width: usize,
    sources: &'a SourceMap,
}

impl<'a> Renderer<'a> {
    fn diagnostic(&self, out: &mut String, d: &Diagnostic) {
        let severity = miette_severity(d.severity);
        let primary_file = primary_label(d).map(|l| l.file);
        let mut main = match primary_file {
            Some(file) => self.part(d, file, d.message.clone(), severity),
            None => Part::bare(d.message.clone(), severity),
        };
        main.code = Some(format!("{}[{} {}]", d.severity, d.code, d.name));
        self.miette(out, &main);

        // Labels in other files, one snippet per file in order of first appearance, right under
        // the primary file's snippet as if miette had drawn them together.
        let mut others: Vec<FileId> = Vec::new();
        for l in &d.labels {
            if Some(l.file) != primary_file && !others.contains(&l.file) {
                others.push(l.file);
            }
        }
        for file in others {
            let mut snippet = String::new();
            self.miette(&mut snippet, &self.part(d, file, String::new(), severity));
            out.push_str(strip_message_line(&snippet));
        }

        if let Some(help) = &d.help {
            self.note(out, "help", help);
        }
        if let Some(fix) = &d.fix {
            let (label, text) = fix_note(fix);
            self.note(out, label, &text);
        }
        // diagnose's causes are drawn here too; only a rule has a section in docs/rules.md.
        if crate::rules::lookup(d.code).is_some() {
            self.note(out, "docs", &crate::docs::rule_url(d.name));
        }
    }

    fn problem(&self, out: &mut String, p: &Problem) {
        let part = match p.span {
            // The snippet header carries path and position.
            Some((file, span)) => {
                let f = self.sources.get(file);
                Part {
                    code: None,
                    message: p.message.clone(),
                    severity: miette::Severity::Error,
                    source: Some(FileSource::of(f)),
                    // A label with no text draws a bare underline; say what is there.
                    labels: vec![LabeledSpan::new_primary_with_span(
                        Some(syntax_label(&p.message)),
                        to_miette(span),
                    )],
                }
            }
            None => Part::bare(
                format!("{}: {}", p.location(), p.message),
                miette::Severity::Error,
            ),
        };
        self.miette(out, &part);
    }

    /// The labels of `d` that sit in `file`, with that file as source.
    fn part(
        &self,
        d: &Diagnostic,
        file: FileId,
        message: String,
        severity: miette::Severity,
    ) -> Part<'a> {
        let f = self.sources.get(file);
        let labels = d
            .labels
            .iter()
            .filter(|l| l.file == file)
            .map(|l| {
                let text = (!l.message.is_empty()).then(|| self.fit_label(f, l));
                if l.primary {
                    LabeledSpan::new_primary_with_span(text, to_miette(l.span))
                } else {
                    LabeledSpan::new_with_span(text, to_miette(l.span))
                }
            })
            .collect();
        Part {
            code: None,
            message,
            severity,
            source: Some(FileSource::of(f)),
            labels,
        }
    }

    /// A label's text in lines that end before the terminal's edge: miette draws a label at
    /// the middle of its underline and never wraps it, so a long one would run past the edge
    /// and break the box. miette puts each `\n`-separated line under the one before.
    fn fit_label(&self, f: &crate::source::SourceFile, l: &crate::diagnostic::Label) -> String {
        let start = f.line_col(l.span.start as usize);
        let underline = f
            .text
            .get(l.span.range())
            .map_or(1, |t| t.lines().next().unwrap_or("").chars().count().max(1));
        // ` 15 │ ` before the source, then the underline's middle, then `╰── `.
        let gutter = (start.line as usize + 1).to_string().len() + 3;
        let indent = gutter + start.column as usize - 1 + underline / 2 + 4;
        wrap(&l.message, self.width.saturating_sub(indent).max(20)).join("\n")
    }

    fn miette(&self, out: &mut String, part: &Part<'_>) {
        // Writing into a String cannot fail; miette only errors if the writer does.
        let _ = self.handler.render_report(out, part);
    }

    /// A `help:`-style line under the snippets, wrapped and indented like miette's own help.
    fn note(&self, out: &mut String, label: &str, text: &str) {
        let prefix = format!("  {label}: ");
        let indent = " ".repeat(prefix.chars().count());
        let styled = format!("  {}: ", self.theme.styles.help.style(label));
        let lines = wrap(text, self.width.saturating_sub(indent.len()).max(20));
        for (i, line) in lines.iter().enumerate() {
            out.push_str(if i == 0 { &styled } else { &indent });
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// miette always draws a message line (`  × text`) before the snippets; for a snippet that
/// continues a finding drawn above, drop it. If the layout is ever different, keep everything:
/// a stray line is better than a lost snippet.
fn strip_message_line(rendered: &str) -> &str {
    match rendered.split_once('\n') {
        Some((first, rest)) if is_bare_icon_line(first) => rest,
        _ => rendered,
    }
}

/// A line holding only a severity icon, possibly inside ANSI color escapes.
fn is_bare_icon_line(line: &str) -> bool {
    let mut visible = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequence: ESC [ parameters final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if !c.is_whitespace() {
            visible.push(c);
        }
    }
    visible.chars().count() == 1
}

fn fix_note(fix: &Fix) -> (&'static str, String) {
    match fix.applicability {
        Applicability::Safe => ("fix available", format!("{} (safe)", fix.message)),
        Applicability::Unsafe => ("fix available", format!("{} (unsafe)", fix.message)),
        Applicability::DisplayOnly => (
            "suggestion",
            format!("{} (not applied automatically)", fix.message),
        ),
    }
}

/// The label under a syntax error: its message up to the first `; ` (the rest is advice),
/// so the underline says what is wrong there.
fn syntax_label(message: &str) -> String {
    message
        .split("; ")
        .next()
        .unwrap_or(message)
        .trim()
        .to_owned()
}

/// Greedy word wrap; a word longer than `width` gets a line of its own rather than being split,
/// so paths and directives stay copyable.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn to_miette(span: crate::source::Span) -> SourceSpan {
    SourceSpan::from(span.range())
}

/// One file's share of a finding, as miette wants it.
#[derive(Debug)]
struct Part<'a> {
    code: Option<String>,
    message: String,
    severity: miette::Severity,
    source: Option<FileSource<'a>>,
    labels: Vec<LabeledSpan>,
}

impl Part<'_> {
    fn bare(message: String, severity: miette::Severity) -> Self {
        Part {
            code: None,
            message,
            severity,
            source: None,
            labels: Vec::new(),
        }
    }
}

impl fmt::Display for Part<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Part<'_> {}

impl miette::Diagnostic for Part<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// A borrowed, named view of a source file, so rendering does not copy file texts per finding.
#[derive(Debug)]
struct FileSource<'a> {
    name: &'a str,
    text: std::borrow::Cow<'a, str>,
}

impl<'a> FileSource<'a> {
    /// A file that is not UTF-8 shows "?" for each byte that is not (the text's placeholder,
    /// DEL, would print as nothing); one byte each, so the spans still fit.
    fn of(f: &'a crate::source::SourceFile) -> Self {
        let text = match f.original {
            Some(_) => {
                std::borrow::Cow::Owned(f.text.replace(crate::source::PLACEHOLDER as char, "?"))
            }
            None => std::borrow::Cow::Borrowed(&*f.text),
        };
        FileSource {
            name: &f.name,
            text,
        }
    }
}

impl SourceCode for FileSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = (*self.text).read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
