//! A strict Connectif on loopback: the documented management calls for custom integrations
//! and their reception events (custom event types), and the two ways events arrive — the
//! Public API (`POST /custom-events/alias/{alias}`, with the API key) and a reception
//! event's Endpoint URL (`POST /webhook/custom-events/alias/{alias}`, no key). Every event is
//! validated against the event type as it was *created here*, as strictly as Connectif's
//! Public API: an undefined field, a value of the wrong type, a required field missing or
//! empty is a 422. Its rules are written from Connectif's documentation
//! (`reference/connectif.md`), independently of the bridge's code, so a bridge that sends
//! what it did not define fails here.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A field of an event type, as the management API received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub kind: String,
    pub required: bool,
    pub primary_key: bool,
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

#[derive(Default)]
struct State {
    integrations: Vec<(String, String)>,
    types: Vec<EventType>,
    arrivals: Vec<Arrival>,
    /// Management calls that changed something (POST and PATCH answered 2xx).
    writes: usize,
    next_id: usize,
}

pub struct StrictConnectif {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

#[derive(Clone)]
struct Answer {
    key: String,
    state: Arc<Mutex<State>>,
}

impl StrictConnectif {
    /// A Connectif account whose API key (`keyId:keySecret`) is `key`.
    pub async fn start(key: &str) -> StrictConnectif {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        let answer = Answer {
            key: key.to_owned(),
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

    pub fn integrations(&self) -> Vec<(String, String)> {
        self.state().integrations.clone()
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.state().arrivals.clone()
    }

    /// Management calls that changed something so far.
    pub fn writes(&self) -> usize {
        self.state().writes
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
}

fn problem(status: u16, detail: &str) -> ResponseTemplate {
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Unprocessable Entity",
    };
    ResponseTemplate::new(status)
        .set_body_json(json!({ "status": status, "title": title, "detail": detail }))
}

impl Respond for Answer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().trim_end_matches('/').to_owned();
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let ["webhook", "custom-events", "alias", alias] = parts.as_slice() {
            return state.arrive(alias, "webhook", body);
        }
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("apiKey {}", self.key));
        if !authorized {
            return problem(401, "missing or wrong API key");
        }
        let method = request.method.as_str();
        match (method, parts.as_slice()) {
            ("POST", ["custom-events", "alias", alias]) => state.arrive(alias, "api", body),
            ("GET", ["custom-integrations"]) => {
                let list: Vec<Value> = (state.integrations.iter())
                    .map(|(id, name)| json!({ "id": id, "name": name }))
                    .collect();
                ResponseTemplate::new(200).set_body_json(list)
            }
            ("POST", ["custom-integrations"]) => {
                let Some(name) = body["name"].as_str().filter(|n| !n.trim().is_empty()) else {
                    return problem(400, "name is required");
                };
                let id = state.id("int");
                state.integrations.push((id.clone(), name.to_owned()));
                state.writes += 1;
                ResponseTemplate::new(201).set_body_json(json!({ "id": id, "name": name }))
            }
            (
                _,
                [
                    "custom-integrations",
                    integration,
                    "custom-event-types",
                    rest @ ..,
                ],
            ) => {
                if state.integrations.iter().all(|(id, _)| id != integration) {
                    return problem(404, "no such integration");
                }
                state.event_types(method, integration, rest, body)
            }
            _ => problem(404, "no such resource"),
        }
    }
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:04}", self.next_id)
    }

    fn event_types(
        &mut self,
        method: &str,
        integration: &str,
        rest: &[&str],
        body: Value,
    ) -> ResponseTemplate {
        match (method, rest) {
            ("GET", []) => {
                let list: Vec<Value> = (self.types.iter())
                    .filter(|t| t.integration == integration)
                    .map(EventType::json)
                    .collect();
                ResponseTemplate::new(200).set_body_json(list)
            }
            ("POST", []) => match EventType::from_json(integration, &body) {
                Err(why) => problem(422, &why),
                Ok(_)
                    if self
                        .types
                        .iter()
                        .any(|t| Some(t.alias.as_str()) == body["alias"].as_str()) =>
                {
                    problem(409, "an event type with this alias exists")
                }
                Ok(mut created) => {
                    created.id = self.id("evt");
                    let answer = created.json();
                    self.types.push(created);
                    self.writes += 1;
                    ResponseTemplate::new(201).set_body_json(answer)
                }
            },
            (_, [id]) => {
                let Some(index) = self.types.iter().position(|t| t.id == *id) else {
                    return problem(404, "no such event type");
                };
                if method == "GET" {
                    return ResponseTemplate::new(200).set_body_json(self.types[index].json());
                }
                if method != "PATCH" {
                    return problem(404, "no such resource");
                }
                let mut merged = self.types[index].json();
                if let (Some(into), Some(from)) = (merged.as_object_mut(), body.as_object()) {
                    into.extend(from.clone());
                }
                match EventType::from_json(integration, &merged) {
                    Err(why) => problem(422, &why),
                    Ok(mut changed) => {
                        changed.id = (*id).to_owned();
                        let answer = changed.json();
                        self.types[index] = changed;
                        self.writes += 1;
                        ResponseTemplate::new(200).set_body_json(answer)
                    }
                }
            }
            _ => problem(404, "no such resource"),
        }
    }

    fn arrive(&mut self, alias: &str, context: &str, body: Value) -> ResponseTemplate {
        let found = (self.types.iter()).find(|t| t.alias == alias && t.receive_type == context);
        let (status, detail) = match found {
            None => (
                404,
                format!("no {context} reception event with alias {alias}"),
            ),
            Some(t) => match violation(&t.fields, &body) {
                Some(why) => (422, why),
                None => (201, String::new()),
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
            problem(status, &detail)
        }
    }
}

