#!/usr/bin/env python3
"""The CSV route's second step: pyarrow reads the CSV files a dump wrote (all columns as the
CSV reader infers them) and writes one snappy Parquet file per CSV file.

  csv_to_parquet.py OUT_DIR CSV...
"""
import os
import sys

import pyarrow.csv as csv
import pyarrow.parquet as pq

out = sys.argv[1]
for path in sys.argv[2:]:
    table = csv.read_csv(path)
    pq.write_table(table, os.path.join(out, os.path.basename(path) + ".parquet"),
                   compression="snappy")
