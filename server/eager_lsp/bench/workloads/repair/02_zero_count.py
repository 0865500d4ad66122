# task: Compute the mean of `items` in `mean` and print it.
# check: mean == 2.0
items = [1, 2, 3]
count = 0
mean = sum(items) / count
print(mean)
