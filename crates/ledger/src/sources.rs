//! What the ledger records: one [`Source`] per table whose rows are exercises of power or
//! their configuration. No code path (present or future, application or SQL console) can add
//! to a recorded table without leaving an entry, and the ledger adds no statement to the
//! application's code:
//! - Tables whose rows change (status, new definition) have capture triggers, generated here
//!   from the same definitions, that queue each new or changed row in `ledger_queue` in the
//!   writing transaction itself, as it reads at that moment.
//! - Insert-only tables keyed by an increasing `id` (case events, staff actions, …: the
//!   busiest) are *tailed*: the sequencer reads their new rows from the table itself, past
//!   the last id it appended (`ledger_tails`), so their writers carry no trigger and no queue
//!   row. See [`crate::tail`] for when a row is safe to pass on PostgreSQL.

use yiwang_store::Dialect;

/// A recorded table.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    /// Stable name in entries (`case_event`, `staff_action`, …).
    pub name: &'static str,
    /// 中文名称 for pages.
    pub label: &'static str,
    pub table: &'static str,
    /// Columns whose values, joined by `@`, identify the row.
    pub key: &'static [&'static str],
    /// Columns captured in the record (never secrets such as encrypted private keys).
    pub columns: &'static [&'static str],
    /// Rows change after insertion (status, new definition): updates are recorded too, and the
    /// latest entry of a key must match the row.
    pub updates: bool,
}

pub const SOURCES: &[Source] = &[
    Source {
        name: "case_event",
        label: "办件过程",
        table: "case_events",
        key: &["id"],
        columns: &["id", "case_id", "at", "kind", "step", "department_code", "department_name", "branch_no", "note", "actor"],
        updates: false,
    },
    Source {
        name: "staff_action",
        label: "工作人员操作",
        table: "audit_log",
        key: &["id"],
        columns: &["id", "at", "actor", "action", "target", "result", "source"],
        updates: false,
    },
    Source {
        name: "item_change",
        label: "事项变更",
        table: "item_history",
        key: &["id"],
        columns: &["id", "impl_code", "version", "action", "actor", "note", "at"],
        updates: false,
    },
    Source {
        name: "item_version",
        label: "事项版本",
        table: "item_versions",
        key: &["impl_code", "version"],
        columns: &["impl_code", "version", "status", "doc", "created_at", "created_by", "published_at"],
        updates: true,
    },
    Source {
        name: "workflow",
        label: "办理流程配置",
        table: "item_workflows",
        key: &["impl_code"],
        columns: &["impl_code", "definition", "updated_at", "updated_by"],
        updates: true,
    },
    Source {
        name: "licence",
        label: "电子证照",
        table: "licences",
        key: &["identifier"],
        columns: &[
            "identifier",
            "type_code",
            "issuer_code",
            "version",
            "holder_id",
            "status",
            "status_reason",
            "status_at",
            "superseded_by",
            "case_id",
            "document",
            "signature",
            "seal_id",
            "created_at",
        ],
        updates: true,
    },
    Source {
        name: "licence_use",
        label: "证照使用",
        table: "licence_uses",
        key: &["id"],
        columns: &["id", "identifier", "holder_id", "case_id", "used_by", "department_code", "purpose", "at"],
        updates: false,
    },
    Source {
        name: "seal",
        label: "电子印章",
        table: "seals",
        key: &["seal_id"],
        columns: &[
            "seal_id",
            "department_code",
            "department_name",
            "name",
            "algorithm",
            "public_key",
            "valid_from",
            "retired_at",
            "revoked_at",
            "created_at",
        ],
        updates: true,
    },
    Source {
        name: "licence_type",
        label: "证照目录",
        table: "licence_types",
        key: &["code"],
        columns: &["code", "doc", "updated_at"],
        updates: true,
    },
    Source {
        name: "exchange_log_batch",
        label: "数据共享访问日志批次",
        table: "exchange_log_batches",
        key: &["batch_id"],
        columns: &["batch_id", "at", "records", "digest"],
        updates: false,
    },
    Source {
        name: "exchange_grant",
        label: "共享授权",
        table: "exchange_grants",
        key: &["grant_id"],
        columns: &[
            "grant_id",
            "member_id",
            "resource_code",
            "purpose",
            "legal_basis",
            "fields",
            "valid_to",
            "rate_per_sec",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ],
        updates: true,
    },
    Source {
        name: "exchange_resource",
        label: "信息资源目录",
        table: "exchange_resources",
        key: &["code"],
        columns: &["code", "provider_code", "sharing_type", "doc", "updated_at", "updated_by"],
        updates: true,
    },
    Source {
        name: "exchange_member",
        label: "共享成员系统",
        table: "exchange_members",
        key: &["member_id"],
        columns: &["member_id", "department_code", "name", "public_key", "rate_per_sec", "disabled_at", "created_at", "created_by"],
        updates: true,
    },
    // Supervision records: a red card, a rating or a ticket's history cannot disappear
    // quietly. Raters, comments and ticket texts stay out (personal data).
    Source {
        name: "supervision_alert",
        label: "电子监察预警",
        table: "oversight_alerts",
        key: &["alert_id"],
        columns: &[
            "alert_id",
            "rule",
            "subject",
            "scope",
            "level",
            "status",
            "department_code",
            "detail",
            "raised_at",
            "red_at",
            "updated_at",
        ],
        updates: true,
    },
    Source {
        name: "rating",
        label: "好差评",
        table: "ratings",
        key: &["rating_id"],
        columns: &["rating_id", "kind", "case_id", "department_code", "item_code", "level", "excluded", "created_at"],
        updates: true,
    },
    Source {
        name: "payment_order",
        label: "缴费订单",
        table: "payment_orders",
        key: &["order_no"],
        columns: &[
            "order_no",
            "case_id",
            "department_code",
            "amount_fen",
            "status",
            "provider",
            "provider_txn",
            "paid_at",
            "refunded_fen",
            "updated_at",
        ],
        updates: true,
    },
    Source {
        name: "payment_event",
        label: "支付流水",
        table: "payment_events",
        key: &["id"],
        columns: &["id", "order_no", "at", "kind", "amount_fen", "detail", "actor"],
        updates: false,
    },
    Source {
        name: "shipment_event",
        label: "寄递轨迹",
        table: "shipment_events",
        key: &["id"],
        columns: &["id", "shipment_id", "event_id", "at", "status"],
        updates: false,
    },
    Source {
        name: "ticket_event",
        label: "12345工单办理过程",
        table: "ticket_events",
        key: &["id"],
        columns: &["id", "ticket_id", "at", "kind", "actor"],
        updates: false,
    },
];

