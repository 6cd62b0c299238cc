#!/usr/bin/env python3
"""The case's events: COUNT JSON messages of about 100 bytes, deterministic, their event times
spread over six hours of 2026-12-04 in order, except every 97th which is two hours late."""
import json
import sys

count = int(sys.argv[1])
countries = ["DE", "FR", "IT", "ES", "PL", "NL", "SE", "Ünï"]
start = 9 * 3600
for i in range(count):
    second = start + (i * 6 * 3600) // count
    if i % 97 == 96:
        second -= 2 * 3600
    ts = "2026-12-04T%02d:%02d:%02d.%03dZ" % (second // 3600, second // 60 % 60, second % 60,
                                                i % 1000)
    event = {"id": i, "ts": ts, "user": "user-%05d" % (i * 7919 % 50000),
             "country": countries[i % len(countries)], "amount": "%d.%02d" % (i % 1000, i % 100),
             "note": "🚀" if i % 13 == 0 else "x" * (i % 9)}
    print(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
