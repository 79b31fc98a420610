//! Statistics (统计分析) for supervisors and the public: cases by department, item, region and
//! channel; on-time rate; handling days against the promise; online and zero-visit rates;
//! satisfaction; complaint hot spots over time. No personal data leaves here.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use yiwang_cases::{CaseStatus, Channel, Delivery, Target};
use yiwang_store::sqlx::{self, Row as _};

use crate::error::{invalid, Result};
use crate::Oversight;

/// A date range in China dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Parse `from`/`to` (`YYYY-MM-DD`); at most 400 days.
    pub fn parse(from: &str, to: &str) -> Result<Period> {
        let p = |s: &str, f: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| invalid(f, "日期格式应为 YYYY-MM-DD"));
        let period = Period { from: p(from, "from")?, to: p(to, "to")? };
        if period.to < period.from {
            return Err(invalid("to", "结束日期不能早于开始日期"));
        }
        if (period.to - period.from).num_days() > 400 {
            return Err(invalid("to", "统计区间不能超过400天"));
        }
        Ok(period)
    }
    /// Timestamp texts bounding the period: `[from 00:00, to+1 00:00)` China time.
    fn bounds(&self) -> (String, String) {
        let start =
            |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| yiwang_store::timestamp_text(yiwang_cases::from_china(t))).unwrap_or_default();
        (start(self.from), start(self.to + chrono::Duration::days(1)))
    }
}

/// Counts for one group of cases.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct GroupRow {
    pub code: String,
    pub name: String,
    pub total: i64,
    /// Concluded (办结, including delivered); refusals at acceptance are not conclusions.
    pub finished: i64,
    /// Finished on or before the deadline.
    pub on_time: i64,
    /// Still running after the deadline.
    pub overdue: i64,
    pub online: i64,
    /// Applied online and received electronically or by courier (零跑动).
    pub zero_visit: i64,
    /// Working days from acceptance to conclusion, summed over concluded cases.
    pub handling_days: i64,
    pub handled: i64,
    /// Promised working days, summed over the same cases.
    pub promised_days: i64,
}

/// `n` of `d` in percent with one decimal (per mille, no floats); — when there is none.
pub(crate) fn pct(n: i64, d: i64) -> String {
    if d == 0 {
        return "—".into();
    }
    let per_mille = n * 1000 / d;
    format!("{}.{}%", per_mille / 10, per_mille % 10)
}

fn avg(n: i64, d: i64) -> String {
    if d == 0 {
        return "—".into();
    }
    let x10 = n * 10 / d;
    format!("{}.{}", x10 / 10, x10 % 10)
}

impl GroupRow {
    pub fn on_time_rate(&self) -> String {
        pct(self.on_time, self.finished)
    }
    pub fn online_rate(&self) -> String {
        pct(self.online, self.total)
    }
    pub fn zero_visit_rate(&self) -> String {
        pct(self.zero_visit, self.total)
    }
    pub fn average_days(&self) -> String {
        avg(self.handling_days, self.handled)
    }
    pub fn average_promised(&self) -> String {
        avg(self.promised_days, self.handled)
    }
    /// Per mille, for charts.
    pub fn on_time_per_mille(&self) -> i64 {
        if self.finished == 0 {
            0
        } else {
            self.on_time * 1000 / self.finished
        }
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.total.to_string(),
            self.finished.to_string(),
            self.on_time.to_string(),
            self.on_time_rate(),
            self.overdue.to_string(),
            self.online_rate(),
            self.zero_visit_rate(),
            self.average_days(),
            self.average_promised(),
        ]
    }
}

/// Satisfaction of one department over the period.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    pub code: String,
    pub name: String,
    pub ratings: i64,
    pub satisfied: i64,
}

impl Satisfaction {
    pub fn rate(&self) -> String {
        pct(self.satisfied, self.ratings)
    }
}

/// Tickets per month for one subject (热点).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Hotspot {
    pub name: String,
    pub total: i64,
    /// Counts per month of [`Statistics::months`].
    pub per_month: Vec<i64>,
}

