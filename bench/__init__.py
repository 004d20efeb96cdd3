"""Benchmarks of the NovelAI node pack against the in-process simulator (python -m bench)."""
