//! Statuses the bridge pulls from Qapla's API itself (backfill, reconciliation) are planned
//! by the shipments webhook's own code: a `trackingByTimeFrame` entry completed with its
//! `getShipment` yields the event a v1.3 post of the same status yields.

use crate::helpers::*;
use bridge_core::channel::ChannelSettings;
use bridge_core::connectif::Fields;
use bridge_core::mapping::Language;
use bridge_core::plan::{Planned, plan_pulled};
use bridge_core::qapla::api::QaplaApi;
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
    let api = QaplaApi::new(
        bridge_core::http::tls::client_builder()
            .build()
            .expect("client"),
    );
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
        .get_shipment(&base, &key, &entries[0].tracking_number, Language::It)
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

/// A backfill's history event needs somewhere to go: in endpoint mode without
/// `connectif.endpoints.history` a pulled status is a reported failure, never sent to the
/// live event's endpoint.
#[tokio::test]
async fn a_history_status_without_a_history_endpoint_is_a_failure_not_a_live_event() {
    use bridge_core::connectif::Reception;
    use bridge_core::delivery::state::MemoryState;
    use bridge_core::history::{PullOptions, Pulled, Puller, Window};
    use bridge_core::qapla::pace::LocalPace;
    let qapla = MockServer::start().await;
    for (version, call) in [("1.2", "trackingByTimeFrame"), ("1.3", "getShipment")] {
        Mock::given(method("GET"))
            .and(path(format!("/qapla-api/{version}/{call}/")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(api_fixture(&format!("{call}.json"))),
            )
            .mount(&qapla)
            .await;
    }
    let puller = |mode, history: Option<&str>| {
        let mut secret = secret(mode, &qapla.uri(), IT_KEY, "it");
        if let Some(url) = history {
            secret["connectif"]["endpoints"]["history"] = serde_json::json!(url);
        }
        let settings = ChannelSettings::from_json(&secret.to_string()).expect("settings");
        let options = PullOptions {
            complete: true,
            statuses: vec!["99".into()],
            reception: Some(Reception::ShipmentHistory),
            reserve: 0.0,
            history: false,
        };
        Puller::new(
            QaplaApi::new(
                bridge_core::http::tls::client_builder()
                    .build()
                    .expect("client"),
            ),
            Arc::new(LocalPace::default()),
            Arc::new(MemoryState::default()),
            (channel("it"), Arc::new(settings)),
            options,
        )
    };
    let window = Window { from: 0, to: 60 };
    let pulled = puller(Mode::Endpoint, None)
        .window(&window)
        .await
        .expect("window");
    let [Pulled::Failed(failure), Pulled::Filtered] = pulled.as_slice() else {
        panic!("one failure, one filtered: {pulled:?}");
    };
    assert_eq!(
        failure.reason,
        "no Connectif endpoint (connectif.endpoints.history)"
    );
    let pulled = puller(Mode::Endpoint, Some("https://hooks.example/history"))
        .window(&window)
        .await
        .expect("window");
    let [Pulled::Send(envelope), Pulled::Filtered] = pulled.as_slice() else {
        panic!("one to send: {pulled:?}");
    };
    assert_eq!(envelope.reception(), Reception::ShipmentHistory);
    assert_eq!(envelope.event.alias, "order-status-history");
}
