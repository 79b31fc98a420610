//! The gateway (共享交换网关): decides, fetches, filters, signs and logs each exchange.
//!
//! Rules (resources, members, approved grants) are held in memory as one [`Snapshot`]. A
//! change on this node replaces it at once; other nodes notice through the generation counter
//! that every change bumps and the log writer reads with each batch, so a revocation reaches
//! every gateway within one log commit.
//!
//! Providers are reached through the shared store, a built-in [`Provider`], or HTTP with a
//! timeout, one retry on connection failure and a circuit breaker per resource, so one slow
//! provider costs its own callers a fast error instead of taking the gateway's workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{Map, Value};
use yiwang_store::Db;

use crate::error::{ExchangeError, Result};
use crate::model::*;
use crate::store;

/// A provider compiled into the server (the demo province's simulated department systems).
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The records about `subject`: a JSON object, an array of objects, or `None`.
    async fn fetch(&self, resource: &Resource, subject: &str) -> std::result::Result<Option<Value>, String>;
}

/// Tunables of the gateway.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Consecutive failures that open a provider's circuit.
    pub trip_after: u32,
    /// How long an open circuit refuses calls before one probe is let through.
    pub open_for: Duration,
    /// Seals the subjects (ID numbers, credit codes) of the log and the shared store, and the
    /// shared store's records, at rest (none: stored as given).
    pub personal_data: yiwang_crypto::Sealer,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings { trip_after: 5, open_for: Duration::from_secs(10), personal_data: Default::default() }
    }
}

/// The rules in force.
#[derive(Default)]
pub(crate) struct Snapshot {
    pub(crate) generation: i64,
    pub(crate) resources: HashMap<String, Arc<Resource>>,
    pub(crate) members: HashMap<String, Arc<Member>>,
    /// Approved grants by (member, resource).
    pub(crate) grants: HashMap<(String, String), Vec<Arc<Grant>>>,
}

impl Snapshot {
    pub(crate) async fn load(db: &Db) -> Result<Snapshot> {
        let mut c = db.reader().acquire().await?;
        // Generation first: rows read after it are at least as new, so a change in between
        // only causes one more reload.
        let generation = store::generation(&mut c).await?;
        let resources = store::resources(&mut c).await?.into_iter().map(|r| (r.code.clone(), Arc::new(r))).collect();
        let members = store::members(&mut c).await?.into_iter().map(|m| (m.member_id.clone(), Arc::new(m))).collect();
        let mut grants: HashMap<(String, String), Vec<Arc<Grant>>> = HashMap::new();
        for g in store::grants(&mut c).await? {
            if g.status == GrantStatus::Approved {
                grants.entry((g.member_id.clone(), g.resource_code.clone())).or_default().push(Arc::new(g));
            }
        }
        Ok(Snapshot { generation, resources, members, grants })
    }
}

/// What the rules allow for one call.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) grant: Option<Arc<Grant>>,
    pub(crate) fields: Vec<String>,
    pub(crate) rate: u32,
}

/// Apply the sharing rules; `Err` carries the reason for a denial. `check_purpose` is off for
/// the platform's own workflow, which states the grant's purpose itself.
pub(crate) fn authorize(
    snap: &Snapshot,
    member: &Member,
    resource: &Resource,
    purpose: &str,
    requested: Option<&[String]>,
    today: &str,
    check_purpose: bool,
) -> std::result::Result<Decision, String> {
    let (grant, allowed, rate) = match resource.sharing_type {
        SharingType::NotShared => return Err(format!("该资源不予共享（{}）", resource.sharing_basis)),
        SharingType::Unconditional => (None, resource.item_names(), member.rate_per_sec),
        SharingType::Conditional => {
            let key = (member.member_id.clone(), resource.code.clone());
            let live: Vec<&Arc<Grant>> =
                snap.grants.get(&key).map(|v| v.iter().filter(|g| g.valid_to.as_str() >= today).collect()).unwrap_or_default();
            if live.is_empty() {
                return Err("未获得该资源的共享授权，请先提交共享申请".into());
            }
            let g = if check_purpose {
                live.iter().find(|g| g.purpose == purpose).ok_or_else(|| "用途与已批准的共享申请不符".to_string())?
            } else {
                live[0]
            };
            (Some((*g).clone()), g.fields.clone(), g.rate_per_sec)
        }
    };
    let fields = match requested {
        Some(req) if !req.is_empty() => {
            if let Some(extra) = req.iter().find(|f| !allowed.contains(f)) {
                return Err(format!("信息项“{extra}”超出授权范围"));
            }
            // Resource order, each once.
            allowed.iter().filter(|f| req.contains(f)).cloned().collect()
        }
        _ => allowed,
    };
    Ok(Decision { grant, fields, rate })
}

