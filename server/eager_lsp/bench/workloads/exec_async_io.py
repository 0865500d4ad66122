# Awaiting simulated network requests with asyncio (I/O-bound, no CPU).
import asyncio


async def request(endpoint, latency):
    await asyncio.sleep(latency)
    return {"endpoint": endpoint, "bytes": len(endpoint) * 100}


async def gather_all(endpoints):
    return await asyncio.gather(*(request(e, 0.3) for e in endpoints))


profile = asyncio.run(request("/profile", 0.7))
print("profile:", profile)
feed = asyncio.run(gather_all(["/feed/1", "/feed/2", "/feed/3"]))
print("feed items:", len(feed))
settings = asyncio.run(request("/settings", 0.6))
notifications = asyncio.run(request("/notifications", 0.8))
total_bytes = sum(r["bytes"] for r in [profile, *feed, settings, notifications])
print("downloaded bytes:", total_bytes)
