//! moto's IAM: a role's temporary credentials (what Lambda gives a function) and moto's
//! signature and policy check, switched on and off.

use crate::Moto;

impl Moto {
    /// One POST to moto on loopback; the answer's status and body.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let http = bridge_core::http::tls::client_builder()
            .build()
            .expect("client");
        let mut request = http
            .post(format!("{}{path}", self.endpoint))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await.expect("moto reachable");
        let status = answer.status().as_u16();
        (status, answer.text().await.expect("answer"))
    }

    /// A query-protocol call (IAM, STS) while moto checks no signature: the credential scope
    /// only routes it to `service`.
    pub async fn query(&self, service: &str, params: &[(&str, &str)]) -> String {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let form: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let headers = [
            ("Authorization", authorization.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        let (status, body) = self.post("/", &headers, &form.join("&")).await;
        assert_eq!(status, 200, "{service} {params:?}: {body}");
        body
    }

    /// A new role allowed exactly `policy`, and its temporary credentials from
    /// `AssumeRole`, as Lambda hands a function its role's: (key id, secret, session token).
    pub async fn role_credentials(&self, name: &str, policy: &serde_json::Value) -> [String; 3] {
        let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let iam = |action| {
            [
                ("Action", action),
                ("Version", "2010-05-08"),
                ("RoleName", name),
            ]
        };
        let trust = trust.to_string();
        let mut create = iam("CreateRole").to_vec();
        create.push(("AssumeRolePolicyDocument", &trust));
        self.query("iam", &create).await;
        let policy = policy.to_string();
        let mut put = iam("PutRolePolicy").to_vec();
        put.extend([
            ("PolicyName", "least-privilege"),
            ("PolicyDocument", &policy),
        ]);
        self.query("iam", &put).await;
        let arn = format!("arn:aws:iam::123456789012:role/{name}");
        let assumed = self
            .query(
                "sts",
                &[
                    ("Action", "AssumeRole"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", &arn),
                    ("RoleSessionName", "function"),
                ],
            )
            .await;
        ["AccessKeyId", "SecretAccessKey", "SessionToken"].map(|tag| xml_text(&assumed, tag))
    }

    /// From now on (`true`) moto checks every request's signature and its caller's IAM
    /// policy, as AWS does; `false` stops checking.
    pub async fn check_signatures(&self, on: bool) {
        let count = if on { "0" } else { "inf" };
        let headers = [("Content-Type", "application/json")];
        let (status, body) = self.post("/moto-api/reset-auth", &headers, count).await;
        assert_eq!(status, 200, "reset-auth: {body}");
    }
}

fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len());
    let end = start.and_then(|s| xml[s..].find(&format!("</{tag}>")).map(|e| s + e));
    match (start, end) {
        (Some(s), Some(e)) => xml[s..e].to_owned(),
        _ => panic!("no <{tag}> in {xml}"),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
