//! AWS Signature Version 4 for the webhooks' SQS calls (`POST /` with a JSON body), with the
//! signing key derived once per day: the key is an HMAC chain over the date, region and
//! service (four HMAC-SHA256), the same for every request of a UTC day, so a warm function
//! derives it once a day instead of once a post. The canonical request, string to sign and
//! `Authorization` header are exactly `aws-sigv4`'s with its default settings (the tests
//! compare the two byte for byte): every header given is signed, the session token too, no
//! `x-amz-content-sha256`.

use aws_credential_types::Credentials;
use ring::{digest, hmac};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::SystemTime;

/// Signs requests to one service in one region with one set of credentials.
pub struct Signer {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    region: String,
    service: &'static str,
    /// The day (`YYYYMMDD`) and its signing key.
    key: Mutex<Option<(String, hmac::Key)>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Signer {
    pub fn new(credentials: &Credentials, region: &str, service: &'static str) -> Signer {
        Signer {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: credentials.session_token().map(str::to_owned),
            region: region.to_owned(),
            service,
            key: Mutex::new(None),
        }
    }

    /// The headers that sign a `POST` of `payload` to `url` carrying `headers` (lower-case
    /// names, values without surrounding blanks) at `now`: `x-amz-date`, the session token
    /// when there is one, and `authorization`.
    pub fn sign(
        &self,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        payload: &[u8],
        now: SystemTime,
    ) -> Vec<(&'static str, String)> {
        let time = Stamp::of(now);
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let mut signed: Vec<(&str, &str)> = headers.to_vec();
        signed.push(("host", &host));
        signed.push(("x-amz-date", &time.full));
        if let Some(token) = &self.session_token {
            signed.push(("x-amz-security-token", token));
        }
        signed.sort_unstable_by_key(|(name, _)| *name);
        let names: Vec<&str> = signed.iter().map(|(name, _)| *name).collect();
        let names = names.join(";");
        let mut canonical = format!("POST\n{}\n{}\n", url.path(), url.query().unwrap_or(""));
        for (name, value) in &signed {
            let _ = writeln!(canonical, "{name}:{value}");
        }
        let _ = write!(canonical, "\n{names}\n{}", hex(digest_of(payload)));
        let scope = format!("{}/{}/{}/aws4_request", time.day, self.region, self.service);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            time.full,
            hex(digest_of(canonical.as_bytes()))
        );
        let signature = hex(hmac::sign(&self.key_of(&time.day), to_sign.as_bytes()));
        let mut out = vec![("x-amz-date", time.full)];
        if let Some(token) = &self.session_token {
            out.push(("x-amz-security-token", token.clone()));
        }
        let credential = format!("{}/{scope}", self.access_key_id);
        out.push((
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={names}, Signature={signature}"
            ),
        ));
        out
    }

    /// The day's signing key: derived on the day's first request, then kept.
    fn key_of(&self, day: &str) -> hmac::Key {
        let mut kept = self.key.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((kept_day, key)) = kept.as_ref()
            && kept_day == day
        {
            return key.clone();
        }
        let step = |key: &[u8], data: &str| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        };
        let secret = format!("AWS4{}", self.secret_access_key);
        let date = step(secret.as_bytes(), day);
        let region = step(date.as_ref(), &self.region);
        let service = step(region.as_ref(), self.service);
        let signing = step(service.as_ref(), "aws4_request");
        let key = hmac::Key::new(hmac::HMAC_SHA256, signing.as_ref());
        *kept = Some((day.to_owned(), key.clone()));
        key
    }

    /// How many days' keys were derived so far (tests: once per day).
    #[cfg(test)]
    fn kept_day(&self) -> Option<String> {
        let kept = self.key.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref().map(|(day, _)| day.clone())
    }
}

/// `YYYYMMDD'T'HHMMSS'Z'` and its day, UTC.
struct Stamp {
    full: String,
    day: String,
}

impl Stamp {
    fn of(now: SystemTime) -> Stamp {
        let secs = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (days, rest) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = crate::clock::civil_from_days(days as i64);
        let day = format!("{y:04}{m:02}{d:02}");
        let full = format!(
            "{day}T{:02}{:02}{:02}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        );
        Stamp { full, day }
    }
}

fn digest_of(bytes: &[u8]) -> digest::Digest {
    digest::digest(&digest::SHA256, bytes)
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    let mut out = String::with_capacity(64);
    for b in bytes.as_ref() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use std::time::Duration;

    /// `aws-sigv4`'s headers for the same request.
    fn reference(
        credentials: &Credentials,
        url: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
        now: SystemTime,
    ) -> Vec<(String, String)> {
        let identity = credentials.clone().into();
        let signable = SignableRequest::new(
            "POST",
            url,
            headers.iter().copied(),
            SignableBody::Bytes(payload),
        )
        .expect("signable");
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("sqs")
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        let mut out: Vec<(String, String)> = instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        out.sort();
        out
    }

    fn ours(
        signer: &Signer,
        url: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
        now: SystemTime,
    ) -> Vec<(String, String)> {
        let url = reqwest::Url::parse(url).expect("url");
        let mut out: Vec<(String, String)> = signer
            .sign(&url, headers, payload, now)
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        out.sort();
        out
    }

    const HEADERS: [(&str, &str); 3] = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AmazonSQS.SendMessageBatch"),
        ("x-amzn-query-mode", "true"),
    ];

    #[test]
    fn the_headers_are_aws_sigv4s_byte_for_byte() {
        let payload =
            br#"{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/1/q.fifo","Entries":[]}"#;
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_720_000);
        for token in [None, Some("IQoJb3JpZ2luX2VjE//token+with/slashes==")] {
            let credentials = Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG",
                token.map(str::to_owned),
                None,
                "test",
            );
            let signer = Signer::new(&credentials, "eu-west-1", "sqs");
            for url in [
                "https://sqs.eu-west-1.amazonaws.com",
                "http://127.0.0.1:4566",
            ] {
                assert_eq!(
                    ours(&signer, url, &HEADERS, payload, now),
                    reference(&credentials, url, &HEADERS, payload, now),
                    "{url}, token {token:?}"
                );
            }
        }
    }

    #[test]
    fn the_key_is_derived_again_on_a_new_utc_day_only() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let signer = Signer::new(&credentials, "eu-west-1", "sqs");
        let url = "https://sqs.eu-west-1.amazonaws.com";
        // 2025-12-02 23:59:59 UTC, then a second later (the next day).
        let evening = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_719_999);
        for (now, day) in [
            (evening, "20251202"),
            (evening - Duration::from_secs(3600), "20251202"),
            (evening + Duration::from_secs(1), "20251203"),
        ] {
            assert_eq!(
                ours(&signer, url, &HEADERS, b"{}", now),
                reference(&credentials, url, &HEADERS, b"{}", now)
            );
            assert_eq!(signer.kept_day().as_deref(), Some(day));
        }
    }

    #[test]
    fn nothing_secret_in_its_debug_text() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "very-secret",
            Some("tok".into()),
            None,
            "test",
        );
        let text = format!("{:?}", Signer::new(&credentials, "eu-west-1", "sqs"));
        assert!(
            !text.contains("very-secret") && !text.contains("AKID") && !text.contains("tok"),
            "{text}"
        );
    }
}
