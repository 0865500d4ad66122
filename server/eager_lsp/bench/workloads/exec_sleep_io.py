# Waiting on slow "services": the work is waiting, not computing (uses time.sleep).
import time


def fetch(name, delay):
    time.sleep(delay)
    return {"name": name, "status": 200, "delay": delay}


users = fetch("users", 0.6)
print("users:", users["status"])
orders = fetch("orders", 0.8)
print("orders:", orders["status"])
inventory = fetch("inventory", 0.5)
print("inventory:", inventory["status"])
prices = fetch("prices", 0.7)
statuses = [r["status"] for r in (users, orders, inventory, prices)]
total_wait = sum(r["delay"] for r in (users, orders, inventory, prices))
print(f"all ok: {all(s == 200 for s in statuses)} after {total_wait:.1f}s of waiting")
