"""Benchmark harness: the project measured beside the seed's stack (docs/performance.md)."""
