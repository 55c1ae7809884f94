//! The AWS and HTTP clients of `check` and `setup` (and the health steps they share):
//! a room of their own, so the steps that use them import them from below.

use bridge_core::qapla::api::QaplaApi;

/// The AWS and HTTP clients a check uses.
pub struct Clients {
    pub http: reqwest::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub apis: aws_sdk_apigatewayv2::Client,
    pub alarms: aws_sdk_cloudwatch::Client,
    pub qapla: QaplaApi,
}

impl Clients {
    /// Every client, on `aws`'s region and credentials; HTTP with the bridge's TLS setup.
    pub fn new(aws: &aws_config::SdkConfig) -> Result<Clients, String> {
        let http = bridge_core::http::tls::client_builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| bridge_core::telemetry::error_chain(&e))?;
        Ok(Clients {
            http: http.clone(),
            dynamo: aws_sdk_dynamodb::Client::new(aws),
            secrets: aws_sdk_secretsmanager::Client::new(aws),
            sqs: aws_sdk_sqs::Client::new(aws),
            apis: aws_sdk_apigatewayv2::Client::new(aws),
            alarms: aws_sdk_cloudwatch::Client::new(aws),
            qapla: QaplaApi::new(http),
        })
    }
}
