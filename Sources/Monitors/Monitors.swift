// Monitors module: see docs/architecture.md.
