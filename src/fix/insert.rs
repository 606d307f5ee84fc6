//! Building edits that add lines: new lines take the indentation and line ending of their
//! neighbours, so a fixed file looks hand-written.

use crate::fix::Edit;
use crate::source::FileId;
use crate::syntax::fpm;
use crate::syntax::nginx::Directive;

/// `"\r\n"` when the file uses CRLF line endings, `"\n"` otherwise.
pub fn line_ending(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Offset of the start of the line holding `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// Offset just past the line end of the line holding `offset` (or the end of the text).
pub fn line_end_after(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// The blanks before the first non-blank character of the line holding `offset`.
pub fn indentation_at(text: &str, offset: usize) -> &str {
    let start = line_start(text, offset);
    let rest = &text[start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// One level of indentation as the file writes it: a tab, or the smallest run of spaces
/// that starts an indented line (4 when the file gives no hint).
pub fn indent_unit(text: &str) -> String {
    let mut smallest: Option<usize> = None;
    for line in text.lines() {
        if line.starts_with('\t') {
            return "\t".into();
        }
        let n = line.len() - line.trim_start_matches(' ').len();
        if n > 0 && n < line.len() {
            smallest = Some(smallest.map_or(n, |s| s.min(n)));
        }
    }
    " ".repeat(smallest.unwrap_or(4).clamp(2, 8))
}

/// True when only blanks precede `offset` on its line.
fn starts_its_line(text: &str, offset: usize) -> bool {
    text[line_start(text, offset)..offset]
        .trim_start_matches([' ', '\t'])
        .is_empty()
}

/// Insert directive lines (without indentation or line ending, e.g. `"fastcgi_buffer_size 32k;"`)
/// at the top of `block_owner`'s block, indented like the block's first directive.
pub fn nginx_lines_in_block(
    file: FileId,
    text: &str,
    block_owner: Directive<'_>,
    lines: &[String],
) -> Option<Edit> {
    let block = block_owner.block()?;
    let eol = line_ending(text);
    let first = block.directives().next();
    match first {
        Some(child) if starts_its_line(text, child.span().start as usize) => {
            let at = line_start(text, child.span().start as usize);
            let indent = indentation_at(text, child.span().start as usize);
            let insertion: String = lines.iter().map(|l| format!("{indent}{l}{eol}")).collect();
            Some(Edit::insert(file, at, insertion))
        }
        _ => {
            // Empty or one-line block: open a new line after "{".
            let indent = format!(
                "{}{}",
                indentation_at(text, block_owner.span().start as usize),
                indent_unit(text)
            );
            let insertion: String = lines.iter().map(|l| format!("{eol}{indent}{l}")).collect();
            Some(Edit::insert(file, block.open().end as usize, insertion))
        }
    }
}

/// Insert directive lines right after `anchor`'s line, indented like it.
pub fn nginx_lines_after(
    file: FileId,
    text: &str,
    anchor: Directive<'_>,
    lines: &[String],
) -> Edit {
    let eol = line_ending(text);
    let end = anchor.span().end as usize;
    let indent = indentation_at(text, anchor.span().start as usize);
    let at = line_end_after(text, end);
    let mut insertion = String::new();
    if at == text.len() && !text.ends_with('\n') {
        insertion.push_str(eol);
    }
    insertion.extend(lines.iter().map(|l| format!("{indent}{l}{eol}")));
    Edit::insert(file, at, insertion)
}

/// Insert `key = value` lines into section `section_name` of an FPM file: after the section's
/// last entry in this file (or right after its header).
pub fn fpm_lines_in_section(
    file: FileId,
    text: &str,
    config: &fpm::Config,
    section_name: &str,
    lines: &[String],
) -> Option<Edit> {
    let eol = line_ending(text);
    let mut anchor: Option<usize> = None;
    let mut indent = "";
    for (section, entry) in config.entries() {
        if section.is_some_and(|s| s.name() == section_name) {
            anchor = Some(entry.span().end as usize);
            indent = indentation_at(text, entry.span().start as usize);
        }
    }
    let anchor = match anchor {
        Some(a) => a,
        None => {
            config
                .sections()
                .filter(|s| s.name() == section_name)
                .last()?
                .span()
                .end as usize
        }
    };
    let at = line_end_after(text, anchor);
    let mut insertion = String::new();
    if at == text.len() && !text.ends_with('\n') {
        insertion.push_str(eol);
    }
    insertion.extend(lines.iter().map(|l| format!("{indent}{l}{eol}")));
    Some(Edit::insert(file, at, insertion))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply::apply_edits;
    use crate::syntax::nginx;

    fn location(c: &nginx::Config) -> Directive<'_> {
        let server = c.directives().next().unwrap();
        server.children().find(|d| d.name() == "location").unwrap()
    }

    #[test]
    fn block_insertion_takes_the_first_childs_indentation() {
        let text = "server {\n\tlocation ~ \\.php$ {\n\t\tfastcgi_pass x;\n\t}\n}\n";
        let c = nginx::parse(text).unwrap();
        let e = nginx_lines_in_block(
            FileId(0),
            text,
            location(&c),
            &["fastcgi_buffer_size 32k;".into()],
        )
        .unwrap();
        let out = apply_edits(text, &[e]).text;
        assert_eq!(out, "server {\n\tlocation ~ \\.php$ {\n\t\tfastcgi_buffer_size 32k;\n\t\tfastcgi_pass x;\n\t}\n}\n");
        nginx::parse(&out).unwrap();
    }

    #[test]
    fn one_line_blocks_and_crlf() {
        let text = "server {\r\n  location / { fastcgi_pass x; }\r\n}\r\n";
        let c = nginx::parse(text).unwrap();
        let e = nginx_lines_in_block(FileId(0), text, location(&c), &["a 1;".into()]).unwrap();
        let out = apply_edits(text, &[e]).text;
        assert_eq!(
            out,
            "server {\r\n  location / {\r\n    a 1; fastcgi_pass x; }\r\n}\r\n"
        );
        nginx::parse(&out).unwrap();
    }

    #[test]
    fn after_anchor_without_final_newline() {
        let text = "location / {\n    include fastcgi_params;\n}";
        let c = nginx::parse(text).unwrap();
        let inc = c.directives().next().unwrap().children().next().unwrap();
        let e = nginx_lines_after(FileId(0), text, inc, &["fastcgi_param A b;".into()]);
        let out = apply_edits(text, &[e]).text;
        assert_eq!(
            out,
            "location / {\n    include fastcgi_params;\n    fastcgi_param A b;\n}"
        );
    }

    #[test]
    fn fpm_section_insertion() {
        let text = "[www]\nlisten = /run/a.sock\npm = static\n\n[other]\nlisten = 9000\n";
        let c = fpm::parse(text).unwrap();
        let e = fpm_lines_in_section(
            FileId(0),
            text,
            &c,
            "www",
            &["listen.owner = www-data".into()],
        )
        .unwrap();
        let out = apply_edits(text, &[e]).text;
        assert_eq!(out, "[www]\nlisten = /run/a.sock\npm = static\nlisten.owner = www-data\n\n[other]\nlisten = 9000\n");
    }
}
