//! What a channel sends beyond the guide's events, and what it holds back: suppression
//! rules (`rules`), the opt-in workflow fields (`extraFields`, `courierNames`), stalled
//! parcels (`stalls`).

use super::settings::SettingsError;
use crate::calendar::Country;
use crate::mapping::{self, Language};
use serde::Deserialize;
use std::collections::HashMap;

/// Relay addresses of marketplaces: the buyer's address hidden behind one the marketplace
/// forwards, whose policy forbids marketing to it. A domain matches itself and its
/// subdomains; `marketplace.amazon.` matches every Amazon marketplace (`.it`, `.de`,
/// `.co.uk`, ...).
pub const RELAY_DOMAINS: [&str; 1] = ["marketplace.amazon."];

/// Why an event is not sent though it could be (the `reason` of a `suppressed` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// The customer's address is a marketplace relay (`rules.sendToRelayAddresses` off).
    RelayAddress,
    /// The status is not in `rules.notifyStatuses`.
    StatusNotNotified,
    /// The courier is in `rules.skipCouriers`.
    CourierLeftOut,
}

impl Suppression {
    pub fn as_str(self) -> &'static str {
        match self {
            Suppression::RelayAddress => "relay_address",
            Suppression::StatusNotNotified => "status_not_notified",
            Suppression::CourierLeftOut => "courier_left_out",
        }
    }
}

/// See [`super::ChannelSettings::rules`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Rules {
    /// Status ids sent (of shipments and return shipments); absent: every status.
    pub notify_statuses: Option<Vec<u16>>,
    /// Qapla' courier codes whose shipments, returns and orders are not sent.
    pub skip_couriers: Vec<String>,
    /// Relay domains besides [`RELAY_DOMAINS`].
    pub relay_domains: Vec<String>,
    /// Send to marketplace relay addresses after all (off: they are suppressed).
    pub send_to_relay_addresses: bool,
}

impl Rules {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        for id in self.notify_statuses.iter().flatten() {
            if mapping::lookup(*id).is_none() {
                let known: Vec<String> =
                    mapping::STATUSES.iter().map(|s| s.id.to_string()).collect();
                let problem = format!("{id} is not a Qapla' status id ({})", known.join(", "));
                return Err(SettingsError::new("rules.notifyStatuses", &problem));
            }
        }
        let domain = |d: &String| !d.trim().is_empty() && !d.contains(['@', ' ', '/']);
        if !self.relay_domains.iter().all(domain) {
            return Err(SettingsError::new(
                "rules.relayDomains",
                "must be domains, like `members.ebay.com`",
            ));
        }
        if self.skip_couriers.iter().any(|c| c.trim().is_empty()) {
            return Err(SettingsError::new(
                "rules.skipCouriers",
                "must be Qapla' courier codes",
            ));
        }
        Ok(())
    }

    /// Whether a status id (as Qapla' sends it) is sent.
    pub fn notifies(&self, status_id: &str) -> bool {
        let Some(list) = &self.notify_statuses else {
            return true;
        };
        status_id
            .trim()
            .parse()
            .is_ok_and(|id: u16| list.contains(&id))
    }

    /// Whether a courier's events are left out.
    pub fn leaves_out(&self, courier: &str) -> bool {
        let courier = courier.trim();
        !courier.is_empty()
            && self
                .skip_couriers
                .iter()
                .any(|c| c.trim().eq_ignore_ascii_case(courier))
    }

    /// Whether an address is a marketplace relay that must not be written to.
    pub fn suppresses_address(&self, email: &str) -> bool {
        if self.send_to_relay_addresses {
            return false;
        }
        let domain = email
            .rsplit_once('@')
            .map_or("", |(_, d)| d)
            .to_ascii_lowercase();
        let under = |relay: &str| {
            let relay = relay.trim().to_ascii_lowercase();
            match relay.strip_suffix('.') {
                Some(prefix) => {
                    domain.starts_with(&relay) || domain.contains(&format!(".{prefix}."))
                }
                None => domain == relay || domain.ends_with(&format!(".{relay}")),
            }
        };
        RELAY_DOMAINS
            .iter()
            .copied()
            .chain(self.relay_domains.iter().map(String::as_str))
            .any(under)
    }
}

