#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs to build, test and benchmark.
# Skips apt-get entirely when everything is already installed.
#   scripts/install-deps.sh [--servers] [--bench] [--stress]
# --servers also installs the database servers (MariaDB, PostgreSQL, Redis) and fetches the JVM
# servers (Apache Kafka, Apicurio Registry, Hadoop's MiniDFSCluster, s3proxy, Hive's standalone
# metastore) from Maven Central into ~/.cache/sluice/maven (scripts/fetch-jvm-servers.sh; nothing
# when already there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  # build
  g++ cmake ninja-build ccache pkg-config
  # libraries (see README, "Dependencies")
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libsimdjson-dev
  libsqlite3-dev zlib1g-dev libzstd-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev sqlite3 python3
)
# The database client libraries are build dependencies (the mysql and postgres connectors).
packages+=(libmariadb-dev libpq-dev)
# MD5 for verification digests (the same function MariaDB and PostgreSQL compute in SQL).
packages+=(libssl-dev)
# The Kafka client library (the kafka connector; the tests link it already), and for its Avro
# format the Avro C library and libcurl (the schema registry's HTTP API).
packages+=(librdkafka-dev libavro-dev libcurl4-openssl-dev)
# The Redis client library (the redis connector).
packages+=(libhiredis-dev liblzf-dev)
# Parquet files: Thrift's C++ library and compiler (the file metadata; its headers need Boost)
# and snappy (Parquet's default page codec).
packages+=(libthrift-dev thrift-compiler libboost-dev libsnappy-dev)
# The venv of the file tests' independent readers, pyarrow, DuckDB and fastavro
# (scripts/python-venv.sh).
packages+=(python3-venv)
# The remote stores (src/io: WebHDFS, S3) use libcurl and OpenSSL (S3's SigV4), both listed above.
# Time zones for the server's cron schedules (src/server/cron.*): Howard Hinnant's date library,
# which reads the system tz database; GCC 12's libstdc++ has no std::chrono::tzdb.
packages+=(libhowardhinnant-date-dev)
# `sluice server`'s HTTP (the REST API, /metrics, the web UI; alert webhooks; `sluice apply`).
packages+=(libcpp-httplib-dev)
servers=0
bench=0
for flag in "$@"; do
  case "$flag" in
    # Real servers for the integration tests. The Kafka broker and the schema registry run on
    # Java 17 from jars on Maven Central, fetched with Maven (below); kcat creates their test
    # traffic, curl talks to the registry, openssl makes the broker's TLS certificates;
    # Prometheus scrapes `sluice server`'s /metrics in its test (promtool checks the format).
    --servers) servers=1
               packages+=(mariadb-server mariadb-client postgresql postgresql-client maven kcat
                          curl openssl redis-server prometheus)
               # Headless Chromium for the web UI's end-to-end test (tests/server/ui).
               packages+=(chromium) ;;
    # The peers the benchmarks compare against (kcat for Kafka; Debezium's embedded engine for
    # change data capture, built with Maven, bench/debezium), and GNU time for peak RSS.
    --bench) bench=1
             packages+=(mariadb-server mariadb-client postgresql postgresql-client mydumper
                        pgloader kcat time maven) ;;
    # `stress`, to prove the test suite on a loaded machine (`stress --cpu 2` beside ctest); not
    # for users.
    --stress) packages+=(stress) ;;
  esac
done
# Debian 12's Java is 17; a machine that has a java already keeps it. The JDK, not just the
# runtime: the Avro test runs an independent reader from its source file (java File.java
# compiles it in memory, which needs the jdk.compiler module), and the cdc benchmark compiles
# its Debezium peer.
if ((servers || bench)) && ! java --list-modules 2>/dev/null | grep -q '^jdk.compiler'; then
  packages+=(default-jdk-headless)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "Installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ((servers)); then
  "$root/scripts/fetch-jvm-servers.sh" kafka registry hdfs s3proxy metastore
fi
