# task: Parse the JSON text `payload` into the dict `data` and print the value of "b".
# check: data == {"a": 1, "b": 2}
import json
payload = '{"a": 1, "b": 2}'
data = json.load(payload)
print(data["b"])
