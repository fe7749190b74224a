//! The AWS CLI, v1 (the interop venv's: `python -m awscli`) and v2 (Debian's 2.9.19, with its
//! own copy of botocore: `EDGEWARD_AWS_CLI_V2`), against a hyper 1 server on 127.0.0.1 behind
//! `SigV4Layer`: STS, EC2, SQS and S3 calls each CLI signs its own way (its own copy of botocore, its own
//! headers, S3 checksums; over `https`, uploads streamed `aws-chunked` with a checksum trailer
//! by v1, sent unsigned with a `Content-MD5` by v2) are verified; the CLI parses our STS answer
//! and our errors; a URL from `aws s3 presign` verifies, and the same URL with another key does
//! not.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use bytes::Bytes;
use edgeward_signing::LayerSettings;
use http_body_util::Full;
use support::interop::{aws_cli_v2, interop_python};
use support::{
    content_md5_base64, crc32_base64, send_for_text, sha256_hex, start_server_answering,
    start_tls_server_answering, Answers, AK, SK, TEMP_AK, TEMP_SK, TOKEN,
};

/// Credentials for one CLI run.
struct Keys<'a> {
    access_key_id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

const ALICE: Keys<'static> = Keys {
    access_key_id: AK,
    secret: SK,
    token: None,
};

const WRONG_SECRET: Keys<'static> = Keys {
    secret: "not-the-secret",
    ..ALICE
};

/// An AWS CLI: each test runs both.
#[derive(Clone, Copy, Debug)]
enum Cli {
    /// The venv's (pinned in `xtask/requirements-interop.txt`): over HTTPS it streams an
    /// upload `aws-chunked` with a CRC32 trailer.
    V1,
    /// Debian's: it sends an upload over HTTPS as `UNSIGNED-PAYLOAD` with the `Content-MD5` it
    /// computed, as CLIs before v2.23 do.
    V2,
}

const CLIS: [Cli; 2] = [Cli::V1, Cli::V2];

impl Cli {
    fn command(self) -> Command {
        match self {
            Cli::V1 => {
                let mut command = Command::new(interop_python());
                command.args(["-m", "awscli"]);
                command
            }
            Cli::V2 => Command::new(aws_cli_v2()),
        }
    }
}

/// The layer with the answers the CLI parses, on plain HTTP: its endpoint URL.
async fn start_cli_server() -> String {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    format!("http://{addr}")
}

/// A scratch directory of this test binary's own, for the CLI's `HOME` and config and the
/// files it uploads and downloads. The config is written once per process and moved into place
/// whole: the tests run concurrently (in threads, or in processes under nextest), and a CLI
/// that read a half-written config would presign with SigV2.
fn scratch() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("layer_aws_cli");
        std::fs::create_dir_all(&dir).unwrap();
        // `aws s3 presign` signs with SigV2 unless told otherwise; nothing else is configured.
        let staged = dir.join(format!("config.{}", std::process::id()));
        std::fs::write(&staged, "[default]\ns3 =\n    signature_version = s3v4\n").unwrap();
        std::fs::rename(&staged, dir.join("config")).unwrap();
        dir
    })
    .clone()
}

/// Runs `aws <args> --endpoint-url <endpoint>` with `cli` and only `keys` in its
/// environment: no profile, no credentials file, no instance metadata, no retries; the config
/// file only asks for SigV4 presigned URLs.
async fn aws(cli: Cli, endpoint: &str, keys: &Keys<'_>, args: &[&str]) -> Output {
    let mut command = cli.command();
    let home = scratch();
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        // v2 pipes its output through a pager unless told not to.
        .env("AWS_PAGER", "")
        // A refusal is final; retrying it would only slow the test.
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ACCESS_KEY_ID", keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", keys.secret)
        .args(args)
        .args(["--endpoint-url", endpoint, "--output", "json"]);
    if let Some(token) = keys.token {
        command.env("AWS_SESSION_TOKEN", token);
    }
    tokio::task::spawn_blocking(move || command.output().expect("running the AWS CLI"))
        .await
        .unwrap()
}

fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "the AWS CLI failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stdout_json(output: &Output) -> serde_json::Value {
    assert_succeeded(output);
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_refused(output: &Output, code: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "accepted: {stderr}");
    assert!(stderr.contains(code), "expected {code}: {stderr}");
}