/// Everything the dashboards show for a period.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Statistics {
    pub from: String,
    pub to: String,
    pub total: GroupRow,
    pub by_department: Vec<GroupRow>,
    pub by_item: Vec<GroupRow>,
    pub by_region: Vec<GroupRow>,
    pub by_channel: Vec<GroupRow>,
    pub satisfaction: Vec<Satisfaction>,
    /// `YYYY-MM` of the period, in order.
    pub months: Vec<String>,
    /// Cases per month.
    pub cases_per_month: Vec<i64>,
    pub hotspots: Vec<Hotspot>,
}

/// Table headers of [`GroupRow`] exports.
pub const GROUP_HEADERS: &[&str] =
    &["名称", "办件量", "已办结", "按时办结", "按时办结率", "超期在办", "网办率", "零跑动率", "平均办理工作日", "平均承诺工作日"];

impl Statistics {
    /// One table as CSV: `department`, `item`, `region`, `channel` or `satisfaction`.
    pub fn csv(&self, table: &str) -> Option<String> {
        let groups = match table {
            "department" => &self.by_department,
            "item" => &self.by_item,
            "region" => &self.by_region,
            "channel" => &self.by_channel,
            "satisfaction" => {
                let rows: Vec<Vec<String>> = self
                    .satisfaction
                    .iter()
                    .map(|s| vec![s.name.clone(), s.ratings.to_string(), s.satisfied.to_string(), s.rate()])
                    .collect();
                return Some(crate::charts::csv(&["部门", "评价数", "满意（含基本满意）", "满意率"], &rows));
            }
            "hotspots" => {
                let mut headers = vec!["诉求对象", "合计"];
                headers.extend(self.months.iter().map(String::as_str));
                let rows: Vec<Vec<String>> = self
                    .hotspots
                    .iter()
                    .map(|h| {
                        let mut r = vec![h.name.clone(), h.total.to_string()];
                        r.extend(h.per_month.iter().map(|n| n.to_string()));
                        r
                    })
                    .collect();
                return Some(crate::charts::csv(&headers, &rows));
            }
            _ => return None,
        };
        let mut rows: Vec<Vec<String>> = groups.iter().map(GroupRow::cells).collect();
        rows.push(self.total.cells());
        Some(crate::charts::csv(GROUP_HEADERS, &rows))
    }
}

fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from.with_day0(0).unwrap_or(from);
    while d <= to {
        out.push(crate::month_of(d));
        d = d.checked_add_months(chrono::Months::new(1)).unwrap_or(to + chrono::Duration::days(1));
    }
    out
}

use chrono::Datelike as _;

