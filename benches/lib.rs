//! Criterion benchmarks for edgeward; the benches live in `benches/`.
