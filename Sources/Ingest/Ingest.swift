// Ingest module: see docs/architecture.md.