impl EventType {
    fn json(&self) -> Value {
        let fields: Vec<Value> = (self.fields.iter())
            .map(|f| json!({ "id": f.id, "type": f.kind, "required": f.required, "primaryKey": f.primary_key }))
            .collect();
        json!({
            "id": self.id, "name": self.name, "alias": self.alias, "category": "receive",
            "receiveType": self.receive_type, "fields": fields,
        })
    }

    /// An event type as the documentation describes it, or why Connectif would refuse it.
    fn from_json(integration: &str, body: &Value) -> Result<EventType, String> {
        if body["category"] != "receive" {
            return Err("category must be receive".into());
        }
        let alias = (body["alias"].as_str())
            .filter(|a| !a.is_empty())
            .ok_or("alias is required when category is receive")?;
        let receive_type = (body["receiveType"].as_str())
            .filter(|r| ["webhook", "api"].contains(r))
            .ok_or("receiveType must be webhook or api")?;
        let mut fields: Vec<Field> = Vec::new();
        for f in body["fields"].as_array().ok_or("fields must be a list")? {
            let id = f["id"]
                .as_str()
                .filter(|i| !i.is_empty())
                .ok_or("a field needs an id")?;
            let kind = (f["type"].as_str())
                .filter(|t| ["text", "email", "number", "integer", "boolean", "date"].contains(t))
                .ok_or_else(|| format!("field {id}: unknown type"))?;
            if fields.iter().any(|g| g.id == id) {
                return Err(format!("field {id} is defined twice"));
            }
            fields.push(Field {
                id: id.to_owned(),
                kind: kind.to_owned(),
                required: f["required"]
                    .as_bool()
                    .ok_or_else(|| format!("field {id}: required must be a boolean"))?,
                primary_key: f["primaryKey"].as_bool().unwrap_or(false),
            });
        }
        let keys: Vec<&Field> = fields.iter().filter(|f| f.primary_key).collect();
        if keys.len() != 1 || keys[0].kind != "email" {
            return Err("exactly one primary key field, of type email, is required".into());
        }
        Ok(EventType {
            id: String::new(),
            integration: integration.to_owned(),
            alias: alias.to_owned(),
            receive_type: receive_type.to_owned(),
            name: body["name"].as_str().unwrap_or(alias).to_owned(),
            fields,
        })
    }
}

/// Why `body` is refused by an event type of `fields`, as Connectif's Public API refuses
/// it (422), or `None`.
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
            "text" | "date" => value.is_string(),
            "email" => value.as_str().is_some_and(|t| {
                let (user, domain) = t.split_once('@').unwrap_or_default();
                !user.is_empty() && domain.contains('.') && !t.contains(char::is_whitespace)
            }),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            _ => false,
        };
        if !admitted {
            return Some(format!("field {} is not of type {}", field.id, field.kind));
        }
    }
    None
}
