//! National code validators (GB 11643 ID numbers, GB 32100 credit codes, item codes, case
//! numbers, licence identifiers): never panic, and whatever parses prints back to text that
//! parses to the same value. Masking never panics on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yiwang_core::codes::{BasicCode, CaseNumber, CitizenId, CreditCode, ImplementationCode, LicenceIdentifier};

macro_rules! round_trip {
    ($text:expr, $($t:ty),*) => {$(
        if let Ok(v) = <$t>::parse($text) {
            let again = <$t>::parse(v.as_str()).expect("a parsed code parses again");
            assert_eq!(again.as_str(), v.as_str());
        }
    )*};
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    round_trip!(text, CitizenId, CreditCode, BasicCode, ImplementationCode, CaseNumber, LicenceIdentifier);
    let _ = yiwang_core::mask::mask_id_number(text);
    let _ = yiwang_core::mask::mask_phone(text);
});
