//! The URLs of a setup: the reception events' Endpoint URLs (endpoint mode), and the three
//! webhook URLs a shop pastes into Qapla's panel.

use super::Args;
use super::ask::Asker;
use super::events::Wanted;
use crate::report::{Report, Step};
use bridge_core::channel::ChannelId;
use bridge_core::connectif::Reception;
use serde_json::{Map, Value, json};

/// `connectif.endpoints` for `wanted`: each URL from `--endpoint`, else Connectif's answer,
/// else the existing secret, else asked for after the manual steps to find it.
pub fn endpoints(
    args: &Args,
    old: &Value,
    answered: &[(Reception, Option<String>)],
    wanted: &[Wanted],
    asker: &Asker,
    report: &mut Report,
) -> Result<Value, String> {
    let given = given(args)?;
    let mut endpoints = Map::new();
    let (mut asked, mut kept) = (0, 0);
    for w in wanted {
        let setting = w.reception.setting();
        let from_api = answered
            .iter()
            .find(|(r, _)| *r == w.reception)
            .and_then(|(_, u)| u.clone());
        let url = match (
            given.get(setting),
            from_api,
            old["connectif"]["endpoints"].get(setting),
        ) {
            (Some(url), _, _) => url.clone(),
            (None, Some(url), _) => json!(url),
            (None, None, Some(url)) => {
                kept += 1;
                url.clone()
            }
            (None, None, None) => {
                let how = find_it(&args.integration, &w.alias);
                if !asker.interactive {
                    return Err(format!(
                        "no Endpoint URL for `{}`: Connectif's API does not give it. {how}; then pass it as --endpoint {setting}=<url>",
                        w.alias
                    ));
                }
                eprintln!("{how}.");
                asked += 1;
                json!(asker.text(
                    None,
                    &format!("Endpoint URL of `{}`", w.alias),
                    None,
                    "--endpoint"
                )?)
            }
        };
        endpoints.insert(setting.to_owned(), url);
    }
    let n = endpoints.len();
    report.steps.push(Step::pass(
        "endpoint urls",
        format!("{n} Endpoint URLs ({kept} kept from the secret, {asked} typed)"),
    ));
    Ok(Value::Object(endpoints))
}

/// `--endpoint <setting>=<url>` flags, by setting.
fn given(args: &Args) -> Result<Map<String, Value>, String> {
    let mut given = Map::new();
    for pair in &args.endpoints {
        let (setting, url) = pair.split_once('=').unwrap_or((pair, ""));
        if Reception::ALL.iter().all(|r| r.setting() != setting) || url.is_empty() {
            return Err(format!(
                "--endpoint {setting}=…: use <setting>=<url>, the setting one of {}",
                Reception::ALL.map(|r| r.setting()).join(", ")
            ));
        }
        given.insert(setting.to_owned(), json!(url));
    }
    Ok(given)
}

fn find_it(integration: &str, alias: &str) -> String {
    format!(
        "In Connectif: Store settings > Integrations > \"{integration}\" > Receive Data > `{alias}`; its page shows the Endpoint URL (https://webhook-api.connectif.cloud/<account>/custom-events/alias/{alias})"
    )
}

/// What to paste into Qapla's panel, in order.
pub fn panel(api_url: &str, channel: &ChannelId, name: &str, wanted: &[Wanted]) -> String {
    let url = |kind: &str| format!("{api_url}/qapla/{channel}/{kind}");
    let uses = |r: Reception| wanted.iter().any(|w| w.reception == r);
    let mut text = format!(
        "Now in Qapla': Settings > Channels > \"{name}\" > Configure > Updates > Webhook, in this order (each is live as soon as it is saved):\n  1. Shipments webhook, version 1.3: {}",
        url("shipments")
    );
    let mut n = 1;
    if uses(Reception::ReturnRequest) {
        n += 1;
        text.push_str(&format!(
            "\n  {n}. Return webhook (automatic returns): {}",
            url("returns")
        ));
    }
    if uses(Reception::OrderShipped) {
        n += 1;
        text.push_str(&format!("\n  {n}. Orders webhook: {} — choose whether it fires when the label is printed or when the shipment is handed to the courier", url("orders")));
    }
    text.push_str("\n  Press the panel's Test button after each: the answer must be {\"result\":\"OK\"}.\n  Then switch Qapla's own Connectif connector off for this channel (docs/migrating.md).");
    text
}
