# task: Sort the values, leaving out the missing ones, into `ordered` and print it.
# check: ordered == [1, 2, 3]
values = [3, None, 1, 2]
ordered = sorted(values)
print(ordered)