pub fn source(name: &str) -> Option<&'static Source> {
    SOURCES.iter().find(|s| s.name == name)
}

impl Source {
    /// SQL for the key of a row; `prefix` is `NEW.` inside triggers.
    pub fn key_sql(&self, prefix: &str) -> String {
        self.key.iter().map(|c| format!("CAST({prefix}{c} AS TEXT)")).collect::<Vec<_>>().join(" || '@' || ")
    }

    /// SQL for the record of a row as JSON text (column → value), the same on both engines
    /// once canonicalised.
    pub fn record_sql(&self, dialect: Dialect, prefix: &str) -> String {
        let pairs = self.columns.iter().map(|c| format!("'{c}', {prefix}{c}")).collect::<Vec<_>>().join(", ");
        match dialect {
            Dialect::Sqlite => format!("json_object({pairs})"),
            Dialect::Postgres => format!("json_build_object({pairs})::text"),
        }
    }

    /// Statements that (re)install the capture trigger(s): a row trigger on both engines.
    /// (PostgreSQL statement triggers over a transition table cost more for the one- and
    /// two-row statements cases write: in capture-only runs staff actions lost 16 % with them,
    /// 11 % with row triggers.)
    /// A tailed source has none: its old triggers (from before tailing) are removed.
    pub fn install_sql(&self, dialect: Dialect) -> Vec<String> {
        let (name, table) = (self.name, self.table);
        if self.tailed() {
            let mut v = self.uninstall_sql(dialect);
            if dialect == Dialect::Postgres {
                v.push(format!("DROP FUNCTION IF EXISTS ledger_capture_{name}()"));
            }
            return v;
        }
        let mut events = vec!["insert"];
        if self.updates {
            events.push("update");
        }
        match dialect {
            Dialect::Sqlite => {
                let insert = format!(
                    "INSERT INTO ledger_queue (source, source_key, record) VALUES ('{name}', {}, {})",
                    self.key_sql("NEW."),
                    self.captured_sql(dialect)
                );
                // Replaced on every start, so a changed column list reaches existing databases.
                events
                    .iter()
                    .flat_map(|e| {
                        [
                            format!("DROP TRIGGER IF EXISTS ledger_{name}_{e}"),
                            format!("CREATE TRIGGER ledger_{name}_{e} AFTER {} ON {table} BEGIN {insert}; END", e.to_uppercase()),
                        ]
                    })
                    .collect()
            }
            Dialect::Postgres => {
                let mut v = vec![format!(
                    "CREATE OR REPLACE FUNCTION ledger_capture_{name}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN \
                     INSERT INTO ledger_queue (source, source_key, record) VALUES ('{name}', {}, {}); \
                     RETURN NULL; END $f$",
                    self.key_sql("NEW."),
                    self.captured_sql(dialect)
                )];
                for e in events {
                    v.push(format!("DROP TRIGGER IF EXISTS ledger_{name}_{e} ON {table}"));
                    v.push(format!(
                        "CREATE TRIGGER ledger_{name}_{e} AFTER {} ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_capture_{name}()",
                        e.to_uppercase()
                    ));
                }
                v
            }
        }
    }

