# CSV -> SQLite -> CSV keeps every edge case; the second CSV is the canonical form.
expect_ok run "$CASE_DIR/to_sqlite.yaml"
expect_equal "$(sqlite3 "$OUT_DIR/edge.db" "SELECT quote(name) FROM edge WHERE id = 2")" "NULL" "NULL name"
expect_equal "$(sqlite3 "$OUT_DIR/edge.db" "SELECT quote(note) FROM edge WHERE id = 2")" "''" "empty note"
expect_equal "$(sqlite3 "$OUT_DIR/edge.db" "SELECT note FROM edge WHERE id = 1")" $'line one\nline two' "embedded newline"
expect_ok run "$CASE_DIR/to_csv.yaml"
expect_same "$OUT_DIR/edge.csv" "$CASE_DIR/expected.csv"