/// Token buckets per (member, resource): `rate` calls a second, bursts up to one second's worth.
/// Tokens left and when they were last counted, per resource.
type Buckets = HashMap<String, (f64, Instant)>;

#[derive(Default)]
pub(crate) struct Limiter {
    /// By member, then resource.
    buckets: Mutex<HashMap<String, Buckets>>,
}

impl Limiter {
    pub(crate) fn allow(&self, member: &str, resource: &str, rate: u32) -> bool {
        let Ok(mut b) = self.buckets.lock() else { return false };
        let now = Instant::now();
        let cap = f64::from(rate.max(1));
        // Keys are allocated only for a new bucket, not on every call.
        if !b.contains_key(member) {
            b.insert(member.to_string(), HashMap::new());
        }
        let Some(inner) = b.get_mut(member) else { return false };
        if !inner.contains_key(resource) {
            inner.insert(resource.to_string(), (cap, now));
        }
        let Some((tokens, last)) = inner.get_mut(resource) else { return false };
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * cap).min(cap);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A circuit breaker per provider resource.
#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

#[derive(Default)]
pub(crate) struct Breakers {
    map: Mutex<HashMap<String, Breaker>>,
}

impl Breakers {
    /// May a call go to the provider now?
    fn allow(&self, resource: &str) -> bool {
        let Ok(mut m) = self.map.lock() else { return false };
        let b = match m.get_mut(resource) {
            Some(b) => b,
            None => return true,
        };
        match b.open_until {
            None => true,
            Some(t) if Instant::now() < t => false,
            Some(_) if b.probing => false,
            Some(_) => {
                b.probing = true;
                true
            }
        }
    }
    fn record(&self, resource: &str, ok: bool, s: &GatewaySettings) {
        let Ok(mut m) = self.map.lock() else { return };
        if ok {
            m.remove(resource);
            return;
        }
        let b = m.entry(resource.to_string()).or_default();
        b.failures += 1;
        if b.probing || b.failures >= s.trip_after {
            b.open_until = Some(Instant::now() + s.open_for);
            b.probing = false;
            tracing::warn!(resource, failures = b.failures, "provider circuit opened");
        }
    }
    /// Whether a resource's circuit is open (for status pages).
    pub(crate) fn is_open(&self, resource: &str) -> bool {
        self.map.lock().ok().and_then(|m| m.get(resource).and_then(|b| b.open_until)).is_some_and(|t| Instant::now() < t)
    }
}

/// Fetches records from providers.
pub(crate) struct Fetcher {
    pub(crate) db: Db,
    pub(crate) builtin: HashMap<String, Arc<dyn Provider>>,
    pub(crate) http: Client<HttpConnector, Full<Bytes>>,
    pub(crate) breakers: Breakers,
    pub(crate) settings: GatewaySettings,
}

/// Largest provider answer accepted.
const MAX_ANSWER: usize = 4 << 20;

fn pct(s: &str) -> String {
    yiwang_core::url::percent_encode(s, &[])
}

pub(crate) struct FetchContext<'a> {
    pub(crate) subject: &'a str,
    pub(crate) request_id: &'a str,
    pub(crate) consumer: &'a str,
    pub(crate) purpose: &'a str,
}

