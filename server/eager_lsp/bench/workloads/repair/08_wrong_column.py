# task: Convert the temperatures to Fahrenheit in the list `temps_f` and print it.
# check: temps_f == [68.0, 77.0, 86.0]
data = {"temp_c": [20, 25, 30], "city": ["A", "B", "C"]}
print("columns:", list(data))
temps_f = [c * 9 / 5 + 32 for c in data["temp"]]
print(temps_f)
