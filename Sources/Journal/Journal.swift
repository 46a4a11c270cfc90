// Journal module: see docs/architecture.md.
