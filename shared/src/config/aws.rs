//! The AWS SDK configuration of a function, from the variables Lambda sets.
//!
//! Lambda gives every function its region and its role's credentials as environment
//! variables for the life of the execution environment, so the functions read exactly those
//! and nothing else: no profile files, SSO, STS web identity or instance metadata (that is
//! aws-config's chain, which the operator's console keeps). It saves a cold start the work,
//! and the binaries the code. `AWS_ENDPOINT_URL` is honoured, for local runs against
//! `moto_server`.

use super::ConfigError;
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
        let secret = (self.secret_access_key.as_ref()).ok_or(missing("AWS_SECRET_ACCESS_KEY"))?;
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

    /// The SDK configuration, with the bridge's HTTP client (one TLS stack, compiled-in
    /// roots). Fails naming the first variable that is missing.
    pub fn sdk_config(&self) -> Result<aws_types::SdkConfig, ConfigError> {
        let (region, credentials) = self.region_and_credentials()?;
        let http = crate::http::sdk::client(crate::http::sdk::CONNECT_TIMEOUT).map_err(|e| {
            ConfigError {
                variable: "AWS_REGION",
                problem: format!("cannot build the HTTP client: {e}"),
            }
        })?;
        let mut config = aws_types::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .http_client(http);
        if let Some(url) = &self.endpoint_url {
            config = config.endpoint_url(url);
        }
        Ok(config.build())
    }
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
