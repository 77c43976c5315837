print("kltop")
