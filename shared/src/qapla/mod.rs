//! What arrives from Qapla': the three webhook payloads as sent on the wire.
//!
//! Wire types are deliberately tolerant (see `reference/qapla.md`): 0/1 or booleans, ids as
//! strings or numbers, `null` where an object or string was expected, unknown fields
//! ignored. Domain invariants are established later, when events are built.

mod orders;
mod returns;
mod shipment;

pub use orders::{Order, OrdersPayload};
pub use returns::{ReturnCourier, ReturnParty, ReturnRow, ReturnShipment, ReturnsPayload};
pub use shipment::{Consignee, ShipmentPayload, StatusDetail};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `true`/`false`, `1`/`0`, `"1"`/`"0"`/`"true"`/`"false"`; `null` or anything else is false.
pub(crate) fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true"),
        _ => false,
    })
}

/// Like [`flex_bool`], but keeps `null`/absent apart from `false`.
pub(crate) fn flex_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    flex_bool(v).map(Some).map_err(serde::de::Error::custom)
}

/// A string, or a number rendered as text; `null` becomes `""`. Objects/arrays are errors.
pub(crate) fn flex_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format_args!(
            "expected a string or number, found {}",
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

/// A parse error described without quoting the input: serde's "missing/unknown field" and
/// "unknown variant" messages name only fields and variants; any other message may quote a
/// value (an e-mail, a key), so only its category and position are kept.
pub fn describe_parse_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let safe = [
        "missing field",
        "unknown field",
        "unknown variant",
        "expected a string or number",
    ];
    if safe.iter().any(|p| msg.starts_with(p)) || e.is_eof() {
        msg
    } else if e.is_syntax() {
        format!("not valid JSON at line {} column {}", e.line(), e.column())
    } else {
        format!(
            "a field has the wrong type or value at line {} column {}",
            e.line(),
            e.column()
        )
    }
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
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "flex_bool")]
        b: bool,
        #[serde(default, deserialize_with = "flex_string")]
        s: String,
        #[serde(default, deserialize_with = "flex_opt_string")]
        o: Option<String>,
    }

    fn probe(v: Value) -> Probe {
        serde_json::from_value(v).expect("probe parses")
    }

    #[test]
    fn booleans_arrive_as_bools_numbers_or_strings() {
        for yes in [json!(true), json!(1), json!("1"), json!("true")] {
            assert!(probe(json!({ "b": yes })).b, "{yes}");
        }
        for no in [json!(false), json!(0), json!("0"), json!(null), json!("")] {
            assert!(!probe(json!({ "b": no })).b, "{no}");
        }
    }

    #[test]
    fn ids_arrive_as_strings_or_numbers() {
        assert_eq!(probe(json!({ "s": "3" })).s, "3");
        assert_eq!(probe(json!({ "s": 3 })).s, "3");
        assert_eq!(probe(json!({ "s": null })).s, "");
    }

    #[test]
    fn blank_and_null_optional_strings_are_absent() {
        assert_eq!(probe(json!({ "o": null })).o, None);
        assert_eq!(probe(json!({ "o": "  " })).o, None);
        assert_eq!(probe(json!({})).o, None);
        assert_eq!(probe(json!({ "o": "x" })).o.as_deref(), Some("x"));
    }

    #[test]
    fn an_object_where_text_is_expected_is_an_error() {
        assert!(serde_json::from_value::<Probe>(json!({ "s": {} })).is_err());
    }
}
