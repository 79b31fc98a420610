//! Identity benchmark: password logins/s (argon2id at OWASP's m=19456 KiB, t=2, p=1), OIDC
//! token refreshes/s (rotation in a transaction + EdDSA access token) and userinfo/s
//! (signature check + grant lookup), in process against a fresh SQLite file (and PostgreSQL
//! unless YIWANG_TEST_PG=off). Run: `cargo bench -p yiwang --bench identity`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_identity::oidc::{AuthorizeParams, NewClient, Provider, TokenParams};
use yiwang_identity::{ClientInfo, Identity, IdentityConfig, NewPerson, Role, Staff};
use yiwang_store::testing::TestDb;

const CONCURRENCY: usize = 32;

async fn run<F, Fut>(label: &str, total: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let start = Instant::now();
    let per = total / CONCURRENCY;
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                f(w * per + i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "{label:<44} {:>9.0}/s  ({:.0}/s/core, {} ops in {:.2}s)",
        (per * CONCURRENCY) as f64 / secs,
        (per * CONCURRENCY) as f64 / secs / cores as f64,
        per * CONCURRENCY,
        secs
    );
}

#[tokio::main]
async fn main() {
    // The ceiling the password parameters set: one argon2id verification per core.
    let hash = yiwang_identity::hash_password("bench-password-1").unwrap();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(2) {
        assert!(yiwang_identity::verify_password("bench-password-1", &hash));
        n += 1;
    }
    println!("argon2id verify, one core (m=19456,t=2,p=1)   {:>9.1}/s", n as f64 / start.elapsed().as_secs_f64());

    for t in TestDb::each().await.unwrap() {
        let backend = if t.options.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        println!("== {backend}");
        let identity = Identity::new(t.db.clone(), IdentityConfig::default(), yiwang_crypto::PersonalData::ephemeral()).unwrap();
        identity
            .register_person(NewPerson {
                name: "张三",
                id_number: "360102199003071236",
                phone: "13800138000",
                email: None,
                password: "bench-password-1",
            })
            .await
            .unwrap();
        let id = identity.clone();
        run("password logins (person, argon2id)", 128, move |_| {
            let id = id.clone();
            async move {
                id.login_person("13800138000", "bench-password-1", ClientInfo::default()).await.unwrap();
            }
        })
        .await;

        let provider = Arc::new(Provider::new(identity.clone()));
        let admin =
            Staff { username: "admin".into(), display_name: "a".into(), department: None, region: None, roles: vec![Role::PlatformAdmin] };
        let uris = vec!["http://127.0.0.1:9/cb".to_string()];
        let reg = provider
            .register_client(
                &admin,
                NewClient {
                    name: "bench",
                    redirect_uris: &uris,
                    post_logout_redirect_uris: &[],
                    scopes: &["profile".into()],
                    id_token_alg: "RS256",
                    subject_kind: "person",
                    department: None,
                },
                "",
            )
            .await
            .unwrap();
        let (_, session) = identity.login_person("13800138000", "bench-password-1", ClientInfo::default()).await.unwrap();
        let verifier = "v".repeat(43);
        let challenge = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        // One grant per worker so refreshes rotate independent token chains.
        let mut chains = Vec::new();
        for _ in 0..CONCURRENCY {
            let p = AuthorizeParams {
                response_type: "code".into(),
                client_id: reg.client.client_id.clone(),
                redirect_uri: uris[0].clone(),
                scope: "openid profile".into(),
                code_challenge: Some(challenge.clone()),
                code_challenge_method: Some("S256".into()),
                ..Default::default()
            };
            let req = provider.validate_authorize(&p).await.unwrap();
            let url = provider.approve(&session, &req).await.unwrap();
            let code = url.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
            let tp = TokenParams {
                grant_type: "authorization_code".into(),
                code: Some(code),
                redirect_uri: Some(uris[0].clone()),
                code_verifier: Some(verifier.clone()),
                ..Default::default()
            };
            let tok = provider.token(&tp, Some((reg.client.client_id.clone(), reg.client_secret.clone()))).await.unwrap();
            chains.push(tokio::sync::Mutex::new((tok.refresh_token, tok.access_token)));
        }
        let chains = Arc::new(chains);
        let creds = (reg.client.client_id.clone(), reg.client_secret.clone());
        let (p2, c2, cr2) = (provider.clone(), chains.clone(), creds.clone());
        run("token refreshes (rotate + EdDSA access token)", 20_000, move |i| {
            let (p, c, cr) = (p2.clone(), c2.clone(), cr2.clone());
            async move {
                let mut chain = c[i % CONCURRENCY].lock().await;
                let tp = TokenParams { grant_type: "refresh_token".into(), refresh_token: Some(chain.0.clone()), ..Default::default() };
                let t = p.token(&tp, Some(cr)).await.unwrap();
                *chain = (t.refresh_token, t.access_token);
            }
        })
        .await;
        let (p3, c3) = (provider.clone(), chains.clone());
        run("userinfo (verify EdDSA + grant + claims)", 20_000, move |i| {
            let (p, c) = (p3.clone(), c3.clone());
            async move {
                let at = c[i % CONCURRENCY].lock().await.1.clone();
                p.userinfo(&at).await.unwrap();
            }
        })
        .await;
    }
}
