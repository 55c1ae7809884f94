//! A strict Connectif on loopback, written from Connectif's own reference pages
//! (api-docs.connectif.cloud, read 2026-12-03; docs/contracts.md lists the pages),
//! never from the bridge's code: each rule below names the page it comes from, and where a
//! page is silent the rule says so and takes the likeliest reading (docs/contracts.md keeps
//! the same list).
//!
//! It serves the management calls for custom integrations and their reception events
//! (custom event types), and the two ways events arrive: the Public API
//! (`POST /custom-events/alias/{alias}`, with the API key) and a reception event's Endpoint
//! URL (`POST /webhook/custom-events/alias/{alias}`, no key; the real URL's shape is not
//! documented). Every event is validated against its event type as Connectif's Public API
//! validates: an undefined field, a value of the wrong type, a required field missing or
//! empty is refused.

use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Items per page of a list. "links.next: the next list page url if there are more
/// elements" (`resources/customeventtypelist`); the page size is not documented: small, so
/// that a client that does not follow `links.next` misses what the account holds.
pub const PAGE_SIZE: usize = 2;

/// A field of an event type, as the management API received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub is_primary_key: bool,
}

#[derive(Debug, Clone)]
pub struct EventType {
    pub id: String,
    pub integration: String,
    pub alias: String,
    pub receive_type: String,
    pub name: String,
    pub fields: Vec<Field>,
}

/// One event that arrived: its alias, body, and the status it was answered.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub alias: String,
    pub body: Value,
    pub status: u16,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Integration {
    pub id: String,
    pub name: String,
    pub events_enabled: bool,
}

#[derive(Default)]
struct State {
    integrations: Vec<Integration>,
    types: Vec<EventType>,
    arrivals: Vec<Arrival>,
    /// Contacts the account has (their e-mail addresses).
    contacts: Vec<String>,
    /// Management calls that changed something (answered 2xx).
    writes: usize,
    next_id: usize,
    /// Custom contact fields (`POST /contact-fields/`): id, name, type.
    contact_fields: Vec<(String, String, String)>,
    /// The custom field values of each contact, as `PATCH /contacts/{email}` set them.
    contact_values: std::collections::HashMap<String, Map<String, Value>>,
    /// Contacts a `PATCH` created ("if contact does not exists, it is created").
    created_by_patch: usize,
    /// `PATCH /contacts` answered 429 before the next ones are served ("every endpoint can
    /// answer 429": reference/connectif.md, the rate-limit notes).
    throttled_patches: usize,
    /// Lists answered as a bare JSON array, the shape no page documents (for the tests
    /// of a client that reads them).
    bare_lists: bool,
}

