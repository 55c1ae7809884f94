//! Delivery of one envelope: the channel's current settings, completion from Qapla's API if
//! the envelope asks for it, a last check of the required fields, the post to Connectif.

use super::Envelope;
use super::enrich::Enricher;
use crate::channel::{AuthError, Channels, Rules, StoreError, Suppression, courier_name};
use crate::connectif::Reception;
use crate::connectif::{ConnectifClient, DeliveryError};
use crate::qapla::api::QaplaApi;
use crate::qapla::v2::QaplaV2;
use std::sync::Arc;
use std::time::Duration;

/// How long a `getShipment` answer serves the statuses of the same shipment.
const ENRICH_CACHE_TTL: Duration = Duration::from_secs(3600);

/// The Qapla' clients (v1.x and v2) over `http`, with the completion cache.
fn enricher(http: &reqwest::Client) -> Enricher {
    let (api, v2) = (QaplaApi::new(http.clone()), QaplaV2::new(http.clone()));
    Enricher::new(api, v2, ENRICH_CACHE_TTL)
}

/// Delivers one envelope once, with the channel's current settings: completes it from
/// Qapla's API if needed, then posts it to Connectif.
#[derive(Clone)]
pub struct Deliverer {
    channels: Arc<Channels>,
    client: ConnectifClient,
    /// The HTTP client of Qapla's API calls.
    qapla_http: reqwest::Client,
    enricher: Arc<Enricher>,
    /// Release links for held parcels (`releaseLinks`), when the stack gives them.
    release: Option<crate::links::Issuer>,
}

impl Deliverer {
    /// Posting with `client`, completing from Qapla's API over `qapla_http`.
    pub fn new(
        channels: Arc<Channels>,
        client: ConnectifClient,
        qapla_http: reqwest::Client,
    ) -> Self {
        let enricher = Arc::new(enricher(&qapla_http));
        Deliverer {
            channels,
            client,
            qapla_http,
            enricher,
            release: None,
        }
    }

    /// Held parcels' events of channels with `releaseLinks` carry a link signed by `issuer`.
    pub fn with_release_links(self, issuer: crate::links::Issuer) -> Self {
        Deliverer {
            release: Some(issuer),
            ..self
        }
    }

    /// Qapla' API calls paced by `pace` (in the stack: the budget shared in DynamoDB).
    pub fn paced(self, pace: Arc<dyn crate::qapla::pace::Pace>) -> Self {
        let enricher = Arc::new(enricher(&self.qapla_http).paced(pace));
        Deliverer { enricher, ..self }
    }

    /// Qapla' API calls made so far by this deliverer.
    pub fn qapla_calls(&self) -> u64 {
        self.enricher.calls()
    }

