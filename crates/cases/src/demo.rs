//! Demo data for the case workflow: item workflow definitions and the built-in calendar.

use std::collections::{BTreeMap, HashMap};

use crate::calendar::WorkCalendar;
use crate::definition::WorkflowDef;
use crate::error::{CaseError, Result};
use crate::Cases;

const WORKFLOWS: &str = include_str!("../../../demo/workflows.yaml");
const CALENDAR_2026: &str = include_str!("../../../demo/calendar/2026.yaml");

/// The calendar shipped in the binary (so it works from any directory); a deployment points
/// `calendar_dir` at its own files instead.
pub fn builtin_calendar() -> Result<WorkCalendar> {
    let mut c = WorkCalendar::default();
    c.add_year_yaml(CALENDAR_2026)?;
    Ok(c)
}

/// Parse the demo definitions, naming items by implementation code.
pub fn workflows(item_keys: &HashMap<String, String>) -> Result<Vec<(String, WorkflowDef)>> {
    let raw: BTreeMap<String, WorkflowDef> =
        serde_yaml::from_str(WORKFLOWS).map_err(|e| CaseError::Config(format!("workflows.yaml：{e}")))?;
    raw.into_iter()
        .map(|(key, def)| {
            let code = item_keys.get(&key).cloned().ok_or_else(|| CaseError::Config(format!("workflows.yaml：事项{key}不存在")))?;
            def.check().map_err(|e| CaseError::Config(format!("workflows.yaml {key}：{e}")))?;
            Ok((code, def))
        })
        .collect()
}

/// Store the demo definitions.
pub async fn load(cases: &Cases, item_keys: &HashMap<String, String>) -> Result<usize> {
    let defs = workflows(item_keys)?;
    for (code, def) in &defs {
        cases.store_definition(code, def, "demo").await?;
    }
    Ok(defs.len())
}
