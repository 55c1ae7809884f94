//! Signed release links: the token in `/release/{token}` that lets the customer of a parcel
//! held at the depot choose what the courier does with it (`crate::release`).
//!
//! A token is `<payload>.<signature>`, both base64url without padding: the payload is a small
//! JSON object (the channel, Qapla's shipment id, the tracking number, the order reference,
//! the courier, the language, when the link opens and when it expires; never an e-mail, a
//! name or an address), the signature HMAC-SHA-256 over `release-link/v1.<payload>` with the
//! stack's link key (a secret Secrets Manager generates). The check is the MAC's own
//! constant-time comparison. A form's CSRF value is a second MAC, over the token, so a form
//! works only for the link it was served for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a release link names. Short keys: the whole token goes in an e-mail's URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// The channel id.
    #[serde(rename = "c")]
    pub channel: String,
    /// Qapla's numeric shipment id (`getShipment`'s `id`): the stock-release call's `{id}`.
    #[serde(rename = "s")]
    pub shipment_id: String,
    #[serde(rename = "t")]
    pub tracking_number: String,
    #[serde(rename = "r")]
    pub reference: String,
    /// The courier's name as the event shows it.
    #[serde(rename = "k")]
    pub courier: String,
    /// The event's language code (`it`, `es`, `en`, `de`, `fr`, `pt`).
    #[serde(rename = "l")]
    pub language: String,
    /// When the parcel was reported held (Unix seconds): with the channel and the shipment,
    /// it names the hold, so every link of one hold releases it once.
    #[serde(rename = "h")]
    pub held_at: i64,
    /// Not usable before (Unix seconds).
    #[serde(rename = "n")]
    pub not_before: i64,
    /// Not usable from (Unix seconds).
    #[serde(rename = "e")]
    pub expires: i64,
}

impl Link {
    /// The one-use key of the hold this link releases (see [`Link::held_at`]).
    pub fn hold_key(&self) -> String {
        format!("{}#{}#{}", self.channel, self.shipment_id, self.held_at)
    }
}

/// Why a token is not a usable link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token this stack signed (or one changed after signing).
    #[error("release link not signed by this stack")]
    Forged,
    /// Signed, but past its expiry.
    #[error("release link expired")]
    Expired,
    /// Signed, but not open yet (`afterDays`).
    #[error("release link not open yet")]
    NotYet,
}

/// The longest token read: a longer one is refused before any decoding.
pub const MAX_TOKEN: usize = 1024;

/// The stack's link key, keyed once (a clone per MAC).
#[derive(Clone)]
pub struct LinkKey(HmacSha256);

impl LinkKey {
    /// A key of at least 32 bytes (the stack's is 64 random characters).
    pub fn new(key: SecretString) -> Option<Self> {
        let key = key.expose_secret().trim().as_bytes();
        if key.len() < 32 {
            return None;
        }
        HmacSha256::new_from_slice(key).ok().map(LinkKey)
    }

    fn mac(&self, label: &str, data: &str) -> HmacSha256 {
        let mut mac = self.0.clone();
        mac.update(label.as_bytes());
        mac.update(b".");
        mac.update(data.as_bytes());
        mac
    }

    /// The token of `link`.
    pub fn sign(&self, link: &Link) -> String {
        let json = serde_json::to_vec(link).unwrap_or_default();
        let payload = B64.encode(json);
        let signature = B64.encode(self.mac(LINK, &payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The link `token` names, if this key signed it and it is open at `now` (Unix seconds).
    pub fn open(&self, token: &str, now: i64) -> Result<Link, LinkError> {
        let link = self.verify(token)?;
        if now >= link.expires {
            return Err(LinkError::Expired);
        }
        if now < link.not_before {
            return Err(LinkError::NotYet);
        }
        Ok(link)
    }

    /// The link `token` names if this key signed it, open or not.
    pub fn verify(&self, token: &str) -> Result<Link, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::Forged);
        }
        let (payload, signature) = token.split_once('.').ok_or(LinkError::Forged)?;
        let signature = B64.decode(signature).map_err(|_| LinkError::Forged)?;
        (self.mac(LINK, payload).verify_slice(&signature)).map_err(|_| LinkError::Forged)?;
        let json = B64.decode(payload).map_err(|_| LinkError::Forged)?;
        serde_json::from_slice(&json).map_err(|_| LinkError::Forged)
    }

    /// The language a token says, signed or not: only to say in it that a link does not
    /// work (nothing else of an unverified token is read).
    pub fn claimed_language(token: &str) -> String {
        let payload = token.split('.').next().unwrap_or_default();
        let json = B64.decode(payload).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        value["l"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(2)
            .collect()
    }

    /// The CSRF value of the form served for `token`.
    pub fn csrf(&self, token: &str) -> String {
        B64.encode(self.mac(FORM, token).finalize().into_bytes())
    }

    /// Whether `value` is the CSRF value of `token`'s form (constant time).
    pub fn csrf_matches(&self, token: &str, value: &str) -> bool {
        B64.decode(value.trim())
            .is_ok_and(|v| self.mac(FORM, token).verify_slice(&v).is_ok())
    }
}

/// Where a process gets the link key: the stack's secret, read once when first needed (the
/// worker asks only when a held parcel's event needs a link).
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    async fn key(&self) -> Result<LinkKey, String>;
}

