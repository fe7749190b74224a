//! How real AWS clients recover from the layer's refusals: botocore's S3
//! region redirect, and what botocore and aws-sdk-rust see when the layer refuses a request
//! over TLS before reading its (large) body, a clock-skew refusal among them.
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use edgeward_signing::{Accept, LayerSettings, VerifiedBody, VerifierSettings};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use support::interop::run_json_script_beside_server;
use support::{start_tls_server_answering, Answers, AK, SK};
use tower::Layer;

const SCRIPT: &str = "tests/sdk_recovery.py";

/// An S3 server behind a layer that accepts region us-east-1 only; the service answers every
/// verified request with an empty 200 (what S3 answers to `PutObject`).
async fn start_us_east_1_only_server() -> SocketAddr {
    let mut policy = VerifierSettings::default();
    policy.regions = Accept::OneOf(vec!["us-east-1".to_owned()]);
    policy.services = Accept::OneOf(vec!["s3".to_owned()]);
    let service =
        support::test_layer_verifying(LayerSettings::default(), policy).layer(tower::service_fn(
            |request: http::Request<VerifiedBody<Incoming>>| async move {
                let _ = request.into_body().collect().await;
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
            },
        ));
    support::serve_service(service, None).await
}

/// boto3's S3 client configured for a region the endpoint does not serve: against S3 the call
/// succeeds, since S3 answers `AuthorizationHeaderMalformed` with `<Region>` (the region it
/// expects) and botocore's region redirector (`S3RegionRedirectorv2.redirect_from_error`:
/// `error_code == 'AuthorizationHeaderMalformed' and 'Region' in error`) re-signs for that
/// region and retries. Against a layer that accepts one region, it should too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_redirects_to_the_one_accepted_region() {
    let addr = start_us_east_1_only_server().await;
    let results = run_json_script_beside_server(
        SCRIPT,
        json!({"scenario": "region", "addr": addr.to_string(), "access_key": AK, "secret_key": SK}),
    )
    .await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    assert_eq!(results[0]["outcome"], "ok", "{results:?}");
    let unrecovered: Vec<&Value> = results[1..]
        .iter()
        .filter(|result| result["outcome"] != "ok")
        .collect();
    assert!(
        unrecovered.is_empty(),
        "signed for eu-west-1, botocore did not recover: {unrecovered:#?}"
    );
}

