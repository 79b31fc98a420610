//! Legal persons (法人): a business account bound to its legal representative's verified
//! personal account, and agents (经办人) the representative authorises with scopes and expiry.

use yiwang_core::codes::{CitizenId, CreditCode};
use yiwang_store::now_text;
use yiwang_store::sqlx::{self, Row as _};

use crate::error::invalid;
use crate::persons::Assurance;
use crate::{Identity, IdentityError, Result};

/// What an agent may do for the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentScope {
    /// 申办 apply for services on the business's behalf.
    Apply,
    /// 查询 view the business's cases.
    View,
    /// 证照 use the business's licences.
    Licences,
}

impl AgentScope {
    pub const ALL: [AgentScope; 3] = [AgentScope::Apply, AgentScope::View, AgentScope::Licences];
    pub fn key(self) -> &'static str {
        match self {
            AgentScope::Apply => "apply",
            AgentScope::View => "view",
            AgentScope::Licences => "licences",
        }
    }
    pub fn parse(s: &str) -> Option<AgentScope> {
        AgentScope::ALL.into_iter().find(|a| a.key() == s.trim())
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            AgentScope::Apply => "申办事项",
            AgentScope::View => "查询办件",
            AgentScope::Licences => "使用证照",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessRole {
    /// 法定代表人
    Representative,
    /// 经办人
    Agent,
}

/// The business a person's session acts for, and with what authority.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ActingFor {
    pub credit_code: String,
    pub name: String,
    pub role: BusinessRole,
    pub scopes: Vec<AgentScope>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Business {
    pub credit_code: String,
    pub name: String,
    pub role: BusinessRole,
    pub created_at: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub scopes: Vec<AgentScope>,
    pub expires_at: String,
    pub revoked: bool,
}

pub struct NewAgent<'a> {
    pub id_number: &'a str,
    pub scopes: &'a [String],
    /// Expiry date, `YYYY-MM-DD` (the authorisation ends at the end of that day, UTC).
    pub expires_on: &'a str,
}

fn scopes_from(s: &str) -> Vec<AgentScope> {
    s.split(',').filter_map(AgentScope::parse).collect()
}