/// A field a channel adds to its shipment events (see [`super::ChannelSettings::extra_fields`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExtraField {
    /// One word per stage (`in_transit`, `delivered`, ...): [`crate::mapping::group`].
    StatusGroup,
    /// The courier's display name.
    CourierName,
    /// When the parcel left: the first status the bridge saw with the courier.
    ShippedAt,
    /// When it should arrive (`estimatedDelivery`, `YYYY-MM-DD`) and whose figure that is
    /// (`estimatedDeliverySource`: `courier` or `median`): see
    /// [`super::settings::EstimatedDelivery`]. Absent when unknown.
    EstimatedDelivery,
    /// A held parcel's release link: on with `releaseLinks`, not named in `extraFields`.
    #[serde(skip_deserializing)]
    ReleaseUrl,
}

impl ExtraField {
    pub const ALL: [ExtraField; 4] = [
        ExtraField::StatusGroup,
        ExtraField::CourierName,
        ExtraField::ShippedAt,
        ExtraField::EstimatedDelivery,
    ];

    /// Its field id in Connectif.
    pub fn id(self) -> &'static str {
        match self {
            ExtraField::StatusGroup => "statusGroup",
            ExtraField::CourierName => "courierName",
            ExtraField::ShippedAt => "shippedAt",
            ExtraField::EstimatedDelivery => "estimatedDelivery",
            ExtraField::ReleaseUrl => "releaseUrl",
        }
    }
}

/// A courier's display name: the channel's `courierNames`, else the code without a
/// three-letter country suffix (`GLS-ITA` → `GLS`; Qapla' lists no names for its codes).
pub fn courier_name(code: &str, names: &HashMap<String, String>) -> String {
    let code = code.trim();
    if let Some(name) = names
        .get(code)
        .or_else(|| names.get(&code.to_ascii_uppercase()))
    {
        return name.trim().to_owned();
    }
    match code.rsplit_once('-') {
        Some((name, suffix))
            if suffix.len() == 3 && suffix.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            name.to_owned()
        }
        _ => code.to_owned(),
    }
}

/// Stalled parcels (see [`super::ChannelSettings::stalls`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stalls {
    /// Business days without a new status before a parcel is stalled.
    #[serde(default = "three")]
    pub after_business_days: u8,
    /// Whose holidays are not business days; by default the channel language's country.
    #[serde(default)]
    pub country: Option<Country>,
}

fn three() -> u8 {
    3
}

impl Stalls {
    /// The country whose calendar counts, given the channel's language.
    pub fn country_for(&self, language: Language) -> Option<Country> {
        self.country.or(match language {
            Language::It => Some(Country::IT),
            Language::Es => Some(Country::ES),
            Language::De => Some(Country::DE),
            Language::Fr => Some(Country::FR),
            Language::Pt => Some(Country::PT),
            Language::En => None,
        })
    }

