"""Corpus readers, cleaning, deduplication and ingest accounting."""
