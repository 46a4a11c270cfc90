// Entry point: wires the connection, the state model and the renderers together.