/// A key given whole (local runs, tests).
pub struct FixedKey(pub LinkKey);

#[async_trait::async_trait]
impl KeySource for FixedKey {
    async fn key(&self) -> Result<LinkKey, String> {
        Ok(self.0.clone())
    }
}

/// What the worker needs to put a release link in a held parcel's event.
#[derive(Clone)]
pub struct Issuer {
    /// The stack's API, `https://<api>.execute-api.<region>.amazonaws.com` (no `/` at the end).
    pub base_url: String,
    pub keys: std::sync::Arc<dyn KeySource>,
}

impl Issuer {
    /// The page's URL for `link`.
    pub async fn url(&self, link: &Link) -> Result<String, String> {
        let key = self.keys.key().await?;
        let base = self.base_url.trim_end_matches('/');
        Ok(format!("{base}/release/{}", key.sign(link)))
    }
}

const LINK: &str = "release-link/v1";
const FORM: &str = "release-form/v1";

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> LinkKey {
        LinkKey::new(SecretString::from(k.to_owned())).expect("long enough")
    }

    fn link() -> Link {
        Link {
            channel: "it".into(),
            shipment_id: "1234567890".into(),
            tracking_number: "TRK1".into(),
            reference: "ORD-1".into(),
            courier: "BRT".into(),
            language: "it".into(),
            held_at: 1_000,
            not_before: 1_000,
            expires: 2_000,
        }
    }

    const K1: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
    const K2: &str = "fedcba9876543210fedcba9876543210fedcba9876543210";

    #[test]
    fn a_signed_link_opens_until_it_expires() {
        let token = key(K1).sign(&link());
        assert_eq!(key(K1).open(&token, 1_500), Ok(link()));
        assert_eq!(key(K1).open(&token, 2_000), Err(LinkError::Expired));
        assert_eq!(key(K1).open(&token, 999), Err(LinkError::NotYet));
    }

    #[test]
    fn another_key_or_a_changed_payload_is_a_forgery() {
        let token = key(K1).sign(&link());
        assert_eq!(key(K2).open(&token, 1_500), Err(LinkError::Forged));
        let (_, signature) = token.split_once('.').expect("two parts");
        let mut other = link();
        other.shipment_id = "999".into();
        let payload = B64.encode(serde_json::to_vec(&other).expect("json"));
        let swapped = format!("{payload}.{signature}");
        assert_eq!(key(K1).open(&swapped, 1_500), Err(LinkError::Forged));
        for bad in ["", ".", "abc", "a.b", &"x".repeat(MAX_TOKEN + 1)] {
            assert_eq!(key(K1).open(bad, 1_500), Err(LinkError::Forged));
        }
    }

    #[test]
    fn the_token_carries_no_contact_data_and_keys_the_hold() {
        let token = key(K1).sign(&link());
        let (payload, _) = token.split_once('.').expect("two parts");
        let json = String::from_utf8(B64.decode(payload).expect("b64")).expect("utf8");
        assert!(!json.contains('@'));
        assert_eq!(link().hold_key(), "it#1234567890#1000");
    }

    #[test]
    fn a_form_value_is_bound_to_its_token() {
        let (a, b) = (
            key(K1).sign(&link()),
            key(K1).sign(&Link {
                expires: 3_000,
                ..link()
            }),
        );
        let csrf = key(K1).csrf(&a);
        assert!(key(K1).csrf_matches(&a, &csrf));
        assert!(!key(K1).csrf_matches(&b, &csrf));
        assert!(!key(K2).csrf_matches(&a, &csrf));
        assert!(!key(K1).csrf_matches(&a, "not base64!"));
    }

    proptest::proptest! {
        /// Any link signed opens as itself; any change to its token, of any one byte, is
        /// a forgery; another key never opens it.
        #[test]
        fn every_link_round_trips_and_every_changed_token_is_forged(
            channel in "[a-z0-9_-]{1,20}",
            id in "[0-9]{1,18}",
            tracking in "[A-Za-z0-9 /-]{0,30}",
            reference in "\\PC{0,30}",
            held in 0i64..4_000_000_000,
            at in 0usize..400,
            with in proptest::num::u8::ANY,
        ) {
            let link = Link {
                channel, shipment_id: id, tracking_number: tracking, reference,
                courier: "GLS".into(), language: "de".into(),
                held_at: held, not_before: held, expires: held + 86_400,
            };
            let token = key(K1).sign(&link);
            proptest::prop_assert_eq!(key(K1).open(&token, held), Ok(link.clone()));
            proptest::prop_assert_eq!(key(K2).open(&token, held), Err(LinkError::Forged));
            let mut bytes = token.clone().into_bytes();
            let i = at % bytes.len();
            if bytes[i] != with {
                bytes[i] = with;
                let changed = String::from_utf8_lossy(&bytes).into_owned();
                proptest::prop_assert_eq!(key(K1).verify(&changed), Err(LinkError::Forged));
            }
        }
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(LinkKey::new(SecretString::from("short".to_owned())).is_none());
    }
}
