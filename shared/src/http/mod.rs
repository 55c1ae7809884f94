//! What every outbound client shares: one TLS configuration ([`tls`]) (the AWS SDK's HTTP
//! client over the same stack is `crate::aws::connector`), connections opened ahead
//! ([`preconnect`]), and for Connectif and Qapla's API: URL encoding,
//! `Retry-After` (seconds or an HTTP date), and one classification of HTTP answers and transport failures.

mod event;
pub mod tls;

pub use event::{HttpEvent, HttpResponse};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::Duration;

/// How an HTTP answer is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 2xx.
    Success,
    /// 429 or 5xx: worth another try, after the server's `Retry-After` if it gave one.
    Retryable,
    /// Any other status: another try would fail the same way.
    Refused,
}

impl Class {
    pub fn of(status: StatusCode) -> Self {
        if status.is_success() {
            Class::Success
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Class::Retryable
        } else {
            Class::Refused
        }
    }
}

/// A transport failure in a few words (always retryable): never the URL, which may hold a
/// key.
pub fn transport_reason(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    }
}

/// A `Retry-After`, in either of its forms: seconds, or an HTTP date (how long from now;
/// a date already past is "now").
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, std::time::SystemTime::now())
}

fn retry_after_at(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Opens a connection to each origin of `urls` at once (a `HEAD /`: its answer, whatever it
/// is, is dropped and the connection stays in `http`'s pool), waiting `limit` at most; how
/// many answered. A connection not opened is opened by the first call that needs it.
pub async fn preconnect(http: &reqwest::Client, urls: &[reqwest::Url], limit: Duration) -> usize {
    let mut origins: Vec<reqwest::Url> = Vec::new();
    for url in urls {
        let mut origin = url.clone();
        origin.set_path("/");
        origin.set_query(None);
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    let opened = origins.iter().map(|origin| async move {
        match http.head(origin.clone()).timeout(limit).send().await {
            Ok(_) => true,
            Err(e) => {
                let why = transport_reason(&e);
                tracing::debug!(
                    host = origin.host_str(),
                    why,
                    "connection not opened during Init"
                );
                false
            }
        }
    });
    futures_util::future::join_all(opened)
        .await
        .into_iter()
        .filter(|opened| *opened)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_once_for_both_clients() {
        let class = |s: u16| Class::of(StatusCode::from_u16(s).expect("status"));
        for s in [200, 201, 204] {
            assert_eq!(class(s), Class::Success, "{s}");
        }
        for s in [429, 500, 502, 503, 504] {
            assert_eq!(class(s), Class::Retryable, "{s}");
        }
        for s in [301, 400, 401, 403, 404, 422] {
            assert_eq!(class(s), Class::Refused, "{s}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        let read = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, value.parse().expect("header"));
            retry_after_at(&h, now)
        };
        assert_eq!(retry_after_at(&HeaderMap::new(), now), None);
        assert_eq!(read(" 7 "), Some(Duration::from_secs(7)));
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(read("Wed, 21 Oct 2015 07:28:30 GMT"), secs(30));
        // The two obsolete forms RFC 9110 still asks a recipient to read.
        assert_eq!(read("Wednesday, 21-Oct-15 07:29:00 GMT"), secs(60));
        assert_eq!(read("Wed Oct 21 07:30:00 2015"), secs(120));
        assert_eq!(read("Wed, 21 Oct 2015 07:00:00 GMT"), secs(0), "past: now");
        assert_eq!(read("soon"), None);
        assert_eq!(read("-5"), None);
    }

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(url_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(url_encode("a b&c/d=é"), "a%20b%26c%2Fd%3D%C3%A9");
    }
}
