//! The AWS and HTTP clients of `check` (and its `--send` and the health steps it shares):
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
