#!/usr/bin/env python3
"""Independent Parquet readers for ParquetWriter's tests: pyarrow and DuckDB.

  read_parquet.py pyarrow FILE     schema as pyarrow sees it, then the rows
  read_parquet.py duckdb FILE      schema as DuckDB types it, then the rows (DuckDB's own
                                   Parquet reader; its result handed over as Arrow)
  read_parquet.py statistics FILE  checks every row group's column statistics (min, max,
                                   null_count) against the values, as pyarrow reads both
  read_parquet.py check FILE       all three above in one process (sections start with
                                   "reader pyarrow", "reader duckdb", "statistics"), plus a
                                   "chunk" line per column chunk: codec and encodings
  read_parquet.py write-nested FILE
                                   writes a file with a list column (the reader refuses it)
  read_parquet.py write FILE COMPRESSION DATA_PAGE_VERSION
                                   writes the sample table below with pyarrow's defaults
                                   otherwise (dictionary, statistics), for the reader's tests

Rows print as "row<TAB>value<TAB>..." in the tests' canonical text, which the C++ test renders
too: NULL is \\N; floats are their IEEE bits in hex ("NaN" for any NaN); decimals, dates,
times and timestamps as Sluice writes them (core/decimal.h, core/temporal.h); bytes as \\x and
hex; backslash, tab, CR and LF in text escaped as \\\\ \\t \\r \\n.
"""
import decimal
import math
import os
import struct
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "testing"))
from canonical_text import date_text, escape, time_text, timestamp_text  # noqa: E402

def column_texts(array):
    """The canonical text of every value of a pyarrow array (None for NULL)."""
    t = array.type
    if pa.types.is_date32(t):
        return [None if v is None else date_text(v) for v in array.cast(pa.int32()).to_pylist()]
    if pa.types.is_time(t):
        if t.unit != "us":
            array = array.cast(pa.time64("us"))
        return [None if v is None else time_text(v) for v in array.cast(pa.int64()).to_pylist()]
    if pa.types.is_timestamp(t):
        if t.unit != "us":
            array = array.cast(pa.timestamp("us", t.tz))
        zone = t.tz is not None
        return [None if v is None else timestamp_text(v, zone)
                for v in array.cast(pa.int64()).to_pylist()]
    if pa.types.is_floating(t):
        fmt = ">f" if t.bit_width == 32 else ">d"
        return [None if v is None else ("NaN" if math.isnan(v) else struct.pack(fmt, v).hex())
                for v in array.to_pylist()]
    if pa.types.is_boolean(t):
        return [None if v is None else ("true" if v else "false") for v in array.to_pylist()]
    if pa.types.is_decimal(t):
        return [None if v is None else format(v, "f") for v in array.to_pylist()]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else "\\x" + v.hex() for v in array.to_pylist()]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return [None if v is None else v for v in array.to_pylist()]
    if pa.types.is_integer(t):
        return [None if v is None else str(v) for v in array.to_pylist()]
    if isinstance(t, pa.BaseExtensionType):  # JSON arrives as an extension of string
        return column_texts(array.storage)
    if pa.types.is_dictionary(t):
        return column_texts(array.cast(t.value_type))
    raise SystemExit("unexpected Arrow type %s" % t)


def print_rows(table):
    columns = [column_texts(table.column(i).combine_chunks()) for i in range(table.num_columns)]
    out = sys.stdout
    for row in range(table.num_rows):
        values = ("\\N" if c[row] is None else escape(c[row]) for c in columns)
        out.write("row\t" + "\t".join(values) + "\n")


def read_pyarrow(path):
    parquet_file = pq.ParquetFile(path)
    for column in parquet_file.schema:
        print("column\t%s\t%s\t%s\t%s\t%s" % (column.name, column.physical_type,
                                               column.logical_type, column.converted_type,
                                               "OPTIONAL" if column.max_definition_level
                                               else "REQUIRED"))
    print_rows(parquet_file.read())


def read_duckdb(path):
    import duckdb
    connection = duckdb.connect()
    relation = connection.sql("SELECT * FROM read_parquet(?)", params=[path]) \
        if hasattr(connection, "sql") else None
    for name, type_name in zip(relation.columns, relation.types):
        print("column\t%s\t%s" % (name, type_name))
    table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    print_rows(table)


