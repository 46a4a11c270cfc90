// Server module: see docs/architecture.md.
