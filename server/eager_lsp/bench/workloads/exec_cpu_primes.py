# Pure-Python number crunching: each step takes a good fraction of a second.
def sieve(limit):
    flags = bytearray([1]) * (limit + 1)
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytearray(len(flags[i * i :: i]))
    return [i for i, f in enumerate(flags) if f]


primes = sieve(8_000_000)
print("primes below 8e6:", len(primes))
twin_pairs = sum(1 for a, b in zip(primes, primes[1:]) if b - a == 2)
print("twin pairs:", twin_pairs)


def collatz_length(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


collatz_longest = max(range(1, 200_000), key=collatz_length)
print("longest Collatz start below 200000:", collatz_longest)
digit_sums = [sum(map(int, str(p))) for p in primes[:400_000]]
print("mean digit sum:", sum(digit_sums) / len(digit_sums))
goldbach = sum(1 for n in range(4, 8_000, 2) if any((n - p) in set(primes[:3000]) for p in primes[:50]))
print("even numbers checked:", goldbach)
