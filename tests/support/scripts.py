"""Model answers shared by the repair tests of the app layer, the CLI and the server."""

from __future__ import annotations

# Fails on line 3 (a KeyError: the key is 'Apple').
PRICES_BROKEN = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices['apple'] * 3\n"
    "print('total:', total)\n"
)
# What small models answered to a repair: everything that ran, again, then a fix.
PRICES_REPEATING_FIX = (
    "prices = {'Apple': 1.2, 'banana': 0.5}\n"
    "print('fruits:', list(prices))\n"
    "total = prices['Apple'] * 3\n"
    "print('total:', round(total, 2))\n"
)
