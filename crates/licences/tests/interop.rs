//! SM2 signatures checked against an independent implementation (gmssl from PyPI) in both
//! directions. CI installs gmssl and sets YIWANG_REQUIRE_GMSSL=1, so there the check cannot be
//! skipped; elsewhere a missing gmssl is reported and the test passes.

use std::io::Write;
use std::process::{Command, Stdio};

use yiwang_licences::crypto::{self, Algorithm, PublicKey};

fn gmssl_available() -> bool {
    Command::new("python3").args(["-c", "import gmssl"]).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn sm2_signatures_interoperate_with_gmssl() {
    if !gmssl_available() {
        assert!(std::env::var("YIWANG_REQUIRE_GMSSL").is_err(), "gmssl is required (pip install gmssl)");
        eprintln!("gmssl not installed: SM2 interoperability not checked (pip install gmssl)");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sm2_interop.py");
    for round in 0..4 {
        // gmssl mangles public keys whose hex starts with 0 or 4 after the 04 prefix (lstrip).
        let (secret, public) = loop {
            let (s, p) = crypto::generate(Algorithm::Sm2).unwrap();
            let h = hex::encode(&p);
            if !matches!(&h[2..3], "0" | "4") {
                break (s, p);
            }
        };
        let message = format!("{{\"identifier\":\"1.2.156.3005.2.TEST.{round}\",\"holder_name\":\"张三\"}}");
        let signature = crypto::sign(Algorithm::Sm2, &secret, message.as_bytes()).unwrap();
        let req = serde_json::json!({
            "public_key": hex::encode(&public),
            "message": hex::encode(message.as_bytes()),
            "signature": hex::encode(&signature),
            "tampered": hex::encode(message.replace("张三", "李四").as_bytes()),
        });
        let mut child = Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(req.to_string().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let resp: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(resp["verified"], true, "gmssl rejected yiwang's SM2 signature");
        assert_eq!(resp["tampered_rejected"], true, "gmssl accepted a signature over a changed message");
        let their_key = hex::decode(resp["gmssl_public_key"].as_str().unwrap()).unwrap();
        let their_sig = hex::decode(resp["gmssl_signature"].as_str().unwrap()).unwrap();
        let key = PublicKey::parse(Algorithm::Sm2, &their_key).unwrap();
        assert!(key.verify(message.as_bytes(), &their_sig), "yiwang rejected gmssl's SM2 signature");
        assert!(!key.verify(b"something else", &their_sig));
    }
}
