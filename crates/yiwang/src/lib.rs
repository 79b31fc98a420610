//! Wiring for the `yiwang` binary: configuration, start-up and the app builder that tests use
//! too, so they exercise the production start-up path.

use std::sync::Arc;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use yiwang_catalog::{demo, Catalog};
use yiwang_crypto::{PersonalData, Sealer};
use yiwang_identity::oidc::Provider;
use yiwang_identity::{Identity, IdentityConfig, NewStaff};
use yiwang_notify::Outbox;
use yiwang_store::{ConnectOptions, Db};
use yiwang_web::{App, AppState, WebSettings};

/// Typed settings: defaults, then a TOML file, then `YIWANG_*` environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address to serve on.
    pub listen: String,
    /// `sqlite://data/yiwang.db` (default) or `postgres://user@host:5432/db`.
    pub database_url: String,
    /// PostgreSQL schema to use (created if missing).
    pub database_schema: Option<String>,
    pub max_connections: u32,
    /// Load the demo province on first start (empty catalog).
    pub demo: bool,
    /// Mark cookies Secure and send HSTS (behind TLS).
    pub secure_cookies: bool,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Public base URL: the OpenID Connect issuer and the base of links in messages.
    pub public_url: String,
    /// Staff sign in with a TOTP second factor (enrolled at first login).
    pub staff_totp: bool,
    /// SMTP relay for email notices (`host` or `host:port`); none = email goes to the log.
    pub smtp_relay: Option<String>,
    /// Sender of notification emails.
    pub email_from: String,
    /// SMS / WeChat gateway webhook (http:// URL); none = SMS goes to the log.
    pub sms_webhook: Option<String>,
    /// Shared secret for the webhook's HMAC-SHA256 signature.
    pub sms_webhook_secret: String,
    /// Directory of working-day calendar files (`<year>.yaml`); empty = the built-in calendar.
    pub calendar_dir: Option<String>,
    /// Master key (hex, at least 16 bytes) that encrypts seal private keys at rest. Every app
    /// server of a deployment needs the same one; prefer `master_key_file` or the environment.
    pub master_key: Option<String>,
    /// File holding the master key (hex). Default: `master.key` beside the SQLite database, or
    /// `data/master.key`; created (mode 0600) on first start when missing.
    pub master_key_file: Option<String>,
    /// Hash of the tamper-evident ledger when it starts: `sm3` (default) or `sha256`.
    pub ledger_hash: String,
    /// Algorithm of the key that signs ledger tree heads: `SM2-SM3` (default) or `Ed25519`.
    pub ledger_signing: String,
    /// Capture recorded tables into the ledger (default on; off only for emergencies).
    pub ledger_capture: bool,
    /// Seconds between signed tree heads while the log grows.
    pub ledger_head_interval_secs: u64,
    /// Working days a department has to rectify and answer a bad review (local rules: 5 or 15).
    pub bad_review_followup_days: u32,
    /// 12345 deadlines: urgent (hours), general and complex (working days).
    pub ticket_urgent_hours: i64,
    pub ticket_general_days: u32,
    pub ticket_complex_days: u32,
    /// More correction requests than this on one case raise a supervision alert.
    pub max_corrections: i64,
    /// Yellow warnings (queues and supervision) this many working days before a deadline.
    pub warn_days: u32,
    /// Payment provider: `sandbox` (built in: a loopback cashier page). Real gateways plug in
    /// through the provider interface (docs/payments.md).
    pub payment_provider: String,
    /// Courier for results sent by post: `sandbox` (built in).
    pub courier: String,
    /// Hours a payment order stays open.
    pub payment_order_valid_hours: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/yiwang.db".into(),
            database_schema: None,
            max_connections: yiwang_store::ConnectOptions::DEFAULT_MAX_CONNECTIONS,
            demo: true,
            secure_cookies: false,
            log_format: "text".into(),
            public_url: "http://127.0.0.1:8080".into(),
            staff_totp: true,
            calendar_dir: None,
            smtp_relay: None,
            email_from: "一网通办 <noreply@yiwang.example>".into(),
            sms_webhook: None,
            sms_webhook_secret: String::new(),
            master_key: None,
            master_key_file: None,
            ledger_hash: "sm3".into(),
            ledger_signing: "SM2-SM3".into(),
            ledger_capture: true,
            ledger_head_interval_secs: 60,
            bad_review_followup_days: 5,
            ticket_urgent_hours: 2,
            ticket_general_days: 7,
            ticket_complex_days: 15,
            max_corrections: 2,
            warn_days: 1,
            payment_provider: "sandbox".into(),
            courier: "sandbox".into(),
            payment_order_valid_hours: 72,
        }
    }
}

