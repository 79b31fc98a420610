//! Browser journeys in headless Debian Chromium (fantoccini + chromedriver) against a real
//! server on loopback. Needs /usr/bin/chromium and /usr/bin/chromedriver (`.ci/run` installs
//! them); set YIWANG_SKIP_BROWSER=1 to skip on a machine without them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use yiwang::Settings;
use yiwang_store::testing::TestDb;

/// The chromedriver process, the directory the browser downloads into and its profile.
struct Driver(Child, std::path::PathBuf, String);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        // The browsers chromedriver started outlive it: end the processes of this profile.
        for pid in processes_mentioning(&self.2) {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        }
    }
}

/// Process ids (positive, never this process) whose command line contains `needle`.
fn processes_mentioning(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else { return vec![] };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| *pid > 1 && *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle) && String::from_utf8_lossy(&c).contains("chrom"))
                .unwrap_or(false)
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn start_server() -> (String, TestDb) {
    let t = TestDb::sqlite().await.expect("db");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Links printed into licences (QR codes) and messages point at this server.
    let settings = Settings { database_url: t.options.url.clone(), public_url: format!("http://{addr}"), ..Settings::default() };
    let app = yiwang::build(&settings).await.expect("app");
    // Couriers are handed their parcels by the payments job, as when serving.
    tokio::spawn(app.payments.clone().run(Duration::from_millis(300)));
    let router = yiwang_web::router(app);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    (format!("http://{addr}"), t)
}

async fn browser() -> Option<(Client, Driver)> {
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !std::path::Path::new(&driver_bin).exists() {
        if std::env::var("YIWANG_SKIP_BROWSER").as_deref() == Ok("1") {
            eprintln!("browser tests skipped: {driver_bin} missing and YIWANG_SKIP_BROWSER=1");
            return None;
        }
        panic!("{driver_bin} not found: install Debian's chromium and chromium-driver (see .ci/run) or set YIWANG_SKIP_BROWSER=1");
    }
    let port = free_port();
    let child =
        Command::new(&driver_bin).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("chromedriver");
    let profile = std::env::temp_dir().join(format!("yiwang-chrome-{port}"));
    let driver = Driver(child, download_dir(port), format!("--user-data-dir={}", profile.display()));
    let downloads = download_dir(port);
    let _ = std::fs::create_dir_all(&downloads);
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "prefs": {"download.default_directory": downloads.display().to_string(), "download.prompt_for_download": false},
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,900",
                     format!("--user-data-dir={}", profile.display())]
        }
    });
    let serde_json::Value::Object(caps) = caps else { unreachable!() };
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::rustls().expect("tls").capabilities(caps.clone()).connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(c) => return Some((c, driver)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("could not start a browser session: {last:?}");
}

/// Where a browser session started on `port` saves downloads.
fn download_dir(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("yiwang-downloads-{port}"))
}