def check_statistics(path):
    """Prints one line per column chunk; "ok" when pyarrow's statistics match the values."""
    parquet_file = pq.ParquetFile(path)
    metadata = parquet_file.metadata
    failures = 0
    for group in range(metadata.num_row_groups):
        table = parquet_file.read_row_group(group)
        for index in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(index)
            name = chunk.path_in_schema
            values = table.column(index).combine_chunks()
            if isinstance(values.type, pa.BaseExtensionType):
                values = values.storage
            stats = chunk.statistics
            problems = []
            if stats is None:
                problems.append("no statistics")
            else:
                if stats.null_count != values.null_count:
                    problems.append("null_count %s != %s" % (stats.null_count, values.null_count))
                non_null = values.drop_null()
                if pa.types.is_floating(values.type):
                    non_null = non_null.filter(pc.invert(pc.is_nan(non_null)))
                if len(non_null) > 0 and stats.has_min_max:
                    extremes = pc.min_max(non_null)
                    low, high = extremes["min"].as_py(), extremes["max"].as_py()
                    if isinstance(stats.min, bytes) and isinstance(low, str):  # JSON's
                        low, high = low.encode(), high.encode()
                    if stats.min != low or stats.max != high:
                        problems.append("min/max %r..%r != %r..%r" % (stats.min, stats.max,
                                                                      low, high))
                elif len(non_null) > 0 and not _oversized(non_null):
                    problems.append("no min/max")
            failures += bool(problems)
            print("statistics\t%d\t%s\t%s" % (group, name, "; ".join(problems) or "ok"))
    return failures


def _oversized(values):
    # The writer leaves out min/max values over 4 KiB.
    if pa.types.is_binary(values.type) or pa.types.is_string(values.type):
        return max(pc.binary_length(values).to_pylist()) > 4096
    return False


def sample_table():
    """Every type the reader maps, NULLs in each column, what pyarrow writes by default."""
    D = decimal.Decimal
    import datetime
    return pa.table({
        "b": pa.array([True, None, False, True], pa.bool_()),
        "i8": pa.array([-128, 127, None, 0], pa.int8()),
        "i16": pa.array([-32768, 32767, None, 1], pa.int16()),
        "i32": pa.array([-2**31, 2**31 - 1, None, 5], pa.int32()),
        "i64": pa.array([-2**63, 2**63 - 1, None, 5], pa.int64()),
        "u8": pa.array([0, 255, None, 1], pa.uint8()),
        "u16": pa.array([0, 65535, None, 1], pa.uint16()),
        "u32": pa.array([0, 2**32 - 1, None, 1], pa.uint32()),
        "u64": pa.array([0, 2**64 - 1, None, 1], pa.uint64()),
        "f32": pa.array([1.5, float("inf"), None, float("nan")], pa.float32()),
        "f64": pa.array([-0.0, float("-inf"), None, 1e300], pa.float64()),
        "d9": pa.array([D("-9999999.99"), D("0.01"), None, D("1.00")], pa.decimal128(9, 2)),
        "d18": pa.array([D("-999999999999999.999"), D("0.001"), None, D("1.000")],
                        pa.decimal128(18, 3)),
        "d38": pa.array([D("-" + "9" * 28 + "." + "9" * 10), D("1E-10"), None, D("0")],
                        pa.decimal128(38, 10)),
        "s": pa.array(["", "héllo", None, "😀 tab\there"], pa.string()),
        "bin": pa.array([b"", b"\x00\xff", None, b"abc"], pa.binary()),
        "date": pa.array([datetime.date(1, 1, 1), datetime.date(1969, 12, 31), None,
                          datetime.date(9999, 12, 31)], pa.date32()),
        "time": pa.array([0, 86_399_999_999, None, 1], pa.time64("us")),
        "ts": pa.array([-1, 0, None, 1_700_000_000_123_456], pa.timestamp("us")),
        "tstz": pa.array([-1, 0, None, 1_700_000_000_123_456], pa.timestamp("us", "UTC")),
        "ts_ms": pa.array([-1, 0, None, 1_700_000_000_123], pa.timestamp("ms")),
    })


def write_sample(path, compression, data_page_version):
    pq.write_table(sample_table(), path, compression=compression,
                   data_page_version=data_page_version)


def print_chunks(path):
    metadata = pq.ParquetFile(path).metadata
    for group in range(metadata.num_row_groups):
        for index in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(index)
            print("chunk\t%d\t%s\t%s\t%s" % (group, chunk.path_in_schema, chunk.compression,
                                              ",".join(sorted(chunk.encodings))))


def main(argv):
    if len(argv) >= 3 and argv[1] == "check":
        path = argv[2]
        print("reader pyarrow")
        read_pyarrow(path)
        print("reader duckdb")
        read_duckdb(path)
        print("statistics")
        check_statistics(path)
        print_chunks(path)
    elif len(argv) >= 3 and argv[1] == "write-nested":
        pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), argv[2])
    elif len(argv) >= 3 and argv[1] == "pyarrow":
        read_pyarrow(argv[2])
    elif len(argv) >= 3 and argv[1] == "duckdb":
        read_duckdb(argv[2])
    elif len(argv) >= 3 and argv[1] == "statistics":
        return 1 if check_statistics(argv[2]) else 0
    elif len(argv) >= 5 and argv[1] == "write":
        write_sample(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
