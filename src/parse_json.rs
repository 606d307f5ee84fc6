//! `nginx-fpm-lint parse`: the parser alone, as JSON (shaped like crossplane's output, so
//! tools built for it need little change), with spans, columns and resolved includes added.

use serde_json::{json, Value};

use crate::model::nginx::IncludeMap;
use crate::project::Project;
use crate::report::Problem;
use crate::source::{FileId, Language, SourceFile};
use crate::syntax::fpm;
use crate::syntax::nginx::{self, Node};

pub fn render(project: &Project, includes: &IncludeMap, with_comments: bool) -> Value {
    let ids: Vec<FileId> = project.sources.iter().map(|(id, _)| id).collect();
    let index_of = |id: FileId| ids.iter().position(|&x| x == id);
    let errors_of = |name: &str| -> Vec<Value> {
        project
            .problems
            .iter()
            .filter(|p| p.path == name)
            .map(problem_json)
            .collect()
    };
    let mut config = Vec::new();
    for &id in &ids {
        let file = project.sources.get(id);
        let errors = errors_of(&file.name);
        let parsed = match file.language {
            Language::Nginx => project
                .nginx(id)
                .map(|c| nginx_items(&c.items(), file, id, includes, &index_of, with_comments)),
            Language::PhpFpm => project.fpm(id).map(|c| fpm_items(c, file)),
        };
        let mut entry = json!({
            "file": file.name,
            "language": file.language,
            "builtin": file.is_builtin(),
            "status": if errors.is_empty() { "ok" } else { "failed" },
            "errors": errors,
            "parsed": parsed.unwrap_or_default(),
        });
        if file.origin == crate::source::Origin::Link {
            // A symlink whose target is not in the tree: nothing was read.
            entry["status"] = json!("not-found");
            entry["link_target"] = json!(&*file.text);
        }
        config.push(entry);
    }
    let all_errors: Vec<Value> = project.problems.iter().map(problem_json).collect();
    json!({
        "status": if all_errors.is_empty() { "ok" } else { "failed" },
        "errors": all_errors,
        "config": config,
    })
}

fn problem_json(p: &Problem) -> Value {
    json!({
        "file": p.path,
        "line": p.at.map(|a| a.line),
        "column": p.at.map(|a| a.column),
        "error": p.message,
    })
}

fn nginx_items(
    items: &[Node<'_>],
    file: &SourceFile,
    id: FileId,
    includes: &IncludeMap,
    index_of: &dyn Fn(FileId) -> Option<usize>,
    with_comments: bool,
) -> Vec<Value> {
    let mut out = Vec::new();
    for node in items {
        match node {
            Node::Comment { span } if with_comments => {
                let at = file.line_col(span.start as usize);
                out.push(json!({
                    "directive": "#",
                    "line": at.line,
                    "column": at.column,
                    "span": span,
                    "args": [],
                    "comment": file.slice(*span)[1..].trim_end_matches('\r'),
                }));
            }
            Node::Directive(d) => out.push(directive_json(
                *d,
                file,
                id,
                includes,
                index_of,
                with_comments,
            )),
            _ => {}
        }
    }
    out
}

fn directive_json(
    d: nginx::Directive<'_>,
    file: &SourceFile,
    id: FileId,
    includes: &IncludeMap,
    index_of: &dyn Fn(FileId) -> Option<usize>,
    with_comments: bool,
) -> Value {
    let at = file.line_col(d.span().start as usize);
    let mut v = json!({
        "directive": d.name(),
        "line": at.line,
        "column": at.column,
        "span": d.span(),
        "args": d.args().iter().map(|w| w.value()).collect::<Vec<_>>(),
    });
    match d.end() {
        nginx::End::Block { .. } => {
            let block = d.block().expect("a block end has a block");
            v["block"] = Value::Array(nginx_items(
                &block.items(),
                file,
                id,
                includes,
                index_of,
                with_comments,
            ));
        }
        nginx::End::Raw { body, .. } => v["raw"] = Value::String(file.slice(body).to_owned()),
        nginx::End::Semicolon { .. } => {}
    }
    if d.name() == "include" {
        let targets: Vec<usize> = includes
            .targets(id, d.span().start)
            .into_iter()
            .filter_map(index_of)
            .collect();
        v["includes"] = json!(targets);
    }
    v
}

fn fpm_items(c: &fpm::Config, file: &SourceFile) -> Vec<Value> {
    let mut sections: Vec<Value> = Vec::new();
    let mut current: Option<usize> = None;
    let mut global_entries = Vec::new();
    for item in c.items() {
        match item {
            fpm::Item::Section(s) => {
                let at = file.line_col(s.span().start as usize);
                sections.push(json!({
                    "section": s.name(),
                    "line": at.line,
                    "column": at.column,
                    "span": s.span(),
                    "entries": [],
                }));
                current = Some(sections.len() - 1);
            }
            fpm::Item::Entry(e) => {
                let at = file.line_col(e.span().start as usize);
                let entry = json!({
                    "key": e.name(),
                    "offset": e.offset_name(),
                    "value": e.text(),
                    "line": at.line,
                    "column": at.column,
                    "span": e.span(),
                    "value_span": e.value_span(),
                });
                match current {
                    Some(i) => sections[i]["entries"]
                        .as_array_mut()
                        .expect("entries is an array")
                        .push(entry),
                    None => global_entries.push(entry),
                }
            }
            _ => {}
        }
    }
    if !global_entries.is_empty() {
        sections.insert(0, json!({ "section": null, "entries": global_entries }));
    }
    sections
}
