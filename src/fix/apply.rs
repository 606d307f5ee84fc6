//! Applying edits and fixes to file texts, and the fix-until-stable loop.
//!
//! Overlap rule used throughout: two non-empty spans overlap when they share a byte; an
//! insertion (empty span) overlaps a replacement only when it sits strictly inside it. Two
//! insertions at the same offset never overlap; they land in the order they were given.

use std::collections::BTreeMap;

use super::{Applicability, Edit, Fix};
use crate::source::{FileId, Span};

/// The result of applying a list of edits or fixes to one text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    /// Indices into the input slice that were applied, ascending.
    pub applied: Vec<usize>,
    /// Indices into the input slice that were not applied (overlap, invalid span), ascending.
    pub skipped: Vec<usize>,
}

/// Whether two spans conflict under the module's overlap rule.
pub fn overlaps(a: Span, b: Span) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => false,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// A span can be applied to `text` if it is ordered, in range and on char boundaries.
fn valid_span(text: &str, span: Span) -> bool {
    span.start <= span.end
        && (span.end as usize) <= text.len()
        && text.is_char_boundary(span.start as usize)
        && text.is_char_boundary(span.end as usize)
}

/// Apply `edits` to `text`, ignoring their `file` field. Edits are taken in span order; an edit
/// that overlaps one already taken, or whose span is invalid for `text`, is skipped.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Applied {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    // Stable sort: insertions at one offset keep input order, and sort before a replacement
    // starting there (end is smaller), so they are not mistaken for overlapping it.
    order.sort_by_key(|&i| (edits[i].span.start, edits[i].span.end));

    let mut out = String::with_capacity(text.len());
    let mut cursor = 0usize; // end of the last taken edit, in `text`
    let mut applied = Vec::new();
    let mut skipped = Vec::new();
    for i in order {
        let span = edits[i].span;
        if !valid_span(text, span) || (span.start as usize) < cursor {
            skipped.push(i);
            continue;
        }
        out.push_str(&text[cursor..span.start as usize]);
        out.push_str(&edits[i].replacement);
        cursor = span.end as usize;
        applied.push(i);
    }
    out.push_str(&text[cursor..]);
    applied.sort_unstable();
    skipped.sort_unstable();
    Applied {
        text: out,
        applied,
        skipped,
    }
}

/// Apply to a file's bytes the edits [`apply_edits`] applied to its text, where the two have
/// the same length and offsets (a file that is not UTF-8, see `source::sanitize`): edits
/// outside the text's bounds or overlapping an earlier one are skipped exactly as there.
/// `None` when a replacement holds a placeholder: it copied a byte whose value the text
/// does not know, and writing it would lose that byte.
pub fn apply_edits_bytes(bytes: &[u8], edits: &[Edit]) -> Option<Vec<u8>> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| (edits[i].span.start, edits[i].span.end));
    let mut out = Vec::with_capacity(bytes.len());
    let mut cursor = 0usize;
    for i in order {
        let span = edits[i].span;
        if span.start > span.end
            || span.end as usize > bytes.len()
            || (span.start as usize) < cursor
        {
            continue;
        }
        if edits[i]
            .replacement
            .as_bytes()
            .contains(&crate::source::PLACEHOLDER)
        {
            return None;
        }
        out.extend_from_slice(&bytes[cursor..span.start as usize]);
        out.extend_from_slice(edits[i].replacement.as_bytes());
        cursor = span.end as usize;
    }
    out.extend_from_slice(&bytes[cursor..]);
    Some(out)
}

/// Spans already claimed by accepted fixes, per file.
#[derive(Default)]
struct Claimed {
    spans: BTreeMap<FileId, Vec<Span>>,
}

impl Claimed {
    fn conflicts(&self, file: FileId, span: Span) -> bool {
        self.spans
            .get(&file)
            .is_some_and(|v| v.iter().any(|&s| overlaps(s, span)))
    }
}

