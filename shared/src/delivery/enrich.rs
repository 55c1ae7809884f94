//! Completing events from Qapla's API in the delivery stage: the customer's e-mail, name and
//! country when the webhook lacked them (v1.2 sends none), and Qapla's own tracking page.
//!
//! Answers are cached per shipment (a burst of statuses costs one `getShipment`) and calls
//! are paced per Qapla' key by Qapla's own bucket (120 burst, 2 per second), kept in the
//! state table in the stack so that every worker instance and a backfill share it (see
//! [`crate::qapla::pace`]).
//! Throttling and 5xx are retryable: they delay an event, never lose it. A shipment Qapla'
//! does not know (its panel's "Test" button posts one) is skipped as `unknown_to_qapla`, once
//! `getChannel` shows the key works: Qapla' answers a refused key with the same KO, and a
//! refused key is retried (`qapla_key_refused`, counted and alarmed on), never skipped. One
//! that has no e-mail even there is skipped as `no_customer_email` (nobody to tell).

use crate::channel::{ChannelId, ChannelSettings};
use crate::connectif::{ConnectifEvent, DeliveryError, Enrich, Fields};
use crate::customer::Email;
use crate::mapping;
use crate::qapla::api::{ApiError, ApiShipment, QaplaApi};
use crate::qapla::pace::{LocalPace, Pace};
use crate::qapla::v2::{LaneTimes, QaplaV2};
use quick_cache::sync::Cache;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The Qapla' API client with its cache and its pacing. One per process.
pub struct Enricher {
    api: QaplaApi,
    /// Qapla's API v2: the network's delivery times (`super::estimate`).
    pub(super) v2: QaplaV2,
    cache_ttl: Duration,
    cache: Cache<(ChannelId, String), (Instant, ApiShipment)>,
    /// Whether Qapla' took a key, by the key's fingerprint (see [`Enricher::key_works`]).
    keys: Cache<String, (Instant, bool)>,
    /// Lanes' figures by (key fingerprint, courier, postcode), until when they are used.
    pub(super) lanes: Cache<(String, String, String), (Instant, Option<LaneTimes>)>,
    pub(super) pace: Arc<dyn Pace>,
}

/// Entries each cache keeps (the least used go first when full).
const CACHE_MAX: usize = 10_000;

/// The skip reason of a shipment with no e-mail in the post nor in Qapla'.
pub const NO_CUSTOMER_EMAIL: &str = "no_customer_email";

/// The skip reason of a `getShipment` answer without the consignee, though asked for it
/// (`data=consignee`): `bridge-admin doctor` checks Qapla's answer.
pub const NO_CONSIGNEE: &str = "no_consignee_from_qapla";

/// The skip reason of a shipment `getShipment` does not find.
pub const UNKNOWN_TO_QAPLA: &str = "unknown_to_qapla";

impl Enricher {
    /// Paced in this process only (local runs, tests); see [`Enricher::paced`].
    pub fn new(api: QaplaApi, v2: QaplaV2, cache_ttl: Duration) -> Self {
        Enricher {
            api,
            v2,
            cache_ttl,
            cache: Cache::new(CACHE_MAX),
            keys: Cache::new(CACHE_MAX),
            lanes: Cache::new(CACHE_MAX),
            pace: Arc::new(LocalPace::default()),
        }
    }

    /// Spending from `pace`'s buckets (shared with other processes).
    pub fn paced(self, pace: Arc<dyn Pace>) -> Self {
        Enricher { pace, ..self }
    }

    /// Qapla' API calls made by this process.
    pub fn calls(&self) -> u64 {
        self.api.calls()
    }