impl Settings {
    /// Load from `config` (default `yiwang.toml` if present) and the environment.
    pub fn load(config: Option<&std::path::Path>) -> anyhow::Result<Settings> {
        let file = config.map(|p| p.to_path_buf()).unwrap_or_else(|| "yiwang.toml".into());
        if config.is_some() && !file.exists() {
            anyhow::bail!("configuration file {} not found", file.display());
        }
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("YIWANG_"))
            .extract()
            .context("invalid configuration")
    }

    pub fn connect_options(&self) -> ConnectOptions {
        let mut o = ConnectOptions::new(&self.database_url);
        o.schema = self.database_schema.clone();
        o.max_connections = self.max_connections;
        o
    }
}

/// Set up logging once per process.
pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn,tantivy=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// Connect and migrate.
pub async fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.connect_options()).await.with_context(|| format!("connecting to {}", redact(&settings.database_url)))?;
    let applied = db.migrate().await.context("migrating the database")?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(db)
}

/// Hide a password in a database URL for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Load the demo province and its staff accounts.
pub async fn load_demo(catalog: &Catalog, identity: &Identity) -> anyhow::Result<demo::DemoReport> {
    let p = demo::province()?;
    let report = catalog.load_demo(&p).await?;
    for s in &p.staff {
        if !identity.staff_exists(&s.username).await? {
            identity
                .upsert_staff(NewStaff {
                    username: &s.username,
                    display_name: &s.display_name,
                    password: &s.password,
                    department: s.department.as_deref(),
                    region: None,
                    roles: &s.roles,
                })
                .await?;
        }
    }
    identity.load_demo_citizens().await?;
    Ok(report)
}

/// Notification channels from settings; unset channels write to the log.
pub fn notifier(settings: &Settings) -> anyhow::Result<Arc<dyn yiwang_notify::Sender>> {
    use yiwang_notify::senders::{Channels, SmtpSender, WebhookSender};
    let mut c = Channels::default();
    if let Some(relay) = settings.smtp_relay.as_deref().filter(|s| !s.is_empty()) {
        c.email = Box::new(SmtpSender::new(relay, &settings.email_from).map_err(anyhow::Error::msg)?);
    }
    if let Some(url) = settings.sms_webhook.as_deref().filter(|s| !s.is_empty()) {
        if settings.sms_webhook_secret.len() < 16 {
            anyhow::bail!("sms_webhook_secret must be at least 16 characters");
        }
        c.sms = Box::new(WebhookSender::new(url, &settings.sms_webhook_secret).map_err(anyhow::Error::msg)?);
    }
    Ok(Arc::new(c))
}

/// The case service configured from settings; `pii` seals applicants' personal data.
pub fn cases(settings: &Settings, db: Db, catalog: Arc<Catalog>, pii: &Arc<PersonalData>) -> anyhow::Result<yiwang_cases::Cases> {
    let calendar = match settings.calendar_dir.as_deref().filter(|d| !d.is_empty()) {
        Some(dir) => yiwang_cases::WorkCalendar::load_dir(std::path::Path::new(dir))?,
        None => yiwang_cases::demo::builtin_calendar()?,
    };
    let years: Vec<i32> = calendar.years().collect();
    tracing::info!(?years, "working-day calendar loaded (other years count weekends only)");
    let case_settings = yiwang_cases::CaseSettings { warn_days: settings.warn_days, ..Default::default() };
    Ok(yiwang_cases::Cases::new(db, catalog, calendar, Arc::new(yiwang_cases::SystemClock), case_settings).with_personal_data(pii.clone()))
}

