//! 电子证照文件: the licence document, its signature block, seal key sets and the offline
//! verification a holder's counterpart runs with no call to yiwang (docs/licence-format.md).
//! Split from `yiwang-licences` so verifiers build it without storage.

pub use yiwang_crypto::{self as crypto, canonical};
pub mod model;
pub mod offline;
