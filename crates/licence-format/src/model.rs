//! The licence vocabulary: types (证照目录), signed documents, seals, verification reports,
//! annotated copies (加注件) and the record of uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_core::labelled_enum;
use yiwang_core::mask;

use crate::crypto::Algorithm;

/// Version tag of the signed document and of the offline file.
pub const DOCUMENT_FORMAT: &str = "yiwang-licence/1";

/// Holder identifier types (GA/T 517 style codes used by licence metadata).
pub const HOLDER_ID_CITIZEN: &str = "111";
/// 统一社会信用代码.
pub const HOLDER_ID_CREDIT_CODE: &str = "001";

/// Who holds licences of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    Person,
    Business,
}

impl HolderKind {
    pub fn id_type(self) -> &'static str {
        match self {
            HolderKind::Person => HOLDER_ID_CITIZEN,
            HolderKind::Business => HOLDER_ID_CREDIT_CODE,
        }
    }
}

/// A metadata field of a licence type (照面信息项).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TypeField {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_en: String,
    /// Form field of the case whose value fills this field on automatic issuance
    /// (default: the same key).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub required: bool,
}

/// How the rendered licence looks (a print template as data).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Template {
    /// Heading printed on the licence (e.g. 中华人民共和国结婚证); default the type name.
    #[serde(default)]
    pub title: String,
    /// Accent colour (CSS hex) of the border and heading.
    #[serde(default)]
    pub accent: String,
    /// Footnote printed at the bottom.
    #[serde(default)]
    pub note: String,
}

/// A licence type (证照目录条目).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LicenceType {
    /// 证照类型代码: the defining department's credit code + 3 digits.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    /// 定义部门 (the department whose credit code starts the type code).
    #[serde(default)]
    pub department_name: String,
    pub holder: HolderKind,
    /// Seal algorithm used when issuing (SM2 with SM3 unless the type says otherwise).
    #[serde(default = "default_algorithm")]
    pub algorithm: Algorithm,
    /// Years of validity from the issue date; none = long-term (长期有效).
    #[serde(default)]
    pub validity_years: Option<u32>,
    /// Prefix of the licence number (证照编号).
    #[serde(default)]
    pub number_prefix: String,
    #[serde(default)]
    pub fields: Vec<TypeField>,
    /// Implementation codes of the items whose approval issues this licence.
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub template: Template,
}

fn default_algorithm() -> Algorithm {
    Algorithm::Sm2
}

impl LicenceType {
    pub fn for_person(&self) -> bool {
        self.holder == HolderKind::Person
    }
    pub fn department_code(&self) -> &str {
        self.code.get(..18).unwrap_or("")
    }
    pub fn title(&self) -> &str {
        if self.template.title.is_empty() {
            &self.name
        } else {
            &self.template.title
        }
    }
    pub fn accent(&self) -> &str {
        let a = self.template.accent.as_str();
        // Only a plain hex colour reaches the page's style attribute.
        if a.len() == 7 && a.starts_with('#') && a[1..].chars().all(|c| c.is_ascii_hexdigit()) {
            a
        } else {
            "#b91c1c"
        }
    }
}

labelled_enum!(
    /// 证照状态. Stored: valid, revoked, superseded; expired is computed from the validity.
    LicenceStatus {
        Valid => "valid", "有效", "Valid";
        Expired => "expired", "已过期", "Expired";
        Revoked => "revoked", "已注销", "Revoked";
        Superseded => "superseded", "已换发新版本", "Superseded by a new version";
    }
);

/// The signed licence (照面信息 and metadata per GB/T 36904). Every field is covered by the
/// seal's signature over the canonical JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Document {
    pub format: String,
    pub identifier: String,
    pub type_code: String,
    pub type_name: String,
    /// 证照编号.
    pub number: String,
    pub issue_date: String,
    pub issuer_name: String,
    pub issuer_code: String,
    pub valid_from: String,
    /// Empty = long-term.
    pub valid_to: String,
    /// 管辖区划代码.
    pub jurisdiction: String,
    pub holder_name: String,
    pub holder_id: String,
    pub holder_id_type: String,
    /// Linked service item (implementation code), if issued through a case.
    pub item_code: String,
    pub case_number: String,
    pub version: u32,
    /// Identifier of the version this one replaces, if any.
    pub supersedes: String,
    /// Type-specific fields (照面信息).
    pub data: BTreeMap<String, String>,
    pub seal_id: String,
    pub algorithm: Algorithm,
    /// RFC 3339 UTC time of signing.
    pub issued_at: String,
}

