//! The text a command carries, parsed at the edge: a [`Text`] can only hold non-blank text of
//! bounded length without NUL, other control characters (tab and line breaks aside) or the
//! bidirectional override and isolate characters that make a text read other than it is
//! stored. The HTTP bodies and the plan import turn strings into these through `TryFrom`, so
//! `decide` never sees an empty title or a reason with a hidden U+202E. Events keep `String`:
//! what was recorded before these rules must still read.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What is wrong with a text. Each message starts with a fixed phrase (see the constants), so
/// a refusal that reaches the service only as a deserialisation message can still be told
/// apart: blank text is `field-required`, the others `invalid-text`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("text is required: it must not be empty or only white space")]
    Blank,
    #[error("text is too long: {chars} characters, at most {max}")]
    TooLong { chars: usize, max: usize },
    #[error(
        "text contains a forbidden character: control character U+{:04X} (only tab and line breaks are allowed)",
        u32::from(*.0)
    )]
    Control(char),
    #[error(
        "text contains a forbidden character: bidirectional override or isolate U+{:04X}",
        u32::from(*.0)
    )]
    Bidi(char),
}

impl TextError {
    /// How every [`TextError::Blank`] message starts.
    pub const BLANK: &'static str = "text is required";
    /// How every message of the other variants starts.
    pub const INVALID: [&'static str; 2] =
        ["text is too long", "text contains a forbidden character"];
}

/// The longest a one-line text may be: names, titles, indicators, approvers, grades.
pub const LINE_MAX: usize = 200;
/// The longest a prose text may be: reasons, narratives, summaries, instructions.
pub const PROSE_MAX: usize = 4000;

/// A name, a title, a unit, a grade: at most 200 characters.
pub type Line = Text<LINE_MAX>;
/// A reason, a narrative, a summary, instructions: at most 4000 characters.
pub type Prose = Text<PROSE_MAX>;

/// Checks the characters and the length; `blank_ok` for a [`Note`].
fn check(text: &str, max: usize, blank_ok: bool) -> Result<(), TextError> {
    if !blank_ok && text.trim().is_empty() {
        return Err(TextError::Blank);
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(TextError::TooLong { chars, max });
    }
    for c in text.chars() {
        if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            return Err(TextError::Bidi(c));
        }
        if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
            return Err(TextError::Control(c));
        }
    }
    Ok(())
}

/// Non-blank text of at most `MAX` characters without forbidden characters.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Parses borrowed input. (`Text::try_from(&'static str)` would go through the
    /// panicking literal constructor: parse input with this or `TryFrom<String>`.)
    pub fn parse(text: &str) -> Result<Self, TextError> {
        Self::try_from(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, TextError> {
        check(&value, MAX, false).map(|()| Self(value))
    }
}

/// For text written in the program itself (tests, the demo), never for input: a literal is
/// known valid when the program is written, so an invalid one is a bug and panics.
impl<const MAX: usize> From<&'static str> for Text<MAX> {
    fn from(literal: &'static str) -> Self {
        match Self::try_from(literal.to_string()) {
            Ok(text) => text,
            Err(e) => panic!("invalid text literal {literal:?}: {e}"),
        }
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> Self {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize> PartialEq<str> for Text<MAX> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl<const MAX: usize> PartialEq<&str> for Text<MAX> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Text that may be empty (a project's description, a comment on a rating), with the same
/// character rules and a bound of [`PROSE_MAX`] characters.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Note(String);

impl Note {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Note {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, TextError> {
        check(&value, PROSE_MAX, true).map(|()| Self(value))
    }
}

/// For text written in the program itself, as for [`Text`].
impl From<&'static str> for Note {
    fn from(literal: &'static str) -> Self {
        match Self::try_from(literal.to_string()) {
            Ok(note) => note,
            Err(e) => panic!("invalid note literal {literal:?}: {e}"),
        }
    }
}

impl From<Note> for String {
    fn from(value: Note) -> Self {
        value.0
    }
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The schemas: a string of 1 to `MAX` characters (0 to [`PROSE_MAX`] for a note).
/// The characters [`check`] refuses, as the body of a regex class (JSON Schema's ECMA-262
/// syntax): control characters but tab and line breaks, bidirectional overrides and isolates.
const FORBIDDEN: &str =
    r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069";
/// White space as `str::trim` knows it, less what [`FORBIDDEN`] already names.
const SPACE: &str = r"\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// The pattern a client can check before sending: only allowed characters, and for required
/// text at least one that is not white space.
fn pattern(required: bool) -> String {
    if required {
        format!("^[^{FORBIDDEN}]*[^{FORBIDDEN}{SPACE}][^{FORBIDDEN}]*$")
    } else {
        format!("^[^{FORBIDDEN}]*$")
    }
}

fn string_schema(
    min: usize,
    max: usize,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern(min > 0)))
        .into()
}

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(1, MAX)
    }
}

impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {
    fn name() -> Cow<'static, str> {
        match MAX {
            LINE_MAX => "Line".into(),
            PROSE_MAX => "Prose".into(),
            n => format!("Text{n}").into(),
        }
    }
}

