//! Qapla's answer contract: `{"result":"OK"}` with 200, or an opaque `{"result":"KO"}`
//! with a status that fits the refusal. The reason goes to the log, never to the caller.

use super::HttpResponse;
use std::collections::BTreeMap;

/// Why a request was refused: the log's `reason`, and the status code of the KO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    NotAnHttpEvent,
    SenderNotAllowed,
    MethodNotAllowed,
    BadChannel,
    BadBase64,
    EmptyBody,
    TooLarge,
    InvalidJson,
    MissingKey,
    UnknownChannel,
    WrongKey,
    SettingsUnavailable,
    HandOffFailed,
    HandOffTimeout,
}

impl Refusal {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Refusal::NotAnHttpEvent => "not_an_http_event",
            Refusal::SenderNotAllowed => "sender_not_allowed",
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::BadChannel => "invalid_channel_id",
            Refusal::BadBase64 => "invalid_base64_body",
            Refusal::EmptyBody => "empty_body",
            Refusal::TooLarge => "body_too_large",
            Refusal::InvalidJson => "invalid_payload",
            Refusal::MissingKey => "missing_api_key",
            Refusal::UnknownChannel => "unknown_channel",
            Refusal::WrongKey => "wrong_api_key",
            Refusal::SettingsUnavailable => "channel_settings_unavailable",
            Refusal::HandOffFailed => "hand_off_failed",
            Refusal::HandOffTimeout => "hand_off_timeout",
        }
    }

    /// Whether the post's channel was shown to exist (its settings were read).
    pub(super) fn channel_known(self) -> bool {
        matches!(
            self,
            Refusal::WrongKey | Refusal::HandOffFailed | Refusal::HandOffTimeout
        )
    }

    /// A sender not on the allow-list, unknown channel, bad channel id, missing and wrong
    /// key all answer the same 401.
    pub(super) fn status(self) -> u16 {
        match self {
            Refusal::MethodNotAllowed => 405,
            Refusal::NotAnHttpEvent
            | Refusal::BadBase64
            | Refusal::EmptyBody
            | Refusal::InvalidJson => 400,
            Refusal::TooLarge => 413,
            Refusal::SenderNotAllowed
            | Refusal::BadChannel
            | Refusal::MissingKey
            | Refusal::UnknownChannel
            | Refusal::WrongKey => 401,
            Refusal::SettingsUnavailable | Refusal::HandOffFailed | Refusal::HandOffTimeout => 503,
        }
    }
}

pub(super) fn answer(status: u16) -> HttpResponse {
    let body = if (200..300).contains(&status) {
        r#"{"result":"OK"}"#
    } else {
        r#"{"result":"KO"}"#
    };
    let mut headers = BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]);
    if status == 405 {
        headers.insert("allow".to_owned(), "POST".to_owned());
    }
    HttpResponse {
        status_code: status,
        headers,
        body: body.to_owned(),
        is_base64_encoded: false,
    }
}
