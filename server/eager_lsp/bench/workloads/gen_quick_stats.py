# Summary statistics of a small inline dataset, one quick statement at a time.
import math
import statistics

temperatures = [12.1, 13.4, 15.0, 14.2, 11.8, 16.5, 17.9, 18.3, 16.0, 14.7, 13.1, 12.6]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
by_month = dict(zip(months, temperatures))
mean = statistics.mean(temperatures)
median = statistics.median(temperatures)
stdev = statistics.stdev(temperatures)
print(f"mean={mean:.2f} median={median:.2f} stdev={stdev:.2f}")
warmest = max(by_month, key=by_month.get)
coldest = min(by_month, key=by_month.get)
print("warmest:", warmest, "coldest:", coldest)
above = [m for m, t in by_month.items() if t > mean]
below = [m for m, t in by_month.items() if t <= mean]
spread = max(temperatures) - min(temperatures)
z_scores = {m: round((t - mean) / stdev, 2) for m, t in by_month.items()}
quarters = [temperatures[i : i + 3] for i in range(0, 12, 3)]
quarter_means = [round(sum(q) / len(q), 2) for q in quarters]
print("quarter means:", quarter_means)
rms = math.sqrt(sum(t * t for t in temperatures) / len(temperatures))
fahrenheit = [round(t * 9 / 5 + 32, 1) for t in temperatures]
changes = [round(b - a, 1) for a, b in zip(temperatures, temperatures[1:])]
biggest_jump = max(changes, key=abs)
print(f"rms={rms:.2f} spread={spread:.1f} biggest jump={biggest_jump}")
summary = {"mean": mean, "median": median, "above": len(above), "below": len(below)}
summary
