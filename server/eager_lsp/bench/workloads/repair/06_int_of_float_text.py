# task: Parse the raw numbers and store their sum in `total`, then print it.
# check: abs(total - 6.5) < 1e-9
raw = ["1", "2.5", "3"]
numbers = [int(x) for x in raw]
total = sum(numbers)
print(total)
