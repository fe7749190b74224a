//! A chain of providers tried in order; when all fail, the error lists each one's reason.

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use tracing::debug;

use crate::Error;

/// Tries each provider in order and returns the first credentials. Unlike aws-config's default
/// chain it moves on after *any* failure, and reports all of them
/// ([`Error::ChainExhausted`]).
#[derive(Debug, Clone, Default)]
pub struct ChainProvider {
    providers: Vec<(String, SharedCredentialsProvider)>,
}

impl ChainProvider {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a named provider.
    pub fn or_else(
        mut self,
        name: impl Into<String>,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.providers
            .push((name.into(), SharedCredentialsProvider::new(provider)));
        self
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|(n, _)| n.as_str())
    }
}

fn describe(error: &CredentialsError) -> String {
    let mut text = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    if text.is_empty() {
        error.to_string()
    } else {
        text
    }
}

impl ProvideCredentials for ChainProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let mut failures = Vec::new();
            for (name, provider) in &self.providers {
                match provider.provide_credentials().await {
                    Ok(creds) => {
                        debug!(provider = %name, "credentials from chain");
                        return Ok(creds);
                    }
                    Err(e) => {
                        debug!(provider = %name, reason = %describe(&e), "chain provider failed");
                        failures.push((name.clone(), describe(&e)));
                    }
                }
            }
            Err(CredentialsError::not_loaded(Error::ChainExhausted {
                failures,
            }))
        })
    }
}
