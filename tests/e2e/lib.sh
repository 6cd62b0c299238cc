# Helpers for end-to-end cases (sourced by run_case.sh).

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# sluice ARGS...: the binary under test, without the live progress line.
sluice() {
  "$SLUICE" "$@"
}

# expect_ok ARGS...: runs sluice and fails the case when it does not exit 0.
expect_ok() {
  local status=0
  "$SLUICE" "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  if [[ $status -ne 0 ]]; then
    cat "$OUT_DIR/.stdout" "$OUT_DIR/.stderr" >&2
    fail "sluice $* exited $status"
  fi
}

# expect_error CODE MESSAGE ARGS...: sluice must exit with CODE and print the line
# "sluice: MESSAGE" on stderr.
expect_error() {
  local code=$1 message=$2
  shift 2
  local status=0
  "$SLUICE" "$@" >"$OUT_DIR/.stdout" 2>"$OUT_DIR/.stderr" || status=$?
  if [[ $status -ne $code ]]; then
    cat "$OUT_DIR/.stderr" >&2
    fail "sluice $* exited $status, expected $code"
  fi
  if ! grep -qxF -- "sluice: $message" "$OUT_DIR/.stderr"; then
    echo "--- expected line:" >&2
    echo "sluice: $message" >&2
    echo "--- stderr was:" >&2
    cat "$OUT_DIR/.stderr" >&2
    fail "error text differs"
  fi
}

# expect_same ACTUAL EXPECTED: byte-for-byte equal files.
expect_same() {
  if ! cmp -s "$1" "$2"; then
    diff <(head -c 4000 "$2") <(head -c 4000 "$1") | head -40 >&2 || true
    fail "$1 differs from $2"
  fi
}

# expect_equal ACTUAL EXPECTED WHAT: equal strings.
expect_equal() {
  [[ "$1" == "$2" ]] || fail "$3: got '$1', expected '$2'"
}

# need_datasets: skips the case (exit 77) when the shared sample databases are absent.
need_datasets() {
  if [[ -z "$DATASETS" || ! -d "$DATASETS" ]]; then
    echo "SKIP: sample datasets not found (set SLUICE_DATASETS)"
    exit 77
  fi
}
