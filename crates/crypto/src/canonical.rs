//! The canonical form that signatures cover: JSON with object keys sorted by code point, no
//! insignificant whitespace, strings escaped as in RFC 8785 (JCS), integers only. Any JSON
//! library can reproduce it, so a third party can verify without yiwang.

use serde_json::Value;

use crate::{CryptoError, Result};

/// Serialise `v` canonically. Fractional numbers are refused (licence data holds none; their
/// textual form differs between libraries).
pub fn to_string(v: &Value) -> Result<String> {
    let mut out = String::new();
    write(v, &mut out)?;
    Ok(out)
}

fn write(v: &Value, out: &mut String) -> Result<()> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                return Err(CryptoError::NotCanonical("数据不能含小数，请以文本表示".into()));
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // JCS orders keys by UTF-16 code units; for the keys we use (ASCII) that equals
            // byte order, and for the rest we sort the same way to stay exact.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(&map[k], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Append `s` as a canonical JSON string literal (quotes included).
pub fn write_str(s: &str, out: &mut String) {
    out.push('"');
    // Only ASCII characters are escaped, so runs between them are copied whole (a byte below
    // 0x80 is never inside a multi-byte character).
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0C => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorted_compact_and_escaped() {
        let v = json!({"b": 1, "a": {"z": [true, null, "x\"y\n"], "m": "中文"}, "A": -2});
        assert_eq!(to_string(&v).unwrap(), r#"{"A":-2,"a":{"m":"中文","z":[true,null,"x\"y\n"]},"b":1}"#);
        assert!(to_string(&json!({"x": 1.5})).is_err());
        assert_eq!(to_string(&json!("\u{1}")).unwrap(), r#""\u0001""#);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The canonical text parses back to the same value and is a fixed point.
        #[test]
        fn round_trips(v in arb_json()) {
            let s = to_string(&v).unwrap();
            let back: Value = serde_json::from_str(&s).unwrap();
            prop_assert_eq!(&back, &v);
            prop_assert_eq!(to_string(&back).unwrap(), s);
        }

        /// Strings (controls, quotes, backslashes and multi-byte text mixed) are escaped as
        /// RFC 8785 spells it, character by character.
        #[test]
        fn strings_escape_as_specified(s in "[\\x00-\\x1f\"\\\\a中é😀]{0,24}") {
            let mut want = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => want.push_str("\\\""),
                    '\\' => want.push_str("\\\\"),
                    '\u{08}' => want.push_str("\\b"),
                    '\u{0C}' => want.push_str("\\f"),
                    '\n' => want.push_str("\\n"),
                    '\r' => want.push_str("\\r"),
                    '\t' => want.push_str("\\t"),
                    c if (c as u32) < 0x20 => want.push_str(&format!("\\u{:04x}", c as u32)),
                    c => want.push(c),
                }
            }
            want.push('"');
            let mut got = String::new();
            write_str(&s, &mut got);
            prop_assert_eq!(got, want);
        }
    }
}