async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait().at_most(Duration::from_secs(15)).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_and_staff_journeys() {
    let Some((c, _driver)) = browser().await else { return };
    let (base, _db) = start_server().await;

    // 1. From the home page, search 营业执照, open the item, see materials and time limit.
    c.goto(&base).await.unwrap();
    let q = wait_css(&c, "input#q").await;
    q.send_keys("营业执照").await.unwrap();
    c.find(Locator::Css("form.searchbox button[type=submit]")).await.unwrap().click().await.unwrap();
    let link = c
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath("//ul[@class='cards']//a[contains(., '企业设立登记')]"))
        .await
        .expect("result link");
    let count = c.find(Locator::Css("#result-count")).await.unwrap().text().await.unwrap();
    assert!(count.parse::<u32>().unwrap() >= 1);
    link.click().await.unwrap();
    let title = wait_css(&c, "#item-name").await.text().await.unwrap();
    assert!(title.contains("企业设立登记"), "{title}");
    let materials = c.find(Locator::Css("table.materials")).await.unwrap().text().await.unwrap();
    assert!(materials.contains("公司章程"), "{materials}");
    let promised = c.find(Locator::Css("#promised-days")).await.unwrap().text().await.unwrap();
    assert!(promised.contains('1') && promised.contains("工作日"), "{promised}");

    // 2. Switch to English and stay on the same page.
    let item_url = c.current_url().await.unwrap();
    c.find(Locator::Css("#lang-switch")).await.unwrap().click().await.unwrap();
    wait_css(&c, "html[lang=en]").await;
    assert_eq!(c.current_url().await.unwrap().path(), item_url.path());
    let header = c.find(Locator::Css("header.site")).await.unwrap().text().await.unwrap();
    assert!(header.contains("Jiangchuan Government Services") && header.contains("中文"), "{header}");
    let guide = c.find(Locator::Css("article.guide")).await.unwrap().text().await.unwrap();
    assert!(guide.contains("Documents required") && guide.contains("Promised time"), "{guide}");
    c.find(Locator::Css("#lang-switch")).await.unwrap().click().await.unwrap();
    wait_css(&c, "html[lang=zh-CN]").await;

    // 3. A citizen registers, lands on the account page, verifies their real name online
    //    (L1 -> L2), signs out and signs back in with their phone number.
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_css(&c, "#register-link").await.click().await.unwrap();
    wait_css(&c, "#name").await.send_keys("赵敏").await.unwrap();
    c.find(Locator::Css("#id_number")).await.unwrap().send_keys("360102200001010021").await.unwrap();
    c.find(Locator::Css("#phone")).await.unwrap().send_keys("13600136000").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("blue-river-2024").await.unwrap();
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    let assurance = wait_css(&c, "#assurance").await.text().await.unwrap();
    assert!(assurance.contains("L1"), "{assurance}");
    let id_shown = c.find(Locator::Css("#person-id")).await.unwrap().text().await.unwrap();
    assert_eq!(id_shown, "360102********0021", "ID number masked on display");
    c.find(Locator::Css("#verify-online")).await.unwrap().click().await.unwrap();
    wait_css(&c, "#account-notice").await;
    assert!(c.find(Locator::Css("#assurance")).await.unwrap().text().await.unwrap().contains("L2"));
    c.find(Locator::Css("header.site form.inline button")).await.unwrap().click().await.unwrap();
    wait_css(&c, "#login-link").await.click().await.unwrap();
    wait_css(&c, "#login").await.send_keys("13600136000").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("blue-river-2024").await.unwrap();
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    let name = wait_css(&c, "#person-name").await.text().await.unwrap();
    assert_eq!(name, "赵敏");
    c.find(Locator::Css("header.site form.inline button")).await.unwrap().click().await.unwrap();
    wait_css(&c, "#login-link").await;

    // 4. Staff: sign in with password and authenticator (enrolled now), upload the catalog,
    //    watch the progress bar (htmx) reach done.
    c.goto(&format!("{base}/staff/login")).await.unwrap();
    wait_css(&c, "#username").await.send_keys("admin").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("yiwang-demo-admin").await.unwrap();
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    let secret = wait_css(&c, "#totp-secret").await.text().await.unwrap();
    let code = yiwang_identity::totp::code_at_step(&secret, yiwang_identity::totp::current_step()).unwrap();
    c.find(Locator::Css("#code")).await.unwrap().send_keys(&code).await.unwrap();
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&c, "a[href='/staff/import']").await.click().await.unwrap();
    let file = std::env::temp_dir().join(format!("yiwang-browser-{}.csv", free_port()));
    let csv = reqwest_like_get(&base, "/api/v1/items?per_page=1").await;
    assert!(csv.contains("items"));
    let export = {
        let db = _db.db.clone();
        let catalog = yiwang_catalog::Catalog::open(db).await.unwrap();
        let records = catalog.export_records(&yiwang_catalog::Editor::platform("test")).await.unwrap();
        yiwang_catalog::transfer::write(yiwang_catalog::transfer::Format::Csv, &records).unwrap()
    };
    std::fs::write(&file, export).unwrap();
    wait_css(&c, "input#file").await.send_keys(&file.display().to_string()).await.unwrap();
    c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_css(&c, "progress#bar").await;
    let done = c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#import-done")).await.expect("import done");
    assert!(done.text().await.unwrap().contains("49"));
    let _ = std::fs::remove_file(&file);
    c.close().await.unwrap();
}

