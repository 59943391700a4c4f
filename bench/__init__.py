"""Benchmarks: `python -m bench.<name>`; each prints its figures as one JSON object on its last line."""
