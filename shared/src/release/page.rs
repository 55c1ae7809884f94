//! The release page: server-rendered HTML, no script and no external asset, one small style
//! sheet allowed by its hash in the Content-Security-Policy. Every value shown is escaped.

use super::form::{FIELDS, Problem, Problems, Submission};
use super::ledger::{Outcome, Verdict};
use super::texts::Texts;
use crate::http::HttpResponse;
use crate::links::Link;
use crate::qapla::v2::Action;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::LazyLock;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;background:#f6f6f4;color:#1b1b1b}\
main{max-width:32rem;margin:auto;background:#fff;padding:1.25rem;border-radius:.5rem}\
h1{font-size:1.35rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}\
dt{color:#555}dd{margin:0;font-weight:600}fieldset{border:1px solid #ccc;border-radius:.4rem;margin:1rem 0}\
label{display:block;margin:.5rem 0}input[type=text],input[type=tel]{width:100%;box-sizing:border-box;\
padding:.6rem;font-size:1rem;border:1px solid #999;border-radius:.3rem}\
input[type=radio]{transform:scale(1.3);margin-right:.5rem}\
button{width:100%;padding:.8rem;font-size:1.05rem;background:#1d5bd8;color:#fff;border:0;border-radius:.4rem}\
.error{color:#b00020;font-weight:600}.outcome{font-size:1.1rem}";

/// The style sheet's hash, as the CSP names it.
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(STYLE.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hash)
});

/// The headers of every page: nothing framed, cached, sniffed or referred (the token is in
/// the URL), forms posted only back here.
pub fn headers() -> BTreeMap<String, String> {
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        *STYLE_HASH
    );
    [
        ("content-type", "text/html; charset=utf-8"),
        ("content-security-policy", &csp),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(t: &Texts, status: u16, title: &str, main: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head>\
<body><main><h1>{}</h1>{main}</main></body></html>",
        t.lang,
        escape(title),
        escape(title)
    );
    HttpResponse {
        status_code: status,
        headers: headers(),
        body,
        is_base64_encoded: false,
    }
}

/// A page that only says something (an expired or forged link, a busy courier...).
pub fn notice(t: &Texts, status: u16, title: &str, text: &str) -> HttpResponse {
    page(
        t,
        status,
        title,
        &format!("<p id=\"notice\">{}</p>", escape(text)),
    )
}

fn parcel(t: &Texts, link: &Link) -> String {
    let mut dl = String::from("<dl>");
    for (label, value) in [
        (t.tracking, &link.tracking_number),
        (t.courier, &link.courier),
        (t.order, &link.reference),
    ] {
        if !value.trim().is_empty() {
            let _ = write!(dl, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
        }
    }
    dl.push_str("</dl>");
    dl
}

fn action_label(t: &Texts, action: Action) -> &'static str {
    match action {
        Action::Redeliver => t.redeliver,
        Action::RedeliverNewAddress => t.new_address,
        Action::ReturnToSender => t.return_to_sender,
    }
}

/// The choice: three actions and the new address's fields (re-filled, with their problems,
/// after a submission that was not right).
pub fn form(
    t: &Texts,
    link: &Link,
    csrf: &str,
    typed: Option<&Submission>,
    problems: Option<&Problems>,
) -> HttpResponse {
    let mut main = format!("<p>{}</p>{}", escape(t.intro), parcel(t, link));
    main.push_str("<form method=\"post\" action=\"\" autocomplete=\"on\">");
    let _ = write!(
        main,
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    );
    let _ = write!(main, "<fieldset><legend>{}</legend>", escape(t.choose));
    if problems.is_some_and(|p| p.action) {
        let _ = write!(
            main,
            "<p class=\"error\" id=\"error-action\">{}</p>",
            escape(t.no_action)
        );
    }
    for action in Action::ALL {
        let checked = typed.and_then(|s| s.action) == Some(action);
        let _ = write!(
            main,
            "<label><input type=\"radio\" name=\"action\" id=\"{0}\" value=\"{0}\"{1}>{2}</label>",
            action.as_str(),
            if checked { " checked" } else { "" },
            escape(action_label(t, action))
        );
    }
    let _ = write!(
        main,
        "</fieldset><fieldset><legend>{}</legend>",
        escape(t.address)
    );
    address(&mut main, t, typed, problems);
    let _ = write!(
        main,
        "</fieldset><button type=\"submit\" id=\"submit\">{}</button></form>",
        escape(t.submit)
    );
    let status = if problems.is_some() { 400 } else { 200 };
    page(t, status, t.title, &main)
}

/// The new address's fields, as typed, each with its problem.
fn address(main: &mut String, t: &Texts, typed: Option<&Submission>, problems: Option<&Problems>) {
    let labels = [t.name, t.street, t.city, t.zip, t.province, t.phone];
    for (i, (name, max)) in FIELDS.iter().enumerate() {
        let value = typed.map(|s| s.values[i].as_str()).unwrap_or_default();
        let kind = if *name == "phone" { "tel" } else { "text" };
        let _ = write!(
            main,
            "<label for=\"{name}\">{}</label><input type=\"{kind}\" id=\"{name}\" name=\"{name}\" maxlength=\"{max}\" value=\"{}\">",
            escape(labels[i]),
            escape(value)
        );
        if let Some(problem) = problems.and_then(|p| p.of(name)) {
            let text = match problem {
                Problem::Required => t.required,
                Problem::TooLong => t.too_long,
                Problem::Invalid => t.invalid,
            };
            let _ = write!(
                main,
                "<p class=\"error\" id=\"error-{name}\">{}</p>",
                escape(text)
            );
        }
    }
}

/// What became of the release (the first outcome, however often it is asked).
pub fn outcome(t: &Texts, link: &Link, outcome: &Outcome) -> HttpResponse {
    let said = match outcome.verdict {
        Verdict::Ok => t.ok,
        Verdict::Pending => t.pending,
        Verdict::Error => t.error,
        Verdict::NotHeld => t.not_held,
        Verdict::Unconfirmed => t.unconfirmed,
    };
    let mut main = parcel(t, link);
    let _ = write!(
        main,
        "<p>{}: <strong id=\"chosen\">{}</strong></p><p class=\"outcome\" id=\"outcome\" data-verdict=\"{}\">{}</p>",
        escape(t.chosen),
        escape(action_label(t, outcome.action)),
        outcome.verdict.as_str(),
        escape(said)
    );
    if outcome.verdict == Verdict::Error && !outcome.message.trim().is_empty() {
        let _ = write!(main, "<p id=\"message\">{}</p>", escape(&outcome.message));
    }
    page(t, 200, t.done, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_the_style_is_the_one_the_policy_allows() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        let t = super::super::texts::of(crate::mapping::Language::It);
        let r = notice(t, 410, t.expired_title, "<script>");
        assert!(r.body.contains("&lt;script&gt;") && !r.body.contains("<script>"));
        assert!(r.body.contains(&format!("<style>{STYLE}</style>")));
        let csp = &r.headers["content-security-policy"];
        assert!(
            csp.contains(&format!("'sha256-{}'", *STYLE_HASH))
                && csp.contains("default-src 'none'")
        );
        assert_eq!(r.headers["cache-control"], "no-store");
        assert_eq!(r.headers["x-frame-options"], "DENY");
    }
}
