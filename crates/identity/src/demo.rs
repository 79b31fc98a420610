//! Demo citizens for the demo province (`demo/citizens.yaml`).

use crate::persons::{Assurance, NewPerson};
use crate::{Identity, IdentityError, Result};

#[derive(serde::Deserialize)]
struct DemoCitizen {
    id_number: String,
    name: String,
    phone: String,
    password: String,
    assurance: i64,
}

impl Identity {
    /// Create the demo citizens that do not exist yet; returns how many were created.
    pub async fn load_demo_citizens(&self) -> Result<usize> {
        let list: Vec<DemoCitizen> = serde_yaml::from_str(include_str!("../../../demo/citizens.yaml"))
            .map_err(|e| IdentityError::Demo(format!("demo/citizens.yaml: {e}")))?;
        let mut created = 0;
        for c in &list {
            if self.person_by_login(&c.id_number).await?.is_some() {
                continue;
            }
            self.seed_person(
                NewPerson { name: &c.name, id_number: &c.id_number, phone: &c.phone, email: None, password: &c.password },
                Assurance::from_level(c.assurance),
            )
            .await?;
            created += 1;
        }
        Ok(created)
    }
}
