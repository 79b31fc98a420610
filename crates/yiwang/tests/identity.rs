//! Unified identity over HTTP: citizen and business journeys, authorization between accounts,
//! bad input, password reset through the outbox, in-person verification, and the OpenID
//! Connect provider driven by a certified relying-party library (`openidconnect`).

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn citizen_and_business_journeys_with_authorization() {
    for t in apps().await {
        let b = t.backend;
        // Bad input gets a clear, coded error.
        let reg = |id: &str, phone: &str, pw: &str| json!({"name": "陈静", "id_number": id, "phone": phone, "password": pw});
        let r = t.json("POST", "/api/v1/persons", &reg("360121199511110027", "13500135000", "blue-river-42"), None).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("CODE_CHECK_DIGIT")), "{b} {}", r.body);
        let future = format!("36012120991111{}", "002");
        let fid = format!("{future}{}", yiwang_core::codes::CitizenId::check_char(&future));
        let r = t.json("POST", "/api/v1/persons", &reg(&fid, "13500135000", "blue-river-42"), None).await;
        assert_eq!(r.json()["code"], "CODE_DATE", "{}", r.body);
        let r = t.json("POST", "/api/v1/persons", &reg("360121199511110026", "13500135000", "password123"), None).await;
        assert_eq!(r.json()["code"], "WEAK_PASSWORD", "{}", r.body);
        let r = t.json("POST", "/api/v1/persons", &reg("360121199511110026", "1350013", "blue-river-42"), None).await;
        assert_eq!(r.json()["code"], "INVALID_FIELD", "{}", r.body);
        let r = t.json("POST", "/api/v1/persons", &reg("360121199511110026", "13500135000", "blue-river-42"), None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.json()["id_number_masked"], "360121********0026");
        let r = t.json("POST", "/api/v1/persons", &reg("360121199511110026", "13500135001", "blue-river-42"), None).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::CONFLICT, Some("ID_NUMBER_TAKEN")));

        // Online verification against the population source: L1 -> L2.
        let chen = t.person_login("13500135000", "blue-river-42").await;
        let p = t.get_with("/api/v1/persons/me", &chen.cookie).await.json();
        assert_eq!((p["assurance_level"].as_u64(), p["phone_masked"].as_str()), (Some(1), Some("135****5000")));
        assert!(!t.get_with("/api/v1/persons/me", &chen.cookie).await.body.contains("360121199511110026"), "full ID never shown");
        let v = t.json("POST", "/api/v1/persons/me/verify", &json!({}), Some(&chen)).await;
        assert_eq!(v.json()["assurance_level"], 2, "{}", v.body);

        // Businesses: the registry names 张三 as representative; 王五 (L1) cannot open one.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        let wang = t.person_login(WANG.0, WANG.1).await;
        let r = t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&wang)).await;
        assert_eq!(r.json()["code"], "ASSURANCE_TOO_LOW", "{}", r.body);
        let r = t.json("POST", "/api/v1/businesses", &json!({"credit_code": "91360100MA35C00006"}), Some(&zhang)).await;
        assert_eq!(r.json()["code"], "CODE_CHECK_DIGIT");
        let li = t.person_login(LI.0, LI.1).await;
        let r = t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&li)).await;
        assert_eq!((r.status, r.json()["code"].as_str()), (StatusCode::FORBIDDEN, Some("NOT_REPRESENTATIVE")));
        let r = t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        // An agent with scopes and expiry; only the representative manages agents.
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
        let agents = format!("/api/v1/businesses/{ZHANG_BUSINESS}/agents");
        let grant = json!({"id_number": LI.0, "scopes": ["apply", "view"], "expires_on": tomorrow});
        let r = t.json("POST", &agents, &grant, Some(&li)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "an agent-to-be cannot authorise themself");
        let r = t.json("POST", &agents, &json!({"id_number": WANG.0, "scopes": ["apply"], "expires_on": tomorrow}), Some(&zhang)).await;
        assert_eq!(r.json()["code"], "INVALID_FIELD", "L1 people cannot be agents: {}", r.body);
        let r = t.json("POST", &agents, &json!({"id_number": LI.0, "scopes": ["apply"], "expires_on": "2001-01-01"}), Some(&zhang)).await;
        assert_eq!(r.json()["code"], "INVALID_FIELD");
        let r = t.json("POST", &agents, &grant, Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let agent_id = r.json()["id"].as_i64().unwrap();
        let act = json!({"credit_code": ZHANG_BUSINESS});
        let r = t.json("POST", "/api/v1/persons/me/acting-for", &act, Some(&li)).await;
        assert_eq!(r.json()["acting_for"]["role"], "agent", "{}", r.body);
        let r = t.json("POST", "/api/v1/persons/me/acting-for", &act, Some(&wang)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "strangers cannot act for the business");
        let r = t.json("DELETE", &format!("{agents}/{agent_id}"), &json!({}), Some(&zhang)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let me = t.get_with("/api/v1/persons/me", &li.cookie).await.json();
        assert!(me["acting_for"].is_null(), "revocation takes effect in live sessions: {me}");

        // A citizen cannot revoke another's session, nor use staff endpoints.
        let zhang_sessions = t.get_with("/api/v1/persons/me/sessions", &zhang.cookie).await.json();
        let handle = zhang_sessions[0]["handle"].as_str().unwrap().to_string();
        let r = t.json("DELETE", &format!("/api/v1/persons/me/sessions/{handle}"), &json!({}), Some(&li)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.json("POST", "/api/v1/staff/verifications", &json!({"id_number": WANG.0, "name": "王五"}), Some(&li)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(t.get_with("/staff", &li.cookie).await.status, StatusCode::SEE_OTHER);
        // And staff sessions are not citizen sessions.
        let window = t.login("window1", "yiwang-demo-staff").await;
        assert_eq!(t.get_with("/api/v1/persons/me", &window.cookie).await.status, StatusCode::UNAUTHORIZED);

        // In-person verification: window staff only; the name must match the card.
        let spj = t.login(SPJ.0, SPJ.1).await;
        let r = t.json("POST", "/api/v1/staff/verifications", &json!({"id_number": WANG.0, "name": "王五"}), Some(&spj)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "a department admin is not window staff");
        let r = t.json("POST", "/api/v1/staff/verifications", &json!({"id_number": WANG.0, "name": "王六"}), Some(&window)).await;
        assert_eq!(r.json()["code"], "VERIFICATION_FAILED");
        let r = t.json("POST", "/api/v1/staff/verifications", &json!({"id_number": WANG.0, "name": "王五"}), Some(&window)).await;
        assert_eq!(r.json()["assurance_level"], 3, "{}", r.body);
        assert!(t.app.identity.recent_audit(20).await.unwrap().iter().any(|a| a.action == "verify_in_person" && a.actor == "window1"));

        // Login history and sessions are visible to their owner.
        let logins = t.get_with("/api/v1/persons/me/logins", &zhang.cookie).await.json();
        assert_eq!(logins[0]["result"], "success");
        assert_eq!(t.get_with(&format!("/account/businesses/{ZHANG_BUSINESS}"), &li.cookie).await.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn password_reset_through_the_outbox() {
    for t in apps().await {
        let old = t.person_login(LI.0, LI.1).await;
        let r = t.json("POST", "/api/v1/persons/password-reset", &json!({"login": "13900139001"}), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        let r = t.json("POST", "/api/v1/persons/password-reset", &json!({"login": "13000000000"}), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "unknown accounts look the same");
        let sms = t.app.outbox.for_recipient("13900139001", 5).await.unwrap();
        let token = sms[0].body.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
        let confirm = |pw: &str, tok: &str| json!({"token": tok, "password": pw});
        let r = t.json("POST", "/api/v1/persons/password-reset/confirm", &confirm("short", &token), None).await;
        assert_eq!(r.json()["code"], "WEAK_PASSWORD");
        let r = t.json("POST", "/api/v1/persons/password-reset/confirm", &confirm("green-field-77", "0000"), None).await;
        assert_eq!(r.json()["code"], "INVALID_RESET_TOKEN");
        let r = t.json("POST", "/api/v1/persons/password-reset/confirm", &confirm("green-field-77", &token), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        let r = t.json("POST", "/api/v1/persons/password-reset/confirm", &confirm("green-field-78", &token), None).await;
        assert_eq!(r.json()["code"], "INVALID_RESET_TOKEN", "a reset link works once");
        assert_eq!(t.get_with("/api/v1/persons/me", &old.cookie).await.status, StatusCode::UNAUTHORIZED, "old sessions end");
        t.person_login(LI.0, "green-field-77").await;
    }
}

/// The HTTP client the relying-party library uses: requests go to the in-process router.
fn rp_http(
    t: &TestApp,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + Send>>
       + '_ {
    move |req: openidconnect::HttpRequest| {
        let router = t.router.clone();
        Box::pin(async move {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            let (parts, body) = req.into_parts();
            let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
            let mut b = http::Request::builder().method(parts.method).uri(path);
            for (k, v) in parts.headers.iter() {
                b = b.header(k, v);
            }
            let res = router.oneshot(b.body(axum::body::Body::from(body)).unwrap()).await.unwrap();
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
            let mut out = http::Response::builder().status(status);
            for (k, v) in headers.iter() {
                out = out.header(k, v);
            }
            Ok(out.body(bytes).unwrap())
        })
    }
}

#[tokio::test]
async fn openid_connect_with_a_certified_relying_party() {
    use openidconnect::core::*;
    use openidconnect::*;
    for t in apps().await {
        let b = t.backend;
        let admin = t.login(ADMIN.0, ADMIN.1).await;
        let redirect = "http://127.0.0.1:9999/callback";
        // Only platform admins register clients; redirect URIs are checked.
        let spj = t.login(SPJ.0, SPJ.1).await;
        let body = json!({"name": "青山市不动产登记系统", "redirect_uris": [redirect], "post_logout_redirect_uris": ["http://127.0.0.1:9999/bye"],
            "scopes": ["openid", "profile", "id_number", "business"], "id_token_alg": "RS256"});
        assert_eq!(t.json("POST", "/api/v1/oidc/clients", &body, Some(&spj)).await.status, StatusCode::FORBIDDEN);
        let bad = json!({"name": "x", "redirect_uris": ["http://evil.example.com/cb"], "scopes": ["openid"]});
        assert_eq!(t.json("POST", "/api/v1/oidc/clients", &bad, Some(&admin)).await.json()["code"], "INVALID_FIELD");
        let r = t.json("POST", "/api/v1/oidc/clients", &body, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let (client_id, secret) =
            (r.json()["client_id"].as_str().unwrap().to_string(), r.json()["client_secret"].as_str().unwrap().to_string());

        let http = rp_http(&t);
        let issuer = IssuerUrl::new("http://127.0.0.1:8080".into()).unwrap();
        let meta = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery");
        let client = CoreClient::from_provider_metadata(meta, ClientId::new(client_id.clone()), Some(ClientSecret::new(secret.clone())))
            .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap());

        // Authorization request: the citizen signs in (acting for their business) and consents.
        let zhang = t.person_login(ZHANG.0, ZHANG.1).await;
        t.json("POST", "/api/v1/businesses", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
        t.json("POST", "/api/v1/persons/me/acting-for", &json!({"credit_code": ZHANG_BUSINESS}), Some(&zhang)).await;
        let authorize = |challenge: PkceCodeChallenge| {
            client
                .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
                .add_scope(Scope::new("profile".into()))
                .add_scope(Scope::new("id_number".into()))
                .add_scope(Scope::new("business".into()))
                .set_pkce_challenge(challenge)
                .url()
        };
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = authorize(challenge);
        let path = format!("{}?{}", url.path(), url.query().unwrap());
        let anon = t.get(&path).await;
        assert!(anon.location().starts_with("/login?next=/oidc/authorize%3F"), "{b}: {}", anon.location());
        let consent = t.get_with(&path, &zhang.cookie).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
        assert!(consent.body.contains("青山市不动产登记系统") && consent.body.contains("完整身份证号码"), "consent lists the claims");
        let mut fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        fields.push(("csrf_token".into(), zhang.csrf.clone()));
        fields.push(("decision".into(), "allow".into()));
        let fields_ref: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let back = t.form("/oidc/authorize", &fields_ref, &zhang.cookie).await;
        let loc = url::Url::parse(&back.location()).expect("redirect to the client");
        let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
        assert_eq!(q.get("state").map(String::as_str), Some(state.secret().as_str()));
        let code = q["code"].clone();

        // Wrong PKCE verifier, then the right one, then a replay.
        let wrong = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .unwrap()
            .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
            .request_async(&http)
            .await;
        assert!(format!("{wrong:?}").contains("invalid_grant"), "{wrong:?}");
        // A failed verifier does not burn the code (the check comes before use is recorded).
        let token = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("token exchange");
        let id_token = token.id_token().expect("id token");
        let claims = id_token.claims(&client.id_token_verifier(), &nonce).expect("valid RS256 id token");
        assert_eq!(claims.issuer().as_str(), "http://127.0.0.1:8080");
        let raw: serde_json::Value = {
            let payload = id_token.to_string().split('.').nth(1).unwrap().to_string();
            use base64::Engine;
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        };
        assert_eq!((raw["assurance_level"].as_u64(), raw["id_number"].as_str()), (Some(2), Some(ZHANG.0)), "{raw}");
        assert_eq!(raw["business"]["credit_code"], ZHANG_BUSINESS);
        let replay = client.exchange_code(AuthorizationCode::new(code)).unwrap().request_async(&http).await;
        assert!(format!("{replay:?}").contains("invalid_grant"), "codes are single-use");

        // The replay revoked the grant made from that code; start a fresh one for the rest.
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = authorize(challenge);
        let again = t.get_with(&format!("{}?{}", url.path(), url.query().unwrap()), &zhang.cookie).await;
        let loc = url::Url::parse(&again.location()).expect("consent remembered: straight back with a code");
        let code = loc.query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
        let token =
            client.exchange_code(AuthorizationCode::new(code)).unwrap().set_pkce_verifier(verifier).request_async(&http).await.unwrap();
        token.id_token().unwrap().claims(&client.id_token_verifier(), &nonce).unwrap();

        let info: CoreUserInfoClaims =
            client.user_info(token.access_token().clone(), None).unwrap().request_async(&http).await.expect("userinfo");
        assert_eq!(info.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("张三"));
        let bogus = client
            .user_info(AccessToken::new("not-a-token".into()), None)
            .unwrap()
            .request_async::<EmptyAdditionalClaims, _, CoreGenderClaim>(&http)
            .await;
        assert!(bogus.is_err());

        // Refresh rotates; presenting the old refresh token again revokes the grant.
        let first = token.refresh_token().unwrap().clone();
        let refreshed = client.exchange_refresh_token(&first).unwrap().request_async(&http).await.expect("refresh");
        let reuse = client.exchange_refresh_token(&first).unwrap().request_async(&http).await;
        assert!(format!("{reuse:?}").contains("invalid_grant"));
        let after = client.exchange_refresh_token(refreshed.refresh_token().unwrap()).unwrap().request_async(&http).await;
        assert!(after.is_err(), "reuse revoked the whole grant");
        let r = client
            .user_info(refreshed.access_token().clone(), None)
            .unwrap()
            .request_async::<EmptyAdditionalClaims, _, CoreGenderClaim>(&http)
            .await;
        assert!(r.is_err(), "access tokens of a revoked grant stop working");

        // Unknown client or unregistered redirect URI: an error page, never a redirect.
        let r = t
            .get_with(
                &format!("/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri=https://evil.example.com/cb&scope=openid"),
                &zhang.cookie,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.location().is_empty());
        // Missing PKCE goes back to the client with invalid_request.
        let r = t
            .get_with(
                &format!("/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={redirect}&scope=openid&state=s1"),
                &zhang.cookie,
            )
            .await;
        assert!(r.location().starts_with(redirect) && r.location().contains("error=invalid_request"), "{}", r.location());

        // RP-initiated logout with the ID token as hint ends the session and redirects.
        let hint = token.id_token().unwrap().to_string();
        let r = t
            .get_with(
                &format!("/oidc/logout?id_token_hint={hint}&post_logout_redirect_uri=http://127.0.0.1:9999/bye&state=z"),
                &zhang.cookie,
            )
            .await;
        assert_eq!(r.location(), "http://127.0.0.1:9999/bye?state=z");
        assert_eq!(t.get_with("/api/v1/persons/me", &zhang.cookie).await.status, StatusCode::UNAUTHORIZED);

        // EdDSA clients get Ed25519-signed ID tokens, verifiable from the JWKS.
        let body = json!({"name": "EdDSA RP", "redirect_uris": [redirect], "scopes": ["openid"], "id_token_alg": "EdDSA"});
        let r = t.json("POST", "/api/v1/oidc/clients", &body, Some(&admin)).await;
        let ed_id = r.json()["client_id"].as_str().unwrap().to_string();
        let ed_secret = r.json()["client_secret"].as_str().unwrap().to_string();
        let li = t.person_login(LI.0, LI.1).await;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let path = format!(
            "/oidc/authorize?response_type=code&client_id={ed_id}&redirect_uri={redirect}&scope=openid&code_challenge={}&code_challenge_method=S256&nonce=n1",
            challenge.as_str()
        );
        let page = t.get_with(&path, &li.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        let mut fields: Vec<(String, String)> = url::Url::parse(&format!("http://x{path}")).unwrap().query_pairs().into_owned().collect();
        fields.push(("csrf_token".into(), li.csrf.clone()));
        fields.push(("decision".into(), "allow".into()));
        let fields_ref: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let back = t.form("/oidc/authorize", &fields_ref, &li.cookie).await;
        let code = url::Url::parse(&back.location()).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.to_string();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.secret().as_str()),
            ("client_id", ed_id.as_str()),
            ("client_secret", ed_secret.as_str()),
        ];
        let r = t.form("/oidc/token", &form, "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let id_token = r.json()["id_token"].as_str().unwrap().to_string();
        let header = jsonwebtoken::decode_header(&id_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let jwks = t.get("/oidc/jwks").await.json();
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"].as_str() == header.kid.as_deref()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        v.set_audience(&[&ed_id]);
        let data = jsonwebtoken::decode::<serde_json::Value>(&id_token, &key, &v).expect("Ed25519 signature verifies");
        assert_eq!(data.claims["nonce"], "n1");
        let r = t.form("/oidc/token", &form, "").await;
        assert_eq!(r.json()["error"], "invalid_grant");
        let wrong_secret =
            [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", ed_id.as_str()), ("client_secret", "nope")];
        let r = t.form("/oidc/token", &wrong_secret, "").await;
        assert_eq!((r.status, r.json()["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    }
}

#[tokio::test]
async fn platform_admin_resets_a_lost_authenticator() {
    for t in apps().await {
        let admin = t.login(ADMIN.0, ADMIN.1).await;
        let window = t.login("window1", "yiwang-demo-staff").await;
        // Only platform administrators may reset.
        let r = t.json("POST", "/api/v1/staff/accounts/admin/totp-reset", &json!({}), Some(&window)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.json("POST", "/api/v1/staff/accounts/nobody/totp-reset", &json!({}), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t.json("POST", "/api/v1/staff/accounts/window1/totp-reset", &json!({}), Some(&admin)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        // Their sessions ended; the next sign-in enrols a new authenticator.
        assert_eq!(t.get_with("/api/v1/auth/me", &window.cookie).await.status, StatusCode::UNAUTHORIZED);
        let r = t.json("POST", "/api/v1/auth/login", &json!({"username": "window1", "password": "yiwang-demo-staff"}), None).await;
        assert_eq!(r.json()["stage"], "enroll", "{}", r.body);
        // The page form does the same, with a notice.
        let r = t.form("/staff/totp-reset", &[("csrf_token", &admin.csrf), ("username", "gaj-window")], &admin.cookie).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"client-notice\""));
        let audit = t.app.identity.recent_audit(20).await.unwrap();
        assert!(audit.iter().any(|a| a.action == "reset_totp" && a.target == "window1"));
    }
}

/// Expired codes and refresh tokens are refused with `invalid_grant` (the clock is moved by
/// ageing the rows).
#[tokio::test]
async fn expired_codes_and_refresh_tokens_are_refused() {
    use yiwang_identity::oidc::{AuthorizeParams, NewClient, TokenParams};
    for t in apps().await {
        let admin = yiwang_identity::Staff {
            username: "admin".into(),
            display_name: "admin".into(),
            department: None,
            region: None,
            roles: vec![yiwang_identity::Role::PlatformAdmin],
        };
        let uris = vec!["http://127.0.0.1:9/cb".to_string()];
        let reg = t
            .app
            .provider
            .register_client(
                &admin,
                NewClient {
                    name: "expiry",
                    redirect_uris: &uris,
                    post_logout_redirect_uris: &[],
                    scopes: &["profile".into()],
                    id_token_alg: "EdDSA",
                    subject_kind: "person",
                    department: None,
                },
                "",
            )
            .await
            .unwrap();
        let (_, session) = t.app.identity.login_person(ZHANG.0, ZHANG.1, Default::default()).await.unwrap();
        let verifier = "v".repeat(43);
        let challenge = {
            use base64::Engine;
            use sha2::Digest;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
        };
        let code = || async {
            let p = AuthorizeParams {
                response_type: "code".into(),
                client_id: reg.client.client_id.clone(),
                redirect_uri: uris[0].clone(),
                scope: "openid profile".into(),
                code_challenge: Some(challenge.clone()),
                code_challenge_method: Some("S256".into()),
                ..Default::default()
            };
            let req = t.app.provider.validate_authorize(&p).await.unwrap();
            let url = t.app.provider.approve(&session, &req).await.unwrap();
            url.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string()
        };
        let exchange = |code: String| TokenParams {
            grant_type: "authorization_code".into(),
            code: Some(code),
            redirect_uri: Some(uris[0].clone()),
            code_verifier: Some(verifier.clone()),
            ..Default::default()
        };
        let creds = || Some((reg.client.client_id.clone(), reg.client_secret.clone()));
        let db = t.app.db.clone();
        let age = |sql: &'static str| {
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                yiwang_store::sqlx::query(sql).bind("2000-01-01T00:00:00.000Z").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        // An expired authorization code.
        let c = code().await;
        age("UPDATE oidc_codes SET expires_at = $1").await;
        let e = t.app.provider.token(&exchange(c), creds()).await.unwrap_err();
        assert_eq!(e.error, "invalid_grant", "{}", t.backend);
        assert!(e.error_description.contains("过期"), "{}", e.error_description);
        // An expired refresh token.
        let tok = t.app.provider.token(&exchange(code().await), creds()).await.unwrap();
        age("UPDATE oidc_grants SET refresh_expires_at = $1").await;
        let tp = TokenParams { grant_type: "refresh_token".into(), refresh_token: Some(tok.refresh_token.clone()), ..Default::default() };
        let e = t.app.provider.token(&tp, creds()).await.unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        assert!(e.error_description.contains("过期"), "{}", e.error_description);
        // A forged generation is just invalid.
        let forged = tok.refresh_token.replace(".1.", ".2.");
        let tp = TokenParams { grant_type: "refresh_token".into(), refresh_token: Some(forged), ..Default::default() };
        assert!(t.app.provider.token(&tp, creds()).await.unwrap_err().error_description.contains("无效"));
    }
}