    /// The event with what was missing filled in from Qapla'.
    pub async fn complete(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        event: &ConnectifEvent,
        enrich: &Enrich,
    ) -> Result<ConnectifEvent, DeliveryError> {
        let shipment = self
            .shipment(channel, settings, &enrich.tracking_number)
            .await?;
        let mut event = event.clone();
        let customer = Customer::of(&mut event.fields);
        if enrich.customer
            && let Some(f) = customer
        {
            // Asked with `data=consignee`: an answer without one is a contract Qapla' did not
            // keep (or a shipment without a recipient): told apart, and counted.
            let Some(consignee) = shipment.consignee else {
                crate::telemetry::metrics::count_no_consignee(channel.as_str());
                return Err(DeliveryError::Skip {
                    reason: NO_CONSIGNEE,
                });
            };
            let email = consignee
                .email
                .as_deref()
                .and_then(|e| Email::try_from(e).ok());
            // Nobody to tell (a marketplace order, often): skipped and counted, not a dead
            // letter a replay could never fix.
            *f.email = Some(email.ok_or(DeliveryError::Skip {
                reason: NO_CUSTOMER_EMAIL,
            })?);
            let name = consignee
                .name
                .ok_or_else(|| permanent("no customer name in Qapla' either"))?;
            *f.name = name.trim().to_owned();
            *f.language = settings.language_for(consignee.country.as_deref());
            if let Some(s) = &enrich.status {
                let detail = s.detail_id.map(|id| (id, s.detail_text.as_deref()));
                let label =
                    mapping::label(&s.id, &s.label, detail, *f.language, settings.label_style);
                *f.label = label.text.trim().to_owned();
            }
        }
        if enrich.tracking_url {
            let url = shipment
                .url
                .ok_or_else(|| permanent("no tracking page in Qapla'"))?;
            match &mut event.fields {
                Fields::ShipmentStatus(f) => f.tracking_url = url.trim().to_owned(),
                Fields::OrderShipped(f) => f.tracking_url = url.trim().to_owned(),
                Fields::ParcelStalled(f) => f.tracking_url = url.trim().to_owned(),
                Fields::ReturnRequest(_) | Fields::ParcelRelease(_) => {}
            }
        }
        Ok(event)
    }

    /// The shipment from the cache, else from `getShipment` (paced); a shipment Qapla' does
    /// not know is a skip for [`UNKNOWN_TO_QAPLA`].
    pub(super) async fn shipment(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
        tracking: &str,
    ) -> Result<ApiShipment, DeliveryError> {
        let key = (channel.clone(), tracking.to_owned());
        if let Some((at, shipment)) = self.cache.get(&key)
            && at.elapsed() < self.cache_ttl
        {
            return Ok(shipment);
        }
        if let Err(wait) = self.pace.take(&settings.qapla_api_key, 0.0).await {
            return Err(DeliveryError::Throttled {
                reason: "Qapla' API pace reached (2 calls per second)".into(),
                retry_after: Some(wait),
            });
        }
        let base = &settings.qapla_api_base_url;
        let shipment = match self
            .api
            .get_shipment(base, &settings.qapla_api_key, tracking, settings.language)
            .await
        {
            Ok(Some(shipment)) => shipment,
            // Qapla' does not know it (e.g. the panel's "Test" button): nothing to tell a
            // customer, nothing an operator must replay. Unless the KO is for the key.
            Ok(None) | Err(ApiError::Ko { .. }) => {
                self.key_works(channel, settings).await?;
                return Err(DeliveryError::Skip {
                    reason: UNKNOWN_TO_QAPLA,
                });
            }
            Err(ApiError::Refused {
                status: 401 | 403, ..
            }) => {
                return Err(self.key_refused(channel));
            }
            // Not Qapla's "unknown shipment" (that is a KO): a path or a version Qapla' did
            // not serve. Retried, so nothing is lost, and counted (`QaplaApiRefusedAlarm`).
            Err(e @ ApiError::Refused { status: 404, .. }) => {
                crate::telemetry::metrics::count_api_refused(channel.as_str());
                return Err(DeliveryError::Retryable {
                    reason: format!("{API_REFUSED}: {e}"),
                    retry_after: None,
                });
            }
            Err(e) => return Err(delivery_error(e)),
        };
        self.cache.insert(key, (Instant::now(), shipment.clone()));
        Ok(shipment)
    }
}

/// The customer's fields of a shipment event (or a stall's), to fill in.
struct Customer<'a> {
    email: &'a mut Option<Email>,
    name: &'a mut String,
    language: &'a mut crate::mapping::Language,
    label: &'a mut String,
}