/// The payment provider and courier chosen in settings, before the case service exists.
pub struct PaymentParts {
    sandbox: Arc<yiwang_payments::SandboxPay>,
    courier: Arc<yiwang_payments::SandboxCourier>,
    settings: yiwang_payments::PaymentSettings,
}

impl PaymentParts {
    pub fn into_service(self, db: Db, cases: yiwang_cases::Cases) -> yiwang_payments::Payments {
        yiwang_payments::Payments::new(db, cases, self.sandbox.clone(), self.courier.clone(), self.settings)
            .with_sandboxes(self.sandbox, self.courier)
    }
}

/// Payment provider, courier and the case module's payment desk from settings. Their
/// signing keys derive from the master key (the same on every node); `pii` seals shipments.
pub fn payments_parts(
    settings: &Settings,
    db: Db,
    catalog: Arc<Catalog>,
    pii: &Arc<PersonalData>,
) -> anyhow::Result<(PaymentParts, Arc<yiwang_payments::Desk>)> {
    use sha2::Digest as _;
    if settings.payment_provider != "sandbox" || settings.courier != "sandbox" {
        anyhow::bail!("payment_provider and courier: only the built-in `sandbox` is available; real gateways implement the provider interface (docs/payments.md)");
    }
    let master = master_key(settings)?;
    let derive = |label: &[u8]| -> [u8; 32] { sha2::Sha256::new().chain_update(label).chain_update(&master).finalize().into() };
    let pay_settings = yiwang_payments::PaymentSettings {
        order_valid_hours: settings.payment_order_valid_hours.max(1),
        personal_data: Sealer::new(pii.clone()),
        ..Default::default()
    };
    let sandbox = Arc::new(yiwang_payments::SandboxPay::new(db, &derive(b"yiwang sandbox payments\0"), &settings.public_url));
    let courier = Arc::new(yiwang_payments::SandboxCourier::new(&derive(b"yiwang sandbox courier\0")));
    let desk = Arc::new(yiwang_payments::Desk::new(catalog, "sandbox", "sandbox", pay_settings.clone()));
    Ok((PaymentParts { sandbox, courier, settings: pay_settings }, desk))
}

/// Supervision, ratings and ticket deadlines from settings.
pub fn oversight_settings(settings: &Settings) -> yiwang_oversight::OversightSettings {
    let defaults = yiwang_oversight::OversightSettings::default();
    yiwang_oversight::OversightSettings {
        followup_days: settings.bad_review_followup_days,
        tickets: yiwang_oversight::TicketDeadlines {
            urgent_hours: settings.ticket_urgent_hours,
            general_days: settings.ticket_general_days,
            complex_days: settings.ticket_complex_days,
        },
        rules: yiwang_oversight::RuleSettings { max_corrections: settings.max_corrections, warn_days: settings.warn_days },
        ..defaults
    }
}

/// Columns holding applicants' owner keys (`person:…` / `business:…`), converted from ID
/// numbers to blind indexes at start-up. `licence_uses.used_by` is written with the blind
/// index too, but older rows are not rewritten: the ledger records that table as insert-only,
/// so a rewrite would read as tampering, and the ledger's own copy keeps the old value anyway.
pub const OWNER_KEYS: [(&str, &str); 7] = [
    ("cases", "owner"),
    ("payment_orders", "payer"),
    ("tickets", "submitter"),
    ("ratings", "rater"),
    ("disclosure_requests", "requester"),
    ("dataset_ratings", "rater"),
    ("dataset_requests", "requester"),
];

/// Columns sealed at rest by modules that keep no conversion of their own: (table, row id
/// column, columns). Rows written before encryption are sealed at start-up.
pub const SEALED_COLUMNS: [(&str, &str, &[&str]); 2] =
    [("tickets", "ticket_id", &["contact_name", "contact_phone"]), ("shipments", "case_id", &["recipient", "phone", "address"])];