pub struct StrictConnectif {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

#[derive(Clone)]
struct Answer {
    key: String,
    base: String,
    state: Arc<Mutex<State>>,
}

/// "Create custom integration" (`reference/custom-integrations/create-custom-integration`):
/// the writable properties of `CustomIntegrationCreation`.
const INTEGRATION_PROPERTIES: [&str; 5] =
    ["color", "description", "eventsEnabled", "imageUri", "name"];

/// "Create custom event type" (`resources/customeventtypecreation`): its properties...
const EVENT_TYPE_PROPERTIES: [&str; 8] = [
    "alias",
    "category",
    "fields",
    "icon",
    "name",
    "receiveType",
    "webhookHeaders",
    "webhookUrl",
];
/// ... and those of each of its `fields[]`.
const FIELD_PROPERTIES: [&str; 8] = [
    "defaultCountryCode",
    "id",
    "isPrimaryKey",
    "jsonPointerPath",
    "name",
    "options",
    "required",
    "type",
];
/// Field types. The event-type pages are cut before their list; these are the contact-field
/// types of the same API (and the send-event page's "text", "decimal", "integer",
/// "boolean", "checkbox"). There is no `number`.
const FIELD_TYPES: [&str; 9] = [
    "text", "email", "date", "radio", "phone", "boolean", "decimal", "integer", "checkbox",
];

impl StrictConnectif {
    /// A Connectif account whose API key (`keyId:keySecret`) is `key`.
    pub async fn start(key: &str) -> StrictConnectif {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        let answer = Answer {
            key: key.to_owned(),
            base: server.uri(),
            state: state.clone(),
        };
        Mock::given(wiremock::matchers::any())
            .respond_with(answer)
            .mount(&server)
            .await;
        StrictConnectif { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A reception event's Endpoint URL (webhook context) on this fake.
    pub fn endpoint_url(&self, alias: &str) -> String {
        format!("{}/webhook/custom-events/alias/{alias}", self.uri())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn event_types(&self) -> Vec<EventType> {
        self.state().types.clone()
    }

    pub fn integrations(&self) -> Vec<Integration> {
        self.state().integrations.clone()
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.state().arrivals.clone()
    }

    /// Management calls that changed something so far.
    pub fn writes(&self) -> usize {
        self.state().writes
    }

    /// A contact the account already has (events for it need no `createContact`).
    pub fn add_contact(&self, email: &str) {
        self.state().contacts.push(email.to_lowercase());
    }

    /// The custom field values `PATCH /contacts/{email}` set on `email`.
    pub fn contact(&self, email: &str) -> Option<Map<String, Value>> {
        self.state()
            .contact_values
            .get(&email.to_lowercase())
            .cloned()
    }

    /// The next `n` contact updates are answered 429.
    pub fn throttle_patches(&self, n: usize) {
        self.state().throttled_patches = n;
    }

    /// Contacts created by a `PATCH` (none had them before).
    pub fn created_by_patch(&self) -> usize {
        self.state().created_by_patch
    }

    /// A contact field made in the panel (not counted as a write of the client's).
    pub fn add_contact_field(&self, id: &str, name: &str, kind: &str) {
        let field = (id.to_owned(), name.to_owned(), kind.to_owned());
        self.state().contact_fields.push(field);
    }

    /// The custom contact fields: (id, name, type).
    pub fn contact_fields(&self) -> Vec<(String, String, String)> {
        self.state().contact_fields.clone()
    }

    /// Answer every list as a bare array (a shape no page documents).
    pub fn answer_bare_lists(&self) {
        self.state().bare_lists = true;
    }

    /// An integration made in the panel (not counted as a write of the client's).
    pub fn add_integration(&self, name: &str) -> String {
        let mut state = self.state();
        let id = state.id("int");
        state.integrations.push(Integration {
            id: id.clone(),
            name: name.to_owned(),
            events_enabled: true,
        });
        id
    }

    /// An event type made in the panel, in the integration `integration` (an id): held as
    /// it is given, without the API's checks (the panel's own are not documented).
    pub fn add_event_type(&self, integration: &str, mut event: EventType) -> String {
        let mut state = self.state();
        event.id = state.id("evt");
        event.integration = integration.to_owned();
        let id = event.id.clone();
        state.types.push(event);
        id
    }

    /// Change a field of an event type as a person would in Connectif's panel.
    pub fn edit_field(&self, alias: &str, id: &str, edit: impl FnOnce(&mut Field)) {
        let mut state = self.state();
        let field = state
            .types
            .iter_mut()
            .filter(|t| t.alias == alias)
            .flat_map(|t| t.fields.iter_mut())
            .find(|f| f.id == id)
            .expect("field to edit");
        edit(field);
    }

    /// Remove a field of an event type, as a person would in the panel.
    pub fn remove_field(&self, alias: &str, id: &str) {
        let mut state = self.state();
        for t in state.types.iter_mut().filter(|t| t.alias == alias) {
            t.fields.retain(|f| f.id != id);
        }
    }

    /// Add a field to an event type, as a person would in the panel.
    pub fn add_field(&self, alias: &str, field: Field) {
        let mut state = self.state();
        for t in state.types.iter_mut().filter(|t| t.alias == alias) {
            t.fields.push(field.clone());
        }
    }
}

/// An error body as the error-codes guide shows them: `{status, title, detail, code}`
/// (`guides/error-codes`; `HttpError` is named by every reference page).
fn problem(status: u16, code: Option<&str>, detail: &str) -> ResponseTemplate {
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        429 => "Too Many Requests",
        _ => "Unprocessable Entity",
    };
    let mut body = json!({ "status": status, "title": title, "detail": detail });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    ResponseTemplate::new(status).set_body_json(body)
}

/// A validation error of a management call: "422 Unprocessable Entity: Resource contains
/// validation errors" (every create page).
fn invalid(detail: &str) -> ResponseTemplate {
    problem(422, None, detail)
}

impl Respond for Answer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().trim_end_matches('/').to_owned();
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let query = |name: &str| {
            (request.url.query_pairs())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Webhook context: "no authentication header (the URL itself is the secret)", and
        // "they always create the contact" (support article "Custom integration to receive
        // data from external systems").
        if let ["webhook", "custom-events", "alias", alias] = parts.as_slice() {
            return state.arrive(alias, "webhook", body, true);
        }
        // `guides/authentication`: `Authorization: apiKey <keyId>:<keySecret>` on every call.
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("apiKey {}", self.key));
        if !authorized {
            return problem(401, None, "missing or wrong API key");
        }
        let page: usize = query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let method = request.method.as_str();
        match (method, parts.as_slice()) {
            // `reference/custom-events/create-custom-event-by-alias`: `createContact`
            // "defaults to false".
            ("POST", ["custom-events", "alias", alias]) => {
                let create = query("createContact").as_deref() == Some("true");
                state.arrive(alias, "api", body, create)
            }
            // Not documented: the path of "Create custom integration", listed as the event
            // types are.
            ("GET", ["custom-integrations"]) => {
                let items: Vec<Value> = (state.integrations.iter())
                    .map(|i| json!({ "id": i.id, "name": i.name, "eventsEnabled": i.events_enabled }))
                    .collect();
                state.list(&format!("{}{path}/", self.base), items, page)
            }
            ("POST", ["custom-integrations"]) => state.create_integration(&body),
            // `resources/contactfieldlist`: `links`, `results[]` of `id`, `name`, `type`,
            // `custom`, `readOnly`, `required`... (the list path is the create path).
            ("GET", ["contact-fields"]) => {
                let items: Vec<Value> = (state.contact_fields.iter())
                    .map(|(id, name, kind)| {
                        json!({ "id": id, "name": name, "type": kind,
                        "custom": true, "readOnly": false, "required": false })
                    })
                    .collect();
                state.list(&format!("{}{path}/", self.base), items, page)
            }
            ("POST", ["contact-fields"]) => state.create_contact_field(&body),
            ("PATCH", ["contacts", _]) if state.throttled_patches > 0 => {
                state.throttled_patches -= 1;
                problem(429, None, "Too Many Requests")
            }
            ("PATCH", ["contacts", email]) => state.patch_contact(email, &body),
            (
                _,
                [
                    "custom-integrations",
                    integration,
                    "custom-event-types",
                    rest @ ..,
                ],
            ) => {
                if state.integrations.iter().all(|i| i.id != *integration) {
                    return problem(404, None, "no such integration");
                }
                let list_url = format!("{}{path}/", self.base);
                state.event_types(method, integration, rest, body, (&list_url, page))
            }
            _ => problem(404, None, "no such resource"),
        }
    }
}

/// A path segment with its `%XX` escapes decoded.
fn percent_decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `resources/contactfieldcreate`: the writable properties of `ContactFieldCreate`.
const CONTACT_FIELD_PROPERTIES: [&str; 12] = [
    "defaultCountryCode",
    "defaultValue",
    "id",
    "maxDate",
    "maxLength",
    "maxValue",
    "minDate",
    "minValue",
    "name",
    "options",
    "required",
    "type",
];

/// `resources/contactpatch`: the system properties a patch may set besides custom fields.
const CONTACT_SYSTEM_PROPERTIES: [&str; 9] = [
    "_birthdate",
    "_emailStatus",
    "_mobilePhone",
    "_mobilePhoneStatus",
    "_name",
    "_newsletterSubscriptionStatus",
    "_points",
    "_smsSubscriptionStatus",
    "_surname",
];

impl State {
    /// `reference/contact-fields/create-contact-field`. The id "must start with a letter and
    /// contain only letters, numbers, hyphens, underscores, and brackets. The value "id" is
    /// reserved. Maximum length is 150 characters"; `maxLength` "only allowed when the field
    /// type is text"; `defaultValue` "required when the field is required"; `defaultCountryCode`
    /// "required when the field type is phone". The answer's status and an id clash are not
    /// documented: 201 with the field, and 409, the likeliest.
    fn create_contact_field(&mut self, body: &Value) -> ResponseTemplate {
        if let Some(why) = unknown_property(body, &CONTACT_FIELD_PROPERTIES, "") {
            return invalid(&why);
        }
        let id = body["id"].as_str().unwrap_or_default();
        let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && id.len() <= 150
            && id != "id"
            && (id.chars()).all(|c| c.is_ascii_alphanumeric() || "-_[]".contains(c));
        if !id_ok {
            return invalid("id: must start with a letter; letters, numbers, -, _, [ ] only");
        }
        let Some(name) = body["name"].as_str().filter(|n| !n.trim().is_empty()) else {
            return invalid("name is required");
        };
        let kind = body["type"].as_str().unwrap_or_default();
        if !FIELD_TYPES.contains(&kind) {
            return invalid("type is not a contact field type");
        }
        if body.get("maxLength").is_some() && kind != "text" {
            return invalid("maxLength is only allowed for text fields");
        }
        if body["required"].as_bool() == Some(true) && body.get("defaultValue").is_none() {
            return invalid("defaultValue is required for a required field");
        }
        if kind == "phone" && body.get("defaultCountryCode").is_none() {
            return invalid("defaultCountryCode is required for phone fields");
        }
        if self.contact_fields.iter().any(|(have, _, _)| have == id) {
            return problem(409, None, "a contact field with this id exists");
        }
        self.contact_fields
            .push((id.to_owned(), name.to_owned(), kind.to_owned()));
        self.writes += 1;
        ResponseTemplate::new(201).set_body_json(json!({ "id": id, "name": name, "type": kind }))
    }