impl<'a> Customer<'a> {
    fn of(fields: &'a mut Fields) -> Option<Self> {
        match fields {
            Fields::ShipmentStatus(f) => Some(Customer {
                email: &mut f.customer_email,
                name: &mut f.customer_name,
                language: &mut f.language,
                label: &mut f.qapla_status,
            }),
            Fields::ParcelStalled(f) => Some(Customer {
                email: &mut f.customer_email,
                name: &mut f.customer_name,
                language: &mut f.language,
                label: &mut f.qapla_status,
            }),
            // The page's language is the link's (the event's): kept; no status label.
            Fields::ParcelRelease(f) => Some(Customer {
                email: &mut f.customer_email,
                name: &mut f.customer_name,
                language: &mut f.language,
                label: &mut f.courier_message,
            }),
            _ => None,
        }
    }
}

impl Enricher {
    /// Whether Qapla' takes the channel's key, by `getChannel` with it (Qapla' answers a
    /// refused key and an unknown shipment with the same KO). Remembered [`KEY_CHECK_TTL`]
    /// per key, so a burst of unknown shipments costs one call.
    async fn key_works(
        &self,
        channel: &ChannelId,
        settings: &ChannelSettings,
    ) -> Result<(), DeliveryError> {
        let fingerprint = crate::qapla::pace::key_hash(&settings.qapla_api_key);
        let known = self
            .keys
            .get(&fingerprint)
            .filter(|(at, _)| at.elapsed() < KEY_CHECK_TTL)
            .map(|(_, works)| works);
        let works = match known {
            Some(works) => works,
            None => {
                if let Err(wait) = self.pace.take(&settings.qapla_api_key, 0.0).await {
                    return Err(DeliveryError::Throttled {
                        reason: "Qapla' API pace reached (2 calls per second)".into(),
                        retry_after: Some(wait),
                    });
                }
                let base = &settings.qapla_api_base_url;
                let works = match self.api.get_channel(base, &settings.qapla_api_key).await {
                    Ok(_) => true,
                    Err(ApiError::Ko { .. } | ApiError::Refused { .. }) => false,
                    Err(e) => return Err(delivery_error(e)),
                };
                self.keys.insert(fingerprint, (Instant::now(), works));
                works
            }
        };
        if works {
            Ok(())
        } else {
            Err(self.key_refused(channel))
        }
    }

    /// The channel's Qapla' key is refused (rotated in Qapla' and not in the secret, or a
    /// typo): retried, so nothing is lost once the secret is fixed, counted, and alarmed on.
    fn key_refused(&self, channel: &ChannelId) -> DeliveryError {
        crate::telemetry::metrics::count_key_refused(channel.as_str());
        DeliveryError::Retryable {
            reason: format!(
                "{KEY_REFUSED}: Qapla' refused the channel's API key (getChannel); fix qaplaApiKey in the channel's secret"
            ),
            retry_after: None,
        }
    }
}

/// How long a `getChannel` verdict on a key is used.
const KEY_CHECK_TTL: Duration = Duration::from_secs(60);

/// The reason's first word when Qapla' answers 404 without its own KO.
pub const API_REFUSED: &str = "qapla_api_not_found";

/// The reason's first word when Qapla' refuses a channel's key.
pub const KEY_REFUSED: &str = "qapla_key_refused";

/// An API failure as a delivery outcome: busy or unreachable is retried, the rest is not.
fn delivery_error(e: ApiError) -> DeliveryError {
    match e {
        // 429, or Qapla's "Too Many Requests" in an answer of another status.
        ApiError::Busy {
            status,
            retry_after,
        } if status < 500 => DeliveryError::Throttled {
            reason: e.to_string(),
            retry_after,
        },
        ApiError::Busy { retry_after, .. } => DeliveryError::Retryable {
            reason: e.to_string(),
            retry_after,
        },
        ApiError::Unreachable(_) => DeliveryError::Retryable {
            reason: e.to_string(),
            retry_after: None,
        },
        e => permanent(&e.to_string()),
    }
}

fn permanent(reason: &str) -> DeliveryError {
    DeliveryError::Permanent {
        reason: reason.to_owned(),
    }
}
