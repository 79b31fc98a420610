//! Staff roles and permissions, decided in one place.

use crate::{IdentityError, Result};

/// Staff roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 平台管理员
    PlatformAdmin,
    /// 部门管理员: maintains the department's items
    DeptAdmin,
    /// 窗口受理
    Window,
    /// 审批
    Approver,
    /// 监察
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::PlatformAdmin, Role::DeptAdmin, Role::Window, Role::Approver, Role::Supervisor];

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == s.trim())
    }
    pub fn key(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::DeptAdmin => "dept_admin",
            Role::Window => "window",
            Role::Approver => "approver",
            Role::Supervisor => "supervisor",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "平台管理员",
            Role::DeptAdmin => "部门管理员",
            Role::Window => "窗口受理",
            Role::Approver => "审批",
            Role::Supervisor => "监察",
        }
    }
}

/// What a route may require. Every staff route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Use the staff workbench at all.
    Workbench,
    /// Create, edit, publish and import items (own department, or all for platform admins).
    ManageCatalog,
    /// Read the audit trail.
    ViewAudit,
    /// 现场核验: raise a person's assurance to L3 after checking the ID card in person.
    VerifyInPerson,
    /// Register and disable OpenID Connect clients (department systems).
    ManageClients,
    /// 签发、换发、注销 electronic licences of the own department.
    IssueLicences,
    /// Rotate and revoke the own department's electronic seals.
    ManageSeals,
    /// 数据共享: publish the own department's resources, register its systems, request access
    /// and decide requests for its resources.
    ManageExchange,
}

impl Permission {
    fn granted_by(self, role: Role) -> bool {
        match self {
            Permission::Workbench => true,
            Permission::ManageCatalog => matches!(role, Role::PlatformAdmin | Role::DeptAdmin),
            Permission::ViewAudit => matches!(role, Role::PlatformAdmin | Role::Supervisor),
            Permission::VerifyInPerson => matches!(role, Role::Window),
            Permission::ManageClients => matches!(role, Role::PlatformAdmin),
            Permission::IssueLicences => matches!(role, Role::Approver | Role::DeptAdmin),
            Permission::ManageSeals => matches!(role, Role::DeptAdmin),
            Permission::ManageExchange => matches!(role, Role::PlatformAdmin | Role::DeptAdmin),
        }
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub department: Option<String>,
    pub region: Option<String>,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.roles.iter().any(|r| p.granted_by(*r))
    }
    pub fn require(&self, p: Permission) -> Result<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(IdentityError::Forbidden)
        }
    }
    pub fn is_platform_admin(&self) -> bool {
        self.roles.contains(&Role::PlatformAdmin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_by_role() {
        let s = |roles: Vec<Role>| Staff { username: "u".into(), display_name: "u".into(), department: None, region: None, roles };
        assert!(s(vec![Role::DeptAdmin]).can(Permission::ManageCatalog));
        assert!(!s(vec![Role::Window]).can(Permission::ManageCatalog));
        assert!(s(vec![Role::Window]).can(Permission::Workbench));
        assert!(s(vec![Role::Window]).can(Permission::VerifyInPerson));
        assert!(!s(vec![Role::DeptAdmin]).can(Permission::VerifyInPerson));
        assert!(s(vec![Role::Supervisor]).can(Permission::ViewAudit));
        assert!(!s(vec![Role::DeptAdmin]).can(Permission::ViewAudit));
        assert!(s(vec![Role::PlatformAdmin]).can(Permission::ManageClients));
        assert!(!s(vec![Role::DeptAdmin]).can(Permission::ManageClients));
        assert_eq!(Role::parse("approver"), Some(Role::Approver));
        assert_eq!(Role::parse("root"), None);
    }
}