    /// `reference/contacts/patch-contact`: "if contact does not exists, it is created"; each
    /// key a custom field id (or a documented system property) and its value "of the
    /// appropriate type: string for 'text', 'email', 'date', 'radio' and 'phone' fields;
    /// boolean for 'boolean' fields; number for 'decimal' fields; 'integer' for integer
    /// fields and an array of string for 'checkbox' fields". A `date` must be ISO 8601
    /// (`create-contact-field`: "ISO 8601 date string for date"). The status of an unknown
    /// field is not documented: 422, as the other validation errors.
    fn patch_contact(&mut self, email: &str, body: &Value) -> ResponseTemplate {
        let email = percent_decoded(email).to_lowercase();
        let Value::Object(map) = body else {
            return invalid("the body is not a JSON object");
        };
        for (key, value) in map {
            if CONTACT_SYSTEM_PROPERTIES.contains(&key.as_str()) {
                continue;
            }
            let Some((_, _, kind)) = self.contact_fields.iter().find(|(id, _, _)| id == key) else {
                return invalid(&format!("{key} is not a contact field"));
            };
            let admitted = match kind.as_str() {
                "date" => value.as_str().is_some_and(|t| {
                    t.len() >= 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-'
                }),
                "text" | "email" | "radio" | "phone" => value.is_string(),
                "boolean" => value.is_boolean(),
                "decimal" => value.is_number(),
                "integer" => value.is_i64() || value.is_u64(),
                _ => value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
            };
            if !admitted {
                return invalid(&format!("{key} is not of type {kind}"));
            }
        }
        if !self.contacts.contains(&email) {
            self.contacts.push(email.clone());
            self.created_by_patch += 1;
        }
        let values = self.contact_values.entry(email.clone()).or_default();
        values.extend(map.clone());
        let mut answer = values.clone();
        answer.insert("email".into(), json!(email));
        ResponseTemplate::new(200).set_body_json(Value::Object(answer))
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:04}", self.next_id)
    }

