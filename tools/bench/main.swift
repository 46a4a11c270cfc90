print("ladderwire-bench")
