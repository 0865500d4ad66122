# Sales analysis with pandas on a generated dataset.
import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
n = 200_000
sales = pd.DataFrame(
    {
        "region": rng.choice(["north", "south", "east", "west"], n),
        "product": rng.choice([f"p{i}" for i in range(50)], n),
        "units": rng.integers(1, 20, n),
        "price": rng.uniform(1.0, 100.0, n).round(2),
    }
)
sales["revenue"] = sales["units"] * sales["price"]
by_region = sales.groupby("region")["revenue"].sum().sort_values(ascending=False)
print(by_region)
top_products = sales.groupby("product")["revenue"].sum().nlargest(5)
print(top_products)
pivot = sales.pivot_table(index="region", columns="product", values="units", aggfunc="sum")
share = (pivot.div(pivot.sum(axis=1), axis=0) * 100).round(2)
print("largest share:", share.max().max())
sales["bucket"] = pd.cut(sales["price"], bins=[0, 10, 50, 100], labels=["low", "mid", "high"])
bucket_stats = sales.groupby("bucket", observed=True)["units"].describe()
bucket_stats
