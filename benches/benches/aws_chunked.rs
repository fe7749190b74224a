//! Decoding `aws-chunked` bodies (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, no signatures, so the
//! decoder's own work) handed over in one piece, as hyper hands over up to ~400 KiB at once:
//!
//! - `aws_chunked/one_byte_chunks/{N}`: N chunks of one byte each, N = 25,000 and 100,000.
//!   Four times the chunks should take about four times as long; before c3b30b7 the decoder
//!   copied the rest of the piece for every chunk, and it took about sixteen times as long.
//! - `aws_chunked/one_chunk/100000`: the same 100,000 bytes as one chunk, the baseline: what
//!   the per-chunk work costs above copying the data out.
#![allow(clippy::unwrap_used)] // A bench: a failure should stop it loudly.
#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use edgeward_signing::ChunkChainVerifier;

fn one_byte_chunks(count: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(count * 6 + 5);
    for _ in 0..count {
        body.extend_from_slice(b"1\r\nx\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

fn one_chunk(len: usize) -> Vec<u8> {
    let mut body = format!("{len:x}\r\n").into_bytes();
    body.resize(body.len() + len, b'x');
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    body
}

fn decode(body: &[u8], decoded: usize) {
    let mut verifier = ChunkChainVerifier::unsigned();
    let mut out = Vec::with_capacity(decoded);
    verifier.push(body, &mut out).unwrap();
    verifier.finish().unwrap();
    assert_eq!(out.len(), decoded);
    black_box(out);
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("aws_chunked");
    for count in [25_000, 100_000] {
        let body = one_byte_chunks(count);
        group.bench_with_input(
            BenchmarkId::new("one_byte_chunks", count),
            &body,
            |b, body| b.iter(|| decode(body, count)),
        );
    }
    let body = one_chunk(100_000);
    group.bench_with_input(BenchmarkId::new("one_chunk", 100_000), &body, |b, body| {
        b.iter(|| decode(body, 100_000))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
