# pagila travels PostgreSQL -> MariaDB; dumped through Sluice as canonical JSON Lines, every table
# holds the same values. Two documented changes of type are normalised before comparing:
# booleans arrive as MySQL BOOLEAN (TINYINT(1), read back as 1/0) and timestamptz as DATETIME(6)
# holding UTC (read back without the zone suffix).
need_servers
need_datasets
grep -v "OWNER TO" "$DATASETS/pagila/pagila-schema.sql" >schema.sql
psql_exec postgres "DROP DATABASE IF EXISTS e2e_pagila"
psql_exec postgres "CREATE DATABASE e2e_pagila"
psql_load e2e_pagila schema.sql
psql_load e2e_pagila "$DATASETS/pagila/pagila-data.sql"
mysql_exec "DROP DATABASE IF EXISTS e2e_pagila; CREATE DATABASE e2e_pagila"

expect_ok run "$CASE_DIR/postgres_to_mysql.yaml"
expect_ok verify "$CASE_DIR/postgres_to_mysql.yaml"
dump_jsonl postgres "{type: postgres, host: $SLUICE_TEST_PG_HOST, port: $SLUICE_TEST_PG_PORT, user: $SLUICE_TEST_PG_USER, password: \"$SLUICE_TEST_PG_PASSWORD\", database: e2e_pagila, tables: [\"*\"]}"
dump_jsonl mysql "{type: mysql, host: $SLUICE_TEST_MYSQL_HOST, port: $SLUICE_TEST_MYSQL_PORT, user: $SLUICE_TEST_MYSQL_USER, password: \"$SLUICE_TEST_MYSQL_PASSWORD\", database: e2e_pagila, tables: [\"*\"]}"
for file in "$OUT_DIR"/postgres/*.jsonl; do
  sed -i -E 's/":true([,}])/":1\1/g; s/":false([,}])/":0\1/g; s/\+00:00"/"/g' "$file"
  LC_ALL=C sort -o "$file" "$file"
done
expect_same_dumps postgres mysql
expect_equal "$(mysql_exec e2e_pagila 'SELECT COUNT(*) FROM payment')" \
  "$(psql_exec e2e_pagila 'SELECT count(*) FROM payment')" "payments"
# language.name is character(20): it arrives as PostgreSQL's text of it, without the padding.
expect_equal "$(mysql_exec e2e_pagila 'SELECT name, CHAR_LENGTH(name) FROM language WHERE language_id = 1')" \
  "$(printf 'English\t7')" "pagila language.name"

# And on to compressed CSV files, one per table.
expect_ok run "$CASE_DIR/mysql_to_files.yaml"
expect_ok verify "$CASE_DIR/mysql_to_files.yaml"
expect_equal "$(gzip -dc "$OUT_DIR/csv/rental.csv.gz" | wc -l)" "16045" "rental.csv lines"

mysql_exec "DROP DATABASE e2e_pagila"
psql_exec postgres "DROP DATABASE e2e_pagila"
