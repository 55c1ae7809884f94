//! What arrives from Qapla': the three webhook payloads as sent on the wire, and the answers
//! of its REST API ([`api`]).
//!
//! Wire types are deliberately tolerant (see `reference/qapla.md`): 0/1 or booleans, ids as
//! strings or numbers, `null` where an object or string was expected, unknown fields
//! ignored. Domain invariants are established later, when events are built.

pub mod api;
mod orders;
pub mod pace;
mod pulled;
mod returns;
mod shipment;
pub mod time;
pub mod v2;

pub use orders::{Order, OrdersPayload};
pub use returns::{ReturnCourier, ReturnParty, ReturnRow, ReturnShipment, ReturnsPayload};
pub use shipment::{Consignee, ShipmentPayload, StatusDetail};

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A flag as Qapla' sends it: `0`/`1`, `"0"`/`"1"`, `true`/`false`; `null` (and, with
/// `#[serde(default)]`, absent) is false. Anything else (`{}`, `[1]`, `-1`, `"yes"`) is
/// refused: guessing a flag could send a return parcel to the "your order" workflow.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_flag(d)?.unwrap_or(false))
}

/// Like [`flag`], but keeps `null`/absent apart from `false`.
pub(crate) fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Some(false)),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(Some(true)),
        Value::String(s) if s == "0" => Ok(Some(false)),
        Value::String(s) if s == "1" => Ok(Some(true)),
        _ => Err(serde::de::Error::custom(
            "must be 0, 1, \"0\", \"1\", true, false or null",
        )),
    }
}

/// An identifier (tracking number, status id, reference) exactly as Qapla' wrote it: a
/// string, or a whole number kept as its digits (`99999999999999999999` stays that, it is
/// not rounded through a float). `null` is `""`. Needs a `serde_json` deserializer over the
/// original text (not a buffered `Value`).
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = <&RawValue>::deserialize(d)?.get();
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str(raw).map_err(serde::de::Error::custom),
        Some(b'0'..=b'9') if raw.bytes().all(|b| b.is_ascii_digit()) => Ok(raw.to_owned()),
        _ if raw == "null" => Ok(String::new()),
        _ => Err(serde::de::Error::custom("must be text or a whole number")),
    }
}

/// An [`id`] that must be present and not blank: it identifies the event (FIFO group, state
/// key, a required Connectif field).
pub(crate) fn required_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    not_blank(id(d)?)
}

/// A [`flex_string`] that must be present and not blank.
pub(crate) fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    not_blank(flex_string(d)?)
}

fn not_blank<E: serde::de::Error>(s: String) -> Result<String, E> {
    if s.trim().is_empty() {
        Err(E::custom("must not be blank"))
    } else {
        Ok(s)
    }
}

/// Free text: a string, or a number or boolean rendered as text; `null` becomes `""`.
/// Objects and arrays are errors.
pub(crate) fn flex_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format_args!(
            "must be text, found {}",
            kind_of(&other)
        ))),
    }
}

/// Like [`flex_string`], but `null`, absent and blank are `None`.
pub(crate) fn flex_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = flex_string(d)?;
    Ok(if s.trim().is_empty() { None } else { Some(s) })
}

/// A list, where `null` means empty.
pub(crate) fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Why a body is not a payload of the expected kind: the field's path and the problem,
/// never the value (see [`crate::telemetry::describe_json_error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", if field.is_empty() || field == "." { problem.clone() } else { format!("field `{field}`: {problem}") })]
pub struct ParseError {
    pub field: String,
    pub problem: String,
}