    /// One page of `items` as `resources/customeventtypelist` documents a list: `links.next`
    /// while more follow, `links.prev` after the first page.
    fn list(&self, url: &str, items: Vec<Value>, page: usize) -> ResponseTemplate {
        if self.bare_lists {
            return ResponseTemplate::new(200).set_body_json(items);
        }
        let page = page.max(1);
        let start = (page - 1) * PAGE_SIZE;
        let results: Vec<Value> = items.iter().skip(start).take(PAGE_SIZE).cloned().collect();
        let mut links = Map::new();
        if start + PAGE_SIZE < items.len() {
            links.insert("next".into(), json!(format!("{url}?page={}", page + 1)));
        }
        if page > 1 {
            links.insert("prev".into(), json!(format!("{url}?page={}", page - 1)));
        }
        ResponseTemplate::new(200).set_body_json(json!({ "links": links, "results": results }))
    }

    /// `reference/custom-integrations/create-custom-integration`: `name` and `eventsEnabled`
    /// are not marked optional; only the five properties of `CustomIntegrationCreation`.
    fn create_integration(&mut self, body: &Value) -> ResponseTemplate {
        if let Some(why) = unknown_property(body, &INTEGRATION_PROPERTIES, "") {
            return invalid(&why);
        }
        let Some(name) = body["name"].as_str().filter(|n| !n.trim().is_empty()) else {
            return invalid("name is required");
        };
        let Some(events_enabled) = body["eventsEnabled"].as_bool() else {
            return invalid("eventsEnabled is required (a boolean)");
        };
        let id = self.id("int");
        let created = Integration {
            id: id.clone(),
            name: name.to_owned(),
            events_enabled,
        };
        self.integrations.push(created);
        self.writes += 1;
        ResponseTemplate::new(201)
            .set_body_json(json!({ "id": id, "name": name, "eventsEnabled": events_enabled }))
    }

