//! Building Connectif events from authenticated Qapla' payloads.
//!
//! Field sets (ids and Connectif types) are documented in the README, exactly as a shop
//! creates them in Connectif. Every value is a string except `cashOnDelivery` (Boolean).

use super::{ConnectifEvent, Enrich, Fields, Reception, SkipReason, StatusRef};
use super::{OrderShipped, ReturnRequest, ShipmentStatus};
use crate::channel::{ChannelSettings, ReturnShipments, TrackingUrlSource};
use crate::customer::Email;
use crate::http::url_encode;
use crate::mapping::{self, Language};
use crate::qapla::{Order, ReturnShipment, ShipmentPayload};

/// The customer's e-mail and name, or why they are not usable.
fn customer(email: Option<&str>, name: Option<&str>) -> Result<(Email, String), SkipReason> {
    let email = email.ok_or(SkipReason::NoCustomerEmail)?;
    let email = Email::try_from(email).map_err(|_| SkipReason::InvalidCustomerEmail)?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(SkipReason::NoCustomerName)?;
    Ok((email, name.to_owned()))
}

fn event(reception: Reception, settings: &ChannelSettings, fields: Fields) -> ConnectifEvent {
    ConnectifEvent {
        alias: settings.aliases.get(reception).to_owned(),
        reception: Some(reception),
        fields,
    }
}

fn text(s: &str) -> String {
    s.trim().to_owned()
}

/// The channel's tracking page for a shipment: `{trackingNumber}`, `{reference}` and
/// `{courier}` in the template are replaced by their URL-encoded values.
pub fn tracking_url(
    template: &str,
    tracking_number: &str,
    reference: &str,
    courier: &str,
) -> String {
    template
        .replace("{trackingNumber}", &url_encode(tracking_number.trim()))
        .replace("{reference}", &url_encode(reference.trim()))
        .replace("{courier}", &url_encode(courier.trim()))
}

/// Which reception event a shipment status is for, or why it is not sent.
fn shipment_reception(
    s: &ShipmentPayload,
    settings: &ChannelSettings,
) -> Result<Reception, SkipReason> {
    if s.is_child && !settings.notify_child_shipments {
        return Err(SkipReason::ChildShipment);
    }
    match (s.is_return, settings.return_shipments) {
        (true, ReturnShipments::Skip) => Err(SkipReason::ReturnShipment),
        (true, ReturnShipments::Separate) => Ok(Reception::ReturnStatus),
        _ => Ok(Reception::ShipmentStatus),
    }
}

/// The status as Qapla' sent it.
fn status_ref(s: &ShipmentPayload) -> StatusRef {
    StatusRef {
        id: s.qapla_status_id.trim().to_owned(),
        label: s.qapla_status.trim().to_owned(),
        detail_id: s.first_detail().map(|(id, _)| id),
        detail_text: s.first_detail().and_then(|(_, t)| t.map(str::to_owned)),
    }
}

/// The status label in `language` (Qapla's own for an id not in the table, logged).
fn label(s: &ShipmentPayload, language: Language, settings: &ChannelSettings) -> String {
    let label = mapping::label(
        &s.qapla_status_id,
        &s.qapla_status,
        s.first_detail(),
        language,
        settings.label_style,
    );
    if !label.known {
        tracing::warn!(
            key = s.tracking_number.trim(),
            status_id = %s.qapla_status_id,
            "status id or detail not in the status table: forwarded with Qapla's own label"
        );
    }
    label.text
}

/// `order-status-change` (or `return-status-change` for a return shipment): exactly the
/// nine fields of the Connectif–Qapla' guide. What the payload lacks (the customer, in v1.2)
/// or what the channel wants from Qapla' (its tracking page) is left empty and marked in the
/// returned [`Enrich`], for the delivery stage to fill in from Qapla's API.
pub fn shipment_event(
    s: &ShipmentPayload,
    settings: &ChannelSettings,
) -> Result<(ConnectifEvent, Option<Enrich>), SkipReason> {
    let reception = shipment_reception(s, settings)?;
    let consignee = s.consignee.as_ref();
    let known = customer(
        consignee.and_then(|c| c.email.as_deref()),
        consignee.and_then(|c| c.name.as_deref()),
    )
    .ok();
    let language = settings.language_for(consignee.and_then(|c| c.country.as_deref()));
    let from_qapla = settings.tracking_url_source == TrackingUrlSource::Qapla;
    let enrich = (known.is_none() || from_qapla).then(|| Enrich {
        tracking_number: text(&s.tracking_number),
        customer: known.is_none(),
        tracking_url: from_qapla,
        status: Some(status_ref(s)),
    });
    let (customer_email, customer_name) =
        known.map_or((None, String::new()), |(e, n)| (Some(e), n));
    let fields = ShipmentStatus {
        // The opt-in fields are the delivery stage's (`Fields::fill_extras`): a queued
        // message keeps the shape a worker of the version before reads.
        courier_name: None,
        courier_status: text(&s.courier_status),
        customer_email,
        customer_name,
        estimated_delivery: None,
        estimated_delivery_source: None,
        language,
        qapla_status: text(&label(s, language, settings)),
        qapla_status_id: text(&s.qapla_status_id),
        reference: text(&s.reference),
        release_url: None,
        shipped_at: None,
        status_group: None,
        tracking_number: text(&s.tracking_number),
        tracking_url: match from_qapla {
            true => String::new(),
            false => tracking_url(
                &settings.tracking_url_template,
                &s.tracking_number,
                &s.reference,
                &s.courier,
            ),
        },
    };
    Ok((
        event(reception, settings, Fields::ShipmentStatus(fields)),
        enrich,
    ))
}