/// Parse a webhook body: a JSON object (an array in field order is not a payload), with the
/// path of the offending field in the error.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ParseError {
            field: String::new(),
            problem: "the body must be a JSON object".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let problem = crate::telemetry::describe_json_error(e.inner());
        let problem = match problem.split_once(" at line") {
            // The path names the field; a position adds nothing but for syntax errors.
            Some((text, _)) if !e.inner().is_syntax() => text.to_owned(),
            _ => problem,
        };
        ParseError {
            field: crate::telemetry::field_path(e.path()),
            problem,
        }
    })?;
    // One object and nothing after it but whitespace: `{…}garbage` or two objects back to
    // back are not a payload (the first object alone must not be sent).
    de.end().map_err(|_| ParseError {
        field: String::new(),
        problem: "data after the JSON object".into(),
    })?;
    Ok(value)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "flag")]
        b: bool,
        #[serde(default, deserialize_with = "flex_string")]
        s: String,
        #[serde(default, deserialize_with = "flex_opt_string")]
        o: Option<String>,
        #[serde(default, deserialize_with = "id")]
        id: String,
        #[serde(default, deserialize_with = "required_id")]
        req: String,
    }

    fn probe(body: &str) -> Result<Probe, ParseError> {
        parse(body.as_bytes())
    }

    #[test]
    fn flags_accept_exactly_what_qapla_sends() {
        for yes in ["true", "1", r#""1""#] {
            assert!(probe(&format!(r#"{{"b":{yes}}}"#)).expect(yes).b, "{yes}");
        }
        for no in ["false", "0", r#""0""#, "null"] {
            assert!(!probe(&format!(r#"{{"b":{no}}}"#)).expect(no).b, "{no}");
        }
        assert!(!probe("{}").expect("absent").b);
        for bad in [
            "{}",
            "[1]",
            "-1",
            "2",
            "0.5",
            r#""""#,
            r#""yes""#,
            r#""true""#,
        ] {
            let err = probe(&format!(r#"{{"b":{bad}}}"#)).expect_err(bad);
            assert_eq!(err.field, "b", "{bad}");
        }
    }

    #[test]
    fn ids_keep_the_digits_qapla_sent() {
        assert_eq!(probe(r#"{"id":"3"}"#).expect("string").id, "3");
        assert_eq!(probe(r#"{"id":3}"#).expect("number").id, "3");
        assert_eq!(
            probe(r#"{"id":99999999999999999999}"#).expect("big").id,
            "99999999999999999999"
        );
        assert_eq!(probe(r#"{"id":"00123"}"#).expect("zeros").id, "00123");
        assert_eq!(probe(r#"{"id":null}"#).expect("null").id, "");
        assert_eq!(probe(r#"{"id":"a\"b"}"#).expect("escaped").id, "a\"b");
        for bad in ["1e20", "-3", "3.0", "{}", "[]", "true"] {
            let err = probe(&format!(r#"{{"id":{bad}}}"#)).expect_err(bad);
            assert_eq!(
                (err.field.as_str(), err.problem.as_str()),
                ("id", "must be text or a whole number"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_blank_required_id_is_refused_with_its_field_named() {
        for blank in [r#""""#, r#""  ""#, "null"] {
            let err = probe(&format!(r#"{{"req":{blank}}}"#)).expect_err(blank);
            assert_eq!(err.to_string(), "field `req`: must not be blank");
        }
        assert_eq!(probe(r#"{"req":" 7 "}"#).expect("present").req, " 7 ");
    }

    #[test]
    fn only_a_json_object_is_a_payload() {
        for body in ["[1, \"x\"]", "42", "\"x\"", "", "null"] {
            assert!(probe(body).is_err(), "{body}");
        }
        assert!(probe(" \n {}").is_ok());
    }

    #[test]
    fn blank_and_null_optional_strings_are_absent() {
        assert_eq!(probe(r#"{"o":null}"#).expect("null").o, None);
        assert_eq!(probe(r#"{"o":"  "}"#).expect("blank").o, None);
        assert_eq!(probe("{}").expect("absent").o, None);
        assert_eq!(probe(r#"{"o":"x"}"#).expect("x").o.as_deref(), Some("x"));
        assert_eq!(probe(r#"{"s":3}"#).expect("number").s, "3");
    }

    #[test]
    fn errors_never_quote_the_value() {
        let err = probe(r#"{"s":{"email":"giulia@example.com"}}"#).expect_err("object");
        assert_eq!(err.field, "s");
        let err = probe(r#"{"o":["giulia@example.com"]}"#).expect_err("array");
        assert!(!err.to_string().contains("giulia"), "{err}");
    }
}
