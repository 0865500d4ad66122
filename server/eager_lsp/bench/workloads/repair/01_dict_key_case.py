# task: Store the price of 3 apples in `total` and print it.
# check: abs(total - 3.6) < 1e-9
prices = {"Apple": 1.2, "banana": 0.5}
print("fruits:", list(prices))
total = prices["apple"] * 3
print("total:", total)
