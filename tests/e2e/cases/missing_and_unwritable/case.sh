# Missing inputs and unwritable outputs fail fast with exit 3 and say what to fix.
mkdir -p "$OUT_DIR/incoming"
expect_error 3 "not found: source file: No file matches '$OUT_DIR/incoming/orders-*.csv'" \
  run "$CASE_DIR/missing_input.yaml"
expect_error 3 "not found: source sqlite: SQLite database '$OUT_DIR/nothing.db' does not exist" \
  run "$CASE_DIR/missing_sqlite.yaml"
sqlite3 "$OUT_DIR/shop.db" "CREATE TABLE orders (id INTEGER PRIMARY KEY); CREATE TABLE items (id INTEGER)"
expect_error 3 "not found: source sqlite: table 'ordrs' not found in SQLite database '$OUT_DIR/shop.db' (tables: items, orders)" \
  run "$CASE_DIR/missing_table.yaml"
# A regular file where a directory is needed: unwritable even for root.
echo "not a directory" >"$OUT_DIR/blocker"
expect_error 3 "not found: sink file: Cannot create directory '$OUT_DIR/blocker': Not a directory" \
  run "$CASE_DIR/unwritable_file.yaml"
expect_error 3 "not found: sink sqlite: cannot create SQLite database '$OUT_DIR/blocker/out.db': Not a directory" \
  run "$CASE_DIR/unwritable_sqlite.yaml"
if [[ $(id -u) -ne 0 ]]; then
  mkdir -p "$OUT_DIR/readonly" && chmod 555 "$OUT_DIR/readonly"
  expect_error 3 "permission denied: sink file: Directory '$OUT_DIR/readonly' is not writable: Permission denied" \
    run "$CASE_DIR/unwritable_file.yaml" --set "sink.path=$OUT_DIR/readonly/out.csv"
fi