    /// Statements that remove the capture trigger(s) (ledger switched off).
    pub fn uninstall_sql(&self, dialect: Dialect) -> Vec<String> {
        let (name, table) = (self.name, self.table);
        ["insert", "update"]
            .iter()
            .map(|e| match dialect {
                Dialect::Sqlite => format!("DROP TRIGGER IF EXISTS ledger_{name}_{e}"),
                Dialect::Postgres => format!("DROP TRIGGER IF EXISTS ledger_{name}_{e} ON {table}"),
            })
            .collect()
    }

    /// What the trigger queues besides the key. A row that changes is captured whole, as it
    /// reads at that moment. A row that is only ever inserted queues its key alone (`''`): the
    /// sequencer reads it when it appends (see `store::queue_batch`), so the hottest tables
    /// (case events, staff actions) do not write each row twice and delete one copy again.
    fn captured_sql(&self, dialect: Dialect) -> String {
        if self.updates {
            self.record_sql(dialect, "NEW.")
        } else {
            "''".into()
        }
    }

    /// Every current row as (key, record JSON text), for `verify`.
    pub fn rows_sql(&self, dialect: Dialect) -> String {
        format!("SELECT {} AS k, {} AS r FROM {}", self.key_sql(""), self.record_sql(dialect, ""), self.table)
    }

    /// The rows of `n` keys, bound in turn (see [`Source::integer_key`]), as `k`, `r` like
    /// [`Source::rows_sql`]. A lone key column is compared as itself so that its index finds
    /// the rows; only composite keys are compared as their joined text.
    pub fn rows_by_key_sql(&self, dialect: Dialect, n: usize) -> String {
        let list = yiwang_store::value_rows(dialect, 1, n);
        let col = match self.key {
            [one] => (*one).to_string(),
            _ => self.key_sql(""),
        };
        format!("{} WHERE {col} IN {list}", self.rows_sql(dialect))
    }

    /// Whether the sequencer reads new rows from the table itself (see the module's comment):
    /// rows never change and their one key is an `{{AUTO_ID}}`, which grows with each insert.
    pub fn tailed(&self) -> bool {
        !self.updates && self.integer_key()
    }

    /// Rows of a tailed source after id `$1` up to id `$2`, oldest first, at most `$3`; as
    /// `k`, `r` like [`Source::rows_sql`].
    pub fn tail_sql(&self, dialect: Dialect) -> String {
        format!("{} WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3", self.rows_sql(dialect))
    }

    /// Whether keys bind as integers: a lone `id` column is always `{{AUTO_ID}}`; every other
    /// key column is text.
    pub fn integer_key(&self) -> bool {
        self.key == ["id"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_keys_are_columns() {
        for (i, s) in SOURCES.iter().enumerate() {
            assert!(SOURCES[i + 1..].iter().all(|o| o.name != s.name && o.table != s.table), "{}", s.name);
            assert!(s.key.iter().all(|k| s.columns.contains(k)), "{}", s.name);
            assert!(!s.columns.contains(&"private_key"), "secrets never enter the ledger");
            // Insert-only rows are read back by their one key column when appended.
            assert!(s.updates || s.key.len() == 1, "{}", s.name);
        }
        assert!(source("case_event").is_some_and(Source::tailed) && source("staff_action").is_some_and(Source::tailed));
        // Text keys do not grow: such insert-only rows keep their trigger.
        assert!(!source("exchange_log_batch").is_some_and(Source::tailed));
        assert!(!source("licence").is_some_and(Source::tailed), "rows that change are captured as they change");
        assert!(source("case_event").unwrap().install_sql(Dialect::Sqlite).iter().all(|s| s.starts_with("DROP")));
        let sql = source("item_version").unwrap().install_sql(Dialect::Sqlite).join(";");
        assert!(sql.contains("CAST(NEW.impl_code AS TEXT) || '@' || CAST(NEW.version AS TEXT)"), "{sql}");
    }
}