    fn event_types(
        &mut self,
        method: &str,
        integration: &str,
        rest: &[&str],
        body: Value,
        (list_url, page): (&str, usize),
    ) -> ResponseTemplate {
        match (method, rest) {
            // The list URL is not readable (`resources/customeventtypelist` names the method
            // only): the create path.
            ("GET", []) => {
                let items: Vec<Value> = (self.types.iter())
                    .filter(|t| t.integration == integration)
                    .map(EventType::json)
                    .collect();
                self.list(list_url, items, page)
            }
            ("POST", []) => match EventType::from_json(integration, &body) {
                Err(why) => invalid(&why),
                // "alias: a unique alias to identify the custom event type" (unique in the
                // account; the status of a clash is not documented: 409 is the likeliest).
                Ok(created) if self.types.iter().any(|t| t.alias == created.alias) => {
                    problem(409, None, "an event type with this alias exists")
                }
                Ok(mut created) => {
                    created.id = self.id("evt");
                    let answer = created.json();
                    self.types.push(created);
                    self.writes += 1;
                    ResponseTemplate::new(201).set_body_json(answer)
                }
            },
            // "Get custom event type by Id" (`resources/customeventtype`: its documented
            // methods are only create and get by id; no update, no delete).
            ("GET", [id]) => match self
                .types
                .iter()
                .find(|t| t.id == *id && t.integration == integration)
            {
                Some(found) => ResponseTemplate::new(200).set_body_json(found.json()),
                None => problem(404, None, "no such event type"),
            },
            (_, [_]) => problem(405, None, "no such method on a custom event type"),
            _ => problem(404, None, "no such resource"),
        }
    }

