// Ledger module: see docs/architecture.md.