impl Identity {
    /// Open a business account: the registry must name the caller as legal representative,
    /// and the caller must be verified at L2 or above.
    pub async fn register_business(&self, subject: &str, credit_code: &str, source: &str) -> Result<Business> {
        let code = CreditCode::parse(credit_code)?;
        let person = self.person(subject).await?;
        if person.assurance < Assurance::L2 {
            return Err(IdentityError::AssuranceTooLow(2));
        }
        let reg = self.registry.lookup(code.as_str()).await?.ok_or(IdentityError::BusinessNotRegistered)?;
        if reg.representative_id_number.to_ascii_uppercase() != person.id_number {
            return Err(IdentityError::NotRepresentative);
        }
        let mut tx = self.db.begin().await?;
        let exists =
            sqlx::query("SELECT credit_code FROM businesses WHERE credit_code = $1").bind(code.as_str()).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Err(IdentityError::BusinessExists);
        }
        let now = now_text();
        sqlx::query("INSERT INTO businesses (credit_code, name, representative, created_at) VALUES ($1, $2, $3, $4)")
            .bind(code.as_str())
            .bind(&reg.name)
            .bind(subject)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        crate::audit_in(&mut tx, &format!("person:{subject}"), "register_business", code.as_str(), "success", source).await?;
        tx.commit().await?;
        Ok(Business { credit_code: code.as_str().to_string(), name: reg.name, role: BusinessRole::Representative, created_at: now })
    }

    /// Businesses a person represents or is a current agent of.
    pub async fn businesses_of(&self, subject: &str) -> Result<Vec<Business>> {
        let rows = sqlx::query(
            "SELECT credit_code, name, created_at, 'representative' AS role FROM businesses WHERE representative = $1
             UNION ALL
             SELECT b.credit_code, b.name, a.created_at, 'agent' AS role FROM business_agents a JOIN businesses b ON b.credit_code = a.credit_code
             WHERE a.person = $1 AND a.revoked_at IS NULL AND a.expires_at > $2
             ORDER BY credit_code",
        )
        .bind(subject)
        .bind(now_text())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Business {
                    credit_code: r.try_get("credit_code")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    role: if r.try_get::<String, _>("role")? == "agent" { BusinessRole::Agent } else { BusinessRole::Representative },
                })
            })
            .collect()
    }

    /// The authority a person has for a business right now, if any.
    pub async fn acting_context(&self, subject: &str, credit_code: &str) -> Result<Option<ActingFor>> {
        let row = sqlx::query("SELECT name, representative FROM businesses WHERE credit_code = $1")
            .bind(credit_code)
            .fetch_optional(self.db.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let name: String = row.try_get("name")?;
        if row.try_get::<String, _>("representative")? == subject {
            return Ok(Some(ActingFor {
                credit_code: credit_code.to_string(),
                name,
                role: BusinessRole::Representative,
                scopes: AgentScope::ALL.to_vec(),
            }));
        }
        let agent = sqlx::query(
            "SELECT scopes FROM business_agents WHERE credit_code = $1 AND person = $2 AND revoked_at IS NULL AND expires_at > $3
             ORDER BY id DESC LIMIT 1",
        )
        .bind(credit_code)
        .bind(subject)
        .bind(now_text())
        .fetch_optional(self.db.reader())
        .await?;
        Ok(agent.map(|a| a.try_get::<String, _>("scopes")).transpose()?.map(|s| ActingFor {
            credit_code: credit_code.to_string(),
            name,
            role: BusinessRole::Agent,
            scopes: scopes_from(&s),
        }))
    }

    async fn require_representative(&self, subject: &str, credit_code: &str) -> Result<()> {
        match self.acting_context(subject, credit_code).await? {
            Some(a) if a.role == BusinessRole::Representative => Ok(()),
            _ => Err(IdentityError::NotRepresentative),
        }
    }

    /// Authorise an agent (must be a registered person verified at L2 or above).
    pub async fn grant_agent(&self, subject: &str, credit_code: &str, a: NewAgent<'_>, source: &str) -> Result<Agent> {
        self.require_representative(subject, credit_code).await?;
        let id = CitizenId::parse(a.id_number)?;
        let agent = self.person_by_login(id.as_str()).await?.ok_or(IdentityError::NotFound("该身份证号的已注册用户"))?;
        if agent.subject == subject {
            return Err(invalid("经办人", "法定代表人无需授权自己"));
        }
        if agent.assurance < Assurance::L2 {
            return Err(invalid("经办人", "经办人须先完成实名核验（L2及以上）"));
        }
        let scopes = a
            .scopes
            .iter()
            .map(|s| AgentScope::parse(s).ok_or_else(|| invalid("授权范围", format!("未知授权范围：{s}"))))
            .collect::<Result<Vec<_>>>()?;
        if scopes.is_empty() {
            return Err(invalid("授权范围", "至少选择一项"));
        }
        let day = chrono::NaiveDate::parse_from_str(a.expires_on.trim(), "%Y-%m-%d")
            .map_err(|_| invalid("有效期至", "应为YYYY-MM-DD格式的日期"))?;
        let today = chrono::Utc::now().date_naive();
        if day < today || day > today + chrono::Duration::days(366 * 3) {
            return Err(invalid("有效期至", "应为今天起三年以内的日期"));
        }
        let expires_at = format!("{}T23:59:59.999Z", day.format("%Y-%m-%d"));
        let keys = scopes.iter().map(|s| s.key()).collect::<Vec<_>>().join(",");
        let mut tx = self.db.begin().await?;
        let id_row = sqlx::query(
            "INSERT INTO business_agents (credit_code, person, scopes, expires_at, granted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(credit_code)
        .bind(&agent.subject)
        .bind(&keys)
        .bind(&expires_at)
        .bind(subject)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        crate::audit_in(
            &mut tx,
            &format!("person:{subject}"),
            "grant_agent",
            credit_code,
            &format!("agent {} scopes {keys}", agent.id_number_masked()),
            source,
        )
        .await?;
        tx.commit().await?;
        Ok(Agent {
            id: id_row.try_get("id")?,
            name: agent.name.clone(),
            id_number_masked: agent.id_number_masked(),
            scopes,
            expires_at,
            revoked: false,
        })
    }

    /// The business's agents (representative only).
    pub async fn agents(&self, subject: &str, credit_code: &str) -> Result<Vec<Agent>> {
        self.require_representative(subject, credit_code).await?;
        let rows = sqlx::query(
            "SELECT a.id, p.name, p.id_number_enc, a.scopes, a.expires_at, a.revoked_at FROM business_agents a JOIN persons p ON p.subject = a.person
             WHERE a.credit_code = $1 ORDER BY a.id DESC",
        )
        .bind(credit_code)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Agent {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    id_number_masked: yiwang_core::mask::mask_id_number(&self.open_pii("persons.id_number", r.try_get("id_number_enc")?)?),
                    scopes: scopes_from(&r.try_get::<String, _>("scopes")?),
                    expires_at: r.try_get("expires_at")?,
                    revoked: r.try_get::<Option<String>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Withdraw an agent's authorisation; sessions acting for the business lose it at once.
    pub async fn revoke_agent(&self, subject: &str, credit_code: &str, agent_id: i64, source: &str) -> Result<()> {
        self.require_representative(subject, credit_code).await?;
        let mut tx = self.db.begin().await?;
        let n = sqlx::query("UPDATE business_agents SET revoked_at = $1 WHERE id = $2 AND credit_code = $3 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(agent_id)
            .bind(credit_code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound("授权"));
        }
        crate::audit_in(&mut tx, &format!("person:{subject}"), "revoke_agent", credit_code, &format!("agent #{agent_id}"), source).await?;
        tx.commit().await?;
        Ok(())
    }
}