/// The refusals S3 words its own way for a malformed authorization, as botocore's S3 parser
/// reads them from a layer that serves us-east-1 alone:
/// - a header signed for another region: `AuthorizationHeaderMalformed`, "The authorization
///   header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
///   (jsoma/flatware#10 quotes S3's answer), with `<Region>`;
/// - a URL presigned so: `AuthorizationQueryParametersError`, "Error parsing the
///   X-Amz-Credential parameter; the region … is wrong; expecting …"
///   (HHS/Head-Start-TTADP#370), with `<Region>`;
/// - a URL presigned for more than a week: `AuthorizationQueryParametersError`, "X-Amz-Expires
///   must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than
///   604800 seconds" (bryanjos/aws_auth#31);
/// - an `X-Amz-Date` of another day than the signed scope's: `AuthorizationHeaderMalformed`,
///   "The authorization header is malformed; Invalid credential date. Date is not the same as
///   X-Amz-Date." (ml-archive/storage#68);
/// - a header and a URL signed for an empty region, so that the credential has an empty
///   element: "… the Credential is mal-formed; expecting
///   "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"." (krobertson/deb-s3#157;
///   TTLabs/EvaporateJS#491 for the URL's);
/// - a header without its `Signature`: "… the authorization header requires three
///   components: Credential, SignedHeaders, and Signature." (ex-aws/ex_aws#537);
/// - an `X-Amz-Date` with an offset in place of `Z`: `AccessDenied`, 403, "AWS authentication
///   requires a valid Date or x-amz-date header" (hubrick/vertx-s3-client#5);
/// - a presigned URL whose `X-Amz-Date` is not in the basic format: "X-Amz-Date must be in the
///   ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"" (JustinM1/S3SignerAWS#12);
/// - one whose `X-Amz-Expires` is no number, "X-Amz-Expires should be a number"
///   (kitware-resonant/cookiecutter-resonant#369, for `21600.0`), or negative, "X-Amz-Expires
///   must be non-negative" (fog/fog#3528); or zero, a lifetime over at once: `AccessDenied`,
///   403, "Request has expired" (as versitygw and Ceph's s3-tests answer it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_s3s_words_for_a_malformed_authorization() {
    let addr = start_us_east_1_only_server().await;
    let a_day_ago = edgeward_signing::format_amz_date(
        std::time::SystemTime::now() - Duration::from_secs(24 * 3600),
    );
    let wrong_region =
        |head: &str| format!("{head}; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    struct Case {
        kind: &'static str,
        region: &'static str,
        expires: Option<u64>,
        /// Sent in place of what botocore signed.
        unsigned_headers: Value,
        /// Replacements in the URL botocore signed.
        url_edits: Value,
        status: u16,
        code: &'static str,
        message: String,
        region_element: Option<&'static str>,
    }
    let mal_formed = |head: &str| {
        format!(
            "{head}; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        )
    };
    let no_signature = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20261207/us-east-1/s3/aws4_request, \
         SignedHeaders=host;x-amz-content-sha256;x-amz-date"
    );
    // A request botocore signed for us-east-1, sent as signed, and refused 400 with `code`.
    let refused = |kind, code, message: &str| Case {
        kind,
        region: "us-east-1",
        expires: None,
        unsigned_headers: json!([]),
        url_edits: json!([]),
        status: 400,
        code,
        message: message.to_owned(),
        region_element: None,
    };
    const HEADER: &str = "AuthorizationHeaderMalformed";
    const QUERY: &str = "AuthorizationQueryParametersError";
    const HEADER_HEAD: &str = "The authorization header is malformed";
    const QUERY_HEAD: &str = "Error parsing the X-Amz-Credential parameter";
    let cases = [
        Case {
            region: "eu-west-1",
            region_element: Some("us-east-1"),
            ..refused("header", HEADER, &wrong_region(HEADER_HEAD))
        },
        Case {
            region: "eu-west-1",
            region_element: Some("us-east-1"),
            ..refused("query", QUERY, &wrong_region(QUERY_HEAD))
        },
        Case {
            expires: Some(604_801),
            ..refused(
                "query",
                QUERY,
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds",
            )
        },
        Case {
            unsigned_headers: json!([["X-Amz-Date", a_day_ago]]),
            ..refused(
                "header",
                HEADER,
                "The authorization header is malformed; Invalid credential date. Date is not \
                 the same as X-Amz-Date.",
            )
        },
        Case {
            region: "",
            ..refused("header", HEADER, &mal_formed(HEADER_HEAD))
        },
        Case {
            region: "",
            ..refused("query", QUERY, &mal_formed(QUERY_HEAD))
        },
        Case {
            unsigned_headers: json!([["Authorization", no_signature]]),
            ..refused(
                "header",
                HEADER,
                "The authorization header is malformed; the authorization header requires \
                 three components: Credential, SignedHeaders, and Signature.",
            )
        },
        Case {
            unsigned_headers: json!([["X-Amz-Date", "20261207T120000+01"]]),
            status: 403,
            ..refused(
                "header",
                "AccessDenied",
                "AWS authentication requires a valid Date or x-amz-date header",
            )
        },
        Case {
            url_edits: json!([["X-Amz-Date=", "X-Amz-Date=1"]]),
            ..refused(
                "query",
                QUERY,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
            )
        },
        Case {
            url_edits: json!([["X-Amz-Expires=300", "X-Amz-Expires=300.0"]]),
            ..refused("query", QUERY, "X-Amz-Expires should be a number")
        },
        Case {
            url_edits: json!([["X-Amz-Expires=300", "X-Amz-Expires=-300"]]),
            ..refused("query", QUERY, "X-Amz-Expires must be non-negative")
        },
        Case {
            url_edits: json!([["X-Amz-Expires=300", "X-Amz-Expires=0"]]),
            status: 403,
            ..refused("query", "AccessDenied", "Request has expired")
        },
    ];
    let specs: Vec<Value> = cases
        .iter()
        .map(|case| {
            json!({
                "method": "GET", "url": format!("http://{addr}/bucket/key"), "headers": [],
                "body": "", "access_key": AK, "secret_key": SK, "token": null,
                "region": case.region, "service": "s3", "kind": case.kind, "s3": true,
                "protocol": "rest-xml", "expires": case.expires,
                "unsigned_headers": case.unsigned_headers, "url_edits": case.url_edits,
            })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for (case, result) in cases.iter().zip(&results) {
        let error = &result["error"];
        assert_eq!(result["status"], case.status, "{result}");
        assert_eq!(error["Code"], case.code, "{result}");
        assert_eq!(error["Message"], case.message.as_str(), "{result}");
        assert_eq!(
            error.get("Region").and_then(Value::as_str),
            case.region_element,
            "{result}"
        );
    }
}

/// A `botocore_send.py` spec: a call botocore signs in the header for us-east-1, to STS
/// (`GetCallerIdentity`, read back with the query parser) or to DynamoDB (`ListTables`, with
/// the JSON parser) at `addr`, with `unsigned_headers` put in place after signing.
fn sts_or_dynamodb_call(addr: SocketAddr, service: &str, unsigned_headers: Value) -> Value {
    let (headers, body, protocol) = match service {
        "sts" => (
            json!([[
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"
            ]]),
            "Action=GetCallerIdentity&Version=2011-06-15",
            "query",
        ),
        "dynamodb" => (
            json!([
                ["Content-Type", "application/x-amz-json-1.0"],
                ["X-Amz-Target", "DynamoDB_20120810.ListTables"],
            ]),
            "{}",
            "json",
        ),
        other => panic!("no call to {other}"),
    };
    json!({
        "method": "POST", "url": format!("http://{addr}/"), "headers": headers, "body": body,
        "access_key": AK, "secret_key": SK, "token": null, "region": "us-east-1",
        "service": service, "kind": "header", "s3": false, "protocol": protocol,
        "unsigned_headers": unsigned_headers,
    })
}

/// The query and JSON services answer an `Authorization` header they cannot read
/// `IncompleteSignature` (`IncompleteSignatureException` in JSON), 400; for a credential of
/// other than five elements, "Credential must have exactly 5 slash-delimited elements, e.g.
/// keyid/date/region/service/term, got '…'" (SQS's answer in boto/boto3#1081, IAM's in
/// aws/aws-sdk-go#1042, DynamoDB's in dynamoose/dynamoose#1208). botocore's query and JSON
/// parsers read the layer's answers for STS and DynamoDB so, from a header whose credential
/// lacks its region, sent in place of the one botocore signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_a_header_it_cannot_read_as_incomplete_signature() {
    let addr = support::start_server().await;
    let short = |service: &str| format!("{AK}/20261207/{service}/aws4_request");
    let header = |service: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={}, SignedHeaders=host;x-amz-date, Signature={}",
            short(service),
            "0".repeat(64)
        )
    };
    let specs: Vec<Value> = ["sts", "dynamodb"]
        .iter()
        .map(|service| {
            sts_or_dynamodb_call(addr, service, json!([["Authorization", header(service)]]))
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for ((service, code), result) in [
        ("sts", "IncompleteSignature"),
        ("dynamodb", "IncompleteSignatureException"),
    ]
    .into_iter()
    .zip(&results)
    {
        let error = &result["error"];
        assert_eq!(result["status"], 400, "{result}");
        assert_eq!(error["Code"], code, "{result}");
        assert_eq!(
            error["Message"],
            format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got '{}'",
                short(service)
            ),
            "{result}"
        );
    }
}

