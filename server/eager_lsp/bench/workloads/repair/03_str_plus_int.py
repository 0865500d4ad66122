# task: Build the text "Age: 30" from `age` in `message` and print it.
# check: message == "Age: 30"
age = 30
message = "Age: " + age
print(message)