/// `aws sts get-caller-identity`: long-term and temporary credentials verify, and the CLI reads
/// the principal from our answer; a wrong secret and an unknown key are refused with the codes
/// the CLI shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_sts_calls_through_the_layer() {
    let endpoint = start_cli_server().await;
    let args = ["sts", "get-caller-identity"];
    for cli in CLIS {
        let identity = stdout_json(&aws(cli, &endpoint, &ALICE, &args).await);
        assert_eq!(identity["Arn"], "arn:aws:iam::123456789012:user/alice");
        assert_eq!(identity["Account"], "123456789012");
        assert_eq!(identity["UserId"], AK);

        let temporary = Keys {
            access_key_id: TEMP_AK,
            secret: TEMP_SK,
            token: Some(TOKEN),
        };
        let identity = stdout_json(&aws(cli, &endpoint, &temporary, &args).await);
        assert_eq!(
            identity["Arn"],
            "arn:aws:sts::123456789012:assumed-role/r/s"
        );

        assert_refused(
            &aws(cli, &endpoint, &WRONG_SECRET, &args).await,
            "SignatureDoesNotMatch",
        );
        let no_token = Keys {
            token: None,
            ..temporary
        };
        assert_refused(
            &aws(cli, &endpoint, &no_token, &args).await,
            "InvalidClientTokenId",
        );
        let unknown = Keys {
            access_key_id: "AKIDUNKNOWN",
            ..ALICE
        };
        assert_refused(
            &aws(cli, &endpoint, &unknown, &args).await,
            "InvalidClientTokenId",
        );
    }
}

/// `aws ec2 describe-regions` and `aws sqs list-queues`, the refusals each CLI shows:
/// - EC2 speaks its own protocol: the CLI reads the principal from our answer, and a wrong
///   secret as EC2's `AuthFailure`.
/// - SQS moved from the query protocol to JSON between the two CLIs' botocores (v2 2.9.19
///   still sends a query form; v1's botocore sends JSON with `x-amzn-query-mode: true`).
///   Either reads the codes SQS has always answered with: `SignatureDoesNotMatch` for a
///   wrong secret, `InvalidClientTokenId` for an unknown key (from the query XML, or from
///   `x-amzn-query-error`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_ec2_and_sqs_refusals_through_the_layer() {
    let endpoint = start_cli_server().await;
    let unknown = Keys {
        access_key_id: "AKIDUNKNOWN",
        ..ALICE
    };
    for cli in CLIS {
        let describe = ["ec2", "describe-regions"];
        let regions = stdout_json(&aws(cli, &endpoint, &ALICE, &describe).await);
        assert_eq!(
            regions["Regions"][0]["Endpoint"], "arn:aws:iam::123456789012:user/alice",
            "{regions}"
        );
        assert_refused(
            &aws(cli, &endpoint, &WRONG_SECRET, &describe).await,
            "AuthFailure",
        );
        let list = ["sqs", "list-queues"];
        assert_refused(
            &aws(cli, &endpoint, &WRONG_SECRET, &list).await,
            "SignatureDoesNotMatch",
        );
        assert_refused(
            &aws(cli, &endpoint, &unknown, &list).await,
            "InvalidClientTokenId",
        );
    }
}

/// The object the S3 tests upload, as a file, and its contents.
fn object_file(name: &str) -> (PathBuf, String) {
    let path = scratch().join(name);
    let contents = "a small object, sent by the AWS CLI\n".repeat(8);
    std::fs::write(&path, &contents).unwrap();
    (path, contents)
}

/// `aws s3api put-object … [extra]` of `file` with `--debug`: the CLI's output and its log.
async fn put_object(
    cli: Cli,
    endpoint: &str,
    keys: &Keys<'_>,
    file: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "s3api",
        "put-object",
        "--bucket",
        "bucket",
        "--key",
        "dir/an object.txt",
        "--body",
        file,
        "--debug",
    ];
    args.extend_from_slice(extra);
    aws(cli, endpoint, keys, &args).await
}

/// Uploads a fresh object file `name` with `extra` arguments: it must verify, the CRC32 the
/// CLI prints (the server's, of the body the layer handed it, or the trailer it was handed)
/// must be the file's, and so must the SHA-256 in the ETag (of the body the server was
/// handed); the same upload with a wrong secret must be refused. Returns the accepted upload's
/// output, with its `--debug` log, and the file's path.
async fn upload_checked(cli: Cli, endpoint: &str, name: &str, extra: &[&str]) -> (Output, String) {
    let (file, contents) = object_file(name);
    let file = file.to_str().unwrap().to_owned();
    let output = put_object(cli, endpoint, &ALICE, &file, extra).await;
    let answer = stdout_json(&output);
    assert_eq!(answer["ChecksumCRC32"], crc32_base64(contents.as_bytes()));
    assert_eq!(
        answer["ETag"],
        format!("\"{}\"", sha256_hex(contents.as_bytes()))
    );
    assert_refused(
        &put_object(cli, endpoint, &WRONG_SECRET, &file, extra).await,
        "SignatureDoesNotMatch",
    );
    (output, file)
}

