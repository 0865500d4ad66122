# Configuration handling that fails early: a key the code expects is missing.
defaults = {"host": "localhost", "port": 8080, "debug": False}
overrides = {"port": 9090, "workers": 4}
config = {**defaults, **overrides}
print("config:", config)
timeout = config["timeout"]
retries = max(1, timeout // 10)
print("retries:", retries)
endpoints = [f"http://{config['host']}:{config['port']}/{p}" for p in ("a", "b", "c")]
print("endpoints:", endpoints)
worker_ids = [f"worker-{i}" for i in range(config["workers"])]
assignments = {w: endpoints[i % len(endpoints)] for i, w in enumerate(worker_ids)}
print("assignments:", assignments)
budget = {w: timeout / len(worker_ids) for w in worker_ids}
report_lines = [f"{w} -> {e} ({budget[w]:.1f}s)" for w, e in assignments.items()]
print("\n".join(report_lines))
healthy = all(e.startswith("http://") for e in endpoints)
summary = {"workers": len(worker_ids), "healthy": healthy, "timeout": timeout}
print("summary:", summary)
summary
