# task: Count the words of `text` in `count` and print it.
# check: count == 4
text = "the quick brown fox"
count = text.count_words()
print(count)
