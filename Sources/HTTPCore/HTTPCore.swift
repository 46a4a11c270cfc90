// HTTPCore module: see docs/architecture.md.