    fn arrive(
        &mut self,
        alias: &str,
        context: &str,
        body: Value,
        create: bool,
    ) -> ResponseTemplate {
        let found = (self.types.iter()).find(|t| t.alias == alias && t.receive_type == context);
        let (status, code, detail) = match found {
            None => (
                404,
                None,
                format!("no {context} reception event with alias {alias}"),
            ),
            Some(t) => match violation(&t.fields, &body) {
                // `create-custom-event-by-alias`: "422 Resource contains validation errors".
                Some(why) => (422, None, why),
                None => {
                    let contact = (t.fields.iter())
                        .find(|f| f.is_primary_key)
                        .and_then(|f| body[&f.id].as_str())
                        .unwrap_or_default()
                        .to_lowercase();
                    if self.contacts.contains(&contact) || create {
                        self.contacts.push(contact);
                        (201, None, String::new())
                    } else {
                        // The error-codes guide: E0501 "Contact does not exist", with 400.
                        (400, Some("E0501"), "Contact does not exist".to_owned())
                    }
                }
            },
        };
        self.arrivals.push(Arrival {
            alias: alias.to_owned(),
            body,
            status,
            detail: detail.clone(),
        });
        if status == 201 {
            ResponseTemplate::new(201).set_body_json(json!({}))
        } else {
            problem(status, code, &detail)
        }
    }
}

/// The first property of `body` not among `allowed` ("the request body takes a complete
/// ... resource, containing the following writable properties").
fn unknown_property(body: &Value, allowed: &[&str], what: &str) -> Option<String> {
    let map = body.as_object()?;
    map.keys()
        .find(|k| !allowed.contains(&k.as_str()))
        .map(|k| format!("{what}{k} is not a property of this resource"))
}

impl EventType {
    /// As `CustomEventType` (`resources/customeventtype`): the creation's properties and
    /// `id`, `createdAt`, `updatedAt`.
    fn json(&self) -> Value {
        let fields: Vec<Value> = (self.fields.iter())
            .map(|f| {
                json!({ "id": f.id, "name": f.name, "type": f.kind, "required": f.required,
                    "isPrimaryKey": f.is_primary_key })
            })
            .collect();
        json!({
            "id": self.id, "name": self.name, "alias": self.alias, "category": "receive",
            "receiveType": self.receive_type, "fields": fields,
            "createdAt": "2026-12-03T10:00:00.000Z", "updatedAt": "2026-12-03T10:00:00.000Z",
        })
    }

    /// An event type as `resources/customeventtypecreation` describes it, or why Connectif
    /// would refuse it.
    fn from_json(integration: &str, body: &Value) -> Result<EventType, String> {
        if let Some(why) = unknown_property(body, &EVENT_TYPE_PROPERTIES, "") {
            return Err(why);
        }
        // "category: send | receive"; this fake holds reception events only.
        if body["category"] != "receive" {
            return Err("category must be receive".into());
        }
        let name = (body["name"].as_str())
            .filter(|n| !n.trim().is_empty())
            .ok_or("name is required")?;
        // "alias: required when category is receive".
        let alias = (body["alias"].as_str())
            .filter(|a| !a.is_empty())
            .ok_or("alias is required when category is receive")?;
        // "receiveType": the prose names "webhook" and "api"; the exact list is not
        // readable (docs/contracts.md).
        let receive_type = (body["receiveType"].as_str())
            .filter(|r| ["webhook", "api"].contains(r))
            .ok_or("receiveType must be webhook or api")?;
        let mut fields: Vec<Field> = Vec::new();
        for f in body["fields"].as_array().ok_or("fields must be a list")? {
            fields.push(Field::from_json(f, &fields)?);
        }
        // "Only one field may be the primary key, and it must be of type email. When
        // category is receive and receive type is webhook or api a primary key field is
        // required."
        let keys: Vec<&Field> = fields.iter().filter(|f| f.is_primary_key).collect();
        if keys.len() != 1 || keys[0].kind != "email" {
            return Err(
                "exactly one primary key field (isPrimaryKey), of type email, is required".into(),
            );
        }
        Ok(EventType {
            id: String::new(),
            integration: integration.to_owned(),
            alias: alias.to_owned(),
            receive_type: receive_type.to_owned(),
            name: name.to_owned(),
            fields,
        })
    }
}

