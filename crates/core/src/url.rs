//! Percent-encoding (RFC 3986) for query values, links and header values.

/// Percent-encode every byte of `s` except ASCII letters, digits, `-_.~` and the bytes in
/// `also_keep` (e.g. `/` for paths).
pub fn percent_encode(s: &str, also_keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || also_keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(percent_encode("婚姻 a/b?c=d~", &[]), "%E5%A9%9A%E5%A7%BB%20a%2Fb%3Fc%3Dd~");
        assert_eq!(percent_encode("/cases/1?x", b"/"), "/cases/1%3Fx");
    }
}