impl Fetcher {
    pub(crate) fn new(db: Db, builtin: HashMap<String, Arc<dyn Provider>>, settings: GatewaySettings) -> Fetcher {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let http = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector);
        Fetcher { db, builtin, http, breakers: Breakers::default(), settings }
    }

    /// `Ok(None)`: no record. `Err`: the provider failed (message for the log and the caller).
    pub(crate) async fn fetch(&self, resource: &Resource, ctx: &FetchContext<'_>) -> std::result::Result<Option<Value>, String> {
        match &resource.service {
            Service::Store => {
                let mut c = self.db.reader().acquire().await.map_err(|e| e.to_string())?;
                let text =
                    store::record(&mut c, &self.settings.personal_data, &resource.code, ctx.subject).await.map_err(|e| e.to_string())?;
                text.map(|t| serde_json::from_str(&t).map_err(|e| format!("共享库记录损坏：{e}"))).transpose()
            }
            Service::Builtin { name } => {
                let p = self.builtin.get(name).ok_or_else(|| format!("未配置内置提供方：{name}"))?;
                p.fetch(resource, ctx.subject).await
            }
            Service::Rest { url, timeout_ms, .. } => {
                if !self.breakers.allow(&resource.code) {
                    return Err("提供方熔断中，请稍后再试".into());
                }
                let r = self.rest(url, Duration::from_millis(*timeout_ms), ctx).await;
                self.breakers.record(&resource.code, r.is_ok(), &self.settings);
                r
            }
        }
    }

    async fn rest(&self, url: &str, timeout: Duration, ctx: &FetchContext<'_>) -> std::result::Result<Option<Value>, String> {
        let sep = if url.contains('?') { '&' } else { '?' };
        let uri = format!("{url}{sep}subject={}", pct(ctx.subject));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = http::Request::get(&uri)
                .header("x-request-id", ctx.request_id)
                .header("x-yiwang-consumer", ctx.consumer)
                .header("x-yiwang-purpose", pct(ctx.purpose))
                .header(http::header::ACCEPT, "application/json")
                .body(Full::new(Bytes::new()))
                .map_err(|e| format!("提供方地址无效：{e}"))?;
            let res = match tokio::time::timeout(timeout, self.http.request(req)).await {
                Err(_) => return Err(format!("提供方超时（{} 毫秒）", timeout.as_millis())),
                // A refused or reset connection never reached the provider's logic: GET is safe to
                // repeat once.
                Ok(Err(e)) if e.is_connect() && attempt == 1 => continue,
                Ok(Err(e)) => return Err(format!("连接提供方失败：{e}")),
                Ok(Ok(r)) => r,
            };
            let status = res.status();
            if status == http::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(format!("提供方返回 HTTP {}", status.as_u16()));
            }
            let body = tokio::time::timeout(timeout, http_body_util::Limited::new(res.into_body(), MAX_ANSWER).collect())
                .await
                .map_err(|_| "提供方应答超时".to_string())?
                .map_err(|e| format!("读取提供方应答失败：{e}"))?
                .to_bytes();
            return serde_json::from_slice(&body).map(Some).map_err(|e| format!("提供方应答不是 JSON：{e}"));
        }
    }
}

/// Keep only the released items of each record, in resource order.
pub(crate) fn filter_records(value: Option<Value>, fields: &[String]) -> std::result::Result<Vec<Map<String, Value>>, String> {
    let list = match value {
        None => vec![],
        Some(Value::Object(o)) => vec![o],
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|v| match v {
                Value::Object(o) => Ok(o),
                _ => Err("提供方应答的记录不是 JSON 对象".to_string()),
            })
            .collect::<std::result::Result<_, _>>()?,
        Some(_) => return Err("提供方应答不是 JSON 对象或数组".into()),
    };
    Ok(list
        .into_iter()
        .map(|mut o| {
            let mut out = Map::new();
            for f in fields {
                if let Some(v) = o.remove(f) {
                    out.insert(f.clone(), v);
                }
            }
            out
        })
        .collect())
}

/// The snapshot holder: current rules, a flag set when they must be read again.
pub(crate) struct Rules {
    current: RwLock<Arc<Snapshot>>,
    stale: AtomicBool,
    reload: tokio::sync::Mutex<()>,
}

impl Rules {
    pub(crate) fn new(s: Snapshot) -> Rules {
        Rules { current: RwLock::new(Arc::new(s)), stale: AtomicBool::new(false), reload: Default::default() }
    }

