//! The three webhook kinds: how each authenticated payload becomes planned Connectif events.

use crate::Kind;
use crate::channel::{Authenticated, ChannelId, Presented};
use crate::connectif::{self, ConnectifEvent, SkipReason};
use crate::delivery::Envelope;
use crate::enrich::Enrich;
use crate::qapla::{OrdersPayload, ParseError, ReturnsPayload, ShipmentPayload};
use secrecy::SecretString;

/// One Connectif event planned from a Qapla' post (a post may hold several): ready for
/// the hand-off, or skipped with the reason.
pub enum Planned {
    Send(Box<Envelope>),
    Skip {
        /// Tracking number (shipments) or order reference (returns, orders).
        key: String,
        status_id: Option<String>,
        reason: SkipReason,
    },
}

type Built = Result<(ConnectifEvent, Option<Enrich>), SkipReason>;

/// The envelope of one event: `identity` are the fields that make the event id.
fn plan<T>(
    auth: &Authenticated<T>,
    kind: Kind,
    key: &str,
    status_id: Option<String>,
    identity: &[&str],
    built: Built,
) -> Planned {
    let key = key.trim().to_owned();
    // An event whose reception has no endpoint (endpoint mode) is not sent at all: never to
    // another kind's endpoint.
    let built = built.and_then(|(event, enrich)| {
        let reception = event
            .reception
            .unwrap_or(crate::connectif::Reception::of(kind));
        if auth.settings().connectif.delivers(reception) {
            Ok((event, enrich))
        } else {
            Err(SkipReason::NoEndpoint)
        }
    });
    match built {
        Ok((event, enrich)) => Planned::Send(Box::new(Envelope {
            event_id: event_id(auth.channel(), kind, identity),
            channel: auth.channel().clone(),
            kind,
            key,
            status_id,
            occurred_at: None,
            repeat_key: None,
            enrich,
            event,
        })),
        Err(reason) => Planned::Skip {
            key,
            status_id,
            reason,
        },
    }
}

/// SHA-256 (hex) of the channel, the kind and the fields that identify one Qapla' event.
/// Qapla's own transmission ids are not used: a retried post may not keep them.
pub fn event_id(channel: &ChannelId, kind: Kind, parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [channel.as_str(), kind.as_str()].iter().chain(parts) {
        hash.update(part.trim().as_bytes());
        hash.update([0x1f]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A Qapla' webhook payload.
pub trait Webhook: Presented + Send + Sync + Sized {
    const KIND: Kind;
    /// Read a post's body (a JSON object; errors name the field, never its value).
    fn parse(body: &[u8]) -> Result<Self, ParseError>;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned>;
}

impl Presented for ShipmentPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ShipmentPayload {
    const KIND: Kind = Kind::Shipment;
    fn parse(body: &[u8]) -> Result<Self, ParseError> {
        crate::qapla::parse(body)
    }
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let s = auth.payload();
        let details: Vec<&str> = s.status_details.iter().map(|d| d.id.as_str()).collect();
        let details = details.join(",");
        let identity = [
            s.tracking_number.as_str(),
            &s.qapla_status_id,
            &details,
            &s.date,
            &s.courier_status,
            &s.place,
        ];
        let status_id = Some(s.qapla_status_id.trim().to_owned());
        let built = connectif::shipment_event(s, auth.settings());
        let mut planned = plan(
            auth,
            Self::KIND,
            &s.tracking_number,
            status_id,
            &identity,
            built,
        );
        if let Planned::Send(envelope) = &mut planned {
            envelope.occurred_at = crate::qapla::time::status_time(&s.date);
            if envelope.occurred_at.is_none() {
                tracing::warn!(
                    channel = %auth.channel(),
                    tracking_number = %s.tracking_number,
                    "status date unreadable or more than a day ahead: not used to order statuses"
                );
            }
            envelope.repeat_key = auth.settings().notify_only_changes.then(|| {
                let detail = s
                    .first_detail()
                    .map(|(id, _)| id.to_string())
                    .unwrap_or_default();
                format!("{}/{detail}", s.qapla_status_id.trim())
            });
        }
        vec![planned]
    }
}

impl Presented for ReturnsPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for ReturnsPayload {
    const KIND: Kind = Kind::Return;
    fn parse(body: &[u8]) -> Result<Self, ParseError> {
        ReturnsPayload::parse(body)
    }
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        let plan_one = |r: &crate::qapla::ReturnShipment| {
            let identity = [r.reference.as_str(), &r.rma, &r.tracking_number, &r.date];
            let built = connectif::return_event(r, settings).map(|e| (e, None));
            plan(auth, Self::KIND, &r.reference, None, &identity, built)
        };
        auth.payload().returns.iter().map(plan_one).collect()
    }
}

impl Presented for OrdersPayload {
    fn api_key(&self) -> Option<&SecretString> {
        self.api_key.as_ref()
    }
}

impl Webhook for OrdersPayload {
    const KIND: Kind = Kind::Order;
    fn parse(body: &[u8]) -> Result<Self, ParseError> {
        crate::qapla::parse(body)
    }
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        let plan_one = |o: &crate::qapla::Order| {
            let identity = [
                o.reference.as_str(),
                &o.tracking_number,
                &o.courier,
                &o.ship_date,
            ];
            let built = connectif::order_event(o, settings);
            plan(auth, Self::KIND, &o.reference, None, &identity, built)
        };
        auth.payload().orders.iter().map(plan_one).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_and_tell_events_apart() {
        let it = ChannelId::try_from("it").expect("id");
        let es = ChannelId::try_from("es").expect("id");
        let a = event_id(&it, Kind::Shipment, &["1", "3", "2024-01-01 10:00:00"]);
        assert_eq!(a.len(), 64);
        assert_eq!(
            a,
            event_id(&it, Kind::Shipment, &[" 1", "3", "2024-01-01 10:00:00 "])
        );
        assert_ne!(
            a,
            event_id(&es, Kind::Shipment, &["1", "3", "2024-01-01 10:00:00"])
        );
        assert_ne!(
            a,
            event_id(&it, Kind::Order, &["1", "3", "2024-01-01 10:00:00"])
        );
        assert_ne!(
            a,
            event_id(&it, Kind::Shipment, &["1", "3", "2024-01-01 10:00:01"])
        );
        // Field boundaries count: ("13", "") is not ("1", "3").
        assert_ne!(
            event_id(&it, Kind::Shipment, &["13", ""]),
            event_id(&it, Kind::Shipment, &["1", "3"])
        );
    }
}
