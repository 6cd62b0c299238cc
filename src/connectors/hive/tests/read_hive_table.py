#!/usr/bin/env python3
"""Independent readers of a Hive table of Parquet files, for the hive sink's tests.

  read_hive_table.py pyarrow ROOT KEYS    pyarrow.dataset with Hive partitioning
  read_hive_table.py duckdb ROOT KEYS     DuckDB's read_parquet(..., hive_partitioning)

KEYS is the partition keys, comma-separated ("dt,hr,country"; "-" for none), read as strings.
Prints "row<TAB>value..." per row: the file columns in order, then the partition values, in the
canonical text of read_parquet.py. Files and directories starting with '.' or '_' are skipped,
as Hive skips them.
"""
import os
import sys

import pyarrow as pa
import pyarrow.dataset as ds

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "formats", "parquet", "tests"))
from read_parquet import print_rows  # noqa: E402


def main():
    reader, root, keys = sys.argv[1], sys.argv[2], sys.argv[3]
    keys = [] if keys == "-" else keys.split(",")
    if reader == "pyarrow":
        partitioning = ds.partitioning(pa.schema([(k, pa.string()) for k in keys]),
                                       flavor="hive") if keys else None
        dataset = ds.dataset(root, format="parquet", partitioning=partitioning,
                             ignore_prefixes=[".", "_"])
        table = dataset.to_table()
    else:
        import duckdb
        pattern = os.path.join(root, *(["*"] * len(keys)), "*.parquet")
        connection = duckdb.connect()
        relation = connection.sql(
            "SELECT * FROM read_parquet(?, hive_partitioning = %s, hive_types_autocast = false)"
            % ("true" if keys else "false"), params=[pattern])
        table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") \
            else relation.arrow()
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
    # File columns in order, then the partition values in key order, whatever the reader did.
    names = [n for n in table.column_names if n not in keys] + keys
    print_rows(table.select(names))


if __name__ == "__main__":
    main()