impl utoipa::PartialSchema for Note {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(0, PROSE_MAX)
    }
}

impl utoipa::ToSchema for Note {}

impl<const MAX: usize> schemars::JsonSchema for Text<MAX> {
    fn schema_name() -> Cow<'static, str> {
        <Self as utoipa::ToSchema>::name()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "minLength": 1, "maxLength": MAX, "pattern": pattern(true) })
    }
}

impl schemars::JsonSchema for Note {
    fn schema_name() -> Cow<'static, str> {
        "Note".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "maxLength": PROSE_MAX, "pattern": pattern(false) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_pattern_accepts_exactly_what_the_type_accepts() {
        let schema =
            |required| serde_json::json!({ "type": "string", "pattern": pattern(required) });
        let text = jsonschema::validator_for(&schema(true)).unwrap();
        let note = jsonschema::validator_for(&schema(false)).unwrap();
        let samples = [
            "整车组装线投产",
            "a",
            " a ",
            "",
            " ",
            "\u{3000}",
            "\n\t",
            "行一\n行二\t",
            "x\u{0}",
            "x\u{7}",
            "x\u{1b}[31m",
            "\u{85}",
            "x\u{9e}",
            "x\u{202E}y",
            "x\u{2066}",
            "x\u{200B}",
            "\u{a0}\u{2003}",
        ];
        for sample in samples {
            let value = serde_json::json!(sample);
            assert_eq!(
                text.is_valid(&value),
                Line::parse(sample).is_ok(),
                "text {sample:?}"
            );
            assert_eq!(
                note.is_valid(&value),
                Note::try_from(sample.to_string()).is_ok(),
                "note {sample:?}"
            );
        }
    }

    #[test]
    fn blank_text_is_refused_and_says_it_is_required() {
        for blank in ["", " ", "\n\t ", "\u{3000}"] {
            let e = Line::parse(blank).unwrap_err();
            assert_eq!(e, TextError::Blank, "{blank:?}");
            assert!(e.to_string().starts_with(TextError::BLANK));
        }
    }

    #[test]
    fn text_keeps_tabs_and_line_breaks_and_any_script() {
        let t = Prose::parse("第一段\r\n\t第二段 — ok").unwrap();
        assert_eq!(t.as_str(), "第一段\r\n\t第二段 — ok");
    }

    #[test]
    fn nul_and_other_control_characters_are_refused() {
        for c in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}'] {
            let text = format!("a{c}b");
            let e = Prose::parse(&text).unwrap_err();
            assert_eq!(e, TextError::Control(c));
            assert!(e.to_string().starts_with(TextError::INVALID[1]), "{e}");
        }
    }

    #[test]
    fn bidi_overrides_and_isolates_are_refused() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let text = format!("invoice{c}fdp.exe");
            assert_eq!(Prose::try_from(text).unwrap_err(), TextError::Bidi(c));
        }
        // Marks that do not override (LRM, RLM) are ordinary text.
        assert!(Line::parse("a\u{200E}b\u{200F}").is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let exactly = "字".repeat(LINE_MAX);
        assert!(Line::parse(&exactly).is_ok());
        let over = "字".repeat(LINE_MAX + 1);
        let e = Line::try_from(over).unwrap_err();
        assert_eq!(
            e,
            TextError::TooLong {
                chars: 201,
                max: 200
            }
        );
        assert!(e.to_string().starts_with(TextError::INVALID[0]));
        assert!(Prose::try_from("x".repeat(PROSE_MAX + 1)).is_err());
    }

    #[test]
    fn a_note_may_be_empty_but_not_hide_characters() {
        assert_eq!(Note::try_from(String::new()).unwrap().as_str(), "");
        assert_eq!(
            Note::try_from("a\u{202E}".to_string()).unwrap_err(),
            TextError::Bidi('\u{202E}')
        );
        assert!(Note::try_from("x".repeat(PROSE_MAX + 1)).is_err());
    }

    #[test]
    fn serde_reads_through_the_checks_and_writes_a_plain_string() {
        let t: Line = serde_json::from_str(r#""试生产""#).unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""试生产""#);
        let e = serde_json::from_str::<Line>(r#""  ""#).unwrap_err();
        assert!(e.to_string().starts_with(TextError::BLANK), "{e}");
        assert!(serde_json::from_str::<Prose>(r#""a\u0000b""#).is_err());
    }

    #[test]
    #[should_panic(expected = "invalid text literal")]
    fn an_invalid_literal_in_the_program_is_a_bug() {
        let _: Line = "".into();
    }
}