impl Field {
    /// A `fields[]` item: `id`, `name`, `type` and `required` are not marked optional;
    /// `isPrimaryKey` "defaults to false if omitted"; `defaultCountryCode` is "required when
    /// field type is phone", `options` for radio and checkbox fields.
    fn from_json(f: &Value, before: &[Field]) -> Result<Field, String> {
        let id = (f["id"].as_str())
            .filter(|i| !i.is_empty())
            .ok_or("a field needs an id")?;
        if let Some(why) = unknown_property(f, &FIELD_PROPERTIES, &format!("field {id}: ")) {
            return Err(why);
        }
        if before.iter().any(|g| g.id == id) {
            return Err(format!("field {id} is defined twice"));
        }
        let name = (f["name"].as_str())
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| format!("field {id}: name is required"))?;
        let kind = (f["type"].as_str())
            .filter(|t| FIELD_TYPES.contains(t))
            .ok_or_else(|| format!("field {id}: unknown type {}", f["type"]))?;
        if kind == "phone" && !f["defaultCountryCode"].is_string() {
            return Err(format!(
                "field {id}: defaultCountryCode is required for phone"
            ));
        }
        if ["radio", "checkbox"].contains(&kind) && !f["options"].is_array() {
            return Err(format!("field {id}: options are required for {kind}"));
        }
        let is_primary_key = match &f["isPrimaryKey"] {
            Value::Null => false,
            Value::Bool(b) => *b,
            _ => return Err(format!("field {id}: isPrimaryKey must be a boolean")),
        };
        Ok(Field {
            id: id.to_owned(),
            name: name.to_owned(),
            kind: kind.to_owned(),
            required: f["required"]
                .as_bool()
                .ok_or_else(|| format!("field {id}: required must be a boolean"))?,
            is_primary_key,
        })
    }
}

/// Why `body` is refused by an event type of `fields`, as Connectif's Public API refuses it
/// (422), or `None`. "They require strict validation and do not allow sending fields that are
/// not defined in the event" (the support article); "the value must be of the appropriate
/// type: string for text fields; number for decimal fields; integer for integer fields;
/// boolean for boolean fields; and an array of string for checkbox fields"
/// (`create-custom-event-by-alias`).
pub fn violation(fields: &[Field], body: &Value) -> Option<String> {
    let Value::Object(map) = body else {
        return Some("the body is not a JSON object".into());
    };
    if let Some(id) = map.keys().find(|k| fields.iter().all(|f| &f.id != *k)) {
        return Some(format!("field {id} is not defined on the event"));
    }
    for field in fields {
        let value = map.get(&field.id).unwrap_or(&Value::Null);
        let empty = value.is_null() || value.as_str().is_some_and(|t| t.trim().is_empty());
        if empty {
            if field.required {
                return Some(format!("required field {} is missing or empty", field.id));
            }
            if value.is_null() || field.kind != "text" {
                continue;
            }
        }
        let admitted = match field.kind.as_str() {
            "text" | "date" | "radio" | "phone" => value.is_string(),
            "email" => value.as_str().is_some_and(|t| {
                let (user, domain) = t.split_once('@').unwrap_or_default();
                !user.is_empty() && domain.contains('.') && !t.contains(char::is_whitespace)
            }),
            "decimal" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            "checkbox" => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            _ => false,
        };
        if !admitted {
            return Some(format!("field {} is not of type {}", field.id, field.kind));
        }
    }
    None
}
