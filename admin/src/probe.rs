//! One synthetic post of `check --send`: its body, what the bridge will do with it (planned
//! offline with the bridge's own code and the channel's settings), its answer, and the step
//! that reports it.

use bridge_core::channel::{ChannelId, ChannelSettings, Channels};
use bridge_core::customer::Email;
use bridge_core::qapla::time::time_text;
use bridge_core::qapla::{OrdersPayload, ReturnsPayload, ShipmentPayload};
use bridge_core::telemetry::error_chain;
use bridge_core::webhook::{Planned, Webhook};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::time::Duration;

use crate::report::Step;

/// What the bridge will do with a test post.
pub enum Expect {
    /// Deliver the event with this id (recorded in the state table once delivered).
    Delivery { event_id: String, alias: String },
    /// Accept it but send nothing, and why.
    NotSent(String),
    /// The post itself would be refused: a bug of this tool or a stack of another version.
    Refused(String),
}

pub struct Probe {
    /// `shipment`, `return` or `order`.
    pub kind: &'static str,
    step_name: &'static str,
    path: &'static str,
    pub key: String,
    body: String,
    pub expect: Expect,
    /// Set once the probe's outcome is known.
    pub step: Option<Step>,
}

/// The three test posts for `email`, keyed `BRIDGE-CHECK-<epoch seconds>`.
pub fn all(settings: &ChannelSettings, email: &Email) -> Vec<Probe> {
    let now = bridge_core::clock::epoch_secs();
    let key = format!("{}{now}", bridge_core::delivery::PROOF_MARK);
    let date = time_text(now as i64);
    let api_key = settings.qapla_api_key.expose_secret();
    let (email, name) = (email.as_str(), "Bridge Check");
    let shipment = json!({
        "apiKey": api_key, "trackingNumber": key, "return": 0, "hasChildren": 0, "isChild": 0,
        "courier": "BRT", "reference": key, "date": date, "courierStatus": "bridge-admin check",
        "place": "", "qaplaStatusID": "3", "qaplaStatus": "IN TRANSIT", "statusDetails": [],
        "custom1": "bridge-admin check", "custom2": "", "custom3": "",
        "consignee": { "name": name, "email": email, "country": "IT" },
    });
    let returns = json!({ "webhookReturnShipments": {
        "apiKey": api_key, "version": 1.0, "count": 1,
        "returnShipments": [{
            "date": date, "reference": key, "RMA": key, "trackingNumber": key,
            "courier": { "code": "BRT", "name": "BRT" },
            "sender": { "name": name, "email": email, "country": "IT" },
            "rows": [{ "sku": "BRIDGE-CHECK", "name": "bridge-admin check", "qty": 1, "reason": "test" }],
        }],
    }});
    let orders = json!({
        "apiKey": api_key,
        "orders": [{
            "reference": key, "orderDate": date, "shipDate": date, "courier": "BRT",
            "trackingNumber": key, "customerName": name, "customerEmail": email,
            "customerCountry": "IT", "notes": "bridge-admin check",
        }],
    });
    vec![
        Probe::new("shipment", "send shipment", "shipments", &key, &shipment),
        Probe::new("return", "send return", "returns", &key, &returns),
        Probe::new("order", "send order", "orders", &key, &orders),
    ]
}

/// What the bridge's own code plans for a body of kind `W` on `channel`.
async fn expect<W: Webhook>(auth: &Channels, channel: &ChannelId, body: &str) -> Expect {
    let payload = match W::parse(body.as_bytes()) {
        Ok(p) => p,
        Err(e) => return Expect::Refused(format!("the test post does not parse: {e}")),
    };
    let auth = match auth.authenticate(channel.clone(), payload).await {
        Ok(a) => a,
        Err(e) => return Expect::Refused(error_chain(&e)),
    };
    match W::plan(&auth).into_iter().next() {
        Some(Planned::Send(e)) if e.enrich.as_ref().is_some_and(|x| x.tracking_url) => {
            Expect::NotSent(
                "the channel takes tracking pages from Qapla' (trackingUrlSource: qapla), and \
                 Qapla' does not know a test parcel: the worker skips it as unknown_to_qapla, \
                 as it does the post of Qapla's own Test button"
                    .into(),
            )
        }
        Some(Planned::Send(e)) => Expect::Delivery {
            event_id: e.event_id.clone(),
            alias: e.event.alias.clone(),
        },
        Some(Planned::Skip { reason, .. }) => {
            Expect::NotSent(format!("the bridge skips it ({})", reason.as_str()))
        }
        None => Expect::NotSent("the bridge plans no event for it".into()),
    }
}

impl Probe {
    fn new(
        kind: &'static str,
        step: &'static str,
        path: &'static str,
        key: &str,
        body: &Value,
    ) -> Self {
        Probe {
            kind,
            step_name: step,
            path,
            key: key.to_owned(),
            body: body.to_string(),
            expect: Expect::NotSent(String::new()),
            step: None,
        }
    }

