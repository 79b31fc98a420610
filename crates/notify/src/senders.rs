//! Delivery channels: SMTP email (lettre) and a webhook for SMS / WeChat gateways, chosen per
//! message channel by [`Channels`]. Senders are blocking; the outbox runs them off the async
//! threads.

use std::time::Duration;

use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::{Message as Email, SmtpTransport, Transport};
use sha2::Sha256;

use crate::{LogSender, Queued, Sender};

/// Email through an SMTP relay (the organisation's own mail server, usually on the internal
/// network). Plain SMTP on the given port; put TLS on the relay side.
pub struct SmtpSender {
    transport: SmtpTransport,
    from: lettre::message::Mailbox,
}

impl SmtpSender {
    /// `relay` is `host` or `host:port` (default port 25); `from` like `一网通办 <noreply@gov.example>`.
    pub fn new(relay: &str, from: &str) -> Result<SmtpSender, String> {
        let (host, port) = match relay.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("SMTP 端口无效：{p}"))?),
            None => (relay, 25),
        };
        let from = from.parse().map_err(|e| format!("发件人地址无效：{e}"))?;
        let transport = SmtpTransport::builder_dangerous(host).port(port).timeout(Some(Duration::from_secs(10))).build();
        Ok(SmtpSender { transport, from })
    }
}

impl Sender for SmtpSender {
    fn send(&self, m: &Queued) -> Result<(), String> {
        let to = m.recipient.parse().map_err(|e| format!("收件人地址无效：{e}"))?;
        let email = Email::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| e.to_string())?;
        self.transport.send(&email).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// POSTs each message as JSON to a gateway (SMS provider, WeChat template-message relay). The
/// body is signed with HMAC-SHA256 in `X-Yiwang-Signature: sha256=<hex>` so the gateway can
/// check it came from us; `X-Yiwang-Message-Id` lets it drop retries it has already sent.
pub struct WebhookSender {
    url: String,
    secret: Vec<u8>,
    agent: ureq::Agent,
}

impl WebhookSender {
    pub fn new(url: &str, secret: &str) -> Result<WebhookSender, String> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(format!("网关地址无效：{url}"));
        }
        if url.starts_with("https://") {
            // This build has no TLS client; terminate TLS at a local forwarding proxy.
            return Err("网关地址须为 http://（请经本地代理转发 HTTPS）".into());
        }
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
        Ok(WebhookSender { url: url.to_string(), secret: secret.as_bytes().to_vec(), agent })
    }

    /// The signature a gateway should compute over the raw body.
    pub fn sign(secret: &[u8], body: &[u8]) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

impl Sender for WebhookSender {
    fn send(&self, m: &Queued) -> Result<(), String> {
        let body = serde_json::json!({
            "id": m.id,
            "channel": m.channel,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "created_at": m.created_at,
        })
        .to_string();
        let sig = Self::sign(&self.secret, body.as_bytes());
        match self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .set("X-Yiwang-Signature", &sig)
            .set("X-Yiwang-Message-Id", &m.id.to_string())
            .send_string(&body)
        {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(code, _)) => Err(format!("网关返回 {code}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// One sender per channel; unconfigured channels fall back to the log.
pub struct Channels {
    pub sms: Box<dyn Sender>,
    pub email: Box<dyn Sender>,
}

impl Default for Channels {
    fn default() -> Self {
        Channels { sms: Box::new(LogSender), email: Box::new(LogSender) }
    }
}

impl Sender for Channels {
    fn send(&self, m: &Queued) -> Result<(), String> {
        match m.channel.as_str() {
            "email" => self.email.send(m),
            _ => self.sms.send(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    fn queued(channel: &str, recipient: &str) -> Queued {
        Queued {
            id: 7,
            channel: channel.into(),
            recipient: recipient.into(),
            subject: "办件已办结".into(),
            body: "您的申请已办结。".into(),
            created_at: "2026-11-22T00:00:00.000Z".into(),
            sent_at: None,
        }
    }

    /// A one-shot HTTP server: returns the request head and body it got.
    fn http_once(status: u16) -> (String, std::thread::JoinHandle<(String, String)>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut s = s;
            write!(s, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            (head, String::from_utf8(body).unwrap())
        });
        (format!("http://{addr}/sms"), h)
    }

    #[test]
    fn webhook_posts_signed_json() {
        let (url, h) = http_once(200);
        let w = WebhookSender::new(&url, "s3cret").unwrap();
        w.send(&queued("sms", "13800138000")).unwrap();
        let (head, body) = h.join().unwrap();
        let sig =
            head.lines().find_map(|l| l.strip_prefix("x-yiwang-signature: ").or_else(|| l.strip_prefix("X-Yiwang-Signature: "))).unwrap();
        assert_eq!(sig.trim(), WebhookSender::sign(b"s3cret", body.as_bytes()));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["recipient"], "13800138000");
        assert_eq!(v["id"], 7);
    }

    #[test]
    fn webhook_errors_are_reported_for_retry() {
        let (url, h) = http_once(503);
        let w = WebhookSender::new(&url, "k").unwrap();
        assert!(w.send(&queued("sms", "1")).unwrap_err().contains("503"));
        h.join().unwrap();
        assert!(WebhookSender::new("ftp://x", "k").is_err());
    }

    #[test]
    fn smtp_delivers_to_a_relay() {
        // A minimal SMTP relay that records the DATA it receives.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut w = s;
            let mut data = String::new();
            w.write_all(b"220 relay ESMTP\r\n").unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        w.write_all(b"250 queued\r\n").unwrap();
                    } else {
                        data.push_str(&line);
                    }
                    continue;
                }
                let cmd = line.to_ascii_uppercase();
                if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                    w.write_all(b"250-relay\r\n250 8BITMIME\r\n").unwrap();
                } else if cmd.starts_with("DATA") {
                    in_data = true;
                    w.write_all(b"354 go\r\n").unwrap();
                } else if cmd.starts_with("QUIT") {
                    w.write_all(b"221 bye\r\n").unwrap();
                    break;
                } else {
                    w.write_all(b"250 ok\r\n").unwrap();
                }
            }
            data
        });
        let s = SmtpSender::new(&addr.to_string(), "一网通办 <noreply@yiwang.example>").unwrap();
        s.send(&queued("email", "citizen@example.com")).unwrap();
        drop(s);
        let data = h.join().unwrap();
        assert!(data.contains("To: citizen@example.com"), "{data}");
        assert!(data.contains("Subject:"), "{data}");
        assert!(SmtpSender::new("relay:notaport", "a@b.c").is_err());
    }

    #[test]
    fn channels_route_by_message_channel() {
        struct Fail;
        impl Sender for Fail {
            fn send(&self, _: &Queued) -> Result<(), String> {
                Err("no".into())
            }
        }
        let c = Channels { sms: Box::new(Fail), email: Box::new(LogSender) };
        assert!(c.send(&queued("email", "a@b.c")).is_ok());
        assert!(c.send(&queued("sms", "1")).is_err());
    }
}