/// Seal the values of [`SEALED_COLUMNS`] still stored in the clear. Returns how many values.
pub async fn seal_clear_columns(db: &Db, sealer: &Sealer) -> anyhow::Result<u64> {
    let mut sealed = 0;
    for (table, id_col, cols) in SEALED_COLUMNS {
        for col in cols {
            let select = format!("SELECT {id_col} AS id, {col} AS v FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE 'sm4gcm1:%'");
            let rows: Vec<(String, String)> =
                yiwang_store::sqlx::query_as(yiwang_store::sqlx::AssertSqlSafe(select)).fetch_all(db.reader()).await?;
            if rows.is_empty() {
                continue;
            }
            let mut tx = db.begin().await?;
            let update = format!("UPDATE {table} SET {col} = $1 WHERE {id_col} = $2 AND {col} = $3");
            for (id, v) in &rows {
                let value = sealer.seal(&format!("{table}.{col}"), id, v)?;
                yiwang_store::sqlx::query(yiwang_store::sqlx::AssertSqlSafe(update.clone()))
                    .bind(value)
                    .bind(id)
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            sealed += rows.len() as u64;
        }
    }
    Ok(sealed)
}

/// Keys for personal data at rest (ID numbers, phones, forms, addresses), from the master key.
pub fn personal_data(settings: &Settings) -> anyhow::Result<Arc<PersonalData>> {
    Ok(Arc::new(PersonalData::new(&master_key(settings)?)?))
}

/// The master key that protects seal private keys: from the setting, or from its file (made
/// with a fresh random key on first start).
pub fn master_key(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    let parse = |text: &str, from: &str| -> anyhow::Result<Vec<u8>> {
        let key = hex::decode(text.trim()).with_context(|| format!("master key in {from} is not hex"))?;
        if key.len() < 16 {
            anyhow::bail!("master key in {from} must be at least 16 bytes (32 hex characters)");
        }
        Ok(key)
    };
    if let Some(k) = settings.master_key.as_deref().filter(|k| !k.is_empty()) {
        return parse(k, "master_key");
    }
    let path = match settings.master_key_file.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => match yiwang_store::sqlite_file(&settings.database_url) {
            Some(db) => std::path::Path::new(&db).parent().map(|d| d.join("master.key")).unwrap_or_else(|| "master.key".into()),
            None => "data/master.key".into(),
        },
    };
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return parse(&text, &path.display().to_string());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut key = vec![0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    // Written whole to a private temporary file, then linked into place: a process starting at
    // the same moment sees either no key or the complete one, and never replaces another's key.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()) + &hex::encode(&key[..4]));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    std::io::Write::write_all(&mut f, hex::encode(&key).as_bytes())?;
    f.sync_all()?;
    drop(f);
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "new master key created: back it up; without it no new licence can be signed and no personal data opens");
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            parse(&text, &path.display().to_string())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// The licence service configured from settings; `pii` seals holders and documents.
pub fn licences(settings: &Settings, db: Db, pii: &Arc<PersonalData>) -> anyhow::Result<yiwang_licences::Licences> {
    let vault = yiwang_licences::Vault::new(&master_key(settings)?)?;
    Ok(yiwang_licences::Licences::new(db, vault, &settings.public_url, Arc::new(yiwang_cases::SystemClock)).with_personal_data(pii.clone()))
}

/// The ledger configured from settings; installs its capture triggers.
pub async fn ledger(settings: &Settings, db: Db) -> anyhow::Result<yiwang_ledger::Ledger> {
    let hash = yiwang_crypto::HashAlg::parse(&settings.ledger_hash).context("ledger_hash must be sm3 or sha256")?;
    let signing = yiwang_crypto::Algorithm::parse(&settings.ledger_signing).context("ledger_signing must be SM2-SM3 or Ed25519")?;
    let vault = yiwang_crypto::Vault::new(&master_key(settings)?)?;
    let ledger_settings = yiwang_ledger::LedgerSettings {
        hash,
        signing,
        capture: settings.ledger_capture,
        head_every: std::time::Duration::from_secs(settings.ledger_head_interval_secs.max(1)),
        ..Default::default()
    };
    if !settings.ledger_capture {
        tracing::warn!("ledger capture is off: changes to recorded tables leave no trace");
    }
    Ok(yiwang_ledger::Ledger::open(db, vault, ledger_settings).await?)
}

/// The data exchange configured from settings: its gateway key sealed under the master key,
/// access tokens authenticated by a key derived from it (the same on every node), and the
/// demo province's simulated provider systems when the demo is on.
/// `pii` seals the subjects of the log and the shared store.
pub async fn exchange(settings: &Settings, db: Db, pii: &Arc<PersonalData>) -> anyhow::Result<yiwang_exchange::Exchange> {
    use sha2::Digest as _;
    let master = master_key(settings)?;
    let vault = yiwang_crypto::Vault::new(&master)?;
    let token_key: [u8; 32] = sha2::Sha256::new().chain_update(b"yiwang exchange access tokens\0").chain_update(&master).finalize().into();
    let builtin = if settings.demo { yiwang_exchange::demo::providers()? } else { Default::default() };
    let gateway = yiwang_exchange::GatewaySettings { personal_data: Sealer::new(pii.clone()), ..Default::default() };
    Ok(yiwang_exchange::Exchange::open(db, &vault, token_key, &settings.public_url, builtin, gateway).await?)
}

/// Load the demo licence types and the licences the demo people and companies hold.
pub async fn load_demo_licences(licences: &yiwang_licences::Licences) -> anyhow::Result<usize> {
    let p = demo::province()?;
    let names = p.departments.iter().map(|d| (d.credit_code.clone(), d.name.clone())).collect();
    Ok(yiwang_licences::demo::load(licences, &p.item_keys, &names).await?)
}

/// Identity configured from settings.
/// The identity module, with accounts stored before encryption at rest converted.
pub async fn identity(settings: &Settings, db: yiwang_store::Db) -> anyhow::Result<Identity> {
    let config =
        IdentityConfig { public_url: settings.public_url.trim_end_matches('/').to_string(), require_staff_totp: settings.staff_totp };
    let pii = PersonalData::new(&master_key(settings)?)?;
    let identity = Identity::new(db, config, pii)?;
    let converted = identity.protect_personal_data().await?;
    if converted > 0 {
        tracing::info!(accounts = converted, "ID numbers and phones encrypted at rest");
    }
    Ok(identity)
}

/// Build the application state: database, catalog (with search index), identity; loads the
/// demo province on first start when enabled.
pub async fn build(settings: &Settings) -> anyhow::Result<AppState> {
    let db = open_db(settings).await?;
    // Before anything is written, so the demo data is recorded too.
    let ledger = ledger(settings, db.clone()).await?;
    let catalog = Arc::new(Catalog::open(db.clone()).await?);
    let identity = identity(settings, db.clone()).await?;
    // One set of personal-data keys for every module, derived once.
    let pii = personal_data(settings)?;
    let licences = licences(settings, db.clone(), &pii)?;
    let sealed = licences.protect_personal_data().await?;
    if sealed > 0 {
        tracing::info!(rows = sealed, "licence holders and documents encrypted at rest");
    }
    let exchange = exchange(settings, db.clone(), &pii).await?;
    let sealed = exchange.protect_personal_data().await?;
    if sealed > 0 {
        tracing::info!(rows = sealed, "data-exchange subjects and shared records encrypted at rest");
    }
    let watch = Arc::new(yiwang_oversight::Watch::default());
    let (payments_parts, desk) = payments_parts(settings, db.clone(), catalog.clone(), &pii)?;
    let cases = cases(settings, db.clone(), catalog.clone(), &pii)?
        .with_payment_desk(desk.clone())
        .with_hook(desk)
        .with_hook(Arc::new(licences.clone()))
        .with_wallet(Arc::new(licences.clone()))
        .with_shared_data(Arc::new(exchange.clone()))
        .with_observer(watch.clone());
    let outbox = Outbox::new(db.clone(), Sealer::new(pii.clone()));
    let messages = outbox.protect_personal_data().await?;
    if messages > 0 {
        tracing::info!(messages, "SMS and e-mail recipients and bodies encrypted at rest");
    }
    let sealed = cases.protect_personal_data().await?;
    if sealed > 0 {
        tracing::info!(cases = sealed, "applicants' personal data encrypted at rest");
    }
    let clear = seal_clear_columns(&db, &Sealer::new(pii.clone())).await?;
    if clear > 0 {
        tracing::info!(values = clear, "ticket and shipment contacts encrypted at rest");
    }
    // Every table that files records under an applicant's owner key.
    for (table, column) in OWNER_KEYS {
        let n = cases.protect_owner_keys(table, column).await?;
        if n > 0 {
            tracing::info!(table, owners = n, "owner keys moved off ID numbers");
        }
    }
    let oversight_settings = yiwang_oversight::OversightSettings { personal_data: Sealer::new(pii), ..oversight_settings(settings) };
    let oversight = yiwang_oversight::Oversight::new(db.clone(), cases.clone(), catalog.clone(), watch, oversight_settings);
    let payments = payments_parts.into_service(db.clone(), cases.clone());
    let openness = yiwang_openness::Openness::open(db.clone(), catalog.clone(), cases.clone(), &settings.public_url).await?;
    if settings.demo && !catalog.demo_loaded().await? {
        let empty = catalog.list_public(&Default::default(), 1, 1).await?.total == 0;
        if empty {
            let r = load_demo(&catalog, &identity).await?;
            tracing::info!(items = r.items_created, departments = r.departments, "demo province loaded");
        }
    }
    if settings.demo && catalog.demo_loaded().await? && !cases.has_definitions().await? {
        // Also on databases made before workflow definitions existed.
        let n = yiwang_cases::demo::load(&cases, &demo::province()?.item_keys).await?;
        tracing::info!(workflows = n, "demo workflow definitions loaded");
    }
    if settings.demo && catalog.demo_loaded().await? && licences.types().await?.is_empty() {
        let n = load_demo_licences(&licences).await?;
        tracing::info!(licences = n, "demo licence types and licences loaded");
    }
    if settings.demo && catalog.demo_loaded().await? && exchange.resources().await?.is_empty() {
        let n = yiwang_exchange::demo::load(&exchange).await?;
        tracing::info!(resources = n, "demo data sharing loaded");
    }
    if settings.demo && catalog.demo_loaded().await? && !yiwang_oversight::demo::loaded(&oversight).await? {
        let r = yiwang_oversight::demo::load(&oversight, &demo::province()?, chrono::Utc::now()).await?;
        tracing::info!(cases = r.cases, ratings = r.ratings, tickets = r.tickets, alerts = r.alerts, "demo supervision history replayed");
    }
    if settings.demo && catalog.demo_loaded().await? && !yiwang_openness::demo::loaded(&openness).await? {
        let (docs, sets) = yiwang_openness::demo::load(&openness).await?;
        tracing::info!(documents = docs, datasets = sets, "demo disclosure and open data loaded");
    }
    Ok(Arc::new(App {
        outbox,
        notifier: notifier(settings)?,
        oversight,
        payments,
        openness,
        cases,
        licences,
        ledger,
        exchange,
        db,
        catalog,
        provider: Arc::new(Provider::new(identity.clone())),
        identity,
        settings: WebSettings {
            secure_cookies: settings.secure_cookies,
            public_url: settings.public_url.trim_end_matches('/').to_string(),
        },
        imports: Default::default(),
        login_limiter: Default::default(),
    }))
}

/// Serve until Ctrl-C or SIGTERM.
pub async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = build(settings).await?;
    yiwang_web::metrics_handle();
    let background = yiwang_web::spawn_background(app.clone());
    let sequencer = tokio::spawn(app.ledger.clone().run());
    let supervision = tokio::spawn(app.oversight.clone().run());
    let payments = tokio::spawn(app.payments.clone().run(std::time::Duration::from_secs(10)));
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| format!("binding {}", settings.listen))?;
    tracing::info!(url = %format!("http://{}", settings.listen), database = %redact(&settings.database_url), "yiwang serving");
    let router = yiwang_web::router(app.clone());
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    background.abort();
    sequencer.abort();
    supervision.abort();
    payments.abort();
    if let Err(e) = app.ledger.sequence_now().await {
        tracing::warn!(error = %e, "final ledger sequencing failed; the queue is kept for the next start");
    }
    app.catalog.flush_views().await?;
    app.db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/y.db"), "sqlite://data/y.db");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the error type
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("YIWANG_DATABASE_URL", "postgres://x@127.0.0.1/test");
            jail.set_env("YIWANG_DEMO", "false");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.database_url, "postgres://x@127.0.0.1/test");
            assert!(!s.demo);
            assert_eq!(s.listen, "127.0.0.1:8080");
            Ok(())
        });
    }
}
