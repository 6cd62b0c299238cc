#!/usr/bin/env python3
"""Reads the Hive table the case writes on HDFS, through WebHDFS, the way a query engine sees
it: every file whose name does not start with '.' or '_' under the table's directory.

  check_table.py WEBHDFS_URL USER TABLE_DIR DOWNLOAD_DIR [--complete COUNT]

Downloads the visible files and reads them with pyarrow (and, with --complete, with DuckDB as a
Hive-partitioned dataset too). Always: no event in two files, each row in the partition of its
event hour, every file a whole Parquet file. With --complete: the events are exactly 0..COUNT-1
and every partition has _SUCCESS. Prints "files N rows M".
"""
import json
import os
import shutil
import sys
import urllib.request

import pyarrow.parquet as pq

url, user, table_dir, download = sys.argv[1:5]
complete = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--complete" else None


def call(path, op, **params):
    query = "&".join(["op=" + op, "user.name=" + user] + ["%s=%s" % kv for kv in params.items()])
    with urllib.request.urlopen("%s/webhdfs/v1%s?%s" % (url, urllib.parse.quote(path), query)) as r:
        return r.read()


def walk(path):
    try:
        listing = json.loads(call(path, "LISTSTATUS"))["FileStatuses"]["FileStatus"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return
        raise
    for entry in listing:
        name = entry["pathSuffix"]
        if name.startswith(".") or name.startswith("_"):
            if name == "_SUCCESS":
                yield path + "/" + name, "success"
            continue
        child = path + "/" + name
        if entry["type"] == "DIRECTORY":
            yield from walk(child)
        else:
            yield child, "file"


shutil.rmtree(download, ignore_errors=True)
os.makedirs(download)
seen = {}
files = 0
success = set()
partitions = set()
for path, kind in walk(table_dir):
    relative = path[len(table_dir) + 1:]
    if kind == "success":
        success.add(os.path.dirname(relative))
        continue
    assert relative.endswith(".parquet"), "unexpected visible file " + relative
    local = os.path.join(download, relative)
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with open(local, "wb") as out:
        out.write(call(path, "OPEN"))
    files += 1
    partition = os.path.dirname(relative)
    partitions.add(partition)
    table = pq.read_table(local)  # a file without its footer fails here
    dt = partition.split("/")[0].split("=")[1]
    hr = partition.split("/")[1].split("=")[1]
    for event_id, ts in zip(table.column("id").to_pylist(), table.column("ts").to_pylist()):
        assert event_id not in seen, "event %d in %s and %s" % (event_id, seen[event_id], relative)
        seen[event_id] = relative
        assert ts.strftime("%Y-%m-%d") == dt and ts.strftime("%H") == hr, \
            "event %d at %s in %s" % (event_id, ts, partition)

if complete is not None:
    missing = set(range(complete)) - set(seen)
    assert not missing, "%d events missing, e.g. %s" % (len(missing), sorted(missing)[:5])
    assert len(seen) == complete, (len(seen), complete)
    assert partitions <= success, "no _SUCCESS in %s" % sorted(partitions - success)
    import duckdb
    rows = duckdb.sql("SELECT count(*), count(DISTINCT id), min(hr), max(hr) FROM read_parquet("
                      "'%s/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)"
                      % download).fetchall()[0]
    assert rows[0] == complete and rows[1] == complete, rows
    assert (rows[2], rows[3]) == ("07", "14"), rows
print("files %d rows %d" % (files, len(seen)))