/// `2 x Scarpa (SKU1); 1 x Borsa`: a return's rows (quantity 1 when not given).
fn return_items(r: &ReturnShipment) -> String {
    r.rows
        .iter()
        .map(|row| {
            let qty = match row.qty.trim() {
                "" => "1",
                qty => qty,
            };
            match row.sku.trim() {
                "" => format!("{qty} x {}", row.name.trim()),
                sku => format!("{qty} x {} ({sku})", row.name.trim()),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The distinct reasons of a return's rows, in order.
fn return_reasons(r: &ReturnShipment) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    for reason in r
        .rows
        .iter()
        .filter_map(|row| row.reason.as_deref().map(str::trim))
    {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    reasons.join("; ")
}

/// `return-request`: one per return in the envelope; the customer is the return's sender.
pub fn return_event(
    r: &ReturnShipment,
    settings: &ChannelSettings,
) -> Result<ConnectifEvent, SkipReason> {
    let sender = r.sender.as_ref();
    let (email, name) = customer(
        sender.and_then(|p| p.email.as_deref()),
        sender.and_then(|p| p.name.as_deref()),
    )?;
    let fields = ReturnRequest {
        courier: text(r.courier.as_ref().map(|c| c.display()).unwrap_or_default()),
        customer_email: Some(email),
        customer_name: text(&name),
        items: return_items(r),
        language: settings.language_for(sender.and_then(|p| p.country.as_deref())),
        reasons: return_reasons(r),
        reference: text(&r.reference),
        request_date: text(&r.date),
        rma: text(&r.rma),
        tracking_number: text(&r.tracking_number),
    };
    Ok(event(
        Reception::ReturnRequest,
        settings,
        Fields::ReturnRequest(fields),
    ))
}

/// `order-shipped`: one per order in the post. Its `trackingUrl` comes from the channel's
/// template, or, with `trackingUrlSource: qapla`, from Qapla's API in the delivery stage
/// (as for shipments).
pub fn order_event(
    o: &Order,
    settings: &ChannelSettings,
) -> Result<(ConnectifEvent, Option<Enrich>), SkipReason> {
    let (email, name) = customer(o.customer_email.as_deref(), o.customer_name.as_deref())?;
    let tracking = o.tracking_number.trim();
    let (url, enrich) = match settings.tracking_url_source {
        TrackingUrlSource::Qapla if tracking.is_empty() => {
            return Err(SkipReason::NoTrackingNumber);
        }
        TrackingUrlSource::Qapla => (
            String::new(),
            Some(Enrich {
                tracking_number: tracking.to_owned(),
                customer: false,
                tracking_url: true,
                status: None,
            }),
        ),
        TrackingUrlSource::Template => (
            tracking_url(
                &settings.tracking_url_template,
                tracking,
                &o.reference,
                &o.courier,
            ),
            None,
        ),
    };
    let fields = OrderShipped {
        amount: text(&o.amount),
        cash_on_delivery: o.is_pod,
        courier: text(&o.courier),
        customer_email: Some(email),
        customer_name: text(&name),
        language: settings.language_for(o.customer_country.as_deref()),
        order_date: text(&o.order_date),
        reference: text(&o.reference),
        ship_date: text(&o.ship_date),
        tracking_number: text(&o.tracking_number),
        tracking_url: url,
    };
    Ok((
        event(
            Reception::OrderShipped,
            settings,
            Fields::OrderShipped(fields),
        ),
        enrich,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_urls_fill_every_placeholder_url_encoded() {
        let url = tracking_url(
            "https://t.example/{courier}/{trackingNumber}?ref={reference}",
            " 12 34 ",
            "A&B/1",
            "GLS-ITA",
        );
        assert_eq!(url, "https://t.example/GLS-ITA/12%2034?ref=A%26B%2F1");
    }

    #[test]
    fn a_customer_needs_a_valid_email_and_a_name() {
        assert_eq!(
            customer(None, Some("A")).unwrap_err(),
            SkipReason::NoCustomerEmail
        );
        assert_eq!(
            customer(Some("nope"), Some("A")).unwrap_err(),
            SkipReason::InvalidCustomerEmail
        );
        assert_eq!(
            customer(Some("a@b.it"), Some("  ")).unwrap_err(),
            SkipReason::NoCustomerName
        );
        assert_eq!(
            customer(Some("a@b.it"), None).unwrap_err(),
            SkipReason::NoCustomerName
        );
        assert!(customer(Some("a@b.it"), Some("A B")).is_ok());
    }
}
