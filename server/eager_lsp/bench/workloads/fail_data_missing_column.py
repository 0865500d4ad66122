# A data pipeline that asks pandas for a column the data does not have.
import numpy as np
import pandas as pd

rng = np.random.default_rng(2)
df = pd.DataFrame({"city": rng.choice(["Oslo", "Lima", "Pune"], 50_000), "temp": rng.normal(15, 8, 50_000)})
print(df.describe())
monthly = df.assign(month=rng.integers(1, 13, len(df))).groupby(["city", "month"])["temp"].mean()
print(monthly.head())
humid = df[df["humidity"] > 80]
print("humid rows:", len(humid))
humid_share = len(humid) / len(df)
by_city = humid.groupby("city")["temp"].agg(["mean", "max", "count"])
print(by_city)
hottest = by_city["max"].idxmax()
print("hottest humid city:", hottest)
anomalies = df[(df["temp"] - df["temp"].mean()).abs() > 3 * df["temp"].std()]
print("anomalies:", len(anomalies))
result = {"humid_share": humid_share, "hottest": hottest, "anomalies": len(anomalies)}
result
