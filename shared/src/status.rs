//! Qapla' normalized status ids and status details, with the labels a customer reads.
//!
//! The table is the one in the Connectif–Qapla' guide (Italian and Spanish names and
//! abbreviations), plus English labels. Unknown ids are not an error: the caller forwards
//! them with Qapla's own label and logs them (see [`Label`]).

use serde::Deserialize;

/// A language a channel (and its customers) reads. Picks the label sent to Connectif.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    It,
    Es,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::It, Language::Es, Language::En];

    /// ISO 639-1 code, as sent in the Connectif `language` field.
    pub fn code(self) -> &'static str {
        match self {
            Language::It => "it",
            Language::Es => "es",
            Language::En => "en",
        }
    }
}

/// Labels of one status (or status detail) in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    pub en: &'static str,
    pub it: &'static str,
    pub es: &'static str,
}

impl Names {
    pub fn get(&self, language: Language) -> &'static str {
        match language {
            Language::It => self.it,
            Language::Es => self.es,
            Language::En => self.en,
        }
    }
}

/// One row of Qapla's status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Qapla' normalized id (`qaplaStatusID`).
    pub id: u16,
    /// Qapla's English code, e.g. `IN TRANSIT`.
    pub code: &'static str,
    /// Full names.
    pub names: Names,
    /// Short names where Qapla' defines them; `None` falls back to the full name.
    pub abbreviations: AbbreviationSet,
}

/// Abbreviations per language (the source table is sparse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbbreviationSet {
    pub en: Option<&'static str>,
    pub it: Option<&'static str>,
    pub es: Option<&'static str>,
}

impl Status {
    /// The abbreviation in `language`, or the full name where none exists.
    pub fn abbreviation(&self, language: Language) -> &'static str {
        let short = match language {
            Language::It => self.abbreviations.it,
            Language::Es => self.abbreviations.es,
            Language::En => self.abbreviations.en,
        };
        short.unwrap_or_else(|| self.names.get(language))
    }
}

const fn status(
    id: u16,
    code: &'static str,
    en: &'static str,
    it: &'static str,
    es: &'static str,
    it_abbr: Option<&'static str>,
    es_abbr: Option<&'static str>,
) -> Status {
    Status {
        id,
        code,
        names: Names { en, it, es },
        abbreviations: AbbreviationSet {
            en: None,
            it: it_abbr,
            es: es_abbr,
        },
    }
}

/// Every status id Qapla' documents.
#[rustfmt::skip]
pub const STATUSES: [Status; 13] = [
    status(0, "WAITING TO COMPUTE", "Waiting to compute", "Attesa Elaborazione", "Esperando elaboración", Some("Attesa Elab."), None),
    status(1, "PENDING", "Pending", "In sospeso", "Pendiente", None, None),
    status(2, "INFO RECEIVED", "Info received", "Attesa ritiro", "Pendiente de retirar", None, Some("Pendiente")),
    status(3, "IN TRANSIT", "In transit", "In transito", "En tránsito", None, None),
    status(4, "OUT FOR DELIVERY", "Out for delivery", "In consegna", "En reparto", None, None),
    status(5, "FAILED ATTEMPT", "Failed attempt", "Tentativo di consegna fallito", "Intento de entrega fallido", Some("Consegna fallita"), Some("Entrega Fallida")),
    status(6, "EXCEPTION", "Exception", "Eccezione", "Problema", Some("Problemi"), None),
    status(8, "DELAY", "Delay", "Ritardo", "En Retraso", None, None),
    status(10, "PICKUP POINT", "Pickup point", "Punto di Ritiro", "Punto de retiro", None, None),
    status(20, "DEPARTED", "Departed", "Partito", "Enviado", None, None),
    status(50, "PROCESSING", "Processing", "In lavorazione", "En elaboración", None, None),
    status(95, "RETURNED", "Returned", "Rientrato", "Restituido", None, None),
    status(99, "DELIVERED", "Delivered", "Consegnato", "Entregado", None, None),
];

/// A status detail (sub-state), documented by Qapla' for id 6 EXCEPTION.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    pub id: u16,
    pub names: Names,
}

/// Every status detail known. 5 (partial delivery) appears only in third-party code, but
/// naming it costs nothing and reads better than Qapla's raw text.
#[rustfmt::skip]
pub const DETAILS: [Detail; 5] = [
    Detail { id: 1, names: Names { en: "On hold at the depot", it: "In giacenza", es: "Retenido en almacén" } },
    Detail { id: 2, names: Names { en: "Returning to sender", it: "In restituzione al mittente", es: "En devolución al remitente" } },
    Detail { id: 3, names: Names { en: "Damaged", it: "Danneggiato", es: "Dañado" } },
    Detail { id: 4, names: Names { en: "Lost", it: "Smarrito", es: "Extraviado" } },
    Detail { id: 5, names: Names { en: "Partially delivered", it: "Consegna parziale", es: "Entrega parcial" } },
];

/// The status of `id`, if Qapla' documents it.
pub fn lookup(id: u16) -> Option<&'static Status> {
    STATUSES.iter().find(|s| s.id == id)
}

/// The status detail of `id`, if known.
pub fn lookup_detail(id: u16) -> Option<&'static Detail> {
    DETAILS.iter().find(|d| d.id == id)
}

/// How a status is named in the `qaplaStatus` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum LabelStyle {
    /// Full name in the contact's language, e.g. `In consegna`.
    #[default]
    Name,
    /// Qapla's abbreviation where one exists, else the full name.
    Abbreviation,
    /// Qapla's English code, e.g. `OUT FOR DELIVERY`, whatever the language.
    Code,
}

/// The label resolved for one shipment status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub text: String,
    /// False when the status id (or a detail id) is not in the table and Qapla's own text
    /// was used: the caller logs it.
    pub known: bool,
}

/// Resolve the label of a status as Qapla' sent it.
///
/// `raw_id` is `qaplaStatusID` as text; `qapla_label` is `qaplaStatus`; `detail` is the
/// first status detail (id and Qapla's text), if any. A known detail is appended to the
/// status name (`Eccezione - In giacenza`), so a workflow can tell a parcel held at the depot
/// from a lost one.
pub fn label(
    raw_id: &str,
    qapla_label: &str,
    detail: Option<(u16, Option<&str>)>,
    language: Language,
    style: LabelStyle,
) -> Label {
    let Some(status) = raw_id.trim().parse().ok().and_then(lookup) else {
        return Label {
            text: qapla_label.trim().to_owned(),
            known: false,
        };
    };
    let base = match style {
        LabelStyle::Name => status.names.get(language),
        LabelStyle::Abbreviation => status.abbreviation(language),
        LabelStyle::Code => status.code,
    };
    match detail {
        None => Label {
            text: base.to_owned(),
            known: true,
        },
        Some((id, text)) => match (lookup_detail(id), style) {
            (Some(d), LabelStyle::Code) => Label {
                text: format!("{base} - {}", d.names.en.to_uppercase()),
                known: true,
            },
            (Some(d), _) => Label {
                text: format!("{base} - {}", d.names.get(language)),
                known: true,
            },
            (None, _) => Label {
                text: match text.map(str::trim).filter(|t| !t.is_empty()) {
                    Some(t) => format!("{base} - {t}"),
                    None => base.to_owned(),
                },
                known: false,
            },
        },
    }
}
