# The schema registry of the test servers (scripts/test-servers.sh start-registry: Apicurio
# Registry's Confluent-compatible API) answers as Confluent's does, through curl: an Avro schema
# registered under a subject gets an id, the same schema gets the same id (under any subject),
# both read back by id and as the subject's latest version, and with BACKWARD compatibility a
# compatible change is a new version while an incompatible one is refused with 409.
need_schema_registry
registry=$SLUICE_TEST_SCHEMA_REGISTRY_URL
subject=smoke_orders_$$-value

# registry_call METHOD PATH [BODY]: prints the response body, then the HTTP status on its own line.
registry_call() {
  curl -sS -X "$1" -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    ${3:+--data "$3"} -w '\n%{http_code}\n' "$registry$2" || fail "curl $1 $registry$2 failed"
}
# json FIELD < JSON: one field of a JSON object.
json() {
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
# schema_request AVRO_JSON: the registry's request body {"schema": "<the schema as a string>"}.
schema_request() {
  python3 -c 'import json, sys; print(json.dumps({"schema": sys.argv[1]}))' "$1"
}

# Avro schemas as the registry stores them (compact JSON). v2 adds an optional field (BACKWARD
# compatible); the last one changes id's type (not).
record='{"type":"record","name":"Order","namespace":"sluice.test","fields":['
v1=$record'{"name":"id","type":"long"},{"name":"amount","type":"string"}]}'
v2=$record'{"name":"id","type":"long"},{"name":"amount","type":"string"},'
v2+='{"name":"note","type":["null","string"],"default":null}]}'
incompatible=$record'{"name":"id","type":"string"}]}'

registry_call POST "/subjects/$subject/versions" "$(schema_request "$v1")" >v1.out
expect_equal "$(tail -1 v1.out)" 200 "status of registering v1"
id1=$(head -1 v1.out | json id)
registry_call POST "/subjects/$subject/versions" "$(schema_request "$v1")" >again.out
expect_equal "$(head -1 again.out | json id)" "$id1" "id of v1 registered again"
registry_call POST "/subjects/other_$subject/versions" "$(schema_request "$v1")" >other.out
expect_equal "$(head -1 other.out | json id)" "$id1" "id of v1 under another subject"

registry_call GET "/schemas/ids/$id1" >by_id.out
expect_equal "$(head -1 by_id.out | json schema)" "$v1" "schema read by id"

registry_call PUT "/config/$subject" '{"compatibility":"BACKWARD"}' >config.out
expect_equal "$(tail -1 config.out)" 200 "status of setting BACKWARD"
registry_call POST "/subjects/$subject/versions" "$(schema_request "$v2")" >v2.out
expect_equal "$(tail -1 v2.out)" 200 "status of registering a compatible v2"
id2=$(head -1 v2.out | json id)
[[ $id2 != "$id1" ]] || fail "v2 got v1's id $id1"
registry_call POST "/subjects/$subject/versions" "$(schema_request "$incompatible")" >refused.out
expect_equal "$(tail -1 refused.out)" 409 "status of registering an incompatible schema"

registry_call GET "/subjects/$subject/versions" >versions.out
expect_equal "$(head -1 versions.out)" "[1,2]" "versions of $subject"
registry_call GET "/subjects/$subject/versions/latest" >latest.out
expect_equal "$(head -1 latest.out | json version)" 2 "latest version"
expect_equal "$(head -1 latest.out | json id)" "$id2" "id of the latest version"
expect_equal "$(head -1 latest.out | json schema)" "$v2" "latest schema"