/// The query and JSON services fail the signature for a scope of another day than the
/// request's and for a scope with another terminator than `aws4_request`:
/// `SignatureDoesNotMatch` (`InvalidSignatureException` in JSON), in the words the IAM User
/// Guide's "Troubleshoot signed requests for AWS APIs" gives, with the values as a JSON
/// service's answer in tedder/requests-aws4auth#7 shows them. botocore's query and JSON
/// parsers read the layer's answers for STS and DynamoDB: a request botocore signed, sent with
/// an `X-Amz-Date` a day earlier, and one whose header names `aws5_request`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_a_scope_of_another_day_or_terminator_as_a_signature_mismatch() {
    let addr = support::start_server().await;
    let a_day_ago = edgeward_signing::format_amz_date(
        std::time::SystemTime::now() - Duration::from_secs(24 * 3600),
    );
    let other_terminator = |service: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={AK}/20261207/us-east-1/{service}/aws5_request, \
             SignedHeaders=host;x-amz-date, Signature={}",
            "0".repeat(64)
        )
    };
    let services = [
        ("sts", ("SignatureDoesNotMatch", 403)),
        ("dynamodb", ("InvalidSignatureException", 400)),
    ];
    let mut specs = Vec::new();
    for (service, _) in services {
        for unsigned_headers in [
            json!([["X-Amz-Date", a_day_ago]]),
            json!([["Authorization", other_terminator(service)]]),
        ] {
            specs.push(sts_or_dynamodb_call(addr, service, unsigned_headers));
        }
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for ((_, (code, status)), pair) in services.iter().zip(results.chunks(2)) {
        let [another_day, another_terminator] = pair else {
            panic!("two answers per service: {results:?}")
        };
        // The day botocore signed for, from its string-to-sign's scope.
        let string_to_sign = another_day["signed"]["string_to_sign"].as_str().unwrap();
        let scope_date = &string_to_sign.lines().nth(2).unwrap()[..8];
        let expected = [
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{scope_date}' != '{}', from '{a_day_ago}'.",
                &a_day_ago[..8]
            ),
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             'aws5_request'."
                .to_owned(),
        ];
        for (result, message) in [another_day, another_terminator].into_iter().zip(expected) {
            assert_eq!(result["status"], *status, "{result}");
            assert_eq!(result["error"]["Code"], *code, "{result}");
            assert_eq!(result["error"]["Message"], message, "{result}");
        }
    }
}

