print("ladderwire")
