# task: Find the best of the scores in `best` and print it.
# check: best == 97
scores = [88, 97, 73, 91]
print("scores:", scores)
best = max(score)
print("best:", best)