    pub(super) fn validate(&self, language: Language) -> Result<(), SettingsError> {
        if !(1..=20).contains(&self.after_business_days) {
            return Err(SettingsError::new(
                "stalls.afterBusinessDays",
                "must be 1 to 20",
            ));
        }
        if self.country_for(language).is_none() {
            return Err(SettingsError::new(
                "stalls.country",
                "needed when `language` is `en`: IT, ES, DE, FR or PT",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Rules {
        serde_json::from_str(json).expect("rules")
    }

    #[test]
    fn every_amazon_marketplace_relay_is_suppressed_by_default_and_nothing_else() {
        let r = Rules::default();
        for relay in [
            "x1y2z3@marketplace.amazon.it",
            "abc@marketplace.amazon.de",
            "abc@Marketplace.Amazon.co.uk",
            "abc@eu.marketplace.amazon.com",
        ] {
            assert!(r.suppresses_address(relay), "{relay}");
        }
        for real in [
            "giulia@amazon.it",
            "marketplace.amazon.it@gmail.com",
            "a@notmarketplace.amazon.it",
            "a@example.com",
        ] {
            assert!(!r.suppresses_address(real), "{real}");
        }
        let send = rules(r#"{"sendToRelayAddresses": true}"#);
        assert!(!send.suppresses_address("abc@marketplace.amazon.it"));
        let ebay = rules(r#"{"relayDomains": ["members.ebay.com"]}"#);
        assert!(ebay.suppresses_address("u123@members.ebay.com"));
        assert!(ebay.suppresses_address("u123@eu.members.ebay.com"));
        assert!(!ebay.suppresses_address("u123@ebay.com"));
    }

    #[test]
    fn statuses_and_couriers_are_held_back_only_when_listed() {
        let all = Rules::default();
        assert!(all.notifies("3") && all.notifies("anything") && !all.leaves_out("SDA"));
        let some = rules(r#"{"notifyStatuses": [4, 99], "skipCouriers": ["sda"]}"#);
        assert!(some.notifies(" 4 ") && some.notifies("99"));
        assert!(!some.notifies("3") && !some.notifies(""));
        assert!(some.leaves_out("SDA") && !some.leaves_out("BRT") && !some.leaves_out(""));
    }

    #[test]
    fn rules_name_what_is_wrong() {
        let field = |json: &str| rules(json).validate().expect_err("refused").field;
        assert_eq!(field(r#"{"notifyStatuses": [7]}"#), "rules.notifyStatuses");
        let err = rules(r#"{"notifyStatuses": [7]}"#)
            .validate()
            .expect_err("7");
        assert!(
            err.problem
                .contains("0, 1, 2, 3, 4, 5, 6, 8, 10, 20, 50, 95, 99"),
            "{err}"
        );
        assert_eq!(
            field(r#"{"relayDomains": ["@x.com"]}"#),
            "rules.relayDomains"
        );
        assert_eq!(field(r#"{"skipCouriers": [" "]}"#), "rules.skipCouriers");
        assert!(rules(r#"{"notifyStatuses": [99]}"#).validate().is_ok());
    }

    #[test]
    fn couriers_are_named_by_the_settings_else_by_their_code() {
        let names = HashMap::from([("BRT".to_owned(), "BRT Bartolini".to_owned())]);
        assert_eq!(courier_name("BRT", &names), "BRT Bartolini");
        assert_eq!(courier_name("brt", &names), "BRT Bartolini");
        assert_eq!(courier_name("GLS-ITA", &names), "GLS");
        assert_eq!(courier_name(" DHL ", &names), "DHL");
        assert_eq!(
            courier_name("POSTE-DELIVERY-BUSINESS", &names),
            "POSTE-DELIVERY-BUSINESS"
        );
    }

    #[test]
    fn stalls_default_to_three_days_in_the_languages_country() {
        let s: Stalls = serde_json::from_str("{}").expect("defaults");
        assert_eq!(s.after_business_days, 3);
        assert_eq!(s.country_for(Language::Es), Some(Country::ES));
        assert!(s.validate(Language::It).is_ok());
        assert_eq!(
            s.validate(Language::En).expect_err("no country").field,
            "stalls.country"
        );
        let uk: Stalls = serde_json::from_str(r#"{"country": "IT"}"#).expect("country");
        assert!(uk.validate(Language::En).is_ok());
        let zero: Stalls = serde_json::from_str(r#"{"afterBusinessDays": 0}"#).expect("0");
        assert_eq!(
            zero.validate(Language::It).expect_err("0").field,
            "stalls.afterBusinessDays"
        );
        assert!(serde_json::from_str::<Stalls>(r#"{"country": "GB"}"#).is_err());
    }
}
