//! `RawRequest::parse` (what `edgeward sign` and `edgeward verify` read) against what hyper 1's
//! server hands a service for the same bytes over a real socket: generated requests with odd
//! whitespace, name case, repeated headers, obs-fold, bare LF, framing, absolute form, odd
//! queries, UTF-8, obs-text and control bytes. Wherever both read a request they must read the
//! same one; where only RawRequest reads it, it must be an obs-fold (the AWS suite's files).
//! From the review of raw.rs against real parsers (2026-12-03).
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use edgeward_signing::{RawRequest, RawRequestLimits};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

/// What hyper handed the service (or that it refused / never completed the request).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hyper {
    Served {
        method: String,
        path: String,
        query: Option<String>,
        authority: Option<String>,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    /// hyper answered itself (parse error): its status.
    Refused(u16),
    /// No answer within the wait (hyper waits for more bytes).
    Incomplete,
}

fn encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A hyper 1 server (defaults, as the layer tests configure it) whose service answers a
/// dump of the request as JSON.
async fn start_dump_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |request: http::Request<Incoming>| async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.map(|c| c.to_bytes().to_vec());
                        let headers: Vec<(String, String)> = parts
                            .headers
                            .iter()
                            .map(|(n, v)| (n.as_str().to_owned(), encode(v.as_bytes())))
                            .collect();
                        let value = serde_json::json!({
                            "method": parts.method.as_str(),
                            "path": parts.uri.path(),
                            "query": parts.uri.query(),
                            "authority": parts.uri.authority().map(|a| a.as_str()),
                            "headers": headers,
                            "body": body.as_ref().map(|b| encode(b)).unwrap_or_else(|e| format!("ERR {e}")),
                        });
                        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                            Bytes::from(value.to_string()),
                        )))
                    },
                );
                let mut http = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                );
                // The client shuts its side down once it has sent: a request hyper still waits
                // on then ends at once (an error), while a complete one is answered.
                http.http1()
                    .half_close(true)
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5));
                let _ = http.serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}

/// Writes `bytes` on a fresh connection; reads one response (head + Content-Length body).
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Option<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&response[..at]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse::<usize>().unwrap())
                    .unwrap_or(0);
                if response.len() >= at + 4 + length {
                    let status = head[9..12].parse::<u16>().unwrap();
                    return Some((status, response[at + 4..at + 4 + length].to_vec()));
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().flatten()
}

async fn hyper_reads(addr: SocketAddr, bytes: &[u8]) -> Hyper {
    match exchange(addr, bytes).await {
        None => Hyper::Incomplete,
        Some((200, body)) if !body.is_empty() => {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            // The head came but the body never completed (the client shut its side down
            // short of the declared length): not a request hyper served.
            if v["body"].as_str().is_some_and(|b| b.starts_with("ERR")) {
                return Hyper::Incomplete;
            }
            Hyper::Served {
                method: v["method"].as_str().unwrap().to_owned(),
                path: v["path"].as_str().unwrap().to_owned(),
                query: v["query"].as_str().map(str::to_owned),
                authority: v["authority"].as_str().map(str::to_owned),
                headers: v["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h[0].as_str().unwrap().to_owned(),
                            hex::decode(h[1].as_str().unwrap()).unwrap(),
                        )
                    })
                    .collect(),
                body: hex::decode(v["body"].as_str().unwrap()).unwrap(),
            }
        }
        Some((200, _)) => Hyper::Refused(1200),
        Some((status, _)) => Hyper::Refused(status),
    }
}

