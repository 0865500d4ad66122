# Monte Carlo estimates: each step costs about as long as it takes to write.
import random

random.seed(0)
samples = 3_000_000
inside = sum(1 for _ in range(samples) if random.random() ** 2 + random.random() ** 2 <= 1.0)
pi_estimate = 4 * inside / samples
print("pi is about", pi_estimate)
walks = [sum(random.choice((-1, 1)) for _ in range(500)) for _ in range(5000)]
mean_distance = sum(abs(w) for w in walks) / len(walks)
print("mean random-walk distance:", round(mean_distance, 2))
dice = [random.randint(1, 6) + random.randint(1, 6) for _ in range(800_000)]
sevens = dice.count(7) / len(dice)
print("P(sum of two dice = 7) is about", round(sevens, 4))
birthdays = sum(1 for _ in range(40_000) if len(set(random.randrange(365) for _ in range(23))) < 23)
print("P(shared birthday among 23) is about", round(birthdays / 40_000, 3))
