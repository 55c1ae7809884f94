//! The AWS SDK configuration of a function, from the variables Lambda sets.
//!
//! Lambda gives every function its region and its role's credentials as environment
//! variables for the life of the execution environment, so the functions read exactly those
//! and nothing else: no profile files, SSO, STS web identity or instance metadata (that is
//! aws-config's chain, which the operator's console keeps). It saves a cold start the work,
//! and the binaries the code. `AWS_ENDPOINT_URL` is honoured, for local runs against
//! `moto_server`.

use super::ConfigError;
use crate::aws::{SetupError, SignedSend};
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use secrecy::{ExposeSecret, SecretString};

/// What Lambda's environment says about AWS (credentials never printed).
#[derive(Debug, Clone, Default)]
pub struct AwsEnvironment {
    /// `AWS_REGION`.
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<SecretString>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<SecretString>,
    /// `AWS_SESSION_TOKEN` (a role's temporary credentials have one).
    pub session_token: Option<SecretString>,
    /// `AWS_ENDPOINT_URL`: one endpoint for every AWS service (local runs, tests).
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_DYNAMODB`:
    /// one service's endpoint (the SDK's own names), before `AWS_ENDPOINT_URL`.
    pub service_endpoints: ServiceEndpoints,
}

/// The services whose own endpoint variable is read (`AWS_ENDPOINT_URL_<id>`).
const SERVICES: [&str; 3] = ["SQS", "SECRETS_MANAGER", "DYNAMODB"];

/// Per-service endpoints, handed to the SDK as aws-config hands over its environment: each
/// client asks for `AWS_ENDPOINT_URL` of its service id (`SQS`, `Secrets Manager`, ...).
#[derive(Debug, Clone, Default)]
pub struct ServiceEndpoints(Vec<(&'static str, String)>);

impl ServiceEndpoints {
    /// The endpoint set for `service` (`SQS`, `Secrets Manager`, `DynamoDB`), if any.
    pub fn of(&self, service: &str) -> Option<&str> {
        let id = service.to_uppercase().replace(' ', "_");
        self.0
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, url)| url.as_str())
    }
}

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        (key.env() == "AWS_ENDPOINT_URL")
            .then(|| self.of(key.service_id()))
            .flatten()
            .map(str::to_owned)
    }
}

impl AwsEnvironment {
    pub(super) fn from_lookup(text: impl Fn(&str) -> Option<String>) -> Self {
        let secret = |name| text(name).map(SecretString::from);
        AwsEnvironment {
            region: text("AWS_REGION"),
            access_key_id: secret("AWS_ACCESS_KEY_ID"),
            secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
            session_token: secret("AWS_SESSION_TOKEN"),
            endpoint_url: text("AWS_ENDPOINT_URL"),
            service_endpoints: ServiceEndpoints(
                SERVICES
                    .iter()
                    .filter_map(|s| Some((*s, text(&format!("AWS_ENDPOINT_URL_{s}"))?)))
                    .collect(),
            ),
        }
    }

    /// The region and the role's credentials. Fails naming the first variable missing.
    pub(crate) fn region_and_credentials(&self) -> Result<(String, Credentials), ConfigError> {
        let missing = |variable| ConfigError {
            variable,
            problem: "must be set (Lambda sets it)".into(),
        };
        let region = self.region.clone().ok_or(missing("AWS_REGION"))?;
        let key_id = self
            .access_key_id
            .as_ref()
            .ok_or(missing("AWS_ACCESS_KEY_ID"))?;
        let secret = self
            .secret_access_key
            .as_ref()
            .ok_or(missing("AWS_SECRET_ACCESS_KEY"))?;
        let credentials = Credentials::new(
            key_id.expose_secret(),
            secret.expose_secret(),
            self.session_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            None,
            "lambda-environment",
        );
        Ok((region, credentials))
    }

    /// The webhooks' own SQS sender, from Lambda's region, credentials and endpoint.
    pub fn signed_send(&self) -> Result<SignedSend, ConfigError> {
        self.signed_send_over(http_client()?)
    }

    /// [`AwsEnvironment::signed_send`] over `http`, whose connections it shares.
    pub fn signed_send_over(&self, http: reqwest::Client) -> Result<SignedSend, ConfigError> {
        let (region, credentials) = self.region_and_credentials()?;
        let endpoint = self.endpoint_of("SQS").map(str::to_owned);
        let endpoint_set = endpoint.is_some();
        let credentials = SharedCredentialsProvider::new(credentials);
        SignedSend::new(region, credentials, endpoint, http).map_err(|e| ConfigError {
            variable: match e {
                SetupError::Url(_) | SetupError::Endpoint(_) if endpoint_set => "AWS_ENDPOINT_URL",
                _ => "AWS_REGION",
            },
            problem: e.to_string(),
        })
    }

    /// The SDK configuration, with the bridge's HTTP client (one TLS stack, compiled-in
    /// roots). Fails naming the first variable that is missing.
    pub fn sdk_config(&self) -> Result<aws_types::SdkConfig, ConfigError> {
        self.sdk_config_over(http_client()?)
    }

    /// The endpoint `service` is called at: its own, else the one for every service.
    pub fn endpoint_of(&self, service: &str) -> Option<&str> {
        self.service_endpoints
            .of(service)
            .or(self.endpoint_url.as_deref())
    }

    /// [`AwsEnvironment::sdk_config`] over `http`, whose connections it shares.
    pub fn sdk_config_over(
        &self,
        http: reqwest::Client,
    ) -> Result<aws_types::SdkConfig, ConfigError> {
        let (region, credentials) = self.region_and_credentials()?;
        let http = crate::aws::connector::client_with(http);
        let mut config = aws_types::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(http);
        if let Some(url) = &self.endpoint_url {
            config = config.endpoint_url(url);
        }
        if !self.service_endpoints.0.is_empty() {
            config = config.service_config(self.service_endpoints.clone());
        }
        Ok(config.build())
    }
}

/// A client for AWS calls ([`crate::aws::connector::aws_http`], the SDK's connect timeout).
pub(super) fn http_client() -> Result<reqwest::Client, ConfigError> {
    use crate::aws::connector::{CONNECT_TIMEOUT, aws_http};
    aws_http(CONNECT_TIMEOUT).map_err(|e| ConfigError {
        variable: "the HTTP client for AWS (no variable: its TLS setup)",
        problem: format!("cannot be built: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> AwsEnvironment {
        AwsEnvironment::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_first_missing_variable_is_named() {
        let e = env(&[("AWS_REGION", "eu-west-1")]).sdk_config();
        assert_eq!(e.err().map(|e| e.variable), Some("AWS_ACCESS_KEY_ID"));
        let e = env(&[]).sdk_config();
        assert_eq!(e.err().map(|e| e.variable), Some("AWS_REGION"));
    }

    #[tokio::test]
    async fn secrets_manager_is_found_in_its_region_or_at_the_endpoint_set() {
        let found = |aws: AwsEnvironment| async move {
            let endpoint = aws.endpoint_of("Secrets Manager").map(str::to_owned);
            let url = crate::aws::secrets::endpoint("eu-south-1", endpoint).await;
            url.map(|u| u.to_string())
        };
        let expected = "https://secretsmanager.eu-south-1.amazonaws.com/";
        assert_eq!(
            found(AwsEnvironment::default()).await.as_deref(),
            Some(expected)
        );
        let one = env(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
        assert_eq!(found(one).await.as_deref(), Some("http://127.0.0.1:5000/"));
        let own = env(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5002"),
        ]);
        assert_eq!(found(own).await.as_deref(), Some("http://127.0.0.1:5002/"));
    }

    #[test]
    fn credentials_are_never_printed() {
        let aws = env(&[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret"),
            ("AWS_SESSION_TOKEN", "token-secret"),
        ]);
        let printed = format!("{aws:?}");
        for value in ["AKIDEXAMPLE", "very-secret", "token-secret"] {
            assert!(!printed.contains(value), "{printed}");
        }
        let sdk = aws.sdk_config().expect("complete");
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }
}
