//! The channel's settings as `setup` builds them: the existing secret (kept as it is), the
//! answers on top, and the reception events they will use.

use super::ask::Asker;
use super::events::Wanted;
use super::{Args, Mode, QAPLA_API};
use bridge_core::channel::ChannelSettings;
use bridge_core::mapping::Language;
use serde_json::{Value, json};

/// The channel's settings as the answers and the existing secret make them (its Connectif
/// part still the old one).
pub fn draft(
    old: &Value,
    args: &Args,
    asker: &Asker,
    qapla_key: &str,
    qapla_url: &str,
) -> Result<Value, String> {
    let mut draft = old.clone();
    draft["qaplaApiKey"] = json!(qapla_key);
    if qapla_url != QAPLA_API {
        draft["qaplaApiBaseUrl"] = json!(qapla_url);
    }
    let is_new = old.get("qaplaApiKey").is_none();
    if args.language.is_some() || is_new {
        let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
        let question = format!("The customers' language ({})", codes.join(", "));
        draft["language"] =
            json!(asker.text(args.language.clone(), &question, Some("it"), "--language")?);
    }
    if args.tracking_url.is_some() || is_new {
        let question =
            "Your tracking page, with {trackingNumber} (or `qapla` for Qapla's tracking page)";
        let tracking = asker.text(args.tracking_url.clone(), question, None, "--tracking-url")?;
        if let Some(map) = draft.as_object_mut() {
            map.remove("trackingUrlSource");
            map.remove("trackingUrlTemplate");
        }
        match tracking.as_str() {
            "qapla" => draft["trackingUrlSource"] = json!("qapla"),
            template => draft["trackingUrlTemplate"] = json!(template),
        }
    }
    if !args.extra_fields.is_empty() {
        draft["extraFields"] = json!(args.extra_fields);
    }
    if let Some(days) = args.stalls {
        draft["stalls"]["afterBusinessDays"] = json!(days);
    }
    if let Some(country) = &args.stalls_country {
        draft["stalls"]["country"] = json!(country.to_uppercase());
    }
    if let Some(days) = args.release_links {
        draft["releaseLinks"]["expiresDays"] = json!(days);
    }
    if args.contact_fields {
        draft["contactFields"] = json!(true);
    }
    Ok(draft)
}

/// The reception events the settings will use, validated by the functions' own parser.
pub fn wanted(draft: &Value) -> Result<Vec<Wanted>, String> {
    let mut probe = draft.clone();
    probe["connectif"] = json!({ "mode": "api", "apiKey": "probe" });
    let settings = ChannelSettings::from_json(&probe.to_string()).map_err(|e| {
        let fix = fix_for(&e.field);
        format!("the channel's settings would not be valid: {e}; {fix}")
    })?;
    Ok(crate::doctor::connectif::wanted(&settings))
}

/// `--mode`, else the secret's, else asked (default `api`).
pub fn mode(args: &Args, old: &Value, asker: &Asker) -> Result<Mode, String> {
    Ok(match (args.mode, old["connectif"]["mode"].as_str()) {
        (Some(mode), _) => mode,
        (None, Some("endpoint")) => Mode::Endpoint,
        (None, Some(_)) => Mode::Api,
        (None, None) => {
            let question =
                "Deliver through Connectif's Public API (api) or Endpoint URLs (endpoint)?";
            match asker.text(None, question, Some("api"), "--mode")?.as_str() {
                "endpoint" => Mode::Endpoint,
                _ => Mode::Api,
            }
        }
    })
}

/// What to do about the secret's `field`: the flag of `setup` that sets it, where there is one.
fn fix_for(field: &str) -> String {
    match flag_for(field) {
        Some(flag) => format!("give it with `{flag}`, and run setup again"),
        None => "correct it in the secret (docs/configuration.md), and run setup again".into(),
    }
}

/// The flag of `setup` that sets a field of the secret, for the fields it sets.
fn flag_for(field: &str) -> Option<&'static str> {
    Some(match field {
        "language" => "--language",
        "trackingUrlTemplate" | "trackingUrlSource" => "--tracking-url",
        "extraFields" => "--extra-fields",
        "stalls.afterBusinessDays" => "--stalls",
        "stalls.country" => "--stalls-country",
        "releaseLinks.expiresDays" | "releaseLinks.afterDays" => "--release-links",
        "contactFields" => "--contact-fields",
        "qaplaApiKey" => "--qapla-key",
        _ => return None,
    })
}

/// The whole secret as the functions' own parser reads it, or the failed step naming the
/// flag that sets the field at fault.
pub fn validate(draft: &Value) -> Result<(), crate::report::Step> {
    let Err(e) = ChannelSettings::from_json(&draft.to_string()) else {
        return Ok(());
    };
    let detail = format!("the settings would not be valid: {e}");
    Err(crate::report::Step::fail(
        "secret",
        detail,
        fix_for(&e.field),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_setting_names_the_flag_that_sets_it() {
        let draft = json!({
            "qaplaApiKey": "k", "trackingUrlTemplate": "https://shop.example/t/{trackingNumber}",
            "language": "en", "stalls": { "afterBusinessDays": 3 },
        });
        let Err(why) = wanted(&draft) else {
            panic!("stalls in English need a country");
        };
        assert!(
            why.contains("stalls.country") && why.contains("`--stalls-country`"),
            "{why}"
        );
        let mut fixed = draft.clone();
        fixed["stalls"]["country"] = json!("IT");
        assert!(wanted(&fixed).is_ok());
        // Every flag named is one `setup` has.
        let flags = [
            "language",
            "trackingUrlTemplate",
            "extraFields",
            "stalls.afterBusinessDays",
            "stalls.country",
            "qaplaApiKey",
        ];
        let help = {
            use clap::CommandFactory;
            #[derive(clap::Parser)]
            struct Cli {
                #[command(flatten)]
                args: Args,
            }
            Cli::command().render_long_help().to_string()
        };
        for field in flags {
            let flag = flag_for(field).expect("a flag");
            assert!(help.contains(flag), "{flag} is not a flag of setup");
        }
    }
}