impl Oversight {
    /// Figures for `period`.
    pub async fn statistics(&self, period: Period) -> Result<Statistics> {
        let (from, to) = period.bounds();
        let facts = self.cases().facts(&from, &to).await?;
        let calendar = self.cases().calendar();
        let today = self.today();
        let departments: HashMap<String, (String, String)> = self
            .catalog()
            .departments()
            .await
            .map_err(|e| crate::OversightError::Config(e.to_string()))?
            .into_iter()
            .map(|d| (d.credit_code, (d.name, d.region_code)))
            .collect();
        let regions: HashMap<String, String> =
            self.catalog().regions().await.map(|r| r.into_iter().map(|r| (r.code, r.name)).collect()).unwrap_or_default();
        let mut promised: HashMap<String, i64> = HashMap::new();
        let months = months_between(period.from, period.to);
        let mut per_month = vec![0i64; months.len()];

        let mut total = GroupRow { name: "合计".into(), ..Default::default() };
        let mut groups: [BTreeMap<String, GroupRow>; 4] = Default::default();
        let date_of = yiwang_cases::china_date_of;
        for f in &facts {
            let target_promised = match promised.get(&f.target_code) {
                Some(p) => *p,
                None => {
                    let p = match Target::parse(&f.target_kind, &f.target_code) {
                        Some(Target::Bundle(c)) => self.catalog().bundle(&c).await.map(|b| b.promised_days as i64).unwrap_or(0),
                        _ => self.catalog().item_public(&f.target_code).await.map(|i| i.doc.promised_days as i64).unwrap_or(0),
                    };
                    promised.insert(f.target_code.clone(), p);
                    p
                }
            };
            let due = f.due_date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let concluded = f.concluded_at.as_deref().and_then(date_of);
            let finished = concluded.is_some() && matches!(f.status, CaseStatus::Concluded | CaseStatus::Delivered);
            let on_time = finished && matches!((concluded, due), (Some(c), Some(d)) if c <= d);
            let running = matches!(f.status, CaseStatus::Submitted | CaseStatus::InProgress);
            let overdue = running && due.is_some_and(|d| today > d);
            let online = f.channel == Channel::Online;
            let zero_visit = online && matches!(f.delivery, Delivery::Electronic | Delivery::Courier);
            let handling = match (f.accepted_at.as_deref().and_then(date_of), concluded) {
                (Some(a), Some(c)) if f.outcome.is_some() => Some(calendar.working_days_between(a, c) as i64),
                _ => None,
            };
            if let Some(m) = date_of(&f.submitted_at).map(crate::month_of).and_then(|m| months.iter().position(|x| *x == m)) {
                per_month[m] += 1;
            }
            let (dept_name, region_code) =
                departments.get(&f.lead_department).cloned().unwrap_or_else(|| (f.lead_department_name.clone(), String::new()));
            let region_name = regions.get(&region_code).cloned().unwrap_or_else(|| region_code.clone());
            let keys = [
                (f.lead_department.clone(), dept_name),
                (f.target_code.clone(), f.title.clone()),
                (region_code, region_name),
                (f.channel.key().to_string(), f.channel.label_zh().to_string()),
            ];
            let add = |row: &mut GroupRow| {
                row.total += 1;
                row.finished += finished as i64;
                row.on_time += on_time as i64;
                row.overdue += overdue as i64;
                row.online += online as i64;
                row.zero_visit += zero_visit as i64;
                if let Some(h) = handling {
                    row.handled += 1;
                    row.handling_days += h;
                    row.promised_days += target_promised;
                }
            };
            add(&mut total);
            for (g, (code, name)) in groups.iter_mut().zip(keys) {
                add(g.entry(code.clone()).or_insert_with(|| GroupRow { code, name, ..Default::default() }));
            }
        }
        let [by_department, by_item, by_region, by_channel] = groups.map(|g| {
            let mut v: Vec<GroupRow> = g.into_values().collect();
            v.sort_by(|a, b| b.total.cmp(&a.total).then(a.name.cmp(&b.name)));
            v
        });

        let rows = sqlx::query(
            "SELECT department_code, MAX(department_name) AS name, COUNT(*) AS n, SUM(CASE WHEN level >= 3 THEN 1 ELSE 0 END) AS satisfied
             FROM ratings WHERE created_at >= $1 AND created_at < $2 AND excluded = 0 GROUP BY department_code ORDER BY COUNT(*) DESC",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(self.db().reader())
        .await?;
        let satisfaction = rows
            .iter()
            .map(|r| {
                Ok(Satisfaction {
                    code: r.try_get("department_code")?,
                    name: r.try_get("name")?,
                    ratings: r.try_get("n")?,
                    satisfied: r.try_get("satisfied")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;

        // 热点: tickets by what they are about, per month.
        let rows = sqlx::query(
            "SELECT COALESCE(item_name, department_name, kind) AS subject, month, COUNT(*) AS n FROM tickets
             WHERE created_at >= $1 AND created_at < $2 AND status <> 'merged' GROUP BY COALESCE(item_name, department_name, kind), month",
        )
        .bind(&from)
        .bind(&to)
        .fetch_all(self.db().reader())
        .await?;
        let mut spots: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for r in &rows {
            let subject: String = r.try_get("subject")?;
            let subject = crate::model::TicketKind::parse(&subject).map(|k| k.label_zh().to_string()).unwrap_or(subject);
            let month: String = r.try_get("month")?;
            let n: i64 = r.try_get("n")?;
            if let Some(i) = months.iter().position(|m| *m == month) {
                spots.entry(subject).or_insert_with(|| vec![0; months.len()])[i] += n;
            }
        }
        let mut hotspots: Vec<Hotspot> =
            spots.into_iter().map(|(name, per_month)| Hotspot { total: per_month.iter().sum(), name, per_month }).collect();
        hotspots.sort_by(|a, b| b.total.cmp(&a.total).then(a.name.cmp(&b.name)));
        hotspots.truncate(8);

        Ok(Statistics {
            from: period.from.to_string(),
            to: period.to.to_string(),
            total,
            by_department,
            by_item,
            by_region,
            by_channel,
            satisfaction,
            months,
            cases_per_month: per_month,
            hotspots,
        })
    }
}
