//! Statuses the bridge pulls from Qapla's API itself (backfill, reconciliation) are planned
//! by the shipments webhook's own code: a `trackingByTimeFrame` entry completed with its
//! `getShipment` yields the event a v1.3 post of the same status yields.

use crate::helpers::*;
use bridge_core::channel::ChannelSettings;
use bridge_core::connectif::Fields;
use bridge_core::qapla::api::QaplaApi;
use bridge_core::webhook::{Planned, plan_pulled};
use std::sync::Arc;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_pulled_status_becomes_the_event_the_webhook_would_have_built() {
    let qapla = MockServer::start().await;
    // trackingByTimeFrame is served under 1.2, getShipment under the channel's 1.3.
    for (version, call) in [("1.2", "trackingByTimeFrame"), ("1.3", "getShipment")] {
        Mock::given(method("GET"))
            .and(path(format!("/{version}/{call}/")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(api_fixture(&format!("{call}.json"))),
            )
            .mount(&qapla)
            .await;
    }
    let api = QaplaApi::new(reqwest::Client::new());
    let key = secrecy::SecretString::from("k");
    let base = format!("{}/1.3", qapla.uri());
    let entries = api
        .tracking_by_time_frame(
            &base,
            &key,
            "2024-03-16 11:00:00",
            "2024-03-16 12:00:00",
            "it",
        )
        .await
        .expect("window");
    let full = api
        .get_shipment(&base, &key, &entries[0].tracking_number)
        .await
        .expect("getShipment")
        .expect("known");
    let post = entries[0].as_post(Some(&full)).expect("a status");

    let settings = secret(Mode::Api, "http://127.0.0.1:9", IT_KEY, "it").to_string();
    let settings = Arc::new(ChannelSettings::from_json(&settings).expect("settings"));
    let planned = plan_pulled(&channel("it"), settings, post);
    let [Planned::Send(envelope)] = planned.as_slice() else {
        panic!("one event to send");
    };
    assert_eq!(envelope.key, "580104809");
    assert_eq!(envelope.status_id.as_deref(), Some("99"));
    assert_eq!(envelope.occurred_at.as_deref(), Some("2024-03-16 11:42:10"));
    assert_eq!(envelope.event.alias, "order-status-change");
    let Fields::ShipmentStatus(fields) = &envelope.event.fields else {
        panic!("a shipment status");
    };
    let email = fields.customer_email.as_ref().map(|e| e.as_str());
    assert_eq!(
        email,
        full.consignee.as_ref().and_then(|c| c.email.as_deref())
    );
    assert_eq!(
        fields.qapla_status, "Consegnato",
        "labelled like a webhook post"
    );
    assert!(
        envelope.enrich.is_none(),
        "getShipment already gave the customer"
    );
}
