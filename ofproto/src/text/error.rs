//! Parse errors and warnings of the ovs-ofctl text syntax.
//!
//! Every error names the offending token and its byte position in the input
//! (within its line, for a flows file), e.g.
//! `dl_vlan: value 5000 out of range at position 12 ("dl_vlan=5000")`.

use std::fmt;

/// A parse failure: `msg` says what is wrong with `token`, which starts at
/// byte `pos` of the parsed string. `line` (1-based) is set by
/// [`super::parse_flows_file`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextError {
    pub pos: usize,
    pub token: String,
    pub msg: String,
    pub line: Option<usize>,
}

impl TextError {
    pub fn new(pos: usize, token: impl Into<String>, msg: impl Into<String>) -> TextError {
        TextError {
            pos,
            token: token.into(),
            msg: msg.into(),
            line: None,
        }
    }

    pub(crate) fn at(span: Span<'_>, msg: impl Into<String>) -> TextError {
        TextError::new(span.pos, span.text, msg)
    }

    /// The same error, attributed to `line` of a file.
    pub fn with_line(mut self, line: usize) -> TextError {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(
            f,
            "{} at position {} ({:?})",
            self.msg, self.pos, self.token
        )
    }
}

impl std::error::Error for TextError {}

/// Something ovs-ofctl accepts silently but changes (e.g. a match field whose
/// prerequisite is missing is dropped, as ovs-ofctl's "normalization changed
/// ofp_match" log says). Same shape as [`TextError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextWarning {
    pub pos: usize,
    pub token: String,
    pub msg: String,
}

impl TextWarning {
    pub(crate) fn at(span: Span<'_>, msg: impl Into<String>) -> TextWarning {
        TextWarning {
            pos: span.pos,
            token: span.text.to_string(),
            msg: msg.into(),
        }
    }
}

impl fmt::Display for TextWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at position {} ({:?})",
            self.msg, self.pos, self.token
        )
    }
}

/// A piece of the input and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Span<'a> {
    pub pos: usize,
    pub text: &'a str,
}

impl<'a> Span<'a> {
    pub fn new(pos: usize, text: &'a str) -> Span<'a> {
        Span { pos, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_message_position_and_token() {
        let e = TextError::new(12, "dl_vlan=5000", "dl_vlan: value 5000 out of range");
        assert_eq!(
            e.to_string(),
            r#"dl_vlan: value 5000 out of range at position 12 ("dl_vlan=5000")"#
        );
        assert_eq!(
            e.with_line(3).to_string(),
            r#"line 3: dl_vlan: value 5000 out of range at position 12 ("dl_vlan=5000")"#
        );
    }
}
