# A bad record is a data error (exit 4) naming file, line and column; nothing is published.
printf 'id,name,amount\n1,a,1.5\n2,b\n' >ragged.csv
printf 'id,name,amount\n1,a,1.5\n2,b,1,5\n' >extra.csv
printf 'id,name,amount\n1,a,1.5\n"2",c,x\n' >number.csv
printf 'id,name,amount\n1,caf\xe9,1.5\n' >utf8.csv
printf 'id,name,amount\n1,"unterminated,1.5\n' >quote.csv
INPUT=ragged.csv expect_error 4 "data error: source file: split 'ragged.csv': ragged.csv:3:1: expected 3 fields, got 2" run "$CASE_DIR/job.yaml" --fresh
INPUT=extra.csv expect_error 4 "data error: source file: split 'extra.csv': extra.csv:3:1: expected 3 fields, got 4" run "$CASE_DIR/job.yaml" --fresh
INPUT=number.csv expect_error 4 "data error: source file: split 'number.csv': number.csv:3:7: 'x' is not a number (column 'amount')" run "$CASE_DIR/job.yaml" --fresh
INPUT=utf8.csv expect_error 4 "data error: source file: split 'utf8.csv': utf8.csv:2:3: invalid UTF-8 in column 'name'" run "$CASE_DIR/job.yaml" --fresh
INPUT=quote.csv expect_error 4 "data error: source file: split 'quote.csv': quote.csv:2:3: unterminated quoted field" run "$CASE_DIR/job.yaml" --fresh
[[ ! -e "$OUT_DIR/out.csv" ]] || fail "a failed job published out.csv"
ls "$OUT_DIR" | grep -q inprogress && fail "a failed job left an in-progress file"
true
