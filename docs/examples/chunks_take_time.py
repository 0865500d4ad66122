# Each `spin` call is ~0.1–0.2 s of CPU work; at 30 tokens/s the text streams for ~2.8 s.
def spin(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total

a = spin(3_000_000)
b = spin(3_000_000)
c = spin(3_000_000)
d = spin(3_000_000)
e = spin(3_000_000)
print("sum", a + b + c + d + e)
last = spin(3_000_000)
