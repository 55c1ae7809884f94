//! The JSON a channel's secret holds, validated on load.
//!
//! Errors name the field (`connectif.endpoints.order`) and the problem, never the value:
//! a secret's content must not reach a log line.

pub use super::aliases::Aliases;
pub use super::rotation::PreviousKey;
pub use super::rules::{ExtraField, Rules, Stalls};
pub use super::switches::{Reconcile, Sends};
use crate::Reception;
use crate::mapping::{LabelStyle, Language};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Everything the bridge knows about one Qapla' channel. See the README for an example.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelSettings {
    /// The Qapla' channel's private API key; every webhook must carry it.
    pub qapla_api_key: SecretString,
    /// During a key rotation: the key Qapla' used before, still accepted on posts until
    /// its `until` (UTC, at most [`PREVIOUS_KEY_MAX_DAYS`] days ahead). See the README,
    /// "Rotating a channel's Qapla' key".
    #[serde(default)]
    pub qapla_api_key_previous: Option<PreviousKey>,
    /// Language of the channel's customers: the `language` field and the status label.
    #[serde(default)]
    pub language: Language,
    /// How `qaplaStatus` names a status: `name` (default), `abbreviation` or `code`.
    #[serde(default)]
    pub label_style: LabelStyle,
    /// The customer-facing tracking page, with placeholders `{trackingNumber}`,
    /// `{reference}` and `{courier}` (URL-encoded when filled in). Required unless
    /// `trackingUrlSource` is `qapla`.
    #[serde(default)]
    pub tracking_url_template: String,
    /// Where `trackingUrl` comes from: `template` (default) or `qapla` (the shipment's
    /// Qapla' tracking page, read with `getShipment`).
    #[serde(default)]
    pub tracking_url_source: TrackingUrlSource,
    /// Contact language by the consignee's country (ISO 3166-1 alpha-2, e.g. `"ES": "es"`);
    /// countries not listed get `language`.
    #[serde(default)]
    pub language_by_country: std::collections::HashMap<String, Language>,
    /// Send a shipment status only when its status id (and detail) differs from the last
    /// one delivered for that shipment. Repeated scans are counted as `repeat`.
    #[serde(default = "yes")]
    pub notify_only_changes: bool,
    /// Status updates of return shipments (`return = 1`): `separate` (default, to the
    /// `returnStatus` alias), `same` (to the shipment alias), or `skip`.
    #[serde(default)]
    pub return_shipments: ReturnShipments,
    /// Notify the statuses of child shipments of a multi-parcel order (`isChild = 1`).
    /// Off by default: the parent shipment already tells the customer.
    #[serde(default)]
    pub notify_child_shipments: bool,
    /// Qapla' API base URL (for `getShipment`).
    #[serde(default = "default_qapla_base")]
    pub qapla_api_base_url: String,
    /// Reconcile the channel's shipment statuses: `auto` (default), `on` or `off`.
    #[serde(default)]
    pub reconcile: Reconcile,
    /// Which kinds of posts are sent (`{"shipments": true, "returns": true, "orders": true}`).
    #[serde(default)]
    pub send: Sends,
    /// Suppression rules: relay addresses, statuses, couriers (see [`Rules`]).
    #[serde(default)]
    pub rules: Rules,
    /// Fields added to the shipment events: `statusGroup`, `courierName`, `shippedAt`.
    #[serde(default)]
    pub extra_fields: Vec<ExtraField>,
    /// Couriers' display names by Qapla' code, for `courierName`.
    #[serde(default)]
    pub courier_names: std::collections::HashMap<String, String>,
    /// Stalled parcels: on when present (see [`Stalls`]).
    #[serde(default)]
    pub stalls: Option<Stalls>,
    /// Release links for parcels held at the depot: on when present (see [`ReleaseLinks`]).
    #[serde(default)]
    pub release_links: Option<ReleaseLinks>,
    /// How `estimatedDelivery` (in `extraFields`) is found (see [`EstimatedDelivery`]).
    #[serde(default)]
    pub estimated_delivery: EstimatedDelivery,
    /// After each shipment status event Connectif accepts, `PATCH /contacts/{email}` sets
    /// the contact's last status group, tracking number and status time
    /// (`crate::connectif::contact`). API mode only; off by default.
    #[serde(default)]
    pub contact_fields: bool,
    /// Qapla's API v2 base URL (the release page's token exchange and stock-release).
    #[serde(default = "default_qapla_v2_base")]
    pub qapla_v2_base_url: String,
    /// Connectif reception event alias per kind of event.
    #[serde(default)]
    pub aliases: Aliases,
    /// Where and how events are delivered.
    pub connectif: ConnectifSettings,
}

