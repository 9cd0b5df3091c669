"""Benchmarks: a generator of graphs shaped like ours and a query/load runner (see BENCHMARKS.md)."""
