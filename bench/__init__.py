"""Benchmarks: side-by-side comparisons reported as ratios (not part of the test suite)."""
