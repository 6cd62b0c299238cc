# Helpers shared by every CMakeLists.txt under src/, tests/ and bench/.

# sluice_add_test(NAME SOURCES... LIBS... [LABELS...] [SERVERS] [REGISTRY] [HDFS] [S3] [METASTORE]
#                 [PREFIX p] [RESOURCE_LOCK r]) builds a GoogleTest binary and registers every
#                 test in it with CTest.
# Labels (unit, integration, e2e, slow) let `ctest -L unit` pick a fast set. SERVERS makes the tests require the `servers` fixture (real
# MariaDB, PostgreSQL and Kafka started by scripts/test-servers.sh) and labels them integration;
# REGISTRY also requires the `registry` fixture (the schema registry, started on demand). HDFS, S3
# or METASTORE (one of them per binary) requires only the `hdfs`, `s3` or `metastore` fixture,
# whose servers start into an env file of their own (SLUICE_TEST_STORES_ENV), without the
# databases and Kafka. PREFIX names the CTest tests p.Suite.Test, so that `ctest -R p` selects a
# component's tests whatever their suites are called. RESOURCE_LOCK keeps its tests from running
# while another test holding the same lock runs (an e2e case names its lock in a line
# `# resource_lock: r`): redis_replication for the tests that need the Redis replica's backlog
# to cover their stops and the one that floods the replication stream.
set(SLUICE_TEST_SERVERS_ENV ${PROJECT_BINARY_DIR}/test-servers/env)
set(SLUICE_TEST_STORES_ENV ${PROJECT_BINARY_DIR}/test-servers/stores-env)
function(sluice_add_test name)
  cmake_parse_arguments(ARG "SERVERS;REGISTRY;HDFS;S3;METASTORE" "PREFIX;RESOURCE_LOCK"
                        "SOURCES;LIBS;LABELS" ${ARGN})
  if(ARG_REGISTRY)
    set(ARG_SERVERS TRUE)
  endif()
  if(NOT SLUICE_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} sluice_testing GTest::gtest_main GTest::gmock)
  if(NOT ARG_LABELS)
    if(ARG_SERVERS OR ARG_HDFS OR ARG_S3 OR ARG_METASTORE)
      set(ARG_LABELS integration)
    else()
      set(ARG_LABELS unit)
    endif()
  endif()
  set(properties LABELS "${ARG_LABELS}")
  if(ARG_RESOURCE_LOCK)
    list(APPEND properties RESOURCE_LOCK ${ARG_RESOURCE_LOCK})
  endif()
  if(ARG_REGISTRY)
    # One fixture name only: gtest_discover_tests splits list values. `registry` requires
    # `servers` (tests/CMakeLists.txt), so the servers are up from before to after these tests.
    list(APPEND properties FIXTURES_REQUIRED registry
         ENVIRONMENT "SLUICE_TEST_SERVERS_ENV=${SLUICE_TEST_SERVERS_ENV}")
  elseif(ARG_HDFS)
    list(APPEND properties FIXTURES_REQUIRED hdfs
         ENVIRONMENT "SLUICE_TEST_SERVERS_ENV=${SLUICE_TEST_STORES_ENV}")
  elseif(ARG_S3)
    list(APPEND properties FIXTURES_REQUIRED s3
         ENVIRONMENT "SLUICE_TEST_SERVERS_ENV=${SLUICE_TEST_STORES_ENV}")
  elseif(ARG_METASTORE)
    list(APPEND properties FIXTURES_REQUIRED metastore
         ENVIRONMENT "SLUICE_TEST_SERVERS_ENV=${SLUICE_TEST_STORES_ENV}")
  elseif(ARG_SERVERS)
    list(APPEND properties FIXTURES_REQUIRED servers
         ENVIRONMENT "SLUICE_TEST_SERVERS_ENV=${SLUICE_TEST_SERVERS_ENV}")
  endif()
  set(prefix_option)
  if(ARG_PREFIX)
    set(prefix_option TEST_PREFIX ${ARG_PREFIX}.)
  endif()
  gtest_discover_tests(${name} ${prefix_option} PROPERTIES ${properties} DISCOVERY_TIMEOUT 60)
endfunction()

# sluice_add_connector(NAME SOURCES... LIBS...) builds a connector library and records its
# registration function Register<Camel>Connector for the generated built-in list.
function(sluice_add_connector name)
  cmake_parse_arguments(ARG "" "REGISTER" "SOURCES;LIBS" ${ARGN})
  add_library(sluice_connector_${name} STATIC ${ARG_SOURCES})
  target_link_libraries(sluice_connector_${name} PUBLIC sluice_connectors_api ${ARG_LIBS})
  set_property(GLOBAL APPEND PROPERTY SLUICE_CONNECTORS ${name})
  set_property(GLOBAL APPEND PROPERTY SLUICE_CONNECTOR_FUNCTIONS ${ARG_REGISTER})
endfunction()

# sluice_add_benchmark(NAME SOURCES... LIBS...) builds a Google Benchmark binary.
function(sluice_add_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark_main)
endfunction()