/// A plain HTTP GET over loopback without another HTTP client dependency.
async fn reqwest_like_get(base: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// Staff TOTP secrets enrolled during a browser test, with the last step used.
type Secrets = std::collections::HashMap<String, (String, u64)>;

async fn staff_login(c: &Client, base: &str, user: &str, secrets: &mut Secrets) {
    c.goto(&format!("{base}/staff/login")).await.unwrap();
    wait_css(c, "#username").await.send_keys(user).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("yiwang-demo-staff").await.unwrap();
    click_and_wait(c, c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap()).await;
    wait_css(c, "#code").await;
    if let Ok(el) = c.find(Locator::Css("#totp-secret")).await {
        secrets.insert(user.to_string(), (el.text().await.unwrap(), 0));
    }
    let (secret, last) = secrets.get_mut(user).expect("enrolled");
    // Each code is good once; the server accepts one step ahead, so wait when we would need more.
    while yiwang_identity::totp::current_step() + 1 < *last + 1 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let step = yiwang_identity::totp::current_step().max(*last + 1);
    *last = step;
    let code = yiwang_identity::totp::code_at_step(secret, step).unwrap();
    c.find(Locator::Css("#code")).await.unwrap().send_keys(&code).await.unwrap();
    click_and_wait(c, c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap()).await;
    wait_css(c, "#case-queue-link").await;
}

async fn citizen_login(c: &Client, base: &str, login: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    wait_css(c, "#login").await.send_keys(login).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("yiwang-demo-citizen").await.unwrap();
    click_and_wait(c, c.find(Locator::Css("form.stack button[type=submit]")).await.unwrap()).await;
    wait_css(c, "#person-name").await;
}

async fn sign_out(c: &Client) {
    click_and_wait(c, c.find(Locator::Css("header.site form.inline button")).await.unwrap()).await;
    wait_css(c, "#login-link").await;
}

/// Click something that loads a new page, and wait until the old page is gone (so what is
/// read next comes from the new one).
async fn click_and_wait(c: &Client, el: fantoccini::elements::Element) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    el.click().await.unwrap();
    for _ in 0..150 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no new page after the click");
}

async fn status_text(c: &Client) -> String {
    wait_css(c, "#case-status").await.text().await.unwrap()
}

/// What case journeys share: demo item keys, enrolled staff secrets, a small PDF to upload.
fn journey_setup() -> (std::collections::HashMap<String, String>, Secrets, std::path::PathBuf) {
    let pdf = std::env::temp_dir().join(format!("yiwang-browser-{}.pdf", free_port()));
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF").unwrap();
    (yiwang_catalog::demo::province().unwrap().item_keys, Secrets::new(), pdf)
}

