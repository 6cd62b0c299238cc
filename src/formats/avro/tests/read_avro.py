#!/usr/bin/env python3
"""An independent reader of Avro container files for the Avro tests: fastavro.

  read_avro.py FILE    "codec<TAB>name", a "column<TAB>name<TAB>type" line per field (the writer
                       schema's JSON of the non-null type), then the rows in the tests' canonical
                       text (testing/independent_readers.h)

fastavro reads with its logical-type readers switched off, so that dates, times and timestamps
arrive as their day and microsecond counts and decimals as their unscaled bytes: the canonical
text is made from those, for every value Avro can hold (Python's date, time and datetime stop at
the years 1 and 9999 and at 24 hours).
"""
import decimal
import json
import math
import os
import struct
import sys

import fastavro
import fastavro._read
import fastavro.read

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "testing"))
from canonical_text import date_text, escape, time_text, timestamp_text  # noqa: E402


def non_null(field_type):
    if isinstance(field_type, list):
        return next(t for t in field_type if t != "null")
    return field_type


def value_text(field_type, value):
    logical = field_type.get("logicalType") if isinstance(field_type, dict) else None
    base = field_type.get("type") if isinstance(field_type, dict) else field_type
    if logical == "date":
        return date_text(value)
    if logical == "time-micros":
        return time_text(value)
    if logical == "timestamp-micros":
        return timestamp_text(value, True)
    if logical == "local-timestamp-micros":
        return timestamp_text(value, False)
    if logical == "decimal":
        unscaled = int.from_bytes(value, "big", signed=True)
        # Built from the digits and exponent: arithmetic would round at the context's 28 digits.
        return format(decimal.Decimal("%dE-%d" % (unscaled, field_type.get("scale", 0))), "f")
    if base == "boolean":
        return "true" if value else "false"
    if base in ("float", "double"):
        if math.isnan(value):
            return "NaN"
        return struct.pack(">f" if base == "float" else ">d", value).hex()
    if base == "bytes":
        return "\\x" + value.hex()
    return str(value)


def main(path):
    # Raw values: both the compiled and the pure-Python reader keep a table of logical readers.
    fastavro._read.LOGICAL_READERS.clear()
    fastavro.read.LOGICAL_READERS.clear()
    with open(path, "rb") as file:
        header = fastavro.reader(file)
        writer_schema = header.writer_schema
        print("codec\t%s" % header.codec)
    fields = writer_schema["fields"]
    for field in fields:
        print("column\t%s\t%s" % (field["name"],
                                    json.dumps(non_null(field["type"]), sort_keys=True)))
    with open(path, "rb") as file:
        for record in fastavro.reader(file):
            values = []
            for field in fields:
                value = record[field["name"]]
                values.append("\\N" if value is None
                              else escape(value_text(non_null(field["type"]), value)))
            sys.stdout.write("row\t" + "\t".join(values) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
