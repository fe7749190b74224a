//! The crate's one error type.

use std::path::PathBuf;
use std::time::Duration;

use crate::evaluate::Verdict;
use crate::hello::HelloError;

/// Everything that can go wrong in this crate.
///
/// Input faults (a policy file, a peer) are separate from caller misuse (asking rustls to
/// enforce what it cannot).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input: the policy file is not valid TOML/JSON for a policy.
    #[error("policy {origin} is not valid {format}: {message}")]
    PolicySyntax {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// Where the text came from (a path or `<string>`).
        origin: String,
        /// The parser's message (with line and column where it has them).
        message: String,
    },
    /// Input: a field of the policy holds a value the policy cannot have.
    #[error("policy {policy:?}: {field}: {reason}")]
    InvalidPolicy {
        /// The policy's name (empty when unnamed).
        policy: String,
        /// The field, e.g. `cipher_suites[2]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Input: a policy file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    ReadPolicy {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Caller: no built-in policy has this name.
    #[error("no built-in policy named {name:?} (known: {})", known.join(", "))]
    UnknownPolicy {
        /// The name asked for.
        name: String,
        /// The built-in names.
        known: Vec<&'static str>,
    },
    /// Caller: the policy is for evaluation and audit only; rustls cannot enforce these parts.
    #[error("policy {policy:?} cannot be enforced by rustls (evaluate/audit only): {}", parts.join("; "))]
    Unenforceable {
        /// The policy's name.
        policy: String,
        /// One sentence per part rustls cannot enforce.
        parts: Vec<String>,
    },
    /// Caller: rustls refused to build a config from otherwise valid parts.
    #[error("rustls refused the configuration: {0}")]
    Config(#[source] rustls::Error),
    /// Peer: the first bytes were not a TLS ClientHello we could read.
    #[error("malformed ClientHello: {0}")]
    MalformedHello(#[from] HelloError),
    /// Peer: the ClientHello (or the finished connection) does not comply with the policy.
    #[error("refused by policy: {0}")]
    Refused(Verdict),
    /// Peer: the handshake did not finish in time.
    #[error("TLS handshake did not finish within {0:?}")]
    HandshakeTimeout(Duration),
    /// Peer or network: the TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    Handshake(#[source] std::io::Error),
    /// Network: reading or writing the connection failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The policy verdict, when the error is a refusal by policy.
    pub fn verdict(&self) -> Option<&Verdict> {
        match self {
            Self::Refused(v) => Some(v),
            _ => None,
        }
    }
}
