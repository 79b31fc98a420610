//! Electronic licence files (电子证照文件) as a verifier receives them from anyone: the file,
//! then a NUL byte and a key set, then a NUL byte and a date. Verification never panics and
//! never calls a damaged file valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yiwang_licence_format::model::{KeySet, LicenceFile};
use yiwang_licence_format::offline::verify_file;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let file = parts.next().unwrap_or_default();
    let keys = parts.next().and_then(|k| serde_json::from_slice::<KeySet>(k).ok());
    let today = parts.next().and_then(|t| std::str::from_utf8(t).ok()).unwrap_or("2026-11-23");
    let Ok(f) = serde_json::from_slice::<LicenceFile>(file) else { return };
    let report = verify_file(&f, keys.as_ref(), today);
    if report.valid {
        assert!(keys.is_some(), "valid without a trusted key set");
    }
});