/// Upload a file into every material slot shown on the case page.
async fn upload_all(c: &Client, file: &std::path::Path) {
    let n = c.find_all(Locator::Css("form.upload")).await.unwrap().len();
    assert!(n > 0, "upload forms shown");
    for i in 0..n {
        let forms = c.find_all(Locator::Css("form.upload")).await.unwrap();
        let form = &forms[i];
        form.find(Locator::Css("input[type=file]")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
        click_and_wait(c, form.find(Locator::Css("button")).await.unwrap()).await;
    }
}

/// Act on the open staff case page; `text` fills the reason box when the action has one.
async fn act(c: &Client, button: &str, text: Option<&str>) {
    let b = wait_css(c, &format!("#{button}")).await;
    if let Some(t) = text {
        let form = b.find(Locator::XPath("./ancestor::form")).await.unwrap();
        form.find(Locator::Css("textarea")).await.unwrap().send_keys(t).await.unwrap();
    }
    click_and_wait(c, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_journeys() {
    let Some((c, _driver)) = browser().await else { return };
    let (base, _db) = start_server().await;
    let (keys, mut secrets, pdf) = journey_setup();

    // 1. 张伟 applies for 身份证换领 from the guide: the form is pre-filled, the one material
    //    uploaded, submitted.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&format!("{base}/items/{}", keys["sfz-hb"])).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#apply-link").await).await;
    let id_field = wait_css(&c, "#f_id_number").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(id_field, "360102199003071236", "pre-filled from the account");
    c.find(Locator::Css("#f_reason")).await.unwrap().select_by_value("有效期满换领").await.unwrap();
    c.find(Locator::Css("#f_address")).await.unwrap().send_keys("青山市东城区人民路1号").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#start-application")).await.unwrap()).await;
    assert!(status_text(&c).await.contains("草稿"));
    let case_url = c.current_url().await.unwrap().to_string();
    upload_all(&c, &pdf).await;
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    assert!(status_text(&c).await.contains("待受理"));
    let number = c.find(Locator::Css("#case-number")).await.unwrap().text().await.unwrap();
    assert_eq!(number.trim().len(), 43, "{number}");
    let case_id = case_url.rsplit('/').next().unwrap().to_string();
    sign_out(&c).await;

    // 2. The window of 公安局 accepts it from the queue.
    staff_login(&c, &base, "gaj-window", &mut secrets).await;
    click_and_wait(&c, c.find(Locator::Css("#case-queue-link")).await.unwrap()).await;
    click_and_wait(&c, wait_css(&c, &format!("a[href='/staff/cases/{case_id}']")).await).await;
    act(&c, "do-accept", None).await;
    assert!(status_text(&c).await.contains("办理中"));
    sign_out(&c).await;

    // 3. The approver asks for a correction; the clock stops.
    staff_login(&c, &base, "gaj-approver", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{case_id}")).await.unwrap();
    act(&c, "do-request_correction-1", Some("户口簿首页照片不清晰，请重新上传")).await;
    assert!(status_text(&c).await.contains("待补正"));
    sign_out(&c).await;

    // 4. The citizen sees what to correct, uploads again and resubmits.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&case_url).await.unwrap();
    let note = wait_css(&c, "#correction-note").await.text().await.unwrap();
    assert!(note.contains("户口簿首页照片不清晰"), "{note}");
    upload_all(&c, &pdf).await;
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    assert!(status_text(&c).await.contains("办理中"));
    sign_out(&c).await;

    // 5. The approver approves both steps; the result is delivered electronically.
    staff_login(&c, &base, "gaj-approver", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{case_id}")).await.unwrap();
    act(&c, "do-approve-1", None).await;
    act(&c, "do-approve-1", None).await;
    assert!(status_text(&c).await.contains("已送达"));
    sign_out(&c).await;

    // 6. The citizen sees the whole timeline and the messages.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&case_url).await.unwrap();
    let timeline = wait_css(&c, "#timeline").await.text().await.unwrap();
    for want in ["提交申请", "受理", "一次性告知补正", "补正材料已提交", "环节办理完成", "办结", "送达", "青山市公安局"]
    {
        assert!(timeline.contains(want), "{want} in {timeline}");
    }
    assert!(!timeline.contains("gaj-approver"), "staff identities stay internal");
    click_and_wait(&c, c.find(Locator::Css("#inbox-link")).await.unwrap()).await;
    let inbox = wait_css(&c, "#inbox").await.text().await.unwrap();
    assert!(inbox.contains("办件已办结"), "{inbox}");
    // "Verify this history": every event proven in the signed ledger.
    c.goto(&case_url).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#verify-history").await).await;
    let verdict = wait_css(&c, "#ledger-verdict").await.text().await.unwrap();
    assert!(verdict.contains("验证通过"), "{verdict}");
    let proven = c.find_all(Locator::Css("#ledger-result tbody tr")).await.unwrap().len();
    assert!(proven >= 8, "{proven} events proven");

    // 7. 开办企业一件事: acting for the company, one form and one set of materials; five
    //    departments work in parallel and the case concludes only when the last one finishes.
    c.goto(&format!("{base}/account")).await.unwrap();
    let code_input = wait_css(&c, "#credit_code").await;
    code_input.send_keys("91360100MA35C00005").await.unwrap();
    click_and_wait(&c, code_input.find(Locator::XPath("./ancestor::form//button")).await.unwrap()).await;
    let act_for = wait_css(&c, "form[action='/account/acting'] input[value='91360100MA35C00005']").await;
    click_and_wait(&c, act_for.find(Locator::XPath("./ancestor::form//button")).await.unwrap()).await;
    wait_css(&c, "#acting-as").await;
    c.goto(&format!("{base}/bundles/kaiban-qiye")).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#apply-bundle").await).await;
    wait_css(&c, "#f_company_name").await.send_keys("青山云帆科技有限公司").await.unwrap();
    c.find(Locator::Css("#f_company_type")).await.unwrap().select_by_value("有限责任公司").await.unwrap();
    for (id, v) in [
        ("f_registered_capital", "100"),
        ("f_shareholders", "2"),
        ("f_address", "青山市高新区创新大道8号"),
        ("f_scope", "软件开发"),
        ("f_employees", "12"),
        ("f_deposit_rate", "12"),
    ] {
        c.find(Locator::Css(&format!("#{id}"))).await.unwrap().send_keys(v).await.unwrap();
    }
    c.find(Locator::Css("#f_seal_kinds")).await.unwrap().select_by_value("公章、财务章、发票专用章").await.unwrap();
    c.find(Locator::Css("#f_invoice_type")).await.unwrap().select_by_value("增值税普通发票（电子）").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#start-application")).await.unwrap()).await;
    wait_css(&c, "#case-form").await;
    let bundle_url = c.current_url().await.unwrap().to_string();
    let bundle_id = bundle_url.rsplit('/').next().unwrap().to_string();
    upload_all(&c, &pdf).await;
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    assert!(status_text(&c).await.contains("待受理"));
    sign_out(&c).await;

    staff_login(&c, &base, "window1", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{bundle_id}")).await.unwrap();
    act(&c, "do-accept", None).await;
    sign_out(&c).await;
    let approvers = ["gjj-approver", "sw-approver", "rsj-approver", "gaj-approver", "spj-approver"];
    for (i, user) in approvers.iter().enumerate() {
        staff_login(&c, &base, user, &mut secrets).await;
        c.goto(&format!("{base}/staff/cases/{bundle_id}")).await.unwrap();
        // Each department approves its own branch's steps until none are left for it.
        while let Ok(b) = c.find(Locator::Css("button[id^='do-approve-']")).await {
            let id = b.attr("id").await.unwrap().unwrap();
            act(&c, &id, None).await;
        }
        let status = status_text(&c).await;
        if i + 1 < approvers.len() {
            assert!(status.contains("办理中"), "{user}: still in progress while others work: {status}");
        } else {
            // Electronic delivery (the default) is done at conclusion.
            assert!(status.contains("已送达") && status.contains("准予办理"), "{status}");
        }
        sign_out(&c).await;
    }
    // The company's cases are seen when acting for the company.
    citizen_login(&c, &base, "360102199003071236").await;
    let act_for = wait_css(&c, "form[action='/account/acting'] input[value='91360100MA35C00005']").await;
    click_and_wait(&c, act_for.find(Locator::XPath("./ancestor::form//button")).await.unwrap()).await;
    c.goto(&bundle_url).await.unwrap();
    let branches = wait_css(&c, "#branches").await.text().await.unwrap();
    assert_eq!(branches.matches("准予").count(), 5, "{branches}");
    let _ = std::fs::remove_file(&pdf);
    c.close().await.unwrap();
}

/// Upload a file into every material slot not already filled by an e-licence.
async fn upload_missing(c: &Client, file: &std::path::Path) -> usize {
    let n = c.find_all(Locator::Css("li.material")).await.unwrap().len();
    let mut uploaded = 0;
    for i in 0..n {
        let items = c.find_all(Locator::Css("li.material")).await.unwrap();
        let li = &items[i];
        if li.find(Locator::Css(".licence-used")).await.is_ok() || li.find(Locator::Css(".shared-used")).await.is_ok() {
            continue;
        }
        let form = li.find(Locator::Css("form.upload")).await.unwrap();
        form.find(Locator::Css("input[type=file]")).await.unwrap().send_keys(&file.display().to_string()).await.unwrap();
        click_and_wait(c, form.find(Locator::Css("button")).await.unwrap()).await;
        uploaded += 1;
    }
    uploaded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licence_journey() {
    let Some((c, _driver)) = browser().await else { return };
    let (base, _db) = start_server().await;
    let (keys, mut secrets, pdf) = journey_setup();

    // 1. 张三 applies for marriage registration; his e-ID card fills its material slot.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&format!("{base}/apply?item={}", keys["jh-dj"])).await.unwrap();
    wait_css(&c, "#f_spouse_name").await.send_keys("李梅").await.unwrap();
    c.find(Locator::Css("#f_spouse_id_number")).await.unwrap().send_keys("360103198512120034").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#start-application")).await.unwrap()).await;
    wait_css(&c, "#case-form").await;
    assert_eq!(c.find_all(Locator::Css(".licence-used")).await.unwrap().len(), 1, "the ID card comes from the wallet");
    assert_eq!(c.find_all(Locator::Css(".shared-used")).await.unwrap().len(), 2, "household register and marital status from data sharing");
    let case_url = c.current_url().await.unwrap().to_string();
    let case_id = case_url.rsplit('/').next().unwrap().to_string();
    assert!(upload_missing(&c, &pdf).await > 0);
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    assert!(status_text(&c).await.contains("待受理"));
    sign_out(&c).await;

    // 2. The marriage registry's window sees the verified e-licence and finishes on the spot.
    staff_login(&c, &base, "mzj-window", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{case_id}")).await.unwrap();
    let checks = wait_css(&c, "#licence-checks").await.text().await.unwrap();
    assert!(checks.contains("居民身份证") && checks.contains("核验有效"), "{checks}");
    act(&c, "do-accept_spot", None).await;
    let status = status_text(&c).await;
    assert!(status.contains("已送达") || status.contains("已办结"), "{status}");
    sign_out(&c).await;

    // 3. 张三 sees who accessed his data: the registry's checks and the window's read.
    citizen_login(&c, &base, "360102199003071236").await;
    click_and_wait(&c, wait_css(&c, "#data-access-link").await).await;
    let access = wait_css(&c, "#data-access").await.text().await.unwrap();
    assert!(access.contains("青山市东城区民政局") && access.contains("人口基础信息") && access.contains("工作人员查阅办件"), "{access}");

    // The marriage certificate is in the wallet; its QR link opens a page that says valid.
    click_and_wait(&c, wait_css(&c, "#licences-link").await).await;
    let wallet = wait_css(&c, "#wallet").await.text().await.unwrap();
    assert!(wallet.contains("结婚证") && wallet.contains("东城区民政局"), "{wallet}");
    click_and_wait(&c, c.find(Locator::LinkText("结婚证")).await.unwrap()).await;
    assert!(wait_css(&c, "#licence").await.text().await.unwrap().contains("李梅"));
    assert!(c.find(Locator::Css(".qr svg")).await.is_ok(), "QR code shown");
    click_and_wait(&c, c.find(Locator::Css("#verify-link")).await.unwrap()).await;
    let verdict = wait_css(&c, "#verify-verdict").await.text().await.unwrap();
    assert!(verdict.contains("核验通过"), "{verdict}");
    let result = c.find(Locator::Css("#verify-result")).await.unwrap().text().await.unwrap();
    assert!(result.contains("360102********1236") && !result.contains("360102199003071236"), "masked: {result}");

    // 4. Birth registration at the health commission: both proofs come from licences, nothing
    //    to upload, and it submits.
    c.goto(&format!("{base}/apply?item={}", keys["sy-dj"])).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#start-application").await).await;
    wait_css(&c, "#case-form").await;
    let used = c.find_all(Locator::Css(".licence-used")).await.unwrap().len();
    assert_eq!(used, 2, "ID card and marriage certificate reused");
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    assert!(status_text(&c).await.contains("待受理"));
    let _ = std::fs::remove_file(&pdf);
    c.close().await.unwrap();
}

/// The department score shown on the supervision dashboard.
async fn score_of(c: &Client, department: &str) -> i64 {
    let cell = wait_css(c, &format!("tr.score[data-department='{department}'] .score-value")).await;
    cell.text().await.unwrap().trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervision_and_rating_journey() {
    let Some((c, _driver)) = browser().await else { return };
    let (base, _db) = start_server().await;
    let mut secrets = Secrets::new();
    const GAJ: &str = "11360100104974650K";

    // The supervisor sees the demo case left undecided for weeks as a red alert.
    staff_login(&c, &base, "supervisor", &mut secrets).await;
    click_and_wait(&c, wait_css(&c, "#oversight-link").await).await;
    wait_css(&c, "tr.alert-red").await;
    let list = c.find(Locator::Css("#alert-list")).await.unwrap().text().await.unwrap();
    assert!(list.contains("居民身份证换领、补领") && list.contains("已超过时限"), "{list}");
    let before = score_of(&c, GAJ).await;
    assert!(before < 100, "the overdue case already cost the police bureau points: {before}");
    let overdue =
        c.find(Locator::XPath("//table[@id='alert-list']//tr[contains(@class,'alert-red')][contains(.,'环节时限')]//a")).await.unwrap();
    click_and_wait(&c, overdue).await;
    assert!(wait_css(&c, "#alert-detail").await.text().await.unwrap().contains("已超过时限"));
    sign_out(&c).await;

    // The public page before the citizen rates.
    c.goto(&format!("{base}/oversight")).await.unwrap();
    let count: i64 = wait_css(&c, "#rating-count").await.text().await.unwrap().trim().parse().unwrap();

    // 张三 rates his finished passport case: very dissatisfied, with a reason.
    citizen_login(&c, &base, "360102199003071236").await;
    click_and_wait(&c, wait_css(&c, "#my-cases-link").await).await;
    let link = c.find(Locator::XPath("//table[@id='my-cases']//a[contains(.,'普通护照签发')]")).await.unwrap();
    click_and_wait(&c, link).await;
    wait_css(&c, "#level-1").await.click().await.unwrap();
    c.find(Locator::Css("#rating-comment")).await.unwrap().send_keys("制证进度一直查不到").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#submit-rating")).await.unwrap()).await;
    assert!(wait_css(&c, "#my-rating").await.text().await.unwrap().contains("非常不满意"));
    assert!(c.find(Locator::Css("#submit-rating")).await.is_err(), "one rating per case");
    sign_out(&c).await;

    // The public page counts it; the department's score drops.
    c.goto(&format!("{base}/oversight")).await.unwrap();
    let after: i64 = wait_css(&c, "#rating-count").await.text().await.unwrap().trim().parse().unwrap();
    assert_eq!(after, count + 1);
    staff_login(&c, &base, "supervisor", &mut secrets).await;
    c.goto(&format!("{base}/staff/oversight")).await.unwrap();
    assert_eq!(score_of(&c, GAJ).await, before - 2, "a bad review costs two points");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_online_and_follow_the_courier() {
    let Some((c, _driver)) = browser().await else { return };
    let (base, _db) = start_server().await;
    let (keys, mut secrets, pdf) = journey_setup();

    // 张三 applies for his first ID card (20 元, paid online) to be sent by courier.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&format!("{base}/items/{}", keys["sfz-sl"])).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#apply-link").await).await;
    wait_css(&c, "input[name=delivery][value=courier]").await.click().await.unwrap();
    c.find(Locator::Css("#delivery_address")).await.unwrap().send_keys("江川省青山市东城区人民路1号3栋201室").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#start-application")).await.unwrap()).await;
    let case_url = c.current_url().await.unwrap().to_string();
    let case_id = case_url.rsplit('/').next().unwrap().to_string();
    upload_all(&c, &pdf).await;
    click_and_wait(&c, wait_css(&c, "#submit-case").await).await;
    sign_out(&c).await;

    // The window accepts: the case waits for the fee.
    staff_login(&c, &base, "gaj-window", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{case_id}")).await.unwrap();
    act(&c, "do-accept", None).await;
    assert!(status_text(&c).await.contains("待缴费"));
    sign_out(&c).await;

    // He pays at the sandbox cashier and comes back to a case in progress.
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&case_url).await.unwrap();
    assert!(wait_css(&c, "#payment-amount").await.text().await.unwrap().contains("20.00元"));
    click_and_wait(&c, wait_css(&c, "#pay-now").await).await;
    assert!(wait_css(&c, "#pay-amount").await.text().await.unwrap().contains("20.00元"));
    click_and_wait(&c, c.find(Locator::Css("#pay-succeed")).await.unwrap()).await;
    assert!(status_text(&c).await.contains("办理中"), "the case continues once paid");
    assert!(wait_css(&c, "#payment-status").await.text().await.unwrap().contains("已支付"));
    assert!(c.find(Locator::Css("#timeline")).await.unwrap().text().await.unwrap().contains("已缴费"));
    sign_out(&c).await;

    // The bureau decides; the result goes by courier.
    staff_login(&c, &base, "gaj-approver", &mut secrets).await;
    c.goto(&format!("{base}/staff/cases/{case_id}")).await.unwrap();
    act(&c, "do-approve-1", None).await;
    act(&c, "do-approve-1", None).await;
    assert!(status_text(&c).await.contains("已办结"));
    sign_out(&c).await;

    // The courier (sandbox) picks it up and moves it to the door; the citizen follows it.
    c.goto(&format!("{base}/sandbox/courier/{case_id}")).await.unwrap();
    let mut waybill = None;
    for _ in 0..50 {
        if let Ok(w) = c.find(Locator::Css("#waybill")).await {
            waybill = Some(w.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        c.refresh().await.unwrap();
    }
    let waybill = waybill.expect("handed to the courier");
    for _ in 0..4 {
        click_and_wait(&c, wait_css(&c, "#advance").await).await;
    }
    assert!(wait_css(&c, "#shipment-status").await.text().await.unwrap().contains("已签收"));
    citizen_login(&c, &base, "360102199003071236").await;
    c.goto(&case_url).await.unwrap();
    assert!(status_text(&c).await.contains("已送达"));
    let tracking = wait_css(&c, "#shipment").await.text().await.unwrap();
    assert!(tracking.contains(&waybill) && tracking.contains("派送中") && tracking.contains("已签收"), "{tracking}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_a_policy_and_download_open_data() {
    let Some((c, driver)) = browser().await else { return };
    let (base, _db) = start_server().await;

    // Find a policy by searching in plain words, read its interpretation.
    c.goto(&base).await.unwrap();
    click_and_wait(&c, wait_css(&c, "#gk-nav").await).await;
    wait_css(&c, "#gk-q").await.send_keys("公积金 租房").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#gk-search")).await.unwrap()).await;
    let first = wait_css(&c, "#documents .doc-link").await;
    assert!(first.text().await.unwrap().contains("住房公积金提取管理办法"));
    click_and_wait(&c, first).await;
    let interp = wait_css(&c, "#interpretation").await.text().await.unwrap();
    assert!(interp.contains("政策解读") && interp.contains("1.2万元"), "{interp}");

    // Open a dataset, see the preview, download the CSV.
    click_and_wait(&c, wait_css(&c, "#data-nav").await).await;
    wait_css(&c, "#data-q").await.send_keys("医疗机构").await.unwrap();
    click_and_wait(&c, c.find(Locator::Css("#data-search")).await.unwrap()).await;
    click_and_wait(&c, wait_css(&c, "#datasets .dataset-link").await).await;
    assert!(wait_css(&c, "#dataset-title").await.text().await.unwrap().contains("医疗机构名录"));
    let preview = wait_css(&c, "table.preview").await.text().await.unwrap();
    assert!(preview.contains("医院名称") && preview.contains("人民医院"), "{preview}");
    wait_css(&c, "#download-1").await.click().await.unwrap();
    let mut csv = None;
    for _ in 0..100 {
        if let Some(f) = std::fs::read_dir(&driver.1)
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).find(|e| e.file_name().to_string_lossy().ends_with(".csv")))
        {
            csv = std::fs::read_to_string(f.path()).ok().filter(|t| !t.is_empty());
            if csv.is_some() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv = csv.expect("the CSV was downloaded");
    assert!(csv.starts_with("医院名称,等级"), "{csv}");
    c.refresh().await.unwrap();
    assert_eq!(wait_css(&c, "#downloads").await.text().await.unwrap().trim(), "1", "the download was counted");
}
