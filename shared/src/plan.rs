//! The three webhook kinds: how each authenticated payload becomes planned Connectif events
//! (the webhooks' posts, and the statuses backfill and reconciliation pull: [`plan_pulled`]).

use crate::Kind;
use crate::channel::{Authenticated, Presented};
use crate::connectif::{self, ConnectifEvent, Enrich, Reception, SkipReason};
use crate::delivery::Envelope;
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

/// What a kind decides about one event of its post.
struct Draft<'a> {
    /// Tracking number (shipments) or order reference (returns, orders).
    key: &'a str,
    status_id: Option<String>,
    /// The fields that make the event id.
    identity: &'a [&'a str],
    occurred_at: Option<String>,
    repeat_key: Option<String>,
    held: bool,
    /// Qapla's courier code (what `rules.skipCouriers` names).
    courier: &'a str,
    built: Built,
}

impl<'a> Draft<'a> {
    fn new(key: &'a str, courier: &'a str, identity: &'a [&'a str], built: Built) -> Self {
        Draft {
            key,
            status_id: None,
            identity,
            occurred_at: None,
            repeat_key: None,
            held: false,
            courier,
            built,
        }
    }
}

/// The envelope of one event, or why it is skipped.
fn plan<T>(auth: &Authenticated<T>, kind: Kind, draft: Draft<'_>) -> Planned {
    let key = draft.key.trim().to_owned();
    // An event whose reception has no endpoint (endpoint mode) is not sent at all: never to
    // another kind's endpoint. Nor is one that could never be whole.
    let built = draft.built.and_then(|(event, enrich)| {
        let reception = event.reception.unwrap_or(Reception::of(kind));
        let unfillable = event
            .fields
            .empty_required()
            .into_iter()
            .any(|field| !enrich.as_ref().is_some_and(|e| e.fills(field)));
        if !auth.settings().connectif.delivers(reception) {
            Err(SkipReason::NoEndpoint)
        } else if unfillable {
            Err(SkipReason::EmptyRequiredField)
        } else {
            Ok((event, enrich))
        }
    });
    match built {
        Ok((event, enrich)) => Planned::Send(Box::new(Envelope {
            event_id: Envelope::id_of(auth.channel(), kind, draft.identity),
            channel: auth.channel().clone(),
            kind,
            key,
            status_id: draft.status_id,
            occurred_at: draft.occurred_at,
            repeat_key: draft.repeat_key,
            courier: Some(draft.courier.trim().to_owned()).filter(|c| !c.is_empty()),
            held: draft.held,
            enrich,
            pulled: false,
            contact_update: false,
            event,
        })),
        Err(reason) => Planned::Skip {
            key,
            status_id: draft.status_id,
            reason,
        },
    }
}

/// A Qapla' webhook payload.
pub trait Webhook: Presented + Send + Sync + Sized {
    const KIND: Kind;
    /// Read a post's body (a JSON object; errors name the field, never its value).
    fn parse(body: &[u8]) -> Result<Self, ParseError>;
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned>;
    /// The keys (tracking numbers, order references) the post is about, for its log lines.
    fn keys(&self) -> Vec<&str>;
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
    fn keys(&self) -> Vec<&str> {
        vec![self.tracking_number.trim()]
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
        let built = connectif::shipment_event(s, auth.settings());
        let repeat_key = auth.settings().notify_only_changes.then(|| {
            let detail = s
                .first_detail()
                .map(|(id, _)| id.to_string())
                .unwrap_or_default();
            format!("{}/{detail}", s.qapla_status_id.trim())
        });
        let draft = Draft {
            status_id: Some(s.qapla_status_id.trim().to_owned()),
            occurred_at: crate::qapla::time::status_time(&s.date),
            repeat_key,
            held: crate::mapping::is_held(&s.qapla_status_id, s.first_detail().map(|(id, _)| id)),
            ..Draft::new(&s.tracking_number, &s.courier, &identity, built)
        };
        let planned = plan(auth, Self::KIND, draft);
        if let Planned::Send(envelope) = &planned
            && envelope.occurred_at.is_none()
        {
            tracing::warn!(
                channel = %auth.channel(),
                key = s.tracking_number.trim(),
                "status date unreadable or more than a day ahead: not used to order statuses"
            );
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
    fn keys(&self) -> Vec<&str> {
        self.returns.iter().map(|r| r.reference.trim()).collect()
    }
    fn plan(auth: &Authenticated<Self>) -> Vec<Planned> {
        let settings = auth.settings();
        let plan_one = |r: &crate::qapla::ReturnShipment| {
            let identity = [r.reference.as_str(), &r.rma, &r.tracking_number, &r.date];
            let built = connectif::return_event(r, settings).map(|e| (e, None));
            let courier = r.courier.as_ref().map_or("", |c| c.code());
            plan(
                auth,
                Self::KIND,
                Draft::new(&r.reference, courier, &identity, built),
            )
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
    fn keys(&self) -> Vec<&str> {
        self.orders.iter().map(|o| o.reference.trim()).collect()
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
            plan(
                auth,
                Self::KIND,
                Draft::new(&o.reference, &o.courier, &identity, built),
            )
        };
        auth.payload().orders.iter().map(plan_one).collect()
    }
}
/// Plan a status the bridge pulled from Qapla's API itself (see
/// [`ApiShipment::as_post`](crate::qapla::api::ApiShipment::as_post)) exactly as the
/// shipments webhook plans a post: backfill and reconciliation use this.
pub fn plan_pulled(
    channel: &crate::channel::ChannelId,
    settings: std::sync::Arc<crate::channel::ChannelSettings>,
    post: ShipmentPayload,
) -> Vec<Planned> {
    let auth = crate::channel::Authenticated::pulled(channel.clone(), settings, post);
    let mut planned = <ShipmentPayload as Webhook>::plan(&auth);
    for p in &mut planned {
        if let Planned::Send(envelope) = p {
            envelope.pulled = true;
        }
    }
    planned
}