fn yes() -> bool {
    true
}

fn default_qapla_base() -> String {
    "https://api.qapla.it/1.3".into()
}

fn default_qapla_v2_base() -> String {
    "https://api.qapla.it/v2".into()
}

/// `releaseLinks`: the held parcel's `order-status-change` event carries `releaseUrl`, a
/// signed link to the stack's release page (`crate::release`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReleaseLinks {
    /// Days after the hold was reported before the link opens (default 0: at once; a shop
    /// that lets the courier try again first says 1 or 2).
    #[serde(default)]
    pub after_days: u8,
    /// Days the link works from the event (default 7).
    #[serde(default = "seven")]
    pub expires_days: u8,
}

fn seven() -> u8 {
    7
}

impl ReleaseLinks {
    fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=30).contains(&self.expires_days) {
            return Err(SettingsError::new(
                "releaseLinks.expiresDays",
                "must be 1 to 30 days",
            ));
        }
        if self.after_days >= self.expires_days {
            return Err(SettingsError::new(
                "releaseLinks.afterDays",
                "must be less than expiresDays",
            ));
        }
        Ok(())
    }
}

/// `estimatedDelivery`: the courier's own date when `getShipment` has one, else the
/// network's median lead time (Qapla' v2 `couriers/delivery-times`) when `median` is on and
/// its sample holds at least `minSampleSize` deliveries, else no date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EstimatedDelivery {
    #[serde(default = "yes")]
    pub median: bool,
    #[serde(default = "hundred")]
    pub min_sample_size: u32,
}

impl Default for EstimatedDelivery {
    fn default() -> Self {
        EstimatedDelivery {
            median: true,
            min_sample_size: hundred(),
        }
    }
}

fn hundred() -> u32 {
    100
}

/// See [`ChannelSettings::tracking_url_source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrackingUrlSource {
    #[default]
    Template,
    Qapla,
}

/// See [`ChannelSettings::return_shipments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReturnShipments {
    #[default]
    Separate,
    Same,
    Skip,
}

/// The two ways of delivering a reception event.
#[derive(Debug, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", deny_unknown_fields)]
pub enum ConnectifSettings {
    /// Each reception event's own Endpoint URL (webhook context, no auth header).
    Endpoint { endpoints: Endpoints },
    /// The Public API: `POST {baseUrl}/custom-events/alias/{alias}?createContact=true`.
    #[serde(rename_all = "camelCase")]
    Api {
        /// `keyId:keySecret`, sent as `Authorization: apiKey <keyId>:<keySecret>`.
        api_key: SecretString,
        #[serde(default = "default_api_base")]
        base_url: String,
    },
}

fn default_api_base() -> String {
    "https://api.connectif.cloud".into()
}

/// Endpoint URL per reception event; an event without one is not sent (logged and counted
/// as `skipped`, reason `no_endpoint`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoints {
    pub shipment: Option<String>,
    /// Status updates of return shipments (`returnShipments: separate`). Without it they
    /// are not sent: never to the shipment endpoint.
    pub return_status: Option<String>,
    #[serde(rename = "return")]
    pub returns: Option<String>,
    pub order: Option<String>,
    /// Past statuses sent by `bridge-admin backfill` (see `aliases.history`).
    pub history: Option<String>,
    /// Stalled parcels (see `stalls`).
    pub stalled: Option<String>,
    /// What the customer chose for a held parcel (see `releaseLinks`).
    pub release: Option<String>,
}

impl Endpoints {
    pub fn get(&self, reception: Reception) -> Option<&str> {
        match reception {
            Reception::ShipmentStatus => self.shipment.as_deref(),
            Reception::ReturnStatus => self.return_status.as_deref(),
            Reception::ReturnRequest => self.returns.as_deref(),
            Reception::OrderShipped => self.order.as_deref(),
            Reception::ShipmentHistory => self.history.as_deref(),
            Reception::ParcelStalled => self.stalled.as_deref(),
            Reception::ParcelRelease => self.release.as_deref(),
        }
    }
}

