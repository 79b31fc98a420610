//! Masking of personal data on display (STANDARDS.md: ID first 6 + last 4, phone first 3 + last 4,
//! name surname + *).

/// `11010519491231002X` → `110105********002X`.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// `13800138000` → `138****8000`.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// `张三丰` → `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

fn mask_middle(s: &str, keep_head: usize, keep_tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= keep_head + keep_tail {
        return "*".repeat(chars.len());
    }
    let middle = chars.len() - keep_head - keep_tail;
    chars[..keep_head].iter().chain(std::iter::repeat_n(&'*', middle)).chain(&chars[chars.len() - keep_tail..]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_as_the_standard_says() {
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_phone("123"), "***");
    }
}
