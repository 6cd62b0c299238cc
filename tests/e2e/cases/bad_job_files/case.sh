# A malformed job file is a configuration error (exit 2) naming file, line and column.
d=$CASE_DIR
expect_error 2 "config error: $d/unknown_key.yaml:6:3: unknown key 'tabel' in sink (type sqlite) (allowed: path, table, mode, create, commit_rows, journal_mode, synchronous, rows_per_insert)" \
  run "$d/unknown_key.yaml"
expect_error 2 "config error: $d/syntax.yaml:3:5: invalid YAML: end of map flow not found" \
  run "$d/syntax.yaml"
expect_error 2 "config error: $d/wrong_type.yaml:4:14: 'parallelism' in job must be an integer, got 'two'" \
  run "$d/wrong_type.yaml"
expect_error 2 "config error: $d/missing_type.yaml:2:9: missing required key 'type' in source (run \`sluice connectors\` to list the types)" \
  run "$d/missing_type.yaml"
expect_error 2 "config error: $d/unknown_connector.yaml:2:17: unknown source type 'oracle' (available: datagen, file, sqlite, postgres, mysql, kafka, redis)" \
  run "$d/unknown_connector.yaml"
unset SLUICE_E2E_UNSET_DIRECTORY
expect_error 2 "config error: $d/missing_variable.yaml:3:29: environment variable 'SLUICE_E2E_UNSET_DIRECTORY' is not set (write \${SLUICE_E2E_UNSET_DIRECTORY:-default} to give a default)" \
  run "$d/missing_variable.yaml"
expect_error 2 "config error: $d/bad_cast.yaml:4:18: unknown type 'integer64' (known: bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, decimal(p,s), string, bytes, date, time, timestamp, timestamp_tz, json)" \
  run "$d/bad_cast.yaml"
expect_error 2 "config error: Cannot read job file '$d/no_such_job.yaml': No such file or directory" \
  run "$d/no_such_job.yaml"
# `check` reports the same errors without running anything.
expect_error 2 "config error: $d/unknown_key.yaml:6:3: unknown key 'tabel' in sink (type sqlite) (allowed: path, table, mode, create, commit_rows, journal_mode, synchronous, rows_per_insert)" \
  check "$d/unknown_key.yaml"
# Nothing was written anywhere.
[[ ! -e out.db ]] || fail "a failed job created out.db"