    /// Whether Qapla' knows the shipment of `envelope` (a made-up one, as its panel's "Test"
    /// button posts, it does not): `getShipment`, cached as for completion.
    pub async fn known_to_qapla(&self, envelope: &Envelope) -> Result<bool, DeliveryError> {
        let settings = self.settings(envelope).await?;
        let (channel, tracking) = (&envelope.channel, envelope.key.trim());
        match self.enricher.shipment(channel, &settings, tracking).await {
            Ok(_) => Ok(true),
            Err(DeliveryError::Skip {
                reason: super::enrich::UNKNOWN_TO_QAPLA,
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The channel's current settings, or why the envelope cannot be delivered now.
    async fn settings(
        &self,
        envelope: &Envelope,
    ) -> Result<Arc<crate::channel::ChannelSettings>, DeliveryError> {
        match self.channels.settings(&envelope.channel).await {
            Ok(Some(settings)) => Ok(settings),
            Ok(None) => Err(DeliveryError::Permanent {
                reason: "channel settings no longer exist".into(),
            }),
            Err(AuthError::Store(StoreError::Invalid(e))) => Err(DeliveryError::Retryable {
                reason: format!("channel settings invalid: {e}"),
                retry_after: None,
            }),
            Err(e) => Err(DeliveryError::Retryable {
                reason: e.to_string(),
                retry_after: None,
            }),
        }
    }

    /// Deliver `envelope`; the contact update that must follow it (`contactFields`), if any.
    pub async fn deliver(&self, envelope: &Envelope) -> Result<Option<Envelope>, DeliveryError> {
        let settings = self.settings(envelope).await?;
        if envelope.contact_update {
            return self
                .update_contact(envelope, &settings)
                .await
                .map(|()| None);
        }
        // The rules that need no customer first: no Qapla' call for an event held back.
        if let Some(rule) = held_back(&settings.rules, envelope) {
            return Err(DeliveryError::Suppressed { rule });
        }
        let mut event = match &envelope.enrich {
            None => envelope.event.clone(),
            Some(enrich) => {
                self.enricher
                    .complete(&envelope.channel, &settings, &envelope.event, enrich)
                    .await?
            }
        };
        // The opt-in fields here, not in the webhook: a queued message keeps the shape a
        // worker of the version before reads (during a deploy, say).
        let status = envelope.status_id.as_deref().unwrap_or_default();
        let courier = envelope
            .courier
            .as_deref()
            .map(|c| courier_name(c, &settings.courier_names));
        event
            .fields
            .fill_extras(crate::mapping::group(status), courier.clone());
        event.fields.keep_extras(&settings.extra_fields);
        let relay = event.fields.customer_email();
        if relay.is_some_and(|email| settings.rules.suppresses_address(email.as_str())) {
            return Err(DeliveryError::Suppressed {
                rule: Suppression::RelayAddress,
            });
        }
        if let Some(field) = event.fields.missing_required() {
            return Err(DeliveryError::Permanent {
                reason: format!("required field `{field}` is empty"),
            });
        }
        self.estimate(envelope, &settings, &mut event).await;
        // Last: a link only for an event that is sent.
        let url = self
            .release_url(envelope, &settings, &event, courier)
            .await?;
        if let (Some(url), crate::connectif::Fields::ShipmentStatus(f)) = (url, &mut event.fields) {
            f.release_url = Some(url);
        }
        self.client
            .send(&settings.connectif, envelope.reception(), &event)
            .await?;
        let follows = settings.contact_fields && envelope.reception() == Reception::ShipmentStatus;
        Ok(follows.then(|| envelope.contact_update_of(event)))
    }

    /// The contact's fields after its delivered event (`crate::connectif::contact`): one
    /// `PATCH`, unless the channel has turned `contactFields` off since.
    async fn update_contact(
        &self,
        envelope: &Envelope,
        settings: &crate::channel::ChannelSettings,
    ) -> Result<(), DeliveryError> {
        const OFF: &str = "contact_fields_off";
        let crate::connectif::Fields::ShipmentStatus(fields) = &envelope.event.fields else {
            return Err(DeliveryError::Permanent {
                reason: "a contact update of an event that is not a shipment status".into(),
            });
        };
        if !settings.contact_fields {
            return Err(DeliveryError::Skip { reason: OFF });
        }
        let email = fields
            .customer_email
            .as_ref()
            .ok_or(DeliveryError::Permanent {
                reason: "a contact update without the contact's e-mail".into(),
            })?;
        let status = envelope.status_id.as_deref().unwrap_or_default();
        let body =
            crate::connectif::contact::update(fields, status, envelope.occurred_at.as_deref());
        self.client
            .patch_contact(&settings.connectif, email, &body)
            .await
    }
}

impl Deliverer {
    /// `estimatedDelivery` and its source on a shipment status event of a channel that asks
    /// for them (`super::estimate`): from `getShipment` (cached and paced as for
    /// completion). An optional field never holds an event back: a Qapla' that is busy,
    /// away or without the shipment gives no date (logged), and the event goes now.
    async fn estimate(
        &self,
        envelope: &Envelope,
        settings: &crate::channel::ChannelSettings,
        event: &mut crate::connectif::ConnectifEvent,
    ) {
        let wanted =
            (settings.extra_fields).contains(&crate::channel::ExtraField::EstimatedDelivery);
        let crate::connectif::Fields::ShipmentStatus(fields) = &mut event.fields else {
            return;
        };
        if !wanted || envelope.reception() != Reception::ShipmentStatus {
            return;
        }
        let (channel, tracking) = (&envelope.channel, envelope.key.trim());
        let shipment = match self.enricher.shipment(channel, settings, tracking).await {
            Ok(shipment) => shipment,
            Err(e) => {
                tracing::warn!(%channel, key = tracking, reason = %e, "no estimatedDelivery: getShipment gave no shipment now");
                return;
            }
        };
        let status = envelope.status_id.as_deref().unwrap_or_default();
        if let Some(found) = (self.enricher)
            .estimate(channel, settings, &shipment, status)
            .await
        {
            fields.estimated_delivery = Some(found.date);
            fields.estimated_delivery_source = Some(found.source.to_owned());
        }
    }

    /// The release link of a held parcel's live status event, for a channel with
    /// `releaseLinks` (the shipment's Qapla' id from `getShipment`, cached and paced as for
    /// completion). A shipment Qapla' cannot give an id for goes without a link (logged);
    /// a busy Qapla' or an unreadable key delays the event.
    async fn release_url(
        &self,
        envelope: &Envelope,
        settings: &crate::channel::ChannelSettings,
        event: &crate::connectif::ConnectifEvent,
        courier: Option<String>,
    ) -> Result<Option<String>, DeliveryError> {
        let (Some(issuer), Some(links)) = (&self.release, &settings.release_links) else {
            return Ok(None);
        };
        let crate::connectif::Fields::ShipmentStatus(fields) = &event.fields else {
            return Ok(None);
        };
        if !envelope.held || envelope.pulled || envelope.reception() != Reception::ShipmentStatus {
            return Ok(None);
        }
        let (channel, tracking) = (&envelope.channel, envelope.key.trim());
        let shipment = match self.enricher.shipment(channel, settings, tracking).await {
            Ok(shipment) => shipment,
            Err(e @ (DeliveryError::Skip { .. } | DeliveryError::Permanent { .. })) => {
                tracing::warn!(%channel, key = tracking, reason = %e, "held parcel without a release link");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let id = shipment.id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            tracing::warn!(%channel, key = tracking, "held parcel without a release link: getShipment gave no numeric id");
            return Ok(None);
        }
        let now = crate::qapla::time::italian_now();
        let held_at = (envelope.occurred_at.as_deref())
            .and_then(crate::clock::parse_time)
            .unwrap_or(now);
        let link = crate::links::Link {
            channel: channel.as_str().to_owned(),
            shipment_id: id.to_owned(),
            tracking_number: tracking.to_owned(),
            reference: fields.reference.clone(),
            courier: courier.unwrap_or_else(|| envelope.courier.clone().unwrap_or_default()),
            language: fields.language.code().to_owned(),
            held_at,
            not_before: held_at + i64::from(links.after_days) * 86_400,
            expires: now + i64::from(links.expires_days) * 86_400,
        };
        let url = issuer
            .url(&link)
            .await
            .map_err(|e| DeliveryError::Retryable {
                reason: format!("release link key unavailable: {e}"),
                retry_after: None,
            })?;
        crate::telemetry::metrics::release(channel.as_str(), "issued", "", "");
        Ok(Some(url))
    }
}

/// The rule that holds `envelope` back before its customer is known, if one does: its
/// courier left out, or (a shipment status) its status not notified.
fn held_back(rules: &Rules, envelope: &Envelope) -> Option<Suppression> {
    if envelope
        .courier
        .as_deref()
        .is_some_and(|c| rules.leaves_out(c))
    {
        return Some(Suppression::CourierLeftOut);
    }
    let status = matches!(
        envelope.reception(),
        Reception::ShipmentStatus | Reception::ReturnStatus | Reception::ShipmentHistory
    );
    let id = envelope.status_id.as_deref().unwrap_or_default();
    (status && !rules.notifies(id)).then_some(Suppression::StatusNotNotified)
}
