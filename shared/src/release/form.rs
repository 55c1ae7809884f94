//! The release form as the page posts it (`application/x-www-form-urlencoded`), read with
//! `form_urlencoded` and validated: strict lengths, the address exactly when the action asks
//! for one (Qapla' answers 422 to a missing or an unexpected address).

use crate::qapla::v2::{Action, Address, StockRelease};

/// The longest body read.
pub const MAX_BODY: usize = 4096;

/// One field of the form that is not right, and why (the page says it in its language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong,
    Invalid,
}

/// The address fields, their form names and longest lengths.
pub const FIELDS: [(&str, usize); 6] = [
    ("name", 100),
    ("street", 120),
    ("city", 60),
    ("zip", 10),
    ("province", 40),
    ("phone", 20),
];

/// What a submission holds.
#[derive(Debug, Default)]
pub struct Submission {
    pub csrf: String,
    pub action: Option<Action>,
    /// The address fields as typed (re-shown on an error), by [`FIELDS`]' order.
    pub values: [String; 6],
}

impl Submission {
    /// The fields of a form body (unknown names ignored; the last of a repeated name wins).
    pub fn parse(body: &[u8]) -> Submission {
        let mut s = Submission::default();
        for (name, value) in form_urlencoded::parse(body) {
            match name.as_ref() {
                "csrf" => s.csrf = value.into_owned(),
                "action" => s.action = Action::parse(&value),
                other => {
                    if let Some(i) = FIELDS.iter().position(|(n, _)| *n == other) {
                        // Never more kept than a field may hold (plus one, to say it is too long).
                        s.values[i] = value.trim().chars().take(FIELDS[i].1 + 1).collect();
                    }
                }
            }
        }
        s
    }

    /// The stock-release body, or the problems to show: `None` for the action means that
    /// none was chosen.
    pub fn validate(&self) -> Result<StockRelease, Problems> {
        let Some(action) = self.action else {
            return Err(Problems {
                action: true,
                fields: Vec::new(),
            });
        };
        if action != Action::RedeliverNewAddress {
            // The address fields are ignored: Qapla' refuses an address it did not ask for.
            return Ok(StockRelease {
                action,
                address: None,
            });
        }
        let mut fields = Vec::new();
        for (i, (name, max)) in FIELDS.iter().enumerate() {
            let value = &self.values[i];
            let problem = if value.is_empty() {
                (*name != "phone").then_some(Problem::Required)
            } else if value.chars().count() > *max {
                Some(Problem::TooLong)
            } else if value.chars().any(char::is_control) || !shaped(name, value) {
                Some(Problem::Invalid)
            } else {
                None
            };
            if let Some(problem) = problem {
                fields.push((*name, problem));
            }
        }
        if !fields.is_empty() {
            return Err(Problems {
                action: false,
                fields,
            });
        }
        let [name, street, city, zip, province, phone] = self.values.clone();
        Ok(StockRelease {
            action,
            address: Some(Address {
                name,
                street,
                city,
                zip,
                province,
                phone: Some(phone).filter(|p| !p.is_empty()),
            }),
        })
    }
}

/// Whether a postcode or a phone number looks like one (the other fields: any text).
fn shaped(name: &str, value: &str) -> bool {
    match name {
        "zip" => {
            value.len() >= 3
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        }
        "phone" => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            (6..=15).contains(&digits)
                && value.chars().enumerate().all(|(i, c)| {
                    c.is_ascii_digit() || " ()-./".contains(c) || (i == 0 && c == '+')
                })
        }
        _ => true,
    }
}

/// What is wrong with a submission.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Problems {
    /// No action chosen.
    pub action: bool,
    pub fields: Vec<(&'static str, Problem)>,
}

impl Problems {
    pub fn of(&self, field: &str) -> Option<Problem> {
        self.fields
            .iter()
            .find(|(n, _)| *n == field)
            .map(|(_, p)| *p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str =
        "name=Mario+Rossi&street=Via+Roma+1&city=Milano&zip=20100&province=MI&phone=%2B39061234567";

    #[test]
    fn a_new_address_is_sent_whole_and_other_actions_without_it() {
        let body = format!("csrf=x&action=redeliver_new_address&{ADDRESS}");
        let release = Submission::parse(body.as_bytes())
            .validate()
            .expect("valid");
        let json = serde_json::to_value(&release).expect("json");
        assert_eq!(
            json,
            serde_json::json!({ "action": "redeliver_new_address", "address": {
                "name": "Mario Rossi", "street": "Via Roma 1", "city": "Milano",
                "zip": "20100", "province": "MI", "phone": "+39061234567" } })
        );
        let body = format!("action=return_to_sender&{ADDRESS}");
        let release = Submission::parse(body.as_bytes())
            .validate()
            .expect("valid");
        let json = serde_json::to_value(&release).expect("json");
        assert_eq!(json, serde_json::json!({ "action": "return_to_sender" }));
    }

    #[test]
    fn missing_long_and_malformed_fields_are_named() {
        let long = "x".repeat(200);
        let body =
            format!("action=redeliver_new_address&name=&street={long}&city=Roma&zip=2!&phone=abc");
        let problems = Submission::parse(body.as_bytes())
            .validate()
            .expect_err("bad");
        assert_eq!(problems.of("name"), Some(Problem::Required));
        assert_eq!(problems.of("street"), Some(Problem::TooLong));
        assert_eq!(problems.of("zip"), Some(Problem::Invalid));
        assert_eq!(problems.of("province"), Some(Problem::Required));
        assert_eq!(problems.of("phone"), Some(Problem::Invalid));
        assert_eq!(problems.of("city"), None);
        let none = Submission::parse(b"action=burn_it")
            .validate()
            .expect_err("no action");
        assert!(none.action);
    }
}
