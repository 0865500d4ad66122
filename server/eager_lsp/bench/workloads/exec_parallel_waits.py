import time
def api(n):
    time.sleep(0.4)
    return n * n
a = api(1)
b = api(2)
c = api(3)
d = api(4)
e = api(5)
print(a + b + c + d + e)
