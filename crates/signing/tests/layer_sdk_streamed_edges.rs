//! aws-sdk-rust's streamed uploads at the edges: empty, one byte, one byte short of, exactly
//! at and one byte past its 64 KiB chunk, and two chunks, with each checksum, in both streamed
//! forms (signed chain with signed trailer over `http`, unsigned trailer over `https`). Each
//! verifies through the layer, and the service is handed the file the SDK sent (the ETag the
//! test server answers with is its SHA-256).
#![allow(clippy::unwrap_used)]

mod support;

use aws_credential_types::Credentials;
use aws_sdk_s3::types::ChecksumAlgorithm;
use edgeward_signing::LayerSettings;
use support::sdk::{s3_client, s3_client_as_if_tls, PlainHttp, UploadFile};
use support::{sha256_hex, start_server_answering, Answers, AK, SK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_rust_streamed_uploads_at_chunk_edges_verify() {
    let addr = start_server_answering(LayerSettings::default(), Answers::LikeAws).await;
    let algorithms = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];
    type Client = fn(std::net::SocketAddr, Credentials, &PlainHttp) -> aws_sdk_s3::Client;
    let clients: [Client; 2] = [s3_client, s3_client_as_if_tls];
    let mut failures = Vec::new();
    for len in [0u32, 1, 65_535, 65_536, 65_537, 131_072] {
        let upload = UploadFile::with_len(len);
        let etag = format!("\"{}\"", sha256_hex(&upload.contents));
        for client in clients {
            let http = PlainHttp::default();
            let s3 = client(addr, Credentials::from_keys(AK, SK, None), &http);
            for algorithm in algorithms.clone() {
                let what = format!("{len} bytes, {algorithm:?}");
                match upload.put_with(&s3, "key", Some(algorithm)).await {
                    Ok(put) => {
                        if put.e_tag() != Some(etag.as_str()) {
                            let form = http.last_sent().get("x-amz-content-sha256").cloned();
                            failures.push(format!("{what} {form:?}: ETag {:?}", put.e_tag()));
                        }
                    }
                    Err(e) => failures.push(format!(
                        "{what}: {:?} {e:?}",
                        http.last_sent().get("x-amz-content-sha256")
                    )),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
