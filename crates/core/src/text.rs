//! Free text from forms: trimmed, required unless optional, bounded in characters.

/// The trimmed text, or the Chinese message saying what is wrong with it.
pub fn checked(value: &str, max_chars: usize, optional: bool) -> Result<String, String> {
    let t = value.trim();
    if t.is_empty() && !optional {
        return Err("必须填写".into());
    }
    if t.chars().count() > max_chars {
        return Err(format!("不能超过{max_chars}字"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_requires_and_bounds() {
        assert_eq!(checked("  好 ", 5, false).unwrap(), "好");
        assert!(checked("  ", 5, false).is_err());
        assert_eq!(checked("", 5, true).unwrap(), "");
        assert!(checked("一二三四五六", 5, true).is_err());
    }
}