impl ConnectifSettings {
    /// Whether events of `reception` have somewhere to go (API mode: always).
    pub fn delivers(&self, reception: Reception) -> bool {
        match self {
            ConnectifSettings::Endpoint { endpoints } => endpoints.get(reception).is_some(),
            ConnectifSettings::Api { .. } => true,
        }
    }
}

/// A secret that does not hold valid channel settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("channel settings: {}", if field.is_empty() { problem.clone() } else { format!("field `{field}`: {problem}") })]
pub struct SettingsError {
    pub field: String,
    pub problem: String,
}

impl SettingsError {
    pub(super) fn new(field: &str, problem: &str) -> Self {
        SettingsError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl ChannelSettings {
    /// Parse and validate a secret's JSON text.
    pub fn from_json(text: &str) -> Result<Self, SettingsError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let settings: ChannelSettings = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = crate::telemetry::field_path(e.path());
            let problem = crate::telemetry::describe_json_error(e.inner());
            let problem = problem
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_owned();
            SettingsError { field, problem }
        })?;
        de.end()
            .map_err(|_| SettingsError::new("", "data after the JSON object"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if self.qapla_api_key.expose_secret().trim().is_empty() {
            return Err(SettingsError::new("qaplaApiKey", "must not be empty"));
        }
        if let Some(previous) = &self.qapla_api_key_previous {
            previous.validate()?;
        }
        if self.tracking_url_source == TrackingUrlSource::Template
            || !self.tracking_url_template.is_empty()
        {
            check_url("trackingUrlTemplate", &self.tracking_url_template)?;
        }
        check_url("qaplaApiBaseUrl", &self.qapla_api_base_url)?;
        check_url("qaplaV2BaseUrl", &self.qapla_v2_base_url)?;
        self.validate_features()?;
        self.rules.validate()?;
        if let Some(stalls) = &self.stalls {
            stalls.validate(self.language)?;
        }
        self.validate_connectif()
    }

    /// The opt-in features' own settings.
    fn validate_features(&self) -> Result<(), SettingsError> {
        if let Some(links) = &self.release_links {
            links.validate()?;
        }
        if self.estimated_delivery.min_sample_size == 0 {
            return Err(SettingsError::new(
                "estimatedDelivery.minSampleSize",
                "must be at least 1",
            ));
        }
        if self.contact_fields && !matches!(self.connectif, ConnectifSettings::Api { .. }) {
            return Err(SettingsError::new(
                "contactFields",
                "needs connectif.mode \"api\": contacts are written with the Public API",
            ));
        }
        Ok(())
    }

    /// The aliases and where events go.
    fn validate_connectif(&self) -> Result<(), SettingsError> {
        for reception in Reception::ALL {
            let (name, alias) = (reception.setting(), self.aliases.get(reception));
            let ok = !alias.is_empty()
                && alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                let field = format!("aliases.{name}");
                return Err(SettingsError::new(
                    &field,
                    "must be letters, digits, '-' or '_'",
                ));
            }
        }
        match &self.connectif {
            ConnectifSettings::Endpoint { endpoints } => {
                let mut any = false;
                for reception in Reception::ALL {
                    if let Some(url) = endpoints.get(reception) {
                        check_url(&format!("connectif.endpoints.{}", reception.setting()), url)?;
                        any = true;
                    }
                }
                if !any {
                    return Err(SettingsError::new(
                        "connectif.endpoints",
                        "needs at least one endpoint URL",
                    ));
                }
            }
            ConnectifSettings::Api { api_key, base_url } => {
                if api_key.expose_secret().trim().is_empty() {
                    return Err(SettingsError::new("connectif.apiKey", "must not be empty"));
                }
                check_url("connectif.baseUrl", base_url)?;
            }
        }
        Ok(())
    }

    /// The contact's language: by the consignee's country if mapped, else the channel's.
    pub fn language_for(&self, country: Option<&str>) -> Language {
        country
            .map(|c| c.trim().to_ascii_uppercase())
            .and_then(|c| self.language_by_country.get(&c).copied())
            .unwrap_or(self.language)
    }
}