/// A scope the endpoint does not serve, as STS words it ("Credential should be scoped to a
/// valid region, not 'us-east-2'." in cognitect-labs/aws-api#27; "… to correct service:
/// 'batch'."): `SignatureDoesNotMatch` to the query services, `InvalidSignatureException` to
/// the JSON ones. botocore's parsers read the layer's answers for STS and DynamoDB, signed for
/// us-east-1 to an endpoint of us-west-2 alone, and DynamoDB's to an endpoint of STS alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_a_scope_the_endpoint_does_not_serve_in_stss_words() {
    let mut west = VerifierSettings::default();
    west.regions = Accept::OneOf(vec!["us-west-2".to_owned()]);
    let mut sts_only = VerifierSettings::default();
    sts_only.services = Accept::OneOf(vec!["sts".to_owned()]);
    let (west, sts_only) = (
        support::start_server_verifying(west).await,
        support::start_server_verifying(sts_only).await,
    );
    let spec = |addr, service| sts_or_dynamodb_call(addr, service, json!([]));
    let region = "Credential should be scoped to a valid region, not 'us-east-1'.";
    let cases = [
        (spec(west, "sts"), "SignatureDoesNotMatch", 403, region),
        (
            spec(west, "dynamodb"),
            "InvalidSignatureException",
            400,
            region,
        ),
        (
            spec(sts_only, "dynamodb"),
            "InvalidSignatureException",
            400,
            "Credential should be scoped to correct service: 'sts'.",
        ),
    ];
    let specs: Vec<Value> = cases.iter().map(|(spec, ..)| spec.clone()).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/botocore_send.py");
    let results = run_json_script_beside_server(script, Value::Array(specs)).await;
    for ((_, code, status, message), result) in cases.iter().zip(&results) {
        assert_eq!(result["status"], *status, "{result}");
        assert_eq!(result["error"]["Code"], *code, "{result}");
        assert_eq!(result["error"]["Message"], *message, "{result}");
    }
}

/// botocore over HTTPS, a request with a large body that the layer refuses before reading the
/// body (an unknown access key, known from the head): the user should get the AWS error
/// (`UnrecognizedClientException`, `InvalidClientTokenId`), as with a small body. botocore
/// sends `Expect: 100-continue` to S3 only, so these clients send their whole body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_sees_an_early_refusal_over_tls() {
    let (addr, pem) = start_tls_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let spec = json!({
        "scenario": "early_tls", "addr": addr.to_string(), "ca_bundle": ca,
        "access_key": AK, "secret_key": SK, "size": 6_000_000,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    let expected = [
        ("UnrecognizedClientException", 400),
        ("InvalidClientTokenId", 403),
        ("UnrecognizedClientException", 400),
    ];
    let mut wrong: Vec<&Value> = Vec::new();
    for (result, (code, status)) in results.iter().zip(expected) {
        if result["outcome"] != "client_error"
            || result["code"] != code
            || result["status"] != status
        {
            wrong.push(result);
        }
    }
    assert!(
        wrong.is_empty(),
        "botocore did not see the refusal: {wrong:#?}"
    );
}

/// aws-sdk-rust's HTTP client over TLS (rustls, trusting the test certificate), one
/// connection per request, as hyper sends: the body streams while the answer may already be
/// on its way. A failed exchange is an I/O error to the SDK (which it retries as transient).
#[derive(Clone)]
struct TlsHttp {
    connector: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for TlsHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsHttp")
    }
}

impl TlsHttp {
    fn trusting(pem: &str) -> Self {
        use base64::Engine as _;
        let b64: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(der))
            .unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Self {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }
}

impl HttpClient for TlsHttp {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for TlsHttp {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector = self.connector.clone();
        HttpConnectorFuture::new(async move {
            let io = |e: Box<dyn std::error::Error + Send + Sync>| ConnectorError::io(e);
            let request = request.try_into_http1x().map_err(|e| io(Box::new(e)))?;
            let (parts, body) = request.into_parts();
            let body = body.collect().await.map_err(io)?.to_bytes();
            let addr: SocketAddr = parts.uri.authority().unwrap().as_str().parse().unwrap();
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| io(Box::new(e)))?;
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| io(Box::new(e)))?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| io(Box::new(e)))?;
            tokio::spawn(connection);
            let response = sender
                .send_request(http::Request::from_parts(parts, Full::new(body)))
                .await
                .map_err(|e| io(Box::new(e)))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| io(Box::new(e)))?
                .to_bytes();
            aws_smithy_runtime_api::http::Response::try_from(http::Response::from_parts(
                parts,
                SdkBody::from(body),
            ))
            .map_err(|e| io(Box::new(e)))
        })
    }
}

