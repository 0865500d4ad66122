# A grade report that does real work, then divides by an empty group's size.
import random

random.seed(1)
students = [{"name": f"s{i}", "group": random.choice("ABC"), "score": random.randint(40, 100)} for i in range(5000)]
groups = {g: [s["score"] for s in students if s["group"] == g] for g in "ABCD"}
print({g: len(v) for g, v in groups.items()})
ranked = sorted(students, key=lambda s: s["score"], reverse=True)
print("best:", ranked[0]["name"], ranked[0]["score"])
histogram = {b: sum(1 for s in students if b <= s["score"] < b + 10) for b in range(40, 101, 10)}
print("histogram:", histogram)
averages = {g: sum(v) / len(v) for g, v in groups.items()}
print("averages:", averages)
best_group = max(averages, key=averages.get)
curve = {g: round(100 - a, 1) for g, a in averages.items()}
curved = [dict(s, score=min(100, s["score"] + curve[s["group"]])) for s in students]
passed = sum(1 for s in curved if s["score"] >= 60)
print("passed after the curve:", passed)
report = {"best_group": best_group, "passed": passed, "students": len(students)}
report
