# Classic dynamic programming problems, each a visible but short computation.
def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


left = "the benchmark measures hidden latency " * 40
right = "a benchmark measured the hidden latencies " * 40
distance = edit_distance(left, right)
print("edit distance:", distance)


def knapsack(weights, values, capacity):
    best = [0] * (capacity + 1)
    for w, v in zip(weights, values):
        for c in range(capacity, w - 1, -1):
            best[c] = max(best[c], best[c - w] + v)
    return best[capacity]


weights = [(i * 37) % 23 + 1 for i in range(400)]
values = [(i * 53) % 31 + 1 for i in range(400)]
best_value = knapsack(weights, values, 4000)
print("best knapsack value:", best_value)
partitions = [1] + [0] * 4000
for part in range(1, 4001):
    for total in range(part, 4001):
        partitions[total] += partitions[total - part]
print("partitions of 4000 has", len(str(partitions[4000])), "digits")