/// `aws s3api put-object` over plain HTTP (the payload's SHA-256 signed, its CRC32 in a
/// signed header, `Expect: 100-continue`) and `get-object` verify; the CLI prints the CRC32
/// the server computed over the body it was handed, and the downloaded body is the server's
/// answer naming the verified principal. A wrong secret is refused, and so is a CRC32 header
/// that is not the body's (`BadDigest`, as S3 answers) and an unknown key (S3's
/// `InvalidAccessKeyId`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_s3_calls_through_the_layer() {
    let endpoint = start_cli_server().await;
    for cli in CLIS {
        let (_, file) = upload_checked(cli, &endpoint, "upload.txt", &[]).await;
        // A checksum the caller gives is sent as is: signed, but not the body's.
        assert_refused(
            &put_object(
                cli,
                &endpoint,
                &ALICE,
                &file,
                &["--checksum-crc32", "AAAAAA=="],
            )
            .await,
            "BadDigest",
        );
        // S3's code for a key it does not know (STS says InvalidClientTokenId).
        let unknown = Keys {
            access_key_id: "AKIDUNKNOWN",
            ..ALICE
        };
        assert_refused(
            &put_object(cli, &endpoint, &unknown, &file, &[]).await,
            "InvalidAccessKeyId",
        );
        content_md5_checked(cli, &endpoint, &[]).await;

        let download = scratch().join("download.txt");
        let get = [
            "s3api",
            "get-object",
            "--bucket",
            "bucket",
            "--key",
            "dir/an object.txt",
            download.to_str().unwrap(),
        ];
        stdout_json(&aws(cli, &endpoint, &ALICE, &get).await);
        assert_eq!(
            std::fs::read_to_string(&download).unwrap(),
            "ok arn:aws:iam::123456789012:user/alice "
        );
    }
}

/// Over HTTPS v1 streams `put-object` as `aws-chunked` with an unsigned payload and a CRC32
/// trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), and v2 sends it as `UNSIGNED-PAYLOAD` with
/// the `Content-MD5` it computed: each verifies, the layer checks the trailer or the MD5, and
/// the server is handed the file's bytes. A wrong secret is refused; so is another
/// `Content-MD5` (`content_md5_checked`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_streamed_upload_over_https_through_the_layer() {
    let (addr, certificate) =
        start_tls_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let endpoint = format!("https://{addr}");
    let ca_bundle = scratch().join("server-ca.pem");
    std::fs::write(&ca_bundle, certificate).unwrap();
    let trust = ["--ca-bundle", ca_bundle.to_str().unwrap()];
    for cli in CLIS {
        let (output, _) = upload_checked(cli, &endpoint, "streamed.txt", &trust).await;
        let log = String::from_utf8_lossy(&output.stderr);
        let streamed =
            log.contains("STREAMING-UNSIGNED-PAYLOAD-TRAILER") && log.contains("aws-chunked");
        // What the layer checks the body against, where nothing signs it: the CRC32 trailer,
        // or the CLI's own Content-MD5.
        let md5_sent = log.contains("'X-Amz-Content-SHA256': b'UNSIGNED-PAYLOAD'")
            && log.contains("'Content-MD5': b'");
        match cli {
            Cli::V1 => assert!(streamed, "v1 did not stream the upload: {log}"),
            Cli::V2 => assert!(streamed || md5_sent, "v2 sent neither form: {log}"),
        }
        content_md5_checked(cli, &endpoint, &trust).await;
    }
}

/// `put-object --content-md5` (with `extra` arguments): the file's own MD5 is accepted beside
/// the CLI's CRC32, another is `BadDigest` and a value that is no MD5 `InvalidDigest`, as S3
/// answers them.
async fn content_md5_checked(cli: Cli, endpoint: &str, extra: &[&str]) {
    let (file, contents) = object_file("md5.txt");
    let file = file.to_str().unwrap();
    let md5 = content_md5_base64(contents.as_bytes());
    let (output, _) = upload_checked(
        cli,
        endpoint,
        "md5.txt",
        &[extra, &["--content-md5", &md5]].concat(),
    )
    .await;
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains(&md5),
        "the CLI did not send Content-MD5: {log}"
    );
    let other = content_md5_base64(b"other");
    for (md5, code) in [
        (other.as_str(), "BadDigest"),
        ("not-an-md5", "InvalidDigest"),
    ] {
        let args = [extra, &["--content-md5", md5]].concat();
        assert_refused(&put_object(cli, endpoint, &ALICE, file, &args).await, code);
    }
}

/// A URL from `aws s3 presign` verifies when fetched; the same URL for another key does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_presigned_url_through_the_layer() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    for cli in CLIS {
        let output = aws(
            cli,
            &format!("http://{addr}"),
            &ALICE,
            &[
                "s3",
                "presign",
                "s3://bucket/photos/cat.jpg",
                "--expires-in",
                "300",
            ],
        )
        .await;
        assert_succeeded(&output);
        let url = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        assert!(url.contains("X-Amz-Signature="), "{url}");

        let (status, body) = get(addr, &url).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, "ok arn:aws:iam::123456789012:user/alice ");

        let (status, body) = get(addr, &url.replace("cat.jpg", "dog.jpg")).await;
        assert_eq!(status, 403, "{body}");
        assert!(
            body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{body}"
        );
    }
}

/// A plain GET of `url` (on `addr`).
async fn get(addr: SocketAddr, url: &str) -> (u16, String) {
    let uri: http::Uri = url.parse().unwrap();
    let request = http::Request::get(uri.path_and_query().unwrap().as_str())
        .header("host", uri.authority().unwrap().as_str())
        .body(Full::new(Bytes::new()))
        .unwrap();
    send_for_text(addr, request).await
}
