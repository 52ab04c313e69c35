//! The stages of a plan at 1k, 10k and 100k people: load the file, read the snapshot, compute
//! the plan, render it. `cargo bench --bench core`; results in BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use clickup_members::bench;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

#[path = "../examples/generate.rs"]
#[allow(dead_code)]
mod generate;

fn stages(c: &mut Criterion) {
    for size in [1_000, 10_000, 100_000] {
        let generated = generate::generate(&generate::Options::new(size));
        let file = bench::load(&generated.members_yaml).expect("valid file");
        let workspace = bench::workspace(&generated.snapshot_json).expect("valid snapshot");
        let plan = bench::plan(&file, &workspace).expect("plan");

        let mut group = c.benchmark_group(format!("{size} people"));
        if size >= 100_000 {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(10));
        } else {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::new("load file", size), |b| {
            b.iter(|| bench::load(black_box(&generated.members_yaml)))
        });
        group.bench_function(BenchmarkId::new("read snapshot", size), |b| {
            b.iter(|| bench::workspace(black_box(&generated.snapshot_json)))
        });
        group.bench_function(BenchmarkId::new("plan", size), |b| {
            b.iter(|| bench::plan(black_box(&file), black_box(&workspace)))
        });
        group.bench_function(BenchmarkId::new("render text", size), |b| {
            b.iter(|| black_box(&plan).text())
        });
        group.bench_function(BenchmarkId::new("render json", size), |b| {
            b.iter(|| black_box(&plan).json())
        });
        group.bench_function(BenchmarkId::new("render markdown", size), |b| {
            b.iter(|| black_box(&plan).markdown())
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
