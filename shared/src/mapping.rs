//! Qapla' normalized status ids and status details, with the labels a customer reads.
//!
//! The table is the one in the Connectif–Qapla' guide (Italian and Spanish names and
//! abbreviations), plus English, German, French and Portuguese labels. Unknown ids are not an error: the caller forwards
//! them with Qapla's own label and logs them (see [`Label`]).

use serde::{Deserialize, Serialize};

/// A language a channel (and its customers) reads. Picks the label sent to Connectif.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    It,
    Es,
    En,
    De,
    Fr,
    Pt,
}

impl Language {
    /// Every language, in the order of the label tables' columns.
    pub const ALL: [Language; 6] = [
        Language::It,
        Language::Es,
        Language::En,
        Language::De,
        Language::Fr,
        Language::Pt,
    ];

    /// The language to ask Qapla's API in (`lang`): Qapla' documents `it`, `es` and `en`; its
    /// labels matter only for status ids the bridge does not know (it labels the others).
    pub fn qapla_code(self) -> &'static str {
        match self {
            Language::It => "it",
            Language::Es => "es",
            Language::En | Language::De | Language::Fr | Language::Pt => "en",
        }
    }

    /// ISO 639-1 code, as sent in the Connectif `language` field.
    pub fn code(self) -> &'static str {
        match self {
            Language::It => "it",
            Language::Es => "es",
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Pt => "pt",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Labels of one status (or status detail), one per language in [`Language::ALL`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names(pub [&'static str; 6]);

impl Names {
    pub fn get(&self, language: Language) -> &'static str {
        self.0[language.index()]
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
    /// Short names, in [`Language::ALL`]'s order; `None` where the full name is short
    /// enough (then the abbreviation is the full name).
    pub abbreviations: [Option<&'static str>; 6],
}

impl Status {
    /// The abbreviation in `language`, or the full name where none exists.
    pub fn abbreviation(&self, language: Language) -> &'static str {
        self.abbreviations[language.index()].unwrap_or_else(|| self.names.get(language))
    }
}

/// A row: id, code, names (it, es, en, de, fr, pt), abbreviations (same order).
const fn status(
    id: u16,
    code: &'static str,
    names: [&'static str; 6],
    abbreviations: [Option<&'static str>; 6],
) -> Status {
    Status {
        id,
        code,
        names: Names(names),
        abbreviations,
    }
}

const NO: Option<&str> = None;

/// Every status id Qapla' documents. Italian and Spanish names and abbreviations are the
/// Connectif–Qapla' guide's; English, German, French and Portuguese are ours, in the words
/// carriers use in those countries' tracking pages.
#[rustfmt::skip]
pub const STATUSES: [Status; 13] = [
    status(0, "WAITING TO COMPUTE",
        ["Attesa Elaborazione", "Esperando elaboración", "Waiting to compute", "Warten auf Verarbeitung", "En attente de traitement", "A aguardar processamento"],
        [Some("Attesa Elab."), NO, NO, Some("Verarbeitung"), Some("Traitement"), Some("A aguardar")]),
    status(1, "PENDING",
        ["In sospeso", "Pendiente", "Pending", "Ausstehend", "En attente", "Pendente"],
        [NO; 6]),
    status(2, "INFO RECEIVED",
        ["Attesa ritiro", "Pendiente de retirar", "Info received", "Warten auf Abholung", "En attente d'enlèvement", "A aguardar recolha"],
        [NO, Some("Pendiente"), NO, Some("Abholung"), Some("Enlèvement"), Some("Recolha")]),
    status(3, "IN TRANSIT",
        ["In transito", "En tránsito", "In transit", "Unterwegs", "En transit", "Em trânsito"],
        [NO; 6]),
    status(4, "OUT FOR DELIVERY",
        ["In consegna", "En reparto", "Out for delivery", "In Zustellung", "En cours de livraison", "Em distribuição"],
        [NO, NO, NO, NO, Some("En livraison"), NO]),
    status(5, "FAILED ATTEMPT",
        ["Tentativo di consegna fallito", "Intento de entrega fallido", "Failed attempt", "Zustellversuch fehlgeschlagen", "Échec de livraison", "Tentativa de entrega falhada"],
        [Some("Consegna fallita"), Some("Entrega Fallida"), NO, Some("Nicht zugestellt"), Some("Non livré"), Some("Entrega falhada")]),
    status(6, "EXCEPTION",
        ["Eccezione", "Problema", "Exception", "Problem", "Incident", "Problema"],
        [Some("Problemi"), NO, NO, NO, NO, NO]),
    status(8, "DELAY",
        ["Ritardo", "En Retraso", "Delay", "Verspätung", "Retard", "Atraso"],
        [NO; 6]),
    status(10, "PICKUP POINT",
        ["Punto di Ritiro", "Punto de retiro", "Pickup point", "Im Abholpunkt", "En point relais", "No ponto de recolha"],
        [NO, NO, NO, Some("Abholpunkt"), Some("Point relais"), Some("Ponto de recolha")]),
    status(20, "DEPARTED",
        ["Partito", "Enviado", "Departed", "Versandt", "Expédié", "Enviado"],
        [NO; 6]),
    status(50, "PROCESSING",
        ["In lavorazione", "En elaboración", "Processing", "In Bearbeitung", "En préparation", "Em processamento"],
        [NO; 6]),
    status(95, "RETURNED",
        ["Rientrato", "Restituido", "Returned", "Zurückgesandt", "Retourné", "Devolvido"],
        [NO; 6]),
    status(99, "DELIVERED",
        ["Consegnato", "Entregado", "Delivered", "Zugestellt", "Livré", "Entregue"],
        [NO; 6]),
];

/// A status detail (sub-state), documented by Qapla' for id 6 EXCEPTION.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    pub id: u16,
    pub names: Names,
}

/// Every status detail known, names in [`Language::ALL`]'s order. 5 (partial delivery)
/// appears only in third-party code, but naming it costs nothing and reads better than
/// Qapla's raw text.
#[rustfmt::skip]
pub const DETAILS: [Detail; 5] = [
    Detail { id: 1, names: Names(["In giacenza", "Retenido en almacén", "On hold at the depot", "Im Depot gelagert", "En attente au dépôt", "Retido no armazém"]) },
    Detail { id: 2, names: Names(["In restituzione al mittente", "En devolución al remitente", "Returning to sender", "Rücksendung an den Absender", "En retour vers l'expéditeur", "Em devolução ao remetente"]) },
    Detail { id: 3, names: Names(["Danneggiato", "Dañado", "Damaged", "Beschädigt", "Endommagé", "Danificado"]) },
    Detail { id: 4, names: Names(["Smarrito", "Extraviado", "Lost", "Verloren", "Perdu", "Extraviado"]) },
    Detail { id: 5, names: Names(["Consegna parziale", "Entrega parcial", "Partially delivered", "Teilweise zugestellt", "Livré partiellement", "Entregue parcialmente"]) },
];

/// The status of `id`, if Qapla' documents it.
pub fn lookup(id: u16) -> Option<&'static Status> {
    STATUSES.iter().find(|s| s.id == id)
}

/// The status detail of `id`, if known.
pub fn lookup_detail(id: u16) -> Option<&'static Detail> {
    DETAILS.iter().find(|d| d.id == id)
}

/// One word per stage of a parcel's life, for a workflow to branch on (`statusGroup`):
/// `pending` (0, 1, 2, 50: not with the courier yet), `in_transit` (3, 20), `delayed` (8),
/// `out_for_delivery` (4), `attempt_failed` (5), `exception` (6), `at_pickup_point` (10),
/// `returned` (95), `delivered` (99), `unknown` (an id not in the table).
pub fn group(raw_id: &str) -> &'static str {
    match raw_id
        .trim()
        .parse::<u16>()
        .ok()
        .and_then(lookup)
        .map(|s| s.id)
    {
        Some(0 | 1 | 2 | 50) => "pending",
        Some(3 | 20) => "in_transit",
        Some(8) => "delayed",
        Some(4) => "out_for_delivery",
        Some(5) => "attempt_failed",
        Some(6) => "exception",
        Some(10) => "at_pickup_point",
        Some(95) => "returned",
        Some(99) => "delivered",
        _ => "unknown",
    }
}

/// Whether a status ends the parcel's journey (delivered, returned to sender): no later
/// status is expected, so its silence is no stall.
pub fn is_final(raw_id: &str) -> bool {
    matches!(group(raw_id), "delivered" | "returned")
}

/// Whether the parcel is held at the depot ("giacenza": status 6 EXCEPTION, detail 1), where
/// its customer may choose what the courier does with it (`releaseLinks`).
pub fn is_held(raw_id: &str, detail: Option<u16>) -> bool {
    raw_id.trim() == "6" && detail == Some(1)
}

/// Whether the parcel is with the courier (or past it) at this status: `shippedAt` is the
/// first such status's time.
pub fn is_shipped(raw_id: &str) -> bool {
    !matches!(group(raw_id), "pending" | "unknown")
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
                text: format!("{base} - {}", d.names.get(Language::En).to_uppercase()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, as the Connectif–Qapla' guide prints it: id, code, Italian, Spanish.
    const GUIDE: [(u16, &str, &str, &str); 13] = [
        (
            0,
            "WAITING TO COMPUTE",
            "Attesa Elaborazione",
            "Esperando elaboración",
        ),
        (1, "PENDING", "In sospeso", "Pendiente"),
        (2, "INFO RECEIVED", "Attesa ritiro", "Pendiente de retirar"),
        (3, "IN TRANSIT", "In transito", "En tránsito"),
        (4, "OUT FOR DELIVERY", "In consegna", "En reparto"),
        (
            5,
            "FAILED ATTEMPT",
            "Tentativo di consegna fallito",
            "Intento de entrega fallido",
        ),
        (6, "EXCEPTION", "Eccezione", "Problema"),
        (8, "DELAY", "Ritardo", "En Retraso"),
        (10, "PICKUP POINT", "Punto di Ritiro", "Punto de retiro"),
        (20, "DEPARTED", "Partito", "Enviado"),
        (50, "PROCESSING", "In lavorazione", "En elaboración"),
        (95, "RETURNED", "Rientrato", "Restituido"),
        (99, "DELIVERED", "Consegnato", "Entregado"),
    ];

    #[test]
    fn every_documented_id_has_its_code_and_names_in_every_language() {
        for (id, code, it, es) in GUIDE {
            let s = lookup(id).unwrap_or_else(|| panic!("id {id} missing"));
            let (s_it, s_es) = (s.names.get(Language::It), s.names.get(Language::Es));
            assert_eq!((s.code, s_it, s_es), (code, it, es), "id {id}");
            for lang in Language::ALL {
                let l = label(&id.to_string(), "ignored", None, lang, LabelStyle::Name);
                assert_eq!(
                    l,
                    Label {
                        text: s.names.get(lang).to_owned(),
                        known: true
                    }
                );
                let l = label(&id.to_string(), "ignored", None, lang, LabelStyle::Code);
                assert_eq!(l.text, code);
            }
        }
        assert_eq!(
            STATUSES.len(),
            GUIDE.len(),
            "the table has rows the guide does not"
        );
    }

    #[test]
    fn english_labels_read_as_sentences() {
        let english: Vec<&str> = STATUSES.iter().map(|s| s.names.get(Language::En)).collect();
        assert_eq!(
            english,
            [
                "Waiting to compute",
                "Pending",
                "Info received",
                "In transit",
                "Out for delivery",
                "Failed attempt",
                "Exception",
                "Delay",
                "Pickup point",
                "Departed",
                "Processing",
                "Returned",
                "Delivered"
            ]
        );
    }

    #[test]
    fn abbreviations_are_the_guides_and_fall_back_to_the_full_name() {
        let abbr =
            |id: u16, lang| label(&id.to_string(), "", None, lang, LabelStyle::Abbreviation).text;
        assert_eq!(abbr(0, Language::It), "Attesa Elab.");
        assert_eq!(abbr(2, Language::Es), "Pendiente");
        assert_eq!(abbr(5, Language::It), "Consegna fallita");
        assert_eq!(abbr(5, Language::Es), "Entrega Fallida");
        assert_eq!(abbr(6, Language::It), "Problemi");
        // No abbreviation: the full name.
        assert_eq!(abbr(6, Language::Es), "Problema");
        assert_eq!(abbr(99, Language::It), "Consegnato");
        for s in STATUSES {
            assert_eq!(
                s.abbreviation(Language::En),
                s.names.get(Language::En),
                "English has no abbreviations"
            );
        }
    }

    #[test]
    fn every_status_detail_is_named_in_every_language() {
        let expected = [
            (
                1,
                "On hold at the depot",
                "In giacenza",
                "Retenido en almacén",
            ),
            (
                2,
                "Returning to sender",
                "In restituzione al mittente",
                "En devolución al remitente",
            ),
            (3, "Damaged", "Danneggiato", "Dañado"),
            (4, "Lost", "Smarrito", "Extraviado"),
            (
                5,
                "Partially delivered",
                "Consegna parziale",
                "Entrega parcial",
            ),
        ];
        for (id, en, it, es) in expected {
            let d = lookup_detail(id).unwrap_or_else(|| panic!("detail {id} missing"));
            let names = [Language::En, Language::It, Language::Es].map(|l| d.names.get(l));
            assert_eq!(names, [en, it, es]);
        }
        assert_eq!(DETAILS.len(), expected.len());
    }

    #[test]
    fn a_known_detail_is_appended_to_the_status_in_the_channel_language() {
        let on_hold = Some((1, Some("STOCK")));
        let l = |lang, style| label("6", "EXCEPTION", on_hold, lang, style).text;
        assert_eq!(l(Language::It, LabelStyle::Name), "Eccezione - In giacenza");
        assert_eq!(
            l(Language::Es, LabelStyle::Name),
            "Problema - Retenido en almacén"
        );
        assert_eq!(
            l(Language::En, LabelStyle::Name),
            "Exception - On hold at the depot"
        );
        assert_eq!(
            l(Language::It, LabelStyle::Abbreviation),
            "Problemi - In giacenza"
        );
        assert_eq!(
            l(Language::It, LabelStyle::Code),
            "EXCEPTION - ON HOLD AT THE DEPOT"
        );
    }

    #[test]
    fn unknown_ids_and_details_are_forwarded_with_qaplas_own_label() {
        let l = label("7", " NUOVO STATO ", None, Language::It, LabelStyle::Name);
        assert_eq!(
            l,
            Label {
                text: "NUOVO STATO".into(),
                known: false
            }
        );
        let l = label("not-a-number", "X", None, Language::Es, LabelStyle::Code);
        assert_eq!(
            l,
            Label {
                text: "X".into(),
                known: false
            }
        );
        let l = label(
            "6",
            "EXCEPTION",
            Some((42, Some("MYSTERY"))),
            Language::En,
            LabelStyle::Name,
        );
        assert_eq!(
            l,
            Label {
                text: "Exception - MYSTERY".into(),
                known: false
            }
        );
        let l = label(
            "6",
            "EXCEPTION",
            Some((42, None)),
            Language::En,
            LabelStyle::Name,
        );
        assert_eq!(
            l,
            Label {
                text: "Exception".into(),
                known: false
            }
        );
    }

    #[test]
    fn ids_with_spaces_or_as_numbers_text_are_known() {
        assert!(label(" 99 ", "", None, Language::It, LabelStyle::Name).known);
    }

    /// Every status and every detail has a name and an abbreviation in every language,
    /// none empty, none with stray spaces, and each language's names tell the statuses apart.
    #[test]
    fn every_status_and_detail_is_labelled_in_every_language() {
        for lang in Language::ALL {
            let mut seen = std::collections::HashSet::new();
            for s in STATUSES {
                for text in [s.names.get(lang), s.abbreviation(lang)] {
                    assert!(!text.is_empty() && text.trim() == text, "{} {lang:?}", s.id);
                }
                assert!(
                    s.abbreviation(lang).len() <= s.names.get(lang).len(),
                    "{} {lang:?}",
                    s.id
                );
                assert!(
                    seen.insert(s.names.get(lang)),
                    "{} {lang:?} repeats a name",
                    s.id
                );
                let l = label(
                    &s.id.to_string(),
                    "",
                    Some((1, None)),
                    lang,
                    LabelStyle::Name,
                );
                assert!(l.known && l.text.ends_with(DETAILS[0].names.get(lang)));
            }
            for d in DETAILS {
                let text = d.names.get(lang);
                assert!(
                    !text.is_empty() && text.trim() == text,
                    "detail {} {lang:?}",
                    d.id
                );
            }
        }
        let codes: Vec<&str> = Language::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(codes, ["it", "es", "en", "de", "fr", "pt"]);
        for lang in Language::ALL {
            let text = serde_json::to_string(&lang).expect("code");
            assert_eq!(text, format!("\"{}\"", lang.code()));
            assert_eq!(serde_json::from_str::<Language>(&text).expect("read"), lang);
        }
    }

    #[test]
    fn german_french_and_portuguese_read_as_their_carriers_write() {
        let name = |id: u16, lang| label(&id.to_string(), "", None, lang, LabelStyle::Name).text;
        assert_eq!(name(4, Language::De), "In Zustellung");
        assert_eq!(name(99, Language::Fr), "Livré");
        assert_eq!(name(3, Language::Pt), "Em trânsito");
        let held = label(
            "6",
            "",
            Some((1, None)),
            Language::Fr,
            LabelStyle::Abbreviation,
        );
        assert_eq!(held.text, "Incident - En attente au dépôt");
        let failed = label("5", "", None, Language::De, LabelStyle::Abbreviation);
        assert_eq!(failed.text, "Nicht zugestellt");
    }

    #[test]
    fn every_status_has_a_group_and_only_delivered_and_returned_are_final() {
        for s in STATUSES {
            let id = s.id.to_string();
            assert_ne!(group(&id), "unknown", "{id}");
            assert_eq!(is_final(&id), matches!(s.id, 95 | 99), "{id}");
            assert_eq!(is_shipped(&id), !matches!(s.id, 0 | 1 | 2 | 50), "{id}");
        }
        assert_eq!(group(" 4 "), "out_for_delivery");
        assert_eq!(group("7"), "unknown");
        assert!(!is_final("7") && !is_shipped("x"));
    }
}
