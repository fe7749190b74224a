//! The container and IoT credentials documents.
//!
//! Provenance: the IoT document shape is the one documented in the AWS IoT developer guide
//! ("Authorizing direct calls to AWS services using AWS IoT Core credential provider"); the
//! container document is the one in the ECS developer guide ("Task IAM role"), with the
//! example keys AWS uses in its documentation. The IoT guide's token placeholder
//! (`<remainder of session token>`, with spaces) is replaced by a space-free placeholder: real
//! tokens are printable ASCII without spaces and the parser insists on that.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, UNIX_EPOCH};

use edgeward_sts_credentials::{parse_container_credentials, parse_iot_credentials, Error};
use proptest::prelude::*;

#[test]
fn iot_document_from_the_aws_docs_parses() {
    let body = br#"{"credentials":{"accessKeyId":"ASIAIOSFODNN7EXAMPLE","secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","sessionToken":"AQoDYXdzEJr...remainder-of-session-token","expiration":"2018-01-18T09:18:06Z"}}"#;
    let creds = parse_iot_credentials(body).unwrap();
    assert_eq!(creds.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
    assert_eq!(
        creds.secret_access_key(),
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    // 2018-01-18T09:18:06Z = 1516267086 (date -d 2018-01-18T09:18:06Z +%s).
    assert_eq!(
        creds.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_516_267_086))
    );
}

#[test]
fn container_document_from_the_aws_docs_parses() {
    let body = br#"{
        "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "Expiration": "2026-11-29T18:00:00Z",
        "RoleArn": "arn:aws:iam::123456789012:role/task",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Token": "IQoJb3JpZ2luX2VjEXAMPLE"
    }"#;
    let creds = parse_container_credentials(body).unwrap();
    assert_eq!(creds.session_token(), Some("IQoJb3JpZ2luX2VjEXAMPLE"));
    // date -d 2026-11-29T18:00:00Z +%s = 1795975200
    assert_eq!(
        creds.expiry(),
        Some(UNIX_EPOCH + Duration::from_secs(1_795_975_200))
    );
}

#[test]
fn incomplete_or_odd_documents_are_malformed() {
    for body in [
        &b""[..],
        b"null",
        b"{}",
        b"<html></html>",
        br#"{"credentials":{}}"#,
        br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"B","sessionToken":"C"}}"#,
        br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"B","sessionToken":"C","expiration":"tomorrow"}}"#,
        br#"{"credentials":{"accessKeyId":"","secretAccessKey":"B","sessionToken":"C","expiration":"2018-01-18T09:18:06Z"}}"#,
        br#"{"credentials":{"accessKeyId":"A B","secretAccessKey":"B","sessionToken":"C","expiration":"2018-01-18T09:18:06Z"}}"#,
    ] {
        assert!(
            matches!(parse_iot_credentials(body), Err(Error::MalformedResponse { .. })),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(parse_container_credentials(
        br#"{"AccessKeyId":"A","SecretAccessKey":"B","Token":"C"}"#
    )
    .is_err());
}

#[test]
fn errors_never_echo_the_secret() {
    let body = br#"{"credentials":{"accessKeyId":"A","secretAccessKey":"TOP SECRET","sessionToken":"C","expiration":"2018-01-18T09:18:06Z"}}"#;
    let error = parse_iot_credentials(body).unwrap_err();
    assert!(!error.to_string().contains("TOP SECRET"));
}

proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_iot_credentials(&bytes);
        let _ = parse_container_credentials(&bytes);
    }

    #[test]
    fn well_formed_documents_round_trip(akid in "[A-Z0-9]{16,32}", secret in "[A-Za-z0-9/+]{40}", token in "[A-Za-z0-9/+=]{1,500}", secs in 0i64..4_000_000_000) {
        let expiration = time::OffsetDateTime::from_unix_timestamp(secs).unwrap()
            .format(&time::format_description::well_known::Rfc3339).unwrap();
        let body = serde_json::json!({"credentials": {"accessKeyId": akid, "secretAccessKey": secret, "sessionToken": token, "expiration": expiration}});
        let creds = parse_iot_credentials(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(creds.access_key_id(), akid.as_str());
        prop_assert_eq!(creds.secret_access_key(), secret.as_str());
        prop_assert_eq!(creds.session_token(), Some(token.as_str()));
        prop_assert_eq!(creds.expiry(), Some(UNIX_EPOCH + Duration::from_secs(secs as u64)));
    }
}

fn container_doc(access_key_id: &str, secret: &str, token: &str, account: Option<&str>) -> Vec<u8> {
    let account = account.map_or(String::new(), |a| format!(r#","AccountId":"{a}""#));
    format!(
        r#"{{"AccessKeyId":"{access_key_id}","SecretAccessKey":"{secret}","Token":"{token}","Expiration":"2026-11-29T18:00:00Z"{account}}}"#
    )
    .into_bytes()
}

/// Each field is read up to its documented bound (access key ID and secret 128 bytes, session
/// token 16 KiB) and refused one byte beyond it, naming the field.
#[test]
fn field_lengths_are_bounded_exactly() {
    let (key, secret, token) = ("ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "IQoJb3JpZ2lu");
    for (field, max) in [
        ("access key ID", 128),
        ("secret access key", 128),
        ("session token", 16 * 1024),
    ] {
        for (len, ok) in [(max, true), (max + 1, false)] {
            let long = "A".repeat(len);
            let body = match field {
                "access key ID" => container_doc(&long, secret, token, None),
                "secret access key" => container_doc(key, &long, token, None),
                _ => container_doc(key, secret, &long, None),
            };
            match (parse_container_credentials(&body), ok) {
                (Ok(_), true) => {}
                (Err(Error::MalformedResponse { reason }), false) => {
                    assert_eq!(reason, format!("{field} is longer than {max} bytes"));
                }
                (other, _) => panic!("{field} of {len} bytes: {other:?}"),
            }
        }
    }
}

/// `AccountId` is optional and taken only when it looks like an account: 1 to 32 digits (AWS
/// account IDs are 12). Anything else is ignored, not an error: the credentials still work.
#[test]
fn account_id_is_taken_only_when_it_is_digits() {
    let thirty_two = "1".repeat(32);
    let thirty_three = "1".repeat(33);
    for (account, taken) in [
        (Some("123456789012"), true),
        (Some(thirty_two.as_str()), true),
        (Some(thirty_three.as_str()), false),
        (Some("12345678901a"), false),
        (Some(""), false),
        (None, false),
    ] {
        let body = container_doc(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI",
            "IQoJb3JpZ2lu",
            account,
        );
        let creds = parse_container_credentials(&body).unwrap();
        let expected = if taken { account } else { None };
        assert_eq!(
            creds.account_id().map(|a| a.as_str()),
            expected,
            "{account:?}"
        );
    }
}
