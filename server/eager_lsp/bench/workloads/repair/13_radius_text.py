# task: Compute the area of a circle with the given radius in `area` and print it.
# check: abs(area - 12.566370614359172) < 1e-9
import math
radius = "2"
area = math.pi * radius ** 2
print(area)