/// RawRequest's reading in hyper's terms (names lowercased, values as bytes).
fn raw_reads(raw: &RawRequest) -> Hyper {
    Hyper::Served {
        method: raw.method.clone(),
        path: raw.path().to_owned(),
        query: raw.query().map(str::to_owned),
        authority: raw.authority().map(str::to_owned),
        headers: raw
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
            .collect(),
        body: raw.body.clone(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

use proptest::prelude::*;

fn eol() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\r\n"), Just("\n")]
}

fn path_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a".to_owned()),
        Just("%2F".to_owned()),
        Just("%20".to_owned()),
        Just("é".to_owned()),
        Just("~".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("+".to_owned()),
        Just("=".to_owned()),
        Just(":".to_owned()),
        Just("@".to_owned()),
        Just(";".to_owned()),
        Just("!$&'()*,".to_owned()),
        Just("%".to_owned()),
        Just("%zz".to_owned()),
        Just("[]".to_owned()),
        Just("#f".to_owned()),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|pieces| format!("/{}", pieces.join("/")))
}

fn query_strategy() -> impl Strategy<Value = Option<String>> {
    let param = prop_oneof![
        Just("a=1".to_owned()),
        Just("a=".to_owned()),
        Just("a".to_owned()),
        Just("=1".to_owned()),
        Just("".to_owned()),
        Just("b=%20+".to_owned()),
        Just("c=é".to_owned()),
        Just("d=a=b".to_owned()),
        Just("e=/?".to_owned()),
        Just("x-id=GetObject".to_owned()),
        Just("X-Amz-Signature=ab#top".to_owned()),
    ];
    proptest::option::of(proptest::collection::vec(param, 0..4).prop_map(|p| p.join("&")))
}

fn header_name() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        Just("host"),
        Just("x-amz-date"),
        Just("x-amz-meta-a"),
        Just("content-type"),
        Just("x-a"),
        Just("user-agent"),
        Just("expect"),
        Just("connection"),
        Just("te"),
        Just("upgrade"),
    ];
    (base, any::<u8>()).prop_map(|(name, mask)| {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if mask >> (i % 8) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"v".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"  ".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"\x00".to_vec()),
        Just(b"\x01".to_vec()),
        Just(b"\x7f".to_vec()),
        Just(b"\r".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"q\"".to_vec()),
        Just(b":".to_vec()),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}

#[derive(Debug, Clone)]
struct Generated {
    bytes: Vec<u8>,
}

