//! S3 clients with SigV4 signers written apart from botocore and the AWS SDKs for Python,
//! Rust and JavaScript, against a real S3 implementation behind `SigV4Layer`: s3cmd 2.4.0 and
//! MinIO's Python client (minio-py 7.2.20), pinned in the test venv; MinIO's JavaScript client
//! (minio-js 8.0.7), pinned among the Node.js peers; rclone (on the AWS SDK for Go v1) and
//! restic (on MinIO's Go client, minio-go), Debian's packages. The S3 is s3s-fs,
//! with no authentication of its own, behind a proxy that forwards what the layer verified
//! (the SigV4 parts removed, an `aws-chunked` body as the layer decoded it). Each tool makes a
//! bucket, writes, reads, lists, copies (all but minio-js) and deletes objects with awkward
//! keys, uploads in parts, presigns or backs up and restores, uses temporary keys, and reads a
//! refusal as AWS's, over http and TLS; s3cmd and restic also recover as they do from S3's
//! refusals (a region they did not sign for, against a layer that takes eu-west-1 alone;
//! SigV2). minio-py, minio-js and restic given no region ask for a bucket's (a location
//! request signed for us-east-1, which that layer takes by default) and sign for the answer;
//! another layer holds location requests to eu-west-1 too, and restic then recovers from its
//! refusal. `s3_tools.py` drives them, `minio_js.cjs` minio-js. From the review of independent
//! signers of 2026-12-05.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use edgeward_signing::{
    Accept, LayerSettings, LocationRequests, PayloadKind, VerifiedBody, VerifiedRequest,
    VerifierSettings,
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use serde_json::{json, Value};
use support::interop::{result_named, run_json_script_beside_server};
use support::s3s_fs::S3sFs;
use support::{
    self_signed_acceptor, serve_service, test_layer, test_layer_verifying, AK, SK, TEMP_AK,
    TEMP_SK, TOKEN,
};
use tower::Layer;

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// The query parameters of SigV4 query authentication, which s3s-fs must not see.
const QUERY_AUTHENTICATION: [&str; 7] = [
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
];

/// Headers that describe the request as signed and framed for the layer, not for s3s-fs.
const NOT_FORWARDED: [&str; 8] = [
    "authorization",
    "x-amz-content-sha256",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
    "x-amz-security-token",
    "content-length",
    "transfer-encoding",
    "expect",
];

/// The objects' keys, whose bytes each signer escapes its own way: sub-delimiters, spaces,
/// UTF-8 (composed and not), a tilde, a percent, nested prefixes. The scripts index them.
const OBJECT_KEYS: [&str; 6] = [
    "plain.txt",
    "dir/sub dir/a b.txt",
    "sub-delims (x)!'=;$@,.txt",
    "tilde~and%percent.txt",
    "caf\u{e9}/cafe\u{301} \u{43a}\u{43b}\u{44e}\u{447}.txt",
    "plus+sign.txt",
];

/// Which client sent which payload form, verified.
type PayloadForms = Arc<Mutex<BTreeSet<(&'static str, &'static str)>>>;

/// The client a `User-Agent` names, of those the script runs (s3cmd sends none).
fn client(user_agent: Option<&http::HeaderValue>) -> &'static str {
    let agent = user_agent
        .and_then(|agent| agent.to_str().ok())
        .unwrap_or_default();
    [
        "minio-go",
        "minio-py",
        "minio-js",
        "rclone",
        "Python-urllib",
    ]
    .into_iter()
    .find(|name| agent.contains(name))
    .unwrap_or(if agent.is_empty() { "s3cmd" } else { "other" })
}

fn payload_form(payload: &PayloadKind) -> &'static str {
    match payload {
        PayloadKind::Sha256 { .. } => "sha256",
        PayloadKind::Unsigned => "unsigned",
        PayloadKind::StreamingSigned { trailer: false } => "chunk-signed",
        PayloadKind::StreamingSigned { trailer: true } => "chunk-signed-trailer",
        PayloadKind::StreamingUnsignedTrailer => "unsigned-trailer",
        _ => "other",
    }
}