    /// Plan the post offline with the bridge's code.
    pub async fn plan(&mut self, auth: &Channels, channel: &ChannelId) {
        self.expect = match self.kind {
            "shipment" => expect::<ShipmentPayload>(auth, channel, &self.body).await,
            "return" => expect::<ReturnsPayload>(auth, channel, &self.body).await,
            _ => expect::<OrdersPayload>(auth, channel, &self.body).await,
        };
        if let Expect::Refused(why) = &self.expect {
            self.step = Some(Step::fail(
                self.step_name,
                format!("test post not sent: {why}"),
                "use the bridge-admin of the deployed bridge's version",
            ));
        }
    }

    /// Post it to the deployed webhook; settles the probe unless a delivery is to follow.
    pub async fn post(&mut self, http: &reqwest::Client, api: &str, channel: &ChannelId) {
        if self.step.is_some() {
            return;
        }
        let url = format!("{api}/qapla/{channel}/{}", self.path);
        let answer = http
            .post(&url)
            .header("content-type", "application/json;")
            .header(
                "user-agent",
                concat!("bridge-admin-check/", env!("CARGO_PKG_VERSION")),
            )
            .body(self.body.clone())
            .send()
            .await;
        let (status, body) = match answer {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => {
                let fix = "check that WebhookApiUrl is the deployed API and reachable from here";
                let detail = format!("{url} not reachable: {}", error_chain(&e));
                self.step = Some(Step::fail(self.step_name, detail, fix));
                return;
            }
        };
        let ok = serde_json::from_str::<Value>(&body).is_ok_and(|v| v["result"] == "OK");
        if !ok || status != 200 {
            let detail = format!("{url} answered HTTP {status}, not OK");
            self.step = Some(Step::fail(self.step_name, detail, answer_fix(status)));
            return;
        }
        if let Expect::NotSent(why) = &self.expect {
            let detail = format!("{} answered OK; not sent to Connectif: {why}", self.key);
            self.step = Some(Step::skipped(self.step_name, detail));
        }
    }

    /// The Connectif event alias it is delivered as (empty when nothing is sent).
    fn alias(&self) -> &str {
        match &self.expect {
            Expect::Delivery { alias, .. } => alias,
            _ => "",
        }
    }

    pub fn delivered(&self) -> Step {
        let alias = self.alias();
        let detail = format!(
            "{} answered OK, queued, delivered; Connectif accepted `{alias}`",
            self.key
        );
        Step::pass(self.step_name, detail)
    }

    pub fn dead_lettered(&self, reason: &str) -> Step {
        let alias = self.alias();
        let detail = format!(
            "{} answered OK and queued; Connectif refused it: {reason}",
            self.key
        );
        Step::fail(self.step_name, detail, connectif_fix(reason, alias))
    }

    pub fn timed_out(&self, channel: &ChannelId, wait: Duration) -> Step {
        let detail = format!(
            "{} answered OK and queued; not delivered within {} s",
            self.key,
            wait.as_secs()
        );
        let fix = format!(
            "the worker is still trying (Connectif slow or down?): `bridge-admin trace {channel} {}` shows each try",
            self.key
        );
        Step::fail(self.step_name, detail, fix)
    }

    pub fn unobservable(&self, why: &str) -> Step {
        let detail = format!("{} answered OK; delivery not observable: {why}", self.key);
        let fix = "use credentials that may read the state table (dynamodb:GetItem)";
        Step::fail(self.step_name, detail, fix)
    }
}

/// The fix for a webhook answer other than OK.
fn answer_fix(status: u16) -> &'static str {
    match status {
        401 => {
            "the webhook holds another key for the channel: it re-reads the secret within minutes of a change; run the check again"
        }
        403 | 404 => "the route is missing: redeploy the stack (sam deploy)",
        503 => {
            "the webhook could not read the channel's secret or hand the event off: `bridge-admin trace` shows its log line"
        }
        400 | 413 => {
            "the webhook refused the test post: use the bridge-admin of the deployed version"
        }
        _ => "see the webhook's log line for this post (`bridge-admin trace`)",
    }
}

/// The fix for a Connectif refusal, from the dead letter's reason (`HTTP 400 (E0501 ...)`).
fn connectif_fix(reason: &str, alias: &str) -> String {
    let code = reason
        .strip_prefix("HTTP ")
        .and_then(|r| r.get(..3))
        .unwrap_or("");
    let fix = match code {
        "401" => "Connectif refuses the API key: put a valid key (Connectif > Settings > API keys) in `connectif.apiKey` of the secret".to_owned(),
        "403" => "the Connectif API key lacks a permission: give it \"write custom events\" and \"write contacts\" (docs/connectif.md, \"The Connectif API key\")".to_owned(),
        "404" => format!("Connectif does not know the event: create the reception event `{alias}` with `bridge-admin setup` (docs/connectif.md), or correct its Endpoint URL in `connectif.endpoints`"),
        "400" | "422" => format!("Connectif refused the event's fields: give the reception event `{alias}` exactly the field ids and types the bridge sends: `bridge-admin setup` reports how it differs (docs/connectif.md)"),
        _ => "see `bridge-admin dead-letters`".to_owned(),
    };
    format!("{fix}; then `bridge-admin redrive` sends the test event again")
}
