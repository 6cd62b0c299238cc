# Real data: Chinook (unicode names, decimals, dates) survives SQLite -> SQLite and
# SQLite -> CSV (zstd) -> SQLite value for value.
need_datasets
original="$DATASETS/chinook/Chinook_Sqlite.sqlite"
expect_ok run "$CASE_DIR/all_tables.yaml"
for table in $(sqlite3 "$original" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
  # Compare every value as text; parallel writers may insert in another order, so sort.
  a=$(sqlite3 -csv "$original" "SELECT * FROM \"$table\"" | LC_ALL=C sort | md5sum)
  b=$(sqlite3 -csv "$OUT_DIR/copy.db" "SELECT * FROM \"$table\"" | LC_ALL=C sort | md5sum)
  expect_equal "$b" "$a" "table $table"
done
expect_ok run "$CASE_DIR/track_to_csv.yaml"
expect_ok run "$CASE_DIR/track_from_csv.yaml"
query='SELECT TrackId, Name, AlbumId, MediaTypeId, GenreId, Composer, Milliseconds, Bytes, printf("%.2f", UnitPrice) FROM Track ORDER BY TrackId'
a=$(sqlite3 -csv "$original" "$query" | md5sum)
b=$(sqlite3 -csv "$OUT_DIR/from_csv.db" "$query" | md5sum)
expect_equal "$b" "$a" "Track through CSV"
expect_equal "$(sqlite3 "$OUT_DIR/from_csv.db" 'SELECT count(*) FROM Track')" "3503" "Track rows"
