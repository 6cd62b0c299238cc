#!/usr/bin/env bash
# The server writing a table as CSV by itself, two statements at once over the two halves of
# the key range: outfile.sh DIR TABLE MIDDLE_KEY MARIADB_CLIENT_COMMAND...
set -euo pipefail
dir=$1 table=$2 middle=$3
shift 3
"$@" -e "SELECT * INTO OUTFILE '$dir/a.csv' FIELDS TERMINATED BY ','
  FROM bench.$table WHERE id < $middle" &
first=$!
"$@" -e "SELECT * INTO OUTFILE '$dir/b.csv' FIELDS TERMINATED BY ','
  FROM bench.$table WHERE id >= $middle" &
second=$!
wait "$first"
wait "$second"
