"""Folds the redis source's change log (mode: replicate) in SQLite into the keys it describes:
the rows from the last `sync` on, in (offset, index) order. Prints key, type and value as the
case prints the primary's keys (tab-separated, sorted)."""
import json
import sqlite3
import sys

rows = sqlite3.connect(sys.argv[1]).execute(
    'SELECT "offset", "index", op, key, type, value FROM changes ORDER BY "offset", "index"'
).fetchall()
start = max(i for i, row in enumerate(rows) if row[2] == "sync")
keys = {}
for offset, index, op, key, kind, value in rows[start:]:
    args = json.loads(value) if value and value.startswith("[") and op not in ("set", "set_keepttl", "snapshot") else None
    if op == "snapshot":
        if kind == "string":
            keys[key] = ("string", value)
        elif kind == "hash":
            keys[key] = ("hash", json.loads(value))
        elif kind == "list":
            keys[key] = ("list", json.loads(value))
        elif kind == "set":
            keys[key] = ("set", set(json.loads(value)))
        else:
            raise SystemExit(f"unexpected type {kind}")
    elif op in ("set", "set_keepttl"):
        keys[key] = ("string", value)
    elif op == "del":
        keys.pop(key, None)
    elif op == "hset":
        current = keys.setdefault(key, ("hash", {}))[1]
        for field, new in zip(args[0::2], args[1::2]):
            current[field] = new
    elif op == "incr":
        old = keys.get(key, ("string", "0"))[1]
        keys[key] = ("string", str(int(old) + 1))
    elif op == "rpush":
        keys.setdefault(key, ("list", []))[1].extend(args)
    elif op == "sadd":
        keys.setdefault(key, ("set", set()))[1].update(args)
    elif op == "rename":
        if key in keys:
            keys[args[0]] = keys.pop(key)
    elif op in ("flushdb", "flushall"):
        keys.clear()  # the job reads database 0 only: its flushdb empties what the fold holds
    elif op in ("expire", "persist", "synced", "sync"):
        pass
    else:
        raise SystemExit(f"the fold does not know op {op}")
for key in sorted(keys):
    kind, value = keys[key]
    if kind == "string":
        text = value
    elif kind == "hash":
        text = "\t".join(f"{f}\t{v}" for f, v in value.items())
    elif kind == "list":
        text = "\t".join(value)
    else:
        text = "\t".join(sorted(value))
    print(f"{key}\t{kind}\t{text}")
