"""Benchmarks (``fervision bench``, ``fervision eval --bench``); measured, never asserted in unit tests."""