/// Choose fixes greedily in input order: a fix is taken only if every one of its edits that
/// `in_scope` accepts is valid for its file's text and overlaps neither an edit already taken
/// nor another edit of the same fix. `DisplayOnly` fixes are never taken. A fix whose edits
/// exactly equal an earlier taken fix's counts as applied without being applied twice (two
/// findings proposing the same insertion must not insert it twice).
///
/// Returns the per-file edit lists (in taken order) and the applied/skipped fix indices.
fn select<'t>(
    fixes: &[&Fix],
    in_scope: &dyn Fn(&Edit) -> bool,
    text_of: &dyn Fn(FileId) -> Option<&'t str>,
) -> (BTreeMap<FileId, Vec<Edit>>, Vec<usize>, Vec<usize>) {
    let mut claimed = Claimed::default();
    let mut taken_edits: BTreeMap<FileId, Vec<Edit>> = BTreeMap::new();
    let mut taken_sets: Vec<Vec<&Edit>> = Vec::new();
    let mut applied = Vec::new();
    let mut skipped = Vec::new();

    'fixes: for (i, fix) in fixes.iter().enumerate() {
        let edits: Vec<&Edit> = fix.edits.iter().filter(|e| in_scope(e)).collect();
        if fix.applicability == Applicability::DisplayOnly || edits.is_empty() {
            skipped.push(i);
            continue;
        }
        if taken_sets.contains(&edits) {
            applied.push(i);
            continue;
        }
        for (k, e) in edits.iter().enumerate() {
            let ok = text_of(e.file).is_some_and(|t| valid_span(t, e.span))
                && !claimed.conflicts(e.file, e.span)
                && !edits[..k]
                    .iter()
                    .any(|o| o.file == e.file && overlaps(o.span, e.span));
            if !ok {
                skipped.push(i);
                continue 'fixes;
            }
        }
        for e in &edits {
            claimed.spans.entry(e.file).or_default().push(e.span);
            taken_edits.entry(e.file).or_default().push((*e).clone());
        }
        taken_sets.push(edits);
        applied.push(i);
    }
    (taken_edits, applied, skipped)
}

/// Apply whole fixes to the text of `file`: only their edits for `file` are considered, and a
/// fix is skipped entirely if any of those edits conflicts. Fixes earlier in `fixes` win.
/// Fixes with no edit in `file`, and `DisplayOnly` fixes, are reported as skipped.
///
/// For fixes that touch several files use [`apply_fixes_multi`], which keeps a fix
/// all-or-nothing across files.
pub fn apply_fixes(text: &str, fixes: &[&Fix], file: FileId) -> Applied {
    let (mut edits, applied, skipped) =
        select(fixes, &|e| e.file == file, &|f| (f == file).then_some(text));
    let edits = edits.remove(&file).unwrap_or_default();
    let result = apply_edits(text, &edits);
    debug_assert!(result.skipped.is_empty(), "selected edits must all apply");
    Applied {
        text: result.text,
        applied,
        skipped,
    }
}

/// The result of applying fixes across several files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiApplied {
    /// Every input file's text after applying; untouched files are unchanged copies.
    pub texts: BTreeMap<FileId, String>,
    /// The edits applied, per file, in the order given to [`apply_edits`].
    pub edits: BTreeMap<FileId, Vec<Edit>>,
    /// Indices into the input fixes, ascending.
    pub applied: Vec<usize>,
    pub skipped: Vec<usize>,
}

/// Pick a non-conflicting subset of `fixes` (greedily, earlier fixes win) and apply it to
/// `texts`. A fix is all-or-nothing across files: it is skipped if any of its edits, in any
/// file, conflicts with a fix already taken, has an invalid span, or names a file not in
/// `texts`.
pub fn apply_fixes_multi(texts: &BTreeMap<FileId, String>, fixes: &[&Fix]) -> MultiApplied {
    let (edits, applied, skipped) =
        select(fixes, &|_| true, &|f| texts.get(&f).map(String::as_str));
    let mut out = texts.clone();
    for (file, edits) in &edits {
        let result = apply_edits(&texts[file], edits);
        debug_assert!(result.skipped.is_empty(), "selected edits must all apply");
        out.insert(*file, result.text);
    }
    MultiApplied {
        texts: out,
        edits,
        applied,
        skipped,
    }
}

