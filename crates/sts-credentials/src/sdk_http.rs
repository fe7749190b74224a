//! Our bounded hyper client as an aws-smithy `HttpClient`, so aws-sdk-sts runs on the same
//! HTTP and TLS stack (rustls + aws-lc-rs) as every other provider here.

use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body_util::Full;
use rustls::ClientConfig;

use crate::http::{send, HttpLimits};
use crate::{Error, ErrorClass};

/// An aws-smithy HTTP client over [`crate::HttpLimits`]-bounded hyper connections.
#[derive(Debug, Clone)]
pub(crate) struct SdkHttpClient {
    pub(crate) tls: Option<Arc<ClientConfig>>,
    pub(crate) limits: HttpLimits,
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let mut limits = self.limits;
        if let Some(connect) = settings.connect_timeout() {
            limits.connect_timeout = limits.connect_timeout.min(connect);
        }
        if let Some(read) = settings.read_timeout() {
            limits.response_timeout = limits.response_timeout.min(read);
        }
        SharedHttpConnector::new(SdkHttpClient {
            tls: self.tls.clone(),
            limits,
        })
    }
}

impl HttpConnector for SdkHttpClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
            let (parts, body) = request.into_parts();
            let bytes = body.bytes().map(Bytes::copy_from_slice).ok_or_else(|| {
                ConnectorError::other("streaming request bodies are not supported".into(), None)
            })?;
            let request = http::Request::from_parts(parts, Full::new(bytes));
            let response = send(request, this.tls.as_ref(), this.limits)
                .await
                .map_err(|e| match e.class() {
                    ErrorClass::Connection if matches!(e, Error::Timeout { .. }) => {
                        ConnectorError::timeout(Box::new(e))
                    }
                    ErrorClass::Connection => ConnectorError::io(Box::new(e)),
                    _ => ConnectorError::other(Box::new(e), None),
                })?;
            let (parts, body) = response.into_parts();
            let response = http::Response::from_parts(parts, SdkBody::from(body));
            aws_smithy_runtime_api::http::Response::try_from(response)
                .map_err(|e| ConnectorError::other(Box::new(e), None))
        })
    }
}
