//! Values nginx checks while it reads the configuration, with nginx's own words for each
//! refusal. PLACEHOLDER: checks nothing yet.

use super::DirectiveSpec;
use crate::source::Span;
use crate::syntax::nginx::Directive;

/// A value nginx refuses: its message (nginx's words) and the offending argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueProblem {
    pub message: String,
    pub span: Span,
}

/// What nginx would say of `d`'s arguments, read as the directive `spec` describes.
pub fn check(_spec: &DirectiveSpec, _d: Directive<'_>) -> Option<ValueProblem> {
    None
}
