//! The one place where text input is refused for control characters, before
//! any resolver or database sees it. PostgreSQL cannot store NUL in text and
//! SQLite would store it silently; neither belongs in a customer record.
//! Tab, line feed and carriage return stay allowed (multi-line notes).
use async_graphql::{Request, Value};

/// Whether `c` is a control character that no text input may carry.
pub fn forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Why a request is refused, naming where the character was found.
pub fn refusal(req: &Request) -> Option<String> {
    if let Some(at) = in_document(&req.query) {
        return Some(format!(
            "the query text contains a control character (U+{at:04X}); such characters are not accepted in any input"
        ));
    }
    if let Some(name) = &req.operation_name {
        if name.chars().any(forbidden) {
            return Some("operationName contains a control character".into());
        }
    }
    let found = req
        .variables
        .iter()
        .find_map(|(name, v)| in_entry(name, v, "variables"));
    if let Some(path) = found {
        return Some(format!(
            "{path} contains a control character; such characters are not accepted in any input"
        ));
    }
    None
}

/// The first forbidden character in a GraphQL document, raw or written as a
/// `\uXXXX` / `\u{…}` escape inside a string literal.
pub fn in_document(doc: &str) -> Option<u32> {
    let mut chars = doc.chars().peekable();
    while let Some(c) = chars.next() {
        if forbidden(c) {
            return Some(c as u32);
        }
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some('u') => {
                let code = if chars.peek() == Some(&'{') {
                    chars.next();
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').take(8).collect();
                    u32::from_str_radix(&hex, 16).ok()
                } else {
                    let hex: String = chars.by_ref().take(4).collect();
                    u32::from_str_radix(&hex, 16).ok()
                };
                if let Some(ch) = code.and_then(char::from_u32) {
                    if forbidden(ch) {
                        return Some(ch as u32);
                    }
                }
            }
            // Any other escaped character (including a second backslash) is
            // consumed, so `\\u0000` stays the harmless text it is.
            Some(other) if forbidden(other) => return Some(other as u32),
            _ => {}
        }
    }
    None
}

/// The path of the first string in `v` (keys included) with a forbidden
/// character.
pub fn in_value(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) => s.chars().any(forbidden).then(|| path.to_string()),
        Value::List(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| in_value(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| in_entry(k, x, path)),
        _ => None,
    }
}

/// `in_value` for one named entry of an object (its key checked too).
fn in_entry(key: &str, v: &Value, path: &str) -> Option<String> {
    let p = format!("{path}.{}", key.escape_debug());
    if key.chars().any(forbidden) {
        Some(p)
    } else {
        in_value(v, &p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_escaped_control_characters_are_found() {
        assert_eq!(in_document("{ a(x: \"ok\") }"), None);
        assert_eq!(in_document("{ a(x: \"a\u{0}b\") }"), Some(0));
        assert_eq!(in_document(r#"{ a(x: "a\u0000b") }"#), Some(0));
        assert_eq!(in_document(r#"{ a(x: "a\u001Fb") }"#), Some(0x1f));
        assert_eq!(in_document(r#"{ a(x: "a\u{0}b") }"#), Some(0));
        assert_eq!(in_document(r#"{ a(x: "tab\tand\u000Aline") }"#), None);
        // An escaped backslash followed by text is not an escape.
        assert_eq!(in_document(r#"{ a(x: "c:\\u0000") }"#), None);
        assert_eq!(in_document(r#"{ a(x: "中文\u4E2D") }"#), None);
    }

    #[test]
    fn variables_are_walked_with_their_path() {
        let v: Value = serde_json::from_value(serde_json::json!({
            "i": {"name": "ok", "phones": ["1", "2\u{0}"]}
        }))
        .unwrap();
        assert_eq!(
            in_value(&v, "variables").as_deref(),
            Some("variables.i.phones[1]")
        );
        let fine: Value = serde_json::from_value(serde_json::json!({"s": "多行\n文本\t"})).unwrap();
        assert_eq!(in_value(&fine, "variables"), None);
    }
}
