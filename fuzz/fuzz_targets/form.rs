//! Item forms (动态表单): a form definition and the values an applicant posts, both untrusted
//! JSON separated by a NUL byte. Checking, normalising and validating never panic, and
//! normalised values validate the same way twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yiwang_forms::{FormDef, Values};

fuzz_target!(|data: &[u8]| {
    let (def, values) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let form: FormDef = serde_json::from_slice(def).unwrap_or_else(|_| FormDef::generic());
    let _ = form.check();
    let Ok(values) = serde_json::from_slice::<Values>(values) else { return };
    let normalised = form.normalise(&values);
    let first = form.validate(&normalised);
    let second = form.validate(&form.normalise(&normalised));
    assert_eq!(first.len(), second.len(), "normalising is idempotent");
});
