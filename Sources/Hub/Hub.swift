// Hub module: see docs/architecture.md.
