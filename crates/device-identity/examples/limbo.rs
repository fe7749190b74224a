//! An x509-limbo harness for edgeward's validator.
//!
//! ```sh
//! cargo run -p edgeward-device-identity --example limbo < limbo.json > results.json
//! ```
//!
//! Input: `{"version":1,"testcases":[…]}` as in C2SP/x509-limbo's `limbo-schema.json`, plus the
//! optional `crls` (PEM strings) of newer limbo versions. Output:
//! `{"version":1,"harness":"edgeward","results":[{"id","actual_result","context"}]}`.
//!
//! SERVER cases validate the peer certificate for `expected_peer_name` with serverAuth, CLIENT
//! cases with clientAuth (or the purpose `extended_key_usage` names). `validation_time`,
//! `max_chain_depth` (the number of intermediates allowed), `extended_key_usage` and `crls` are
//! honoured. SKIPPED is reserved for what edgeward deliberately does not support: certificate
//! policies, DN name constraints, RFC 822 peer names, key-usage / signature-algorithm constraint
//! lists and EKUs other than serverAuth/clientAuth; `context` says which. Failures carry the
//! refused certificate and the rule in `context`, prefixed by the rule code in brackets.

use std::io::Read;

use edgeward_device_identity::{
    parse_certificates, parse_crls, DevicePolicy, Error, ExtendedKeyUsageRule, Purpose, Validator,
};
use rustls_pki_types::{ServerName, UnixTime};
use serde_json::{json, Value};

/// Features we deliberately do not implement, and why.
const UNSUPPORTED_FEATURES: &[(&str, &str)] = &[
    (
        "has-policy-constraints",
        "certificate policies are not evaluated",
    ),
    (
        "has-cert-policies",
        "certificate policies are not evaluated",
    ),
    ("no-cert-policies", "certificate policies are not evaluated"),
    (
        "name-constraint-dn",
        "directory-name constraints are not evaluated (rustls-webpki)",
    ),
    (
        "pedantic-public-suffix-wildcard",
        "the public suffix list is not consulted",
    ),
];

/// Runs every testcase of a limbo document and returns the results document.
pub(crate) fn run_harness(limbo: &Value) -> Value {
    let testcases = limbo["testcases"].as_array().cloned().unwrap_or_default();
    let results: Vec<Value> = testcases.iter().map(evaluate).collect();
    json!({ "version": 1, "harness": "edgeward", "results": results })
}

fn result(id: &Value, actual: &str, context: impl Into<String>) -> Value {
    json!({ "id": id, "actual_result": actual, "context": context.into() })
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn evaluate(case: &Value) -> Value {
    let id = &case["id"];
    if let Some(skip) = skip_reason(case) {
        return result(id, "SKIPPED", skip);
    }
    match validate(case) {
        Ok(context) => result(id, "SUCCESS", context),
        Err(context) => result(id, "FAILURE", context),
    }
}

fn skip_reason(case: &Value) -> Option<String> {
    for feature in strings(&case["features"]) {
        if let Some((_, why)) = UNSUPPORTED_FEATURES.iter().find(|(f, _)| *f == feature) {
            return Some(format!("feature {feature}: {why}"));
        }
    }
    if !strings(&case["key_usage"]).is_empty() {
        return Some("key_usage constraint lists are not supported".into());
    }
    if !strings(&case["signature_algorithms"]).is_empty() {
        return Some("signature_algorithms constraint lists are not supported".into());
    }
    for eku in strings(&case["extended_key_usage"]) {
        if eku != "serverAuth" && eku != "clientAuth" {
            return Some(format!("extended key usage {eku} is not supported"));
        }
    }
    if case["expected_peer_name"]["kind"].as_str() == Some("RFC822") {
        return Some("RFC 822 peer names are not supported".into());
    }
    None
}

fn describe(error: &Error) -> String {
    match error.rule() {
        Some(rule) => format!("[{}] {error}", rule.code()),
        None => error.to_string(),
    }
}

fn validate(case: &Value) -> Result<String, String> {
    let server = case["validation_kind"].as_str() == Some("SERVER");
    let ekus = strings(&case["extended_key_usage"]);
    let purpose = match (ekus.as_slice(), server) {
        ([], true) => Purpose::ServerAuth,
        ([], false) => Purpose::ClientAuth,
        (list, _) if list.contains(&"serverAuth") && server => Purpose::ServerAuth,
        (list, _) if list.contains(&"clientAuth") => Purpose::ClientAuth,
        _ => Purpose::ServerAuth,
    };
    let mut policy =
        DevicePolicy::device().with_extended_key_usage(ExtendedKeyUsageRule::Required(purpose));
    if let Some(depth) = case["max_chain_depth"].as_u64() {
        policy = policy.with_max_intermediates(usize::try_from(depth).unwrap_or(usize::MAX));
    }

    let mut roots = Vec::new();
    for pem in strings(&case["trusted_certs"]) {
        roots
            .extend(parse_certificates(pem.as_bytes(), "trusted_certs").map_err(|e| describe(&e))?);
    }
    let mut intermediates = Vec::new();
    for pem in strings(&case["untrusted_intermediates"]) {
        intermediates.extend(
            parse_certificates(pem.as_bytes(), "untrusted_intermediates")
                .map_err(|e| describe(&e))?,
        );
    }
    let peer = case["peer_certificate"].as_str().unwrap_or_default();
    let leaf = parse_certificates(peer.as_bytes(), "peer_certificate")
        .map_err(|e| describe(&e))?
        .into_iter()
        .next()
        .ok_or("no peer certificate")?;
    let mut crls = Vec::new();
    for pem in strings(&case["crls"]) {
        crls.extend(parse_crls(pem.as_bytes()).map_err(|e| describe(&e))?);
    }

    let at = match case["validation_time"].as_str() {
        Some(text) => {
            let t =
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| format!("validation_time {text:?}: {e}"))?;
            let secs =
                u64::try_from(t.unix_timestamp()).map_err(|_| "validation_time before 1970")?;
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs))
        }
        None => UnixTime::now(),
    };

    let validator = Validator::new(&roots, policy)
        .and_then(|v| v.with_crls(&crls))
        .map_err(|e| describe(&e))?;
    let name = if server {
        case["expected_peer_name"]["value"].as_str()
    } else {
        None
    };
    let outcome = match name {
        Some(name) => {
            let name = ServerName::try_from(name)
                .map_err(|e| format!("expected_peer_name {name:?}: {e}"))?;
            validator.validate_for_name(&leaf, &intermediates, &name, at)
        }
        None => validator.validate(&leaf, &intermediates, at),
    };
    match outcome {
        Ok(identity) => Ok(format!(
            "valid, path of {} certificates",
            identity.path().len()
        )),
        Err(e) => Err(describe(&e)),
    }
}

#[allow(dead_code)] // Also compiled into the corpus test, which calls run_harness directly.
fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("reading stdin: {e}");
        std::process::exit(2);
    }
    let limbo: Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("stdin is not JSON: {e}");
            std::process::exit(2);
        }
    };
    if limbo["version"].as_u64() != Some(1) {
        eprintln!("unsupported limbo version {}", limbo["version"]);
        std::process::exit(2);
    }
    println!("{}", run_harness(&limbo));
}
