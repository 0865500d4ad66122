# task: Count the days from 1 January to 1 March 2024 in `days` and print it.
# check: days == 60
from datetime import date
start = date(2024, 1, 1)
end = date(2024, 3, 1)
days = (end - start).days()
print(days)
