# task: Put the last of the names in `last` and print it.
# check: last == "c"
names = ["a", "b", "c"]
print(len(names), "names")
last = names[3]
print(last)