/// Why [`fix_until_stable`] stopped without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A round proposed no fixes, or none that changed any text.
    Converged,
    /// `max_rounds` rounds were applied and the last check still proposed fixes.
    RoundLimit,
}

/// What the fix loop produced.
#[derive(Clone, Debug)]
pub struct FixOutcome {
    /// Final texts of every file (including unchanged ones).
    pub texts: BTreeMap<FileId, String>,
    /// Fixes applied and kept, in application order.
    pub applied: Vec<Fix>,
    /// Each kept round's edits per file, as applied: replayed on the bytes of a file that
    /// is not UTF-8 ([`apply_edits_bytes`]).
    pub edit_rounds: Vec<BTreeMap<FileId, Vec<Edit>>>,
    /// Rounds whose changes were kept.
    pub rounds: usize,
    pub stop: Stop,
}

/// A round's fixes left a file that no longer parses; that round was reverted.
#[derive(Clone, Debug)]
pub struct FixLoopError<E> {
    pub file: FileId,
    pub error: E,
    /// The fixes of the reverted round (empty if the initial texts did not parse).
    pub reverted: Vec<Fix>,
    /// The state after the last good round: texts that parse, and the fixes kept so far.
    pub kept: FixOutcome,
}

/// Drive fixing to a fixed point.
///
/// `round` gets the current texts, parses and lints them, and returns the fixes to apply
/// (empty when done) or `Err((file, error))` if a file does not parse. Each round's fixes are
/// applied with [`apply_fixes_multi`] (conflicting ones are left for a later round, when they
/// will be proposed again against the new text). After `max_rounds` applied rounds `round` is
/// called once more, only to check the result still parses.
///
/// If a round's output fails to parse, it is reverted and `Err` carries the last good state.
pub fn fix_until_stable<F, E>(
    initial: BTreeMap<FileId, String>,
    max_rounds: usize,
    mut round: F,
) -> Result<FixOutcome, Box<FixLoopError<E>>>
where
    F: FnMut(&BTreeMap<FileId, String>) -> Result<Vec<Fix>, (FileId, E)>,
{
    let mut state = FixOutcome {
        texts: initial,
        applied: Vec::new(),
        edit_rounds: Vec::new(),
        rounds: 0,
        stop: Stop::Converged,
    };
    // Texts and fixes of the round being checked, to restore on a parse failure.
    let mut pending: Option<(BTreeMap<FileId, String>, Vec<Fix>)> = None;
    loop {
        let fixes = match round(&state.texts) {
            Ok(fixes) => fixes,
            Err((file, error)) => {
                let reverted = match pending.take() {
                    Some((texts, fixes)) => {
                        state.texts = texts;
                        state.applied.truncate(state.applied.len() - fixes.len());
                        state.edit_rounds.pop();
                        state.rounds -= 1;
                        fixes
                    }
                    None => Vec::new(),
                };
                return Err(Box::new(FixLoopError {
                    file,
                    error,
                    reverted,
                    kept: state,
                }));
            }
        };
        if fixes.is_empty() {
            state.stop = Stop::Converged;
            return Ok(state);
        }
        if state.rounds >= max_rounds {
            state.stop = Stop::RoundLimit;
            return Ok(state);
        }
        let refs: Vec<&Fix> = fixes.iter().collect();
        let result = apply_fixes_multi(&state.texts, &refs);
        if result.texts == state.texts {
            // Nothing applicable changed anything: another round would propose the same.
            state.stop = Stop::Converged;
            return Ok(state);
        }
        let kept: Vec<Fix> = result.applied.iter().map(|&i| fixes[i].clone()).collect();
        state.applied.extend(kept.iter().cloned());
        state.edit_rounds.push(result.edits);
        state.rounds += 1;
        pending = Some((std::mem::replace(&mut state.texts, result.texts), kept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: FileId = FileId(0);
    const G: FileId = FileId(1);

    fn rep(start: usize, end: usize, s: &str) -> Edit {
        Edit::replace(F, Span::new(start, end), s)
    }

    #[test]
    fn bytes_get_the_same_edits_as_their_text() {
        // A Latin-1 text and its placeholder twin: same offsets, so the same edits.
        let bytes = b"# caf\xe9\nlisten 80;\n";
        let text = crate::source::sanitize(bytes);
        let edits = [
            rep(14, 16, "8080"),
            rep(0, 0, "# top\n"),
            rep(15, 17, "overlaps, skipped"),
        ];
        let on_text = apply_edits(&text, &edits);
        assert_eq!(on_text.skipped, [2]);
        let on_bytes = apply_edits_bytes(bytes, &edits).unwrap();
        assert_eq!(on_bytes, b"# top\n# caf\xe9\nlisten 8080;\n");
        assert_eq!(crate::source::sanitize(&on_bytes), on_text.text);
        // A replacement holding the placeholder copied a byte the text does not know.
        let copy = [rep(0, 0, &text[2..6])];
        assert_eq!(apply_edits_bytes(bytes, &copy), None);
    }

    #[test]
    fn replacement_insertion_deletion() {
        let r = apply_edits(
            "hello world",
            &[rep(6, 11, "there"), rep(0, 0, ">> "), rep(5, 6, "")],
        );
        assert_eq!(r.text, ">> hellothere");
        assert_eq!(r.applied, vec![0, 1, 2]);
        assert!(r.skipped.is_empty());
    }

    #[test]
    fn overlapping_edit_is_skipped() {
        let r = apply_edits("abcdef", &[rep(1, 4, "X"), rep(3, 5, "Y"), rep(5, 6, "Z")]);
        assert_eq!(r.text, "aXeZ");
        assert_eq!(r.applied, vec![0, 2]);
        assert_eq!(r.skipped, vec![1]);
    }

    #[test]
    fn insertions_at_one_offset_keep_order_and_touch_replacements() {
        let r = apply_edits(
            "abcdef",
            &[
                rep(2, 2, "1"),
                rep(2, 4, "R"),
                rep(2, 2, "2"),
                rep(4, 4, "3"),
            ],
        );
        assert_eq!(r.text, "ab12R3ef");
        assert!(r.skipped.is_empty());
        // Strictly inside a replacement: overlap.
        let r = apply_edits("abcdef", &[rep(1, 4, "R"), rep(2, 2, "!")]);
        assert_eq!(r.text, "aRef");
        assert_eq!(r.skipped, vec![1]);
    }

    #[test]
    fn invalid_spans_are_skipped_not_panicking() {
        let text = "né";
        let bad = Edit {
            file: F,
            span: Span { start: 2, end: 1 },
            replacement: "x".into(),
        };
        let r = apply_edits(text, &[rep(2, 2, "x"), rep(0, 9, "x"), bad, rep(3, 3, "!")]);
        assert_eq!(r.text, "né!");
        assert_eq!(r.skipped, vec![0, 1, 2]);
    }

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix::new("f", Applicability::Safe, edits)
    }

    #[test]
    fn fixes_are_all_or_nothing() {
        let a = fix(vec![rep(0, 1, "A"), rep(4, 5, "E")]);
        let b = fix(vec![rep(2, 3, "C"), rep(4, 5, "e")]); // clashes with `a` at 4..5
        let c = fix(vec![rep(2, 3, "c")]);
        let d = Fix::new("d", Applicability::DisplayOnly, vec![rep(5, 6, "F")]);
        let r = apply_fixes("abcdef", &[&a, &b, &c, &d], F);
        assert_eq!(r.text, "AbcdEf");
        assert_eq!(r.applied, vec![0, 2]);
        assert_eq!(r.skipped, vec![1, 3]);
    }

    #[test]
    fn duplicate_fix_is_not_applied_twice() {
        let a = fix(vec![rep(3, 3, "!")]);
        let r = apply_fixes("abcdef", &[&a, &a.clone()], F);
        assert_eq!(r.text, "abc!def");
        assert_eq!(r.applied, vec![0, 1]);
    }

    #[test]
    fn multi_file_fix_is_all_or_nothing_across_files() {
        let texts = BTreeMap::from([(F, "one".to_string()), (G, "two".to_string())]);
        let cross = fix(vec![rep(0, 1, "O"), Edit::replace(G, Span::new(0, 1), "T")]);
        let blocked = fix(vec![
            rep(2, 3, "E"),
            Edit::replace(G, Span::new(0, 2), "XX"),
        ]);
        let elsewhere = fix(vec![Edit::replace(FileId(9), Span::new(0, 0), "?")]);
        let r = apply_fixes_multi(&texts, &[&cross, &blocked, &elsewhere]);
        assert_eq!(r.texts[&F], "One");
        assert_eq!(r.texts[&G], "Two");
        assert_eq!(r.applied, vec![0]);
        assert_eq!(r.skipped, vec![1, 2]);
    }

    /// Toy linter: every `a` should become `b`, but only one per round, and a `b` next to a
    /// `c` "does not parse".
    fn toy(texts: &BTreeMap<FileId, String>) -> Result<Vec<Fix>, (FileId, String)> {
        let mut fixes = Vec::new();
        for (&file, text) in texts {
            if text.contains("bc") {
                return Err((file, "bc".into()));
            }
            if let Some(i) = text.find('a') {
                fixes.push(fix(vec![Edit::replace(file, Span::new(i, i + 1), "b")]));
            }
        }
        Ok(fixes)
    }

    #[test]
    fn loop_converges() {
        let texts = BTreeMap::from([(F, "aaa".to_string()), (G, "xa".to_string())]);
        let out = fix_until_stable(texts, 10, toy).unwrap();
        assert_eq!(out.stop, Stop::Converged);
        assert_eq!(out.texts[&F], "bbb");
        assert_eq!(out.texts[&G], "xb");
        assert_eq!(out.rounds, 3);
        assert_eq!(out.applied.len(), 4);
    }

    #[test]
    fn loop_stops_at_round_limit() {
        let texts = BTreeMap::from([(F, "aaaa".to_string())]);
        let out = fix_until_stable(texts, 2, toy).unwrap();
        assert_eq!(out.stop, Stop::RoundLimit);
        assert_eq!(out.texts[&F], "bbaa");
        assert_eq!(out.rounds, 2);
    }

    #[test]
    fn loop_reverts_round_that_breaks_parsing() {
        let texts = BTreeMap::from([(F, "aac".to_string())]);
        let err = fix_until_stable(texts, 10, toy).unwrap_err();
        assert_eq!(err.file, F);
        assert_eq!(err.error, "bc");
        assert_eq!(err.reverted.len(), 1);
        // Round one (first `a`) is kept; round two made "bbc" and was reverted.
        assert_eq!(err.kept.texts[&F], "bac");
        assert_eq!(err.kept.rounds, 1);
        assert_eq!(err.kept.applied.len(), 1);
    }

    #[test]
    fn loop_reports_unparsable_input() {
        let texts = BTreeMap::from([(F, "bc".to_string())]);
        let err = fix_until_stable(texts, 10, toy).unwrap_err();
        assert!(err.reverted.is_empty());
        assert_eq!(err.kept.texts[&F], "bc");
        assert_eq!(err.kept.rounds, 0);
    }

    #[test]
    fn loop_stops_when_fixes_change_nothing() {
        let texts = BTreeMap::from([(F, "x".to_string())]);
        let mut calls = 0;
        let out = fix_until_stable(texts, 10, |_| {
            calls += 1;
            Ok::<_, (FileId, ())>(vec![fix(vec![rep(0, 1, "x")])])
        })
        .unwrap();
        assert_eq!(out.stop, Stop::Converged);
        assert_eq!(calls, 1);
    }
}
