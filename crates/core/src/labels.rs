//! Closed vocabularies with a stable key and Chinese and English labels.

/// Generates a closed enum with a stable snake_case key, a Chinese and an English label, and a
/// parser that accepts the key or either label (spreadsheets use the Chinese one). The calling
/// crate needs `serde` and `utoipa`.
#[macro_export]
macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $key:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub fn key(self) -> &'static str { match self { $($name::$variant => $key,)+ } }
            pub fn label_zh(self) -> &'static str { match self { $($name::$variant => $zh,)+ } }
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en,)+ } }
            pub fn label(self, english: bool) -> &'static str { if english { self.label_en() } else { self.label_zh() } }
            /// For templates, which pass arguments by reference.
            pub fn label_for(self, english: &bool) -> &'static str { self.label(*english) }
            /// Accepts the key, the Chinese label or the English label.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.key() == s || v.label_zh() == s || v.label_en().eq_ignore_ascii_case(s))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.key()) }
        }
    };
}