/// A clock 20 minutes behind the real one.
#[derive(Debug)]
struct TwentyMinutesBehind;

impl aws_smithy_async::time::TimeSource for TwentyMinutesBehind {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now() - Duration::from_secs(20 * 60)
    }
}

fn tls_s3_client(
    addr: SocketAddr,
    http: TlsHttp,
    credentials: Credentials,
    skewed: bool,
) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::retry::RetryConfig;
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(format!("https://{addr}"))
        .force_path_style(true)
        .http_client(http)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        );
    if skewed {
        config = config.time_source(TwentyMinutesBehind);
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// What a call's error is, for the assertion messages: the service's code, or the failure.
fn describe<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    error: &aws_sdk_s3::error::SdkError<E, R>,
) -> String {
    match error.as_service_error() {
        Some(service) => format!("service error {:?}", service.code()),
        None => format!("no answer from the service: {error:?}"),
    }
}

/// aws-sdk-rust (which never sends `Expect: 100-continue`) uploading over TLS with a clock 20
/// minutes behind: the layer refuses `RequestTimeTooSkewed` from the head, the SDK measures
/// its skew from the answer's `Date` and retries with a corrected clock (as
/// `aws_sdk_rust_corrects_a_skewed_clock_from_our_refusal` shows for a small body over plain
/// HTTP). A wrong secret should reach the SDK as `SignatureDoesNotMatch`. Both with a small
/// body (passes) and with one of 9 MB (an ordinary `PutObject`, under the 10 MiB limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_recovers_from_early_refusals_over_tls() {
    let (addr, pem) = start_tls_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let http = TlsHttp::trusting(&pem);
    let mut failures = Vec::new();
    // Whether the answer reaches the SDK is a race (the refusal against the body's write), so
    // each case runs three times.
    for size in [1_000usize, 9_000_000, 9_000_000, 9_000_000] {
        let body = vec![b'x'; size];
        let skewed = tls_s3_client(
            addr,
            http.clone(),
            Credentials::from_keys(AK, SK, None),
            true,
        );
        let put = skewed
            .put_object()
            .bucket("bucket")
            .key("skewed")
            .body(aws_sdk_s3::primitives::ByteStream::from(body.clone()))
            .send()
            .await;
        if let Err(e) = &put {
            failures.push(format!(
                "{size} bytes, clock 20 min behind: {}",
                describe(e)
            ));
        }

        let wrong = Credentials::from_keys(AK, "not-the-secret", None);
        let refused = tls_s3_client(addr, http.clone(), wrong, false)
            .put_object()
            .bucket("bucket")
            .key("wrong")
            .body(aws_sdk_s3::primitives::ByteStream::from(body))
            .send()
            .await
            .unwrap_err();
        let code = refused
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e).map(str::to_owned));
        if code.as_deref() != Some("SignatureDoesNotMatch") {
            failures.push(format!(
                "{size} bytes, wrong secret: {}",
                describe(&refused)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// boto3's EC2 client, which speaks EC2's own protocol, through the layer: verified calls
/// with a key and with temporary credentials reach the service (its answer names the
/// principal verified), and the refusals read as EC2 sends them, `AuthFailure` with 401 for a
/// wrong secret, an unknown key and temporary credentials without their token (EC2's answers
/// in aws/aws-sdk-java-v2#2981 and aws/aws-sdk-java#2508), with the request ID botocore's EC2
/// parser reads from the answer's `RequestID`. An unsigned call names no service, so a layer
/// that accepts any service cannot tell it is EC2's: it gets the query protocol's
/// `MissingAuthenticationToken`, which botocore's EC2 parser reads too (a layer that accepts
/// `ec2` alone answers it in EC2's form: `tests/layer.rs`). Not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_ec2_refusals_as_ec2_sends_them() {
    let addr = support::start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let spec = json!({
        "scenario": "ec2", "addr": addr.to_string(), "access_key": AK, "secret_key": SK,
        "temp_access_key": support::TEMP_AK, "temp_secret_key": support::TEMP_SK,
        "token": support::TOKEN,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    let verified = [
        (
            "ec2 describe_regions",
            "arn:aws:iam::123456789012:user/alice",
        ),
        (
            "ec2 describe_regions, temporary",
            "arn:aws:sts::123456789012:assumed-role/r/s",
        ),
    ];
    let refused = [
        ("ec2 describe_regions, wrong secret", "AuthFailure", 401),
        ("ec2 describe_regions, unknown key", "AuthFailure", 401),
        (
            "ec2 describe_regions, temporary without its token",
            "AuthFailure",
            401,
        ),
        (
            "ec2 describe_regions, unsigned",
            "MissingAuthenticationToken",
            403,
        ),
    ];
    assert_eq!(results.len(), verified.len() + refused.len());
    for (result, (name, principal)) in results.iter().zip(verified) {
        assert_eq!(result["name"], name, "{result}");
        assert_eq!(result["outcome"], "ok", "{result}");
        assert_eq!(result["value"], principal, "{result}");
    }
    for (result, (name, code, status)) in results[verified.len()..].iter().zip(refused) {
        assert_eq!(result["name"], name, "{result}");
        assert_eq!(result["code"], code, "{result}");
        assert_eq!(result["status"], status, "{result}");
        // EC2's words (aws/aws-sdk-java-v2#2981), and STS's for no authentication
        // (aws/aws-sdk-net#681).
        let message = match code {
            "AuthFailure" => "AWS was not able to validate the provided access credentials",
            _ => "Request is missing Authentication Token",
        };
        assert_eq!(result["message"], message, "{result}");
        assert!(
            result["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("edgeward-")),
            "{result}"
        );
        assert_eq!(result["sends"], 1, "{result}");
    }
}

/// boto3's SQS client (JSON) and CloudWatch client (RPC v2 CBOR), both of services that keep
/// their query-era error codes, read the codes those services answered with before they moved
/// (`InvalidClientTokenId`, `SignatureDoesNotMatch`, 403), from `x-amzn-query-error`; its
/// DynamoDB client, born JSON, reads DynamoDB's own (`UnrecognizedClientException`, 400). Not
/// retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_query_era_codes_from_sqs_and_cloudwatch() {
    let addr = support::start_server().await;
    let spec = json!({
        "scenario": "query_compatible", "addr": addr.to_string(), "access_key": AK,
        "secret_key": SK,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    let expected = [
        ("sqs, wrong secret", "SignatureDoesNotMatch", 403),
        ("sqs, unknown key", "InvalidClientTokenId", 403),
        ("cloudwatch, wrong secret", "SignatureDoesNotMatch", 403),
        ("cloudwatch, unknown key", "InvalidClientTokenId", 403),
        ("dynamodb, wrong secret", "InvalidSignatureException", 400),
        ("dynamodb, unknown key", "UnrecognizedClientException", 400),
    ];
    assert_eq!(results.len(), expected.len());
    for (result, (name, code, status)) in results.iter().zip(expected) {
        assert_eq!(result["name"], name, "{result}");
        assert_eq!(result["code"], code, "{result}");
        assert_eq!(result["status"], status, "{result}");
        assert_eq!(result["sends"], 1, "{result}");
    }
}

/// Unsigned calls from boto3 to a JSON service of each kind, through a layer that accepts
/// any service, read as those services answer them: DynamoDB's (awsJson)
/// `MissingAuthenticationTokenException` with 400 and STS's words, "Request is missing
/// Authentication Token" (amazon-archives/aws-dynamodb-session-tomcat#42); Lambda's
/// (restJson) with 403 and API Gateway's, "Missing Authentication Token" (brefphp/bref#1250).
/// Not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_an_unsigned_json_call_refused_in_each_protocols_words() {
    let addr = support::start_server().await;
    let spec = json!({"scenario": "unsigned_json", "addr": addr.to_string(), "access_key": AK,
                      "secret_key": SK});
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    let expected = [
        (
            "dynamodb list_tables, unsigned",
            400,
            "Request is missing Authentication Token",
        ),
        (
            "lambda update_function_configuration, unsigned",
            403,
            "Missing Authentication Token",
        ),
    ];
    assert_eq!(results.len(), expected.len());
    for (result, (name, status, message)) in results.iter().zip(expected) {
        assert_eq!(result["name"], name, "{result}");
        assert_eq!(
            result["code"], "MissingAuthenticationTokenException",
            "{result}"
        );
        assert_eq!(result["status"], status, "{result}");
        assert_eq!(result["message"], message, "{result}");
        assert_eq!(result["sends"], 1, "{result}");
    }
}

const EXPIRED_AK: &str = "ASIAEXPIREDTEST";
const EXPIRED_SK: &str = "expired-secret";
const EXPIRED_TOKEN: &str = "expired/session+token==";

/// A server whose only credential is temporary and expired a minute ago.
async fn start_expired_credentials_server() -> SocketAddr {
    let lookup = edgeward_signing::StaticCredentials::new().with(
        EXPIRED_AK,
        edgeward_signing::ResolvedCredential::temporary(
            EXPIRED_SK,
            "arn:aws:sts::123456789012:assumed-role/r/s",
            EXPIRED_TOKEN,
            std::time::SystemTime::now() - Duration::from_secs(60),
        ),
    );
    let verifier = Arc::new(edgeward_signing::Verifier::new(
        lookup,
        VerifierSettings::default(),
    ));
    let service = edgeward_signing::SigV4Layer::new(verifier, LayerSettings::default()).layer(
        tower::service_fn(
            |request: http::Request<VerifiedBody<Incoming>>| async move {
                let _ = request.into_body().collect().await;
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
            },
        ),
    );
    support::serve_service(service, None).await
}

/// Expired temporary credentials reach botocore and aws-sdk-rust as the codes, statuses and
/// words AWS sends: S3's `ExpiredToken` (400, "The provided token has expired."), STS's
/// `ExpiredToken` (403) and a JSON service's `ExpiredTokenException` (400), both "The security
/// token included in the request is expired", EC2's `RequestExpired` (400, "Request has
/// expired.": aws/aws-sdk-go-v2#1674's expired SSO credentials), not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_reach_clients_as_aws_sends_them() {
    let addr = start_expired_credentials_server().await;
    let spec = json!({
        "scenario": "expired", "addr": addr.to_string(),
        "access_key": EXPIRED_AK, "secret_key": EXPIRED_SK, "token": EXPIRED_TOKEN,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    const EXPIRED: &str = "The security token included in the request is expired";
    let expected = [
        ("ExpiredToken", 400, "The provided token has expired."),
        ("ExpiredToken", 403, EXPIRED),
        ("ExpiredTokenException", 400, EXPIRED),
        ("RequestExpired", 400, "Request has expired."),
    ];
    assert_eq!(results.len(), expected.len());
    for (result, (code, status, message)) in results.iter().zip(expected) {
        assert_eq!(result["code"], code, "{result}");
        assert_eq!(result["status"], status, "{result}");
        assert_eq!(result["message"], message, "{result}");
        assert_eq!(result["sends"], 1, "{result}");
    }

    let credentials =
        Credentials::from_keys(EXPIRED_AK, EXPIRED_SK, Some(EXPIRED_TOKEN.to_owned()));
    let http = support::sdk::PlainHttp::default();
    let s3 = support::sdk::s3_client(addr, credentials.clone(), &http);
    let error = s3
        .put_object()
        .bucket("bucket")
        .key("key")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hi"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(support::sdk::refusal_code(&error), "ExpiredToken");
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 400);
    let error = support::sdk::sts_client(addr, credentials)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(support::sdk::refusal_code(&error), "ExpiredToken");
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);
}

/// A credential store that takes 1.5 s to answer (a remote one; the layer waits up to
/// `lookup_timeout`, 10 s by default).
struct SlowLookup(edgeward_signing::StaticCredentials);

impl edgeward_signing::CredentialLookup for SlowLookup {
    fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
    ) -> impl std::future::Future<
        Output = Result<
            Option<Arc<edgeward_signing::ResolvedCredential>>,
            edgeward_signing::LookupFailure,
        >,
    > + Send {
        let table = self.0.clone();
        let (key, token) = (access_key_id.to_owned(), session_token.map(str::to_owned));
        async move {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            table.lookup(&key, token.as_deref()).await
        }
    }
}

/// boto3 uploading to S3 over HTTPS with a wrong secret, against a layer whose credential
/// lookup takes longer than botocore's 1 s wait for `100 Continue`: botocore sends the body,
/// the layer refuses from the head (`SignatureDoesNotMatch`) without reading it. The user
/// should see `SignatureDoesNotMatch` for a large body as for a small one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_s3_upload_refused_behind_a_slow_lookup_over_tls() {
    use edgeward_signing::CredentialLookup as _;
    let lookup = SlowLookup(edgeward_signing::StaticCredentials::new().with(
        AK,
        edgeward_signing::ResolvedCredential::new(SK, "arn:aws:iam::123456789012:user/alice"),
    ));
    let _ = lookup.0.lookup(AK, None).await;
    let verifier = Arc::new(edgeward_signing::Verifier::new(
        lookup,
        VerifierSettings::default(),
    ));
    // Room for a body larger than the sockets' buffers (a refusal of a body over
    // `max_body_bytes` comes before the lookup).
    let mut settings = LayerSettings::default();
    settings.max_body_bytes = 64 << 20;
    let service = edgeward_signing::SigV4Layer::new(verifier, settings).layer(tower::service_fn(
        |request: http::Request<VerifiedBody<Incoming>>| async move {
            let _ = request.into_body().collect().await;
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::new())))
        },
    ));
    let (acceptor, pem) = support::self_signed_acceptor(&["127.0.0.1"]);
    let addr = support::serve_service(service, Some(acceptor)).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let spec = json!({
        "scenario": "s3_tls_wrong_secret", "addr": addr.to_string(), "ca_bundle": ca,
        "access_key": AK, "secret_key": "not-the-secret", "size": 32_000_000,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    eprintln!("{}", serde_json::to_string_pretty(&results).unwrap());
    let wrong: Vec<&Value> = results
        .iter()
        .filter(|result| result["code"] != "SignatureDoesNotMatch" || result["status"] != 403)
        .collect();
    assert!(
        wrong.is_empty(),
        "botocore did not see the refusal: {wrong:#?}"
    );
}

/// botocore over HTTPS, a Kinesis `PutRecord` whose body (8 MB of data, base64 in JSON) is
/// over `max_body_bytes` (10 MiB): the layer refuses `EntityTooLarge` (413) from the head.
/// The user should get that code, once, not a TLS error after four sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_sees_entity_too_large_over_tls() {
    let (addr, pem) = start_tls_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let spec = json!({
        "scenario": "over_limit_tls", "addr": addr.to_string(), "ca_bundle": ca,
        "access_key": AK, "secret_key": SK, "size": 8_000_000,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    let result = &results[0];
    assert!(
        result["outcome"] == "client_error"
            && result["code"] == "EntityTooLarge"
            && result["status"] == 413
            && result["sends"] == 1,
        "{result:#}"
    );
}

/// aws-sdk-rust over TLS, an in-memory `PutObject` of 11 MiB (its SHA-256 signed in the head)
/// against a layer that takes at most 10 MiB (`max_streamed_body_bytes`, the bound of a body
/// whose hash is in its head): refused `EntityTooLarge` from the head, which the SDK should
/// read (one attempt), not a broken pipe retried three times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_sees_entity_too_large_over_tls() {
    let mut settings = LayerSettings::default();
    settings.max_streamed_body_bytes = 10 << 20;
    let (addr, pem) = start_tls_server_answering(settings, Answers::LikeAws).await;
    let http = TlsHttp::trusting(&pem);
    let mut failures = Vec::new();
    for _ in 0..3 {
        let error = tls_s3_client(
            addr,
            http.clone(),
            Credentials::from_keys(AK, SK, None),
            false,
        )
        .put_object()
        .bucket("bucket")
        .key("big")
        .body(aws_sdk_s3::primitives::ByteStream::from(vec![
            b'x';
            11 << 20
        ]))
        .send()
        .await
        .unwrap_err();
        let code = error
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e).map(str::to_owned));
        if code.as_deref() != Some("EntityTooLarge") {
            failures.push(describe(&error));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The same 11 MiB `PutObject` against the default layer, whose buffer (`max_body_bytes`,
/// 10 MiB) it is over: its SHA-256 is in its head, so the layer verifies it from there and
/// passes the body on as it is read, held to that hash at its end, as S3 takes up to 5 GiB
/// in one PUT. The upload succeeds, and the service read all of it (the test service's ETag
/// is the SHA-256 of what it read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_puts_a_signed_body_past_the_buffer_over_tls() {
    let settings = LayerSettings::default();
    assert!(settings.max_body_bytes < 11 << 20);
    let (addr, pem) = start_tls_server_answering(settings, Answers::LikeAws).await;
    let data: Vec<u8> = (0..11u32 << 20).map(|i| (i % 251) as u8).collect();
    let output = tls_s3_client(
        addr,
        TlsHttp::trusting(&pem),
        Credentials::from_keys(AK, SK, None),
        false,
    )
    .put_object()
    .bucket("bucket")
    .key("big")
    .body(aws_sdk_s3::primitives::ByteStream::from(data.clone()))
    .send()
    .await
    .unwrap_or_else(|error| panic!("{}", describe(&error)));
    assert_eq!(
        output.e_tag(),
        Some(format!("\"{}\"", support::sha256_hex(&data)).as_str())
    );
}

/// botocore over HTTPS, an S3 upload whose source stalls mid-body for longer than the
/// layer's timeouts (2 s here: `body_idle_timeout` for the `aws-chunked` body botocore streams
/// by default, `body_timeout` for the one body it sends with `when_required` checksums) and
/// then sends the rest. The layer answers `RequestTimeout` (400), which S3 sends too and which
/// SDKs know to retry; the user should read that, as over plain HTTP, not a TLS failure: the
/// rest of the body is read and dropped behind the answer while the client sends it (within
/// one more idle timeout: the stall is 3 s), so that closing does not reset the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_sees_request_timeout_for_a_stall_mid_body_over_tls() {
    let mut settings = LayerSettings::default();
    settings.body_timeout = Duration::from_secs(2);
    settings.body_idle_timeout = Duration::from_secs(2);
    let (addr, pem) = start_tls_server_answering(settings, Answers::LikeAws).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let spec = json!({
        "scenario": "stall_tls", "addr": addr.to_string(), "ca_bundle": ca,
        "access_key": AK, "secret_key": SK, "stall": 3.0,
    });
    let results = run_json_script_beside_server(SCRIPT, spec).await;
    let wrong: Vec<&Value> = results
        .iter()
        .filter(|result| result["code"] != "RequestTimeout" || result["status"] != 400)
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
