//! TLS policies as data, enforced by rustls and explained when they refuse.
//!
//! A [`TlsPolicy`] names the protocol versions, cipher suites (by IANA code point), key-exchange
//! groups, signature schemes, session resumption and ALPN protocols a connection may use. It
//! loads from TOML or JSON with errors that name the field, or comes built in
//! ([`TlsPolicy::named`]: `intermediate`, the default; `modern`; the AWS IoT Core
//! `IoTSecurityPolicy_*` policies; `legacy-pfs`).
//!
//! What the crate does with a policy:
//!
//! - **Enforce** it: [`client_config`] and [`server_config`] build rustls 0.23 configs (aws-lc-rs
//!   provider) that offer and accept exactly what the policy allows. Policies that rustls cannot
//!   enforce exactly (TLS 1.0/1.1, CBC, static RSA, DHE) are for evaluation and audit only;
//!   building a config from one is [`Error::Unenforceable`], naming each part.
//! - **Explain** it: [`ClientHelloReport`] parses a client's first flight (tls-parser) and
//!   [`TlsPolicy::evaluate`] returns a [`Verdict`] with every [`Reason`] ("offers only TLS 1.0
//!   and TLS 1.1", "no forward-secret suite offered: …"). [`PolicyAcceptor`] does this on a tokio
//!   stream before rustls sees it and refuses with the fitting alert.
//! - **Check** it after the fact: [`ConnectionReport`] and [`TlsPolicy::check`]; and
//!   [`TlsPolicy::evaluate_support`] for what a scanner found a server to accept.
//! - **Classify** suites: the [`registry`] of every suite OpenSSL 3 or tls-parser knows.
//!
//! Non-goals: no TLS implementation of its own (rustls does the handshake), no certificate
//! validation policy (the caller passes roots, resolvers and verifiers), no scanning.
//!
//! ```
//! use edgeward_tls_policy::{ClientHelloReport, TlsPolicy};
//!
//! let policy = TlsPolicy::named("intermediate")?;
//! assert!(policy.check_enforceable().is_ok());
//! assert!(TlsPolicy::named("legacy-pfs")?.check_enforceable().is_err());
//!
//! // Garbage is a clear error, never a panic.
//! let err = ClientHelloReport::parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err();
//! assert!(err.to_string().starts_with("not TLS"));
//!
//! let custom = TlsPolicy::from_toml_str(r#"
//!     name = "p256-only"
//!     versions = ["TLS1.3"]
//!     cipher_suites = ["TLS_AES_128_GCM_SHA256"]
//!     groups = ["P-256"]
//!     signature_schemes = ["ecdsa_secp256r1_sha256"]
//! "#)?;
//! assert_eq!(custom.groups()[0].to_string(), "P-256");
//! # Ok::<(), edgeward_tls_policy::Error>(())
//! ```
#![deny(missing_docs)]

mod accept;
pub mod audit;
mod builtin;
mod config;
mod error;
mod evaluate;
mod hello;
mod policy;
pub mod registry;
mod report;
mod version;

pub use accept::{
    alert_name, refusal_reason, AcceptSettings, Accepted, PeekedStream, PolicyAcceptor,
    PolicyConnector,
};
pub use builtin::{builtin, builtin_names};
pub use config::{client_config, server_config, ClientIdentity};
pub use error::Error;
pub use evaluate::{suite_weaknesses, Offer, Reason, Verdict};
pub use hello::{
    parse_client_hello, ClientHelloReport, HelloError, HelloProgress, DEFAULT_MAX_HELLO_LEN,
};
pub use policy::{PolicySpec, Resumption, TlsPolicy};
pub use registry::CipherSuiteInfo;
pub use report::ConnectionReport;
pub use version::{version_name, NamedGroup, ProtocolVersion, SignatureScheme};
