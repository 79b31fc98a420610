//! Browser journeys in headless Debian Chromium (fantoccini + chromedriver) against a real
//! server on loopback. Needs /usr/bin/chromium and /usr/bin/chromedriver (`.ci/run` installs
//! them); set YIWANG_SKIP_BROWSER=1 to skip on a machine without them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use yiwang::Settings;
use yiwang_store::testing::TestDb;

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn start_server() -> (String, TestDb) {
    let t = TestDb::sqlite().await.expect("db");
    let settings = Settings { database_url: t.options.url.clone(), ..Settings::default() };
    let app = yiwang::build(&settings).await.expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
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
    let driver = Driver(child);
    let profile = std::env::temp_dir().join(format!("yiwang-chrome-{port}"));
    let caps = serde_json::json!({
        "goog:chromeOptions": {
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
