# The Kafka broker of the test servers (scripts/test-servers.sh), end to end with kcat and the
# helpers of lib.sh: 1000 keyed messages through a 3-partition topic (count, content, one
# partition per key), a transaction committed by kcat's transactional producer (its messages
# and its commit marker), and the SASL/PLAIN listener (the right password in, a wrong one out).
need_servers
# kcat_sasl PASSWORD KCAT_ARGS...: kcat on the SASL/PLAIN listener as the test user.
kcat_sasl() {
  local password=$1
  shift
  kcat -b "$SLUICE_TEST_KAFKA_SASL_BOOTSTRAP" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanisms="$SLUICE_TEST_KAFKA_SASL_MECHANISM" \
    -X sasl.username="$SLUICE_TEST_KAFKA_SASL_USER" -X sasl.password="$password" "$@"
}

# --- 1000 keyed messages, 3 partitions.
topic=smoke_orders_$$
kafka_topic "$topic" 3
seq 1 1000 | awk '{ printf "customer-%d\torder-%d\n", $1 % 37, $1 }' >sent.tsv
kafka_produce "$topic" -K $'\t' <sent.tsv
kafka_consume "$topic" 2000 >received.tsv
expect_equal "$(wc -l <received.tsv)" 1000 "messages read back"
LC_ALL=C sort -o sent.tsv sent.tsv
LC_ALL=C sort -o received.tsv received.tsv
expect_same received.tsv sent.tsv
# Keys spread over every partition, and each key stays in one.
kafka_consume "$topic" 1000 -f '%p\t%k\n' | sort -u >key_partitions.tsv
expect_equal "$(cut -f1 key_partitions.tsv | sort -u | tr '\n' ' ')" "0 1 2 " "partitions used"
expect_equal "$(cut -f2 key_partitions.tsv | sort | uniq -d | wc -l)" 0 "keys in several partitions"
expect_equal "$(wc -l <key_partitions.tsv)" 37 "distinct keys"

# --- A transaction: kcat's transactional producer commits when its input ends. A read_committed
# consumer sees all 100 messages; the partition ends at offset 101, one past the commit marker.
topic=smoke_transaction_$$
kafka_topic "$topic" 1
seq 1 100 | kafka_produce "$topic" -X transactional.id="smoke-$$"
expect_equal "$(kafka_consume "$topic" 1000 -f '%s\n' | tr '\n' ' ')" \
  "$(seq 1 100 | tr '\n' ' ')" "messages of the committed transaction"
end_offset=$(kcat -Q -b "$SLUICE_TEST_KAFKA_BOOTSTRAP" -t "$topic:0:-1" -q | awk '{ print $NF }')
expect_equal "$end_offset" 101 "end offset after the commit marker"

# --- SASL/PLAIN: user sluice with its password produces and reads back; a wrong password is
# refused.
topic=smoke_sasl_$$
kafka_topic "$topic" 1
echo "through SASL/PLAIN" | kcat_sasl "$SLUICE_TEST_KAFKA_SASL_PASSWORD" -P -t "$topic" -q ||
  fail "SASL/PLAIN producer failed"
expect_equal "$(kcat_sasl "$SLUICE_TEST_KAFKA_SASL_PASSWORD" -C -t "$topic" -o beginning -e -q)" \
  "through SASL/PLAIN" "message read through SASL/PLAIN"
if kcat_sasl wrong-password -L -m 3 >/dev/null 2>sasl_refused.log; then
  fail "a wrong SASL password was let in"
fi
grep -q "Authentication failed" sasl_refused.log || {
  cat sasl_refused.log >&2
  fail "a wrong SASL password failed for another reason"
}
