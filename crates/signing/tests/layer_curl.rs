//! curl's own SigV4 signer (`--aws-sigv4`: lib/http_aws_sigv4.c, a C implementation apart from
//! botocore, aws-sigv4 and aws-c-auth, and the client many edge devices have) against the
//! layer on 127.0.0.1, over HTTP/1.1 and over HTTP/2 (h2c). Over HTTP/2 curl sends the host
//! as `:authority` and no `Host` header, so a signed `host` must come from the URI authority.
//!
//! The machine's curl (7.88 on Debian 12) has SigV4 limits that AWS refuses too: it signs the
//! query as given, not sorted (curl 8.x sorts it), and signs an empty payload for
//! `--upload-file`. The cases here stay inside what it signs right: an already canonical
//! query, bodies given with `--data-binary`.
#![allow(clippy::unwrap_used)]

mod support;

use edgeward_signing::LayerSettings;
use support::{
    crc32_base64, start_server_answering, Answers, CurlAnswer, AK, SK, TEMP_AK, TEMP_SK, TOKEN,
};

/// curl, signing for `service` as `user` (`AK:SK`), with `args`.
async fn curl(service: &str, user: &str, args: &[String]) -> CurlAnswer {
    let mut signed = vec![
        "--aws-sigv4".to_owned(),
        format!("aws:amz:us-east-1:{service}"),
        "--user".to_owned(),
        user.to_owned(),
    ];
    signed.extend_from_slice(args);
    support::curl(signed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_requests_through_the_layer() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let alice = format!("{AK}:{SK}");
    let object = "an object sent by curl\n".repeat(20);
    for (version, status_line) in [
        ("--http1.1", "HTTP/1.1 200"),
        ("--http2-prior-knowledge", "HTTP/2 200"),
    ] {
        let with = |args: &[&str]| -> Vec<String> {
            std::iter::once(version)
                .chain(args.iter().copied())
                .map(str::to_owned)
                .collect()
        };
        // STS, a form body.
        let url = format!("http://{addr}/");
        let sts = curl(
            "sts",
            &alice,
            &with(&[
                "--data",
                "Action=GetCallerIdentity&Version=2011-06-15",
                &url,
            ]),
        )
        .await;
        assert!(sts.head.starts_with(status_line), "{version}: {}", sts.head);
        assert!(
            sts.body
                .contains("<Arn>arn:aws:iam::123456789012:user/alice</Arn>"),
            "{}",
            sts.body
        );

        // S3: an upload, the CRC32 the server computed over what the layer handed on.
        let url = format!("http://{addr}/bucket/dir/curl%20object.txt");
        let put = curl(
            "s3",
            &alice,
            &with(&["--request", "PUT", "--data-binary", &object, &url]),
        )
        .await;
        assert!(put.head.starts_with(status_line), "{version}: {}", put.head);
        assert!(
            put.head.to_ascii_lowercase().contains(&format!(
                "x-amz-checksum-crc32: {}",
                crc32_base64(object.as_bytes()).to_ascii_lowercase()
            )),
            "{}",
            put.head
        );

        // A GET with a canonical query, with temporary credentials (curl 7.88 has no option
        // for the token: as a header it is signed like any other).
        let url = format!("http://{addr}/bucket/dir/curl%20object.txt?partNumber=1&versionId=2");
        let token = format!("x-amz-security-token: {TOKEN}");
        let get = curl(
            "s3",
            &format!("{TEMP_AK}:{TEMP_SK}"),
            &with(&["--header", &token, &url]),
        )
        .await;
        assert!(get.head.starts_with(status_line), "{version}: {}", get.head);
        assert_eq!(get.body, "ok arn:aws:sts::123456789012:assumed-role/r/s ");

        // A wrong secret.
        let refused = curl("s3", &format!("{AK}:not-the-secret"), &with(&[&url])).await;
        assert!(refused.head.contains(" 403"), "{version}: {}", refused.head);
        assert!(
            refused.body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{}",
            refused.body
        );
    }
}

/// Through a forward proxy curl sends the absolute form (`GET http://bucket.example/key`) with
/// a `Host` header for the same host, and signs that host. The layer here stands where the
/// proxy would: the target's authority and the signed `Host` agree, so the request verifies
/// (a target that named another host would be refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_a_proxy_sends_the_absolute_form() {
    let addr = start_server_answering(LayerSettings::default(), Answers::Echo).await;
    let args = [
        "--http1.1",
        "--proxy",
        &format!("http://{addr}"),
        "http://bucket.example/dir/key.txt",
    ]
    .map(str::to_owned);
    let answer = curl("s3", &format!("{AK}:{SK}"), &args).await;
    assert!(answer.head.starts_with("HTTP/1.1 200"), "{}", answer.head);
    assert_eq!(answer.body, "ok arn:aws:iam::123456789012:user/alice ");
}
