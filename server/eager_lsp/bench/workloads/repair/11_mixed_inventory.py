# task: Count all items of the inventory in `total_items` and print it.
# check: total_items == 8
inventory = {"apples": 3, "pears": "5"}
print("kinds:", len(inventory))
total_items = sum(inventory.values())
print(total_items)