impl Document {
    pub fn holder_name_masked(&self) -> String {
        if self.holder_id_type == HOLDER_ID_CITIZEN {
            mask::mask_name(&self.holder_name)
        } else {
            self.holder_name.clone()
        }
    }
    pub fn holder_id_masked(&self) -> String {
        if self.holder_id_type == HOLDER_ID_CITIZEN {
            mask::mask_id_number(&self.holder_id)
        } else {
            self.holder_id.clone()
        }
    }
    pub fn valid_to_label(&self) -> &str {
        if self.valid_to.is_empty() {
            "长期"
        } else {
            &self.valid_to
        }
    }
}

/// The signature block of a licence file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignatureBlock {
    pub algorithm: Algorithm,
    pub seal_id: String,
    /// Public key, hex (SM2: SEC1 uncompressed 04‖x‖y; Ed25519: 32 bytes).
    pub public_key: String,
    /// Signature, base64 (SM2: r‖s; Ed25519: R‖S), over the canonical JSON of `document`.
    pub value: String,
}

/// 电子证照文件: what a holder downloads and a third party verifies offline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LicenceFile {
    pub format: String,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    pub signature: SignatureBlock,
    /// Where the seal key set is published (to anchor `public_key`).
    pub keys_url: String,
}

/// A stored licence with its current status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Licence {
    pub document: Document,
    pub status: LicenceStatus,
    pub status_reason: Option<String>,
    pub superseded_by: Option<String>,
    pub case_id: Option<String>,
    #[serde(skip)]
    pub canonical: String,
    #[serde(skip)]
    pub signature: Vec<u8>,
}

/// An electronic seal (电子印章) of an issuing department. Public parts only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Seal {
    pub seal_id: String,
    pub department_code: String,
    pub department_name: String,
    pub name: String,
    pub algorithm: Algorithm,
    /// Hex.
    pub public_key: String,
    /// Signatures made from this time on are valid.
    pub valid_from: String,
    /// Rotated out at this time: it signs nothing new, and what it signed before stays valid.
    pub retired_at: Option<String>,
    /// Compromised from this time: signatures dated after it are invalid.
    pub revoked_at: Option<String>,
}

impl Seal {
    /// Whether a signature dated `at` (RFC 3339 UTC, same format) falls in the seal's life.
    /// A retired seal signs nothing after its retirement, so a signature dated the same
    /// instant was made before it.
    pub fn valid_at(&self, at: &str) -> bool {
        at >= self.valid_from.as_str()
            && self.retired_at.as_deref().is_none_or(|r| at <= r)
            && self.revoked_at.as_deref().is_none_or(|r| at < r)
    }
    pub fn active(&self) -> bool {
        self.retired_at.is_none() && self.revoked_at.is_none()
    }
}

/// The published seal keys (公钥集), for offline verification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeySet {
    pub keys: Vec<Seal>,
}

/// What a verification found. `valid` only when every check passed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyReport {
    pub identifier: String,
    pub valid: bool,
    /// The signature matches the document.
    pub signature_valid: bool,
    /// The seal was in force when the licence was signed (and, offline, is in the key set).
    pub seal_valid: bool,
    pub status: LicenceStatus,
    /// Not past its validity.
    pub in_validity: bool,
    /// Why it is not valid, for people.
    pub problems: Vec<String>,
    pub type_name: String,
    pub number: String,
    pub issuer_name: String,
    pub issue_date: String,
    pub valid_from: String,
    pub valid_to: String,
    pub holder_name_masked: String,
    pub holder_id_masked: String,
    pub version: u32,
    pub seal_id: String,
    pub algorithm: Algorithm,
    pub superseded_by: Option<String>,
}

/// 加注件: a one-use copy of a licence for a named purpose, made by the holder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnotatedCopy {
    pub token: String,
    pub identifier: String,
    pub type_name: String,
    pub purpose: String,
    pub recipient: String,
    pub made_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

/// A recorded use of a licence (who used whose licence, for which case).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenceUse {
    pub at: String,
    pub used_by: String,
    pub department_code: Option<String>,
    pub case_id: Option<String>,
    pub purpose: String,
}

/// A row in a wallet or an issuer's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenceSummary {
    pub identifier: String,
    pub type_code: String,
    pub type_name: String,
    pub number: String,
    pub issuer_name: String,
    pub issue_date: String,
    pub valid_to: Option<String>,
    pub holder_name: String,
    pub status: LicenceStatus,
    pub version: u32,
}

impl LicenceSummary {
    pub fn valid_to_label(&self) -> &str {
        self.valid_to.as_deref().filter(|s| !s.is_empty()).unwrap_or("长期")
    }
}