fn check_url(field: &str, url: &str) -> Result<(), SettingsError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .filter(|r| !r.is_empty() && !r.starts_with('/') && !url.contains(char::is_whitespace));
    match rest {
        Some(_) => Ok(()),
        None => Err(SettingsError::new(field, "must be an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoint_secret() -> serde_json::Value {
        json!({
            "qaplaApiKey": "k-123",
            "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
            "connectif": { "mode": "endpoint", "endpoints": { "shipment": "https://webhook.example/a" } }
        })
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of `secs` from now.
    fn utc_in(secs: i64) -> String {
        let at = crate::clock::epoch_secs() as i64 + secs;
        format!("{}Z", crate::clock::time_text(at).replacen(' ', "T", 1))
    }

    #[test]
    fn the_previous_key_is_accepted_until_its_time_and_never_after() {
        let mut v = endpoint_secret();
        v["qaplaApiKeyPrevious"] = json!({ "key": "k-old", "until": utc_in(3600) });
        let s = parse(&v).expect("valid");
        let key = |k: &str| SecretString::from(k.to_owned());
        let now = crate::clock::epoch_secs() as i64;
        assert!(s.key_matches_at(&key("k-123"), now));
        assert!(s.key_matches_at(&key("k-old"), now));
        assert!(s.is_previous_key_at(&key("k-old"), now));
        assert!(!s.is_previous_key_at(&key("k-123"), now));
        assert!(!s.key_matches_at(&key("k-old"), now + 3601), "expired");
        assert!(s.key_matches_at(&key("k-123"), now + 3601));
        assert!(!s.key_matches_at(&key("k-other"), now));
        let without = parse(&endpoint_secret()).expect("valid");
        assert!(!without.key_matches_at(&key("k-old"), now));
    }

    #[test]
    fn a_previous_key_must_be_bounded_and_readable() {
        let cases = [
            (
                json!({ "key": "k-old", "until": utc_in(8 * 86_400) }),
                "qaplaApiKeyPrevious.until",
            ),
            (
                json!({ "key": "k-old", "until": "next week" }),
                "qaplaApiKeyPrevious.until",
            ),
            (
                json!({ "key": " ", "until": utc_in(60) }),
                "qaplaApiKeyPrevious.key",
            ),
        ];
        for (previous, field) in cases {
            let mut v = endpoint_secret();
            v["qaplaApiKeyPrevious"] = previous.clone();
            let err = parse(&v).expect_err("refused");
            assert_eq!(err.field, field, "{previous}");
            assert!(!err.to_string().contains("k-old"));
        }
        let mut v = endpoint_secret();
        v["qaplaApiKeyPrevious"] = json!({ "key": "k-old", "until": utc_in(-60) });
        assert!(
            parse(&v).is_ok(),
            "an expired previous key is harmless (ignored)"
        );
    }

    #[test]
    fn data_after_the_settings_object_is_refused() {
        let text = endpoint_secret().to_string();
        for trailing in ["x", "{}", &text] {
            let err =
                ChannelSettings::from_json(&format!("{text}{trailing}")).expect_err("refused");
            assert_eq!(
                err.to_string(),
                "channel settings: data after the JSON object"
            );
        }
        assert!(ChannelSettings::from_json(&format!("{text} \n")).is_ok());
    }

    fn parse(v: &serde_json::Value) -> Result<ChannelSettings, SettingsError> {
        ChannelSettings::from_json(&v.to_string())
    }

    #[test]
    fn a_minimal_secret_gets_the_documented_defaults() {
        let s = parse(&endpoint_secret()).expect("valid");
        assert_eq!(s.language, Language::It);
        assert_eq!(s.label_style, LabelStyle::Name);
        assert_eq!(
            s.aliases.get(Reception::ShipmentStatus),
            "order-status-change"
        );
        assert_eq!(s.aliases.get(Reception::ReturnRequest), "return-request");
        assert_eq!(s.aliases.get(Reception::OrderShipped), "order-shipped");
        assert_eq!(
            s.aliases.get(Reception::ReturnStatus),
            "return-status-change"
        );
        assert_eq!(s.tracking_url_source, TrackingUrlSource::Template);
        assert!(s.notify_only_changes);
        assert!(!s.notify_child_shipments);
        assert_eq!(s.return_shipments, ReturnShipments::Separate);
        assert_eq!(s.qapla_api_base_url, "https://api.qapla.it/1.3");
    }

    #[test]
    fn the_language_follows_the_country_map_then_the_channel_default() {
        let mut v = endpoint_secret();
        v["languageByCountry"] = json!({ "ES": "es", "GB": "en" });
        let s = parse(&v).expect("valid");
        assert_eq!(s.language_for(Some("es")), Language::Es);
        assert_eq!(s.language_for(Some("GB")), Language::En);
        assert_eq!(s.language_for(Some("FR")), Language::It);
        assert_eq!(s.language_for(None), Language::It);
    }

    #[test]
    fn qaplas_tracking_page_makes_the_template_optional() {
        let mut v = endpoint_secret();
        v.as_object_mut()
            .expect("object")
            .remove("trackingUrlTemplate");
        assert_eq!(
            parse(&v).expect_err("template needed").field,
            "trackingUrlTemplate"
        );
        v["trackingUrlSource"] = json!("qapla");
        let parsed = parse(&v);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    #[test]
    fn an_api_mode_secret_defaults_to_connectifs_base_url() {
        let mut v = endpoint_secret();
        v["connectif"] = json!({ "mode": "api", "apiKey": "id:secret" });
        match parse(&v).expect("valid").connectif {
            ConnectifSettings::Api { base_url, .. } => {
                assert_eq!(base_url, "https://api.connectif.cloud")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_and_never_the_value() {
        let cases = [
            (json!({ "qaplaApiKey": "" }), "qaplaApiKey"),
            (json!({ "qaplaApiKey": 12345678 }), "qaplaApiKey"),
            (
                json!({ "trackingUrlTemplate": "ftp://SECRETVALUE" }),
                "trackingUrlTemplate",
            ),
            (json!({ "language": "xx" }), "language"),
            (
                json!({ "aliases": { "order": "bad alias" } }),
                "aliases.order",
            ),
            (
                json!({ "connectif": { "mode": "endpoint", "endpoints": {} } }),
                "connectif.endpoints",
            ),
            (
                json!({ "connectif": { "mode": "endpoint", "endpoints": { "order": "SECRETVALUE" } } }),
                "connectif.endpoints.order",
            ),
            (
                json!({ "connectif": { "mode": "api", "apiKey": " " } }),
                "connectif.apiKey",
            ),
            (
                json!({ "connectif": { "mode": "carrier-pigeon" } }),
                "connectif",
            ),
            (
                json!({ "trackingUrlTemplat": "https://x.example" }),
                "trackingUrlTemplat",
            ),
        ];
        for (patch, field) in cases {
            let mut v = endpoint_secret();
            for (k, val) in patch.as_object().expect("object") {
                v[k] = val.clone();
            }
            let err = parse(&v).expect_err(field);
            let text = err.to_string();
            assert!(text.contains(field), "{text} should name {field}");
            assert!(
                !text.contains("SECRETVALUE") && !text.contains("12345678"),
                "{text} leaks a value"
            );
        }
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let err = ChannelSettings::from_json(r#"{"qaplaApiKey":"k"}"#).expect_err("incomplete");
        assert!(
            err.problem.contains("connectif") || err.field.contains("connectif"),
            "{err}"
        );
        assert!(ChannelSettings::from_json("not json").is_err());
    }

    #[test]
    fn an_unknown_language_is_refused_with_the_list_of_those_supported() {
        for field in ["language", "languageByCountry"] {
            let mut v = endpoint_secret();
            v[field] = match field {
                "language" => json!("nl"),
                _ => json!({ "NL": "nl" }),
            };
            let err = parse(&v).expect_err("nl is not supported");
            assert!(err.field.starts_with(field), "{err}");
            assert!(
                err.problem.contains("`it`, `es`, `en`, `de`, `fr`, `pt`"),
                "{err}"
            );
        }
        let mut v = endpoint_secret();
        v["languageByCountry"] = json!({ "DE": "de", "FR": "fr", "PT": "pt" });
        let s = parse(&v).expect("valid");
        assert_eq!(s.language_for(Some("pt")), Language::Pt);
    }

    #[test]
    fn keys_are_compared_exactly() {
        let s = parse(&endpoint_secret()).expect("valid");
        assert!(s.key_matches(&SecretString::from("k-123")));
        assert!(!s.key_matches(&SecretString::from("k-124")));
        assert!(!s.key_matches(&SecretString::from("k-12")));
        assert!(!s.key_matches(&SecretString::from("")));
    }
}
