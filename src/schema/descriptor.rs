//! The seed's descriptor notation for field types, as written in
//! `USER_LOGIN_EVENT_SCHEMA.payload`:
//!
//! | text | accepts |
//! |---|---|
//! | `string`, `number`, `boolean` | that primitive (`number` must be finite) |
//! | `Date` | a valid `Date` object |
//! | `string[]` | an array whose items are all strings |
//! | `object` (or `Record<string, any>`) | any object that is not `null`, an array or a `Date` |
//! | `any` | any value but `undefined` |
//! | `'a' \| 'b'` | one of the quoted strings (single or double quotes) |
//!
//! A trailing `?` makes the field optional: missing or `undefined` passes.

use crate::prelude::*;

use crate::base::owned;

use crate::schema::FieldType;

/// A parsed field type, before literal strings are interned.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A type other than a literal union.
    Plain(FieldType),
    /// A union of string literals.
    Literals(Vec<String>),
}

/// Parses one field's type text into its type and whether it is optional.
/// The error is the reason, for [`crate::error::SchemaError::Descriptor`].
pub fn parse(text: &str) -> Result<(Parsed, bool), &'static str> {
    let text = text.trim_ascii();
    let (text, optional) = match text.strip_suffix('?') {
        Some(rest) => (rest.trim_ascii_end(), true),
        None => (text, false),
    };
    let plain = match text {
        "string" => FieldType::String,
        "number" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "Date" => FieldType::Date,
        "string[]" => FieldType::StringArray,
        "object" | "Record<string, any>" => FieldType::Object,
        "any" => FieldType::Any,
        "" => return Err("empty type"),
        _ if text.starts_with(['\'', '"']) => return Ok((Parsed::Literals(literals(text)?), optional)),
        _ => {
            return Err(
                "unknown type (expected string, number, boolean, Date, string[], object, any, \
                 or a union of quoted strings, with an optional trailing ?)",
            )
        }
    };
    Ok((Parsed::Plain(plain), optional))
}

fn literals(text: &str) -> Result<Vec<String>, &'static str> {
    let mut values: Vec<String> = Vec::new();
    // By bytes rather than `split('|')`, `split_once` or `contains` on a
    // `char`: the same members, without `str`'s searcher, whose slice checks
    // kept panic messages in the .wasm (the bar and quotes are ASCII).
    let mut rest = Some(text);
    while let Some(remaining) = rest {
        let (member, more) = match remaining.bytes().position(|b| b == b'|') {
            Some(bar) => (
                remaining.get(..bar).unwrap_or_default(),
                remaining.get(bar.saturating_add(1)..),
            ),
            None => (remaining, None),
        };
        rest = more;
        let member = member.trim_ascii();
        let quote = match member.bytes().next() {
            Some(q @ (b'\'' | b'"')) => char::from(q),
            _ => return Err("every member of a literal union must be a quoted string"),
        };
        let inner = member
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
            .ok_or("unterminated string literal")?;
        if inner.bytes().any(|b| char::from(b) == quote) {
            return Err("a string literal may not contain its own quote");
        }
        if !values.iter().any(|v| v == inner) {
            values.push(owned(inner));
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_types() {
        assert_eq!(parse("string"), Ok((Parsed::Plain(FieldType::String), false)));
        assert_eq!(parse(" Date "), Ok((Parsed::Plain(FieldType::Date), false)));
        assert_eq!(parse("string?"), Ok((Parsed::Plain(FieldType::String), true)));
        assert_eq!(parse("string[] ?"), Ok((Parsed::Plain(FieldType::StringArray), true)));
        assert_eq!(
            parse("Record<string, any>"),
            Ok((Parsed::Plain(FieldType::Object), false))
        );
        assert_eq!(parse("any"), Ok((Parsed::Plain(FieldType::Any), false)));
    }

    #[test]
    fn literal_unions() {
        let lits = |v: &[&str]| Parsed::Literals(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            parse("'traditional' | 'realtime'"),
            Ok((lits(&["traditional", "realtime"]), false))
        );
        assert_eq!(parse("\"a\"|'b'?"), Ok((lits(&["a", "b"]), true)));
        assert_eq!(parse("'only'"), Ok((lits(&["only"]), false)));
        assert_eq!(parse("'a' | 'a'"), Ok((lits(&["a"]), false)));
        assert_eq!(parse("''"), Ok((lits(&[""]), false)));
    }

    #[test]
    fn bad_text_is_refused() {
        for bad in [
            "",
            "?",
            "strin",
            "String",
            "Date[]",
            "'a' | b",
            "'a",
            "'a' |",
            "'it's'",
            "number | string",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