fn request_strategy() -> impl Strategy<Value = Generated> {
    let method = prop_oneof![
        Just("GET"),
        Just("PUT"),
        Just("POST"),
        Just("get"),
        Just("M-SEARCH")
    ];
    let form = prop_oneof![
        4 => Just(""),
        1 => Just("http://example.com"),
        1 => Just("https://example.com:443"),
    ];
    let headers = proptest::collection::vec(
        (
            header_name(),
            header_value(),
            eol(),
            proptest::option::of(header_value()),
        ),
        0..6,
    );
    let body = proptest::collection::vec(any::<u8>(), 0..6);
    // 0: correct Content-Length; 1: none; 2: twice equal; 3: leading zeros; 4: wrong
    let framing = 0u8..5;
    let version = prop_oneof![
        8 => Just("HTTP/1.1"),
        1 => Just("HTTP/1.0"),
        1 => Just("HTTP/2.0"),
        1 => Just("HTTP/1.1x"),
    ];
    (
        (method, version),
        form,
        path_strategy(),
        query_strategy(),
        eol(),
        headers,
        body,
        framing,
        eol(),
    )
        .prop_map(
            |((method, version), form, path, query, first_eol, headers, body, framing, end_eol)| {
                let mut out = Vec::new();
                let target = match query {
                    Some(q) => format!("{form}{path}?{q}"),
                    None => format!("{form}{path}"),
                };
                out.extend_from_slice(format!("{method} {target} {version}{first_eol}").as_bytes());
                out.extend_from_slice(format!("Host: example.com{first_eol}").as_bytes());
                for (name, value, eol, fold) in &headers {
                    out.extend_from_slice(name.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(value);
                    out.extend_from_slice(eol.as_bytes());
                    if let Some(fold) = fold.as_ref().filter(|f| f.first() == Some(&b' ')) {
                        out.extend_from_slice(fold);
                        out.extend_from_slice(eol.as_bytes());
                    }
                }
                let n = body.len();
                match framing {
                    0 => {
                        out.extend_from_slice(format!("Content-Length: {n}{first_eol}").as_bytes())
                    }
                    1 => {}
                    2 => out.extend_from_slice(
                        format!("Content-Length: {n}{first_eol}content-length:{n}{first_eol}")
                            .as_bytes(),
                    ),
                    3 => out
                        .extend_from_slice(format!("Content-Length: 00{n}{first_eol}").as_bytes()),
                    _ => out.extend_from_slice(
                        format!("Content-Length: {}{first_eol}", n + 1).as_bytes(),
                    ),
                }
                out.extend_from_slice(end_eol.as_bytes());
                out.extend_from_slice(&body);
                Generated { bytes: out }
            },
        )
}

/// For every generated request both read: the same method, path, query, authority, headers
/// (names case-folded, in order) and body. Prints how often each side refused.
#[test]
fn raw_request_reads_what_hyper_reads() {
    let rt = runtime();
    let addr = rt.block_on(start_dump_server());
    let mut config = ProptestConfig::with_cases(1500);
    config.failure_persistence = None;
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let counts = std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new());
    let result = runner.run(&request_strategy(), |generated| {
        let bytes = &generated.bytes;
        let raw = RawRequest::parse(bytes, &RawRequestLimits::default());
        // What `edgeward verify` would go on to verify: a body needs a Content-Length.
        let reason = match &raw {
            Err(e) => e.to_string(),
            Ok(r) if !r.body.is_empty() && r.header("content-length").is_none() => {
                "body without Content-Length".into()
            }
            Ok(_) => String::new(),
        };
        let raw = raw
            .ok()
            .filter(|r| r.body.is_empty() || r.header("content-length").is_some());
        let hyper = rt.block_on(hyper_reads(addr, bytes));
        if raw.is_none() && matches!(hyper, Hyper::Served { .. }) {
            let reason = reason.split(':').next().unwrap_or_default().to_owned();
            *counts
                .lock()
                .unwrap()
                .entry(format!("raw refuses ({reason}), hyper serves"))
                .or_default() += 1;
        }
        let key = match (&raw, &hyper) {
            (None, Hyper::Served { .. }) => "raw refuses, hyper serves",
            (None, _) => "both refuse",
            (Some(_), Hyper::Served { .. }) => "both read",
            (Some(_), _) => "raw reads, hyper refuses",
        };
        *counts.lock().unwrap().entry(key.to_owned()).or_default() += 1;
        if let (Some(raw), Hyper::Served { .. }) = (&raw, &hyper) {
            // A HeaderMap iterates grouped by name: compare in that order.
            let group = |h: Hyper| match h {
                Hyper::Served {
                    method,
                    path,
                    query,
                    authority,
                    mut headers,
                    body,
                } => {
                    headers.sort_by(|a, b| a.0.cmp(&b.0));
                    Hyper::Served {
                        method,
                        path,
                        query,
                        authority,
                        headers,
                        body,
                    }
                }
                other => other,
            };
            let mine = group(raw_reads(raw));
            let theirs = group(hyper.clone());
            prop_assert_eq!(&mine, &theirs, "for {}", show(bytes));
        }
        if let (Some(_), Hyper::Refused(_) | Hyper::Incomplete) = (&raw, &hyper) {
            // Known, by design: obs-fold (the suite's files), a whitespace-only line.
            let folded = bytes.windows(2).any(|w| w == b"\n " || w == b"\n\t");
            prop_assert!(
                folded,
                "RawRequest reads, hyper refuses ({:?}): {}",
                hyper,
                show(bytes)
            );
        }
        Ok(())
    });
    println!("{:?}", counts.lock().unwrap());
    result.unwrap();
    // Each side of the comparison came up, or the test compared nothing.
    let counts = counts.into_inner().unwrap();
    assert!(
        counts.get("both read").copied().unwrap_or(0) > 50,
        "{counts:?}"
    );
}

/// Errors name the line of the file, leading empty lines (which the parser skips, as RFC 9112
/// 2.2 allows) counted: they counted from the request line before the review.
#[test]
fn error_line_numbers_count_leading_empty_lines() {
    use edgeward_signing::Error;
    for (text, line) in [
        ("GET / HTTP/1.1\nHost: h\nbad line\n\n", 3),
        ("\n\nGET / HTTP/1.1\nHost: h\nbad line\n\n", 5),
        (
            "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
            5,
        ),
        ("\n GET / HTTP/1.1\n\n", 2),
    ] {
        let error = RawRequest::parse(text.as_bytes(), &RawRequestLimits::default()).unwrap_err();
        assert!(
            matches!(error, Error::MalformedRawRequest { line: l, .. } if l == line),
            "{text:?}: expected line {line}, got: {error}"
        );
    }
}