    /// Mark the rules stale (a change on this node, or a newer generation seen elsewhere).
    pub(crate) fn invalidate(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// The log writer saw `generation` in the database.
    pub(crate) fn observe(&self, generation: i64) {
        let have = self.current.read().map(|s| s.generation).unwrap_or(0);
        if generation > have {
            self.invalidate();
        }
    }

    pub(crate) async fn get(&self, db: &Db) -> Result<Arc<Snapshot>> {
        if self.stale.load(Ordering::SeqCst) {
            let _guard = self.reload.lock().await;
            if self.stale.swap(false, Ordering::SeqCst) {
                match Snapshot::load(db).await {
                    Ok(s) => {
                        if let Ok(mut c) = self.current.write() {
                            *c = Arc::new(s);
                        }
                    }
                    Err(e) => {
                        self.stale.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                }
            }
        }
        self.current.read().map(|s| s.clone()).map_err(|_| ExchangeError::Config("共享规则缓存不可用".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(sharing: SharingType) -> Resource {
        Resource {
            code: "11360000083016617P-00001".into(),
            name: "人口基础信息".into(),
            classification: "基础信息资源/人口".into(),
            provider_code: "11360000083016617P".into(),
            provider_name: "公安厅".into(),
            summary: String::new(),
            format: "数据库".into(),
            subject_kind: SubjectKind::Person,
            subject_item: "id_number".into(),
            items: ["id_number", "name", "address"]
                .iter()
                .map(|n| DataItem { name: n.to_string(), label: n.to_string(), kind: "string".into() })
                .collect(),
            sharing_type: sharing,
            sharing_basis: "依据".into(),
            sharing_conditions: String::new(),
            sharing_method: String::new(),
            open_type: OpenType::NotOpen,
            update_cycle: UpdateCycle::Daily,
            published_on: "2026-01-01".into(),
            service: Service::Store,
        }
    }

    fn member() -> Member {
        Member {
            member_id: "m:1".into(),
            department_code: "d".into(),
            name: "m".into(),
            public_key: String::new(),
            rate_per_sec: 5,
            disabled_at: None,
            created_at: String::new(),
            created_by: String::new(),
        }
    }

    fn grant(valid_to: &str, status: GrantStatus) -> Grant {
        Grant {
            grant_id: "g1".into(),
            member_id: "m:1".into(),
            resource_code: "11360000083016617P-00001".into(),
            purpose: "婚姻登记审核".into(),
            legal_basis: "条例".into(),
            fields: vec!["name".into(), "address".into()],
            valid_to: valid_to.into(),
            rate_per_sec: 9,
            status,
            requested_by: String::new(),
            requested_at: String::new(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
        }
    }

    fn snap_with(g: Option<Grant>) -> Snapshot {
        let mut s = Snapshot::default();
        if let Some(g) = g {
            s.grants.insert((g.member_id.clone(), g.resource_code.clone()), vec![Arc::new(g)]);
        }
        s
    }

    #[test]
    fn sharing_rules() {
        let m = member();
        let today = "2026-06-01";
        // Unconditional: every item, the member's rate.
        let d = authorize(&Snapshot::default(), &m, &resource(SharingType::Unconditional), "x", None, today, true).unwrap();
        assert_eq!(d.fields, ["id_number", "name", "address"]);
        assert_eq!(d.rate, 5);
        // Not shared never flows.
        assert!(authorize(
            &snap_with(Some(grant("2099-01-01", GrantStatus::Approved))),
            &m,
            &resource(SharingType::NotShared),
            "婚姻登记审核",
            None,
            today,
            true
        )
        .is_err());
        // Conditional: no grant, expired grant, wrong purpose are refused.
        let r = resource(SharingType::Conditional);
        assert!(authorize(&Snapshot::default(), &m, &r, "婚姻登记审核", None, today, true).is_err());
        assert!(authorize(&snap_with(Some(grant("2026-05-31", GrantStatus::Approved))), &m, &r, "婚姻登记审核", None, today, true).is_err());
        let s = snap_with(Some(grant("2026-06-01", GrantStatus::Approved)));
        assert!(authorize(&s, &m, &r, "别的用途", None, today, true).is_err());
        let d = authorize(&s, &m, &r, "婚姻登记审核", None, today, true).unwrap();
        assert_eq!(d.fields, ["name", "address"], "only the approved items");
        assert_eq!(d.rate, 9);
        // Asking for a subset narrows; asking beyond the grant is refused.
        let d = authorize(&s, &m, &r, "婚姻登记审核", Some(&["address".to_string()]), today, true).unwrap();
        assert_eq!(d.fields, ["address"]);
        assert!(authorize(&s, &m, &r, "婚姻登记审核", Some(&["id_number".to_string()]), today, true).is_err());
        // The platform's workflow is not held to the purpose text.
        assert!(authorize(&s, &m, &r, "办理某事项", None, today, false).is_ok());
    }

    #[test]
    fn filtering_keeps_only_released_items() {
        let v = serde_json::json!([{ "name": "张三", "address": "x", "secret": 1 }, { "name": "李四" }]);
        let out = filter_records(Some(v), &["name".to_string()]).unwrap();
        assert_eq!(serde_json::to_string(&out).unwrap(), r#"[{"name":"张三"},{"name":"李四"}]"#);
        assert!(filter_records(Some(serde_json::json!(3)), &[]).is_err());
        assert!(filter_records(Some(serde_json::json!([1])), &[]).is_err());
        assert!(filter_records(None, &[]).unwrap().is_empty());
    }

    #[test]
    fn limiter_and_breaker() {
        let l = Limiter::default();
        let allowed = (0..20).filter(|_| l.allow("m", "r", 10)).count();
        assert!((10..=11).contains(&allowed), "{allowed}");
        assert!(l.allow("m", "other", 10), "buckets are per resource");

        let s = GatewaySettings { trip_after: 3, open_for: Duration::from_millis(30), ..Default::default() };
        let b = Breakers::default();
        for _ in 0..3 {
            assert!(b.allow("r"));
            b.record("r", false, &s);
        }
        assert!(!b.allow("r"), "open after three failures");
        assert!(b.is_open("r"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.allow("r"), "one probe after the pause");
        assert!(!b.allow("r"), "only one probe at a time");
        b.record("r", true, &s);
        assert!(b.allow("r") && b.allow("r"), "closed again after a good probe");
    }
}
