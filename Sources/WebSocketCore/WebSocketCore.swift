// WebSocketCore module: see docs/architecture.md.
