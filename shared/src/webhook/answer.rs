//! Qapla's answer contract: `{"result":"OK"}` with 200, or an opaque `{"result":"KO"}`
//! with a status that fits the refusal. The reason goes to the log, never to the caller.

use lambda_http::http::StatusCode;
use lambda_http::http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use lambda_http::{Body, Response};

/// Why a request was refused: the log's `reason`, and the status code of the KO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    MethodNotAllowed,
    BadChannel,
    EmptyBody,
    TooLarge,
    InvalidJson,
    MissingKey,
    UnknownChannel,
    WrongKey,
    SettingsUnavailable,
    HandOffFailed,
}

impl Refusal {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::BadChannel => "invalid_channel_id",
            Refusal::EmptyBody => "empty_body",
            Refusal::TooLarge => "body_too_large",
            Refusal::InvalidJson => "invalid_payload",
            Refusal::MissingKey => "missing_api_key",
            Refusal::UnknownChannel => "unknown_channel",
            Refusal::WrongKey => "wrong_api_key",
            Refusal::SettingsUnavailable => "channel_settings_unavailable",
            Refusal::HandOffFailed => "hand_off_failed",
        }
    }

    /// Unknown channel, bad channel id, missing and wrong key all answer the same 401.
    pub(super) fn status(self) -> StatusCode {
        match self {
            Refusal::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::EmptyBody | Refusal::InvalidJson => StatusCode::BAD_REQUEST,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BadChannel
            | Refusal::MissingKey
            | Refusal::UnknownChannel
            | Refusal::WrongKey => StatusCode::UNAUTHORIZED,
            Refusal::SettingsUnavailable | Refusal::HandOffFailed => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

pub(super) fn answer(status: StatusCode) -> Response<Body> {
    let text = if status.is_success() {
        r#"{"result":"OK"}"#
    } else {
        r#"{"result":"KO"}"#
    };
    let mut response = Response::new(Body::Text(text.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}