/// Forwards a verified S3 request to s3s-fs as an anonymous one; anything else is refused.
/// A service in `region` (`None`: us-east-1) names it in its answer to a bucket-location
/// request, which s3s-fs answers with us-east-1 whatever the bucket.
async fn forward(
    upstream: Upstream,
    s3s: SocketAddr,
    region: Option<&'static str>,
    forms: PayloadForms,
    request: http::Request<VerifiedBody<Incoming>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let answer = |status: u16, text: String| {
        Ok(http::Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(text)))
            .unwrap())
    };
    let service = request
        .extensions()
        .get::<VerifiedRequest>()
        .map(|verified| verified.scope().service.to_owned());
    if service.as_deref() != Some("s3") {
        return answer(400, format!("not a verified S3 request: {service:?}"));
    }
    if let Some(verified) = request.extensions().get::<VerifiedRequest>() {
        let client = client(request.headers().get(http::header::USER_AGENT));
        let form = payload_form(verified.payload());
        forms.lock().unwrap().insert((client, form));
    }
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return answer(400, format!("body failed: {} {e}", e.aws_error_code())),
    };
    // The query byte for byte, less the signature's parameters.
    let query: Vec<&str> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            // S3 reads an empty `delimiter` as none, s3s-fs as "" (every character a
            // prefix): minio-py sends one for a recursive listing.
            !pair.is_empty()
                && *pair != "delimiter="
                && !QUERY_AUTHENTICATION.contains(&name.to_ascii_lowercase().as_str())
        })
        .collect();
    let location_request =
        parts.method == http::Method::GET && matches!(query.as_slice(), ["location" | "location="]);
    let mut uri = format!("http://{s3s}{}", parts.uri.path());
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    let mut forwarded = http::Request::builder().method(&parts.method).uri(uri);
    for (name, value) in &parts.headers {
        if NOT_FORWARDED.contains(&name.as_str()) {
            continue;
        }
        if name == "content-encoding" {
            // The layer decoded `aws-chunked`; any other coding stays the object's.
            let codings: Vec<&str> = value
                .to_str()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            if !codings.is_empty() {
                forwarded = forwarded.header(name, codings.join(","));
            }
            continue;
        }
        forwarded = forwarded.header(name, value);
    }
    if !body.is_empty() || matches!(parts.method, http::Method::PUT | http::Method::POST) {
        forwarded = forwarded.header("content-length", body.len());
    }
    match upstream
        .request(forwarded.body(Full::new(body)).unwrap())
        .await
    {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            let mut body = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            if let (Some(region), true, true) =
                (region, location_request, parts.status.is_success())
            {
                body = Bytes::from(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint \
                     xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{region}</LocationConstraint>"
                ));
                parts.headers.remove(http::header::CONTENT_LENGTH);
            }
            Ok(http::Response::from_parts(parts, Full::new(body)))
        }
        Err(e) => answer(502, format!("s3s-fs: {e}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_s3_clients_through_the_layer_to_s3s_fs() {
    let s3s = S3sFs::start(None);
    let upstream: Upstream = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let s3s_addr = s3s.addr;
    // The defaults: s3cmd signs every part's SHA-256 and sends 15 MiB parts, past the 10 MiB
    // buffer, which the layer passes on as read and holds to that hash.
    let settings = LayerSettings::default();
    assert!(settings.max_body_bytes < 15 << 20);
    let forms = PayloadForms::default();
    let seen = forms.clone();
    let to_s3s = move |region: Option<&'static str>| {
        let (upstream, seen) = (upstream.clone(), seen.clone());
        tower::service_fn(move |request| {
            forward(upstream.clone(), s3s_addr, region, seen.clone(), request)
        })
    };
    let service = test_layer(settings.clone()).layer(to_s3s(None));
    let plain = serve_service(service.clone(), None).await;
    // Two services in eu-west-1: one whose layer takes a location request, and told its
    // domain `ListBuckets`, signed for any region (the default), one whose layer holds them
    // to eu-west-1 too.
    let mut one_region = VerifierSettings::default();
    one_region.regions = Accept::OneOf(vec!["eu-west-1".into()]);
    let mut told_its_domain = one_region.clone();
    told_its_domain.s3_domains = vec!["127.0.0.1".into()];
    let layer = test_layer_verifying(settings.clone(), told_its_domain);
    let eu_west_1 = serve_service(layer.layer(to_s3s(Some("eu-west-1"))), None).await;
    one_region.location_requests = LocationRequests::AcceptedRegionsOnly;
    let layer = test_layer_verifying(settings, one_region);
    let eu_west_1_strict = serve_service(layer.layer(to_s3s(Some("eu-west-1"))), None).await;
    let (acceptor, pem) = self_signed_acceptor(&["127.0.0.1"]);
    let tls = serve_service(service, Some(acceptor)).await;
    let scratch = tempfile::tempdir().unwrap();
    let ca = scratch.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let input = json!({
        "plain": plain.to_string(),
        "tls": tls.to_string(),
        "eu_west_1": eu_west_1.to_string(),
        "eu_west_1_strict": eu_west_1_strict.to_string(),
        "ca_bundle": ca,
        "workdir": scratch.path(),
        "alice": {"access_key": AK, "secret_key": SK},
        "keys": OBJECT_KEYS,
        "temporary": {"access_key": TEMP_AK, "secret_key": TEMP_SK, "token": TOKEN},
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3_tools.py");
    let mut results = run_json_script_beside_server(script, input.clone()).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/minio_js.cjs");
    results.extend(run_json_script_beside_server(script, input).await);
    let failed: Vec<&Value> = results.iter().filter(|r| r["ok"] != true).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for name in [
        "s3cmd_put_in_parts",
        "minio_put_in_parts",
        "minio_tls_put_in_parts",
        "rclone_put_in_parts",
        "rclone_tls_put_in_parts",
        "minio_js_put_in_parts",
        "minio_js_tls_put_in_parts",
    ] {
        let result = result_named(&results, name);
        assert!(result["parts"].as_u64().unwrap() >= 2, "{result}");
    }
    for (name, code) in [
        ("s3cmd_wrong_secret", "SignatureDoesNotMatch"),
        ("minio_wrong_secret", "SignatureDoesNotMatch"),
        ("minio_unknown_key", "InvalidAccessKeyId"),
        ("minio_presigned_get_tampered", "SignatureDoesNotMatch"),
        ("rclone_wrong_secret", "SignatureDoesNotMatch"),
        ("rclone_tls_wrong_secret", "SignatureDoesNotMatch"),
        ("minio_js_wrong_secret", "SignatureDoesNotMatch"),
        ("minio_js_tls_wrong_secret", "SignatureDoesNotMatch"),
    ] {
        let result = result_named(&results, name);
        assert_eq!(result["code"], code, "{result}");
    }
    // s3cmd set to sign with SigV2 read the refusal as S3's and signed again with SigV4.
    let v2 = result_named(&results, "s3cmd_signature_v2_signs_again_with_v4");
    assert_eq!(v2["recovered"], true, "{v2}");
    // s3cmd signed for another region read the one to use from the refusal's `<Region>`;
    // restic (minio-go), given no region, from the refusal of its location request by the
    // layer that holds location requests to eu-west-1 (its `x-amz-bucket-region` header,
    // which minio-go reads first: without `<Region>` it still finds it; without either,
    // neither tool does).
    let region = result_named(&results, "s3cmd_signs_again_for_the_region_named");
    assert_eq!(region["recovered"], true, "{region}");
    result_named(&results, "restic_finds_the_region_named");
    // minio-py, minio-js and restic, given no region, asked for the bucket's location signed
    // for us-east-1 and signed the rest for the answer's eu-west-1; held to eu-west-1, the
    // location request is refused, and minio-py and minio-js stop there. minio-py and
    // minio-js listed the buckets signed for us-east-1 (`ok` above); held to eu-west-1, that
    // is refused too.
    for name in ["minio_asks_for_the_region", "minio_js_asks_for_the_region"] {
        let asked = result_named(&results, name);
        assert_eq!(asked["region"], "eu-west-1", "{asked}");
        for code in ["strict_code", "strict_list_code"] {
            assert_eq!(asked[code], "AuthorizationHeaderMalformed", "{asked}");
        }
    }
    result_named(&results, "restic_asks_for_the_region");
    // restic reports no code or part count to check; these ran (and passed, above).
    for name in [
        "restic_restore",
        "restic_tls_restore",
        "restic_session_token",
        "restic_tls_wrong_secret",
    ] {
        result_named(&results, name);
    }
    // restic's uploads (minio-go's, over http) are signed chunk chains: a third
    // implementation of them, after the SDKs' and aws4's.
    let forms = forms.lock().unwrap().clone();
    for form in [
        ("minio-go", "chunk-signed"),
        ("rclone", "unsigned"),
        ("rclone", "sha256"),
        ("s3cmd", "sha256"),
        ("minio-py", "sha256"),
        ("minio-py", "unsigned"),
        ("minio-js", "sha256"),
        ("minio-js", "unsigned"),
    ] {
        assert!(forms.contains(&form), "{form:?} not among {forms:?}");
    }
    drop(s3s);
}
