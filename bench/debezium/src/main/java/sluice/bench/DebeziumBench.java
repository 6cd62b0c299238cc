package sluice.bench;

import com.mysql.cj.MysqlConnection;
import com.mysql.cj.Query;
import com.mysql.cj.conf.ConnectionPropertiesTransform;
import com.mysql.cj.interceptors.QueryInterceptor;
import com.mysql.cj.log.Log;
import com.mysql.cj.protocol.Resultset;
import com.mysql.cj.protocol.ServerSession;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The peer of bench/cases/cdc: Debezium's embedded engine reading change events into a file.
 *
 * <pre>
 *   java -cp 'target/classes:target/lib/*' sluice.bench.DebeziumBench PROPS N OUT
 * </pre>
 *
 * PROPS is the engine's configuration (connector, database, offset and schema history files).
 * Each change event of a captured table (a record whose topic starts with the property
 * {@code topic.prefix} followed by a dot, with a value: heartbeats and tombstones are not
 * counted) is written to OUT as its JSON value, one line each, and acknowledged to the engine
 * (its offset is then committed at the engine's flush interval and when it stops).
 *
 * <p>N &gt; 0: the engine stops after N change events, OUT is flushed, and one line is printed
 * on stdout: {@code events=N engine_start_ms=.. first_event_ms=.. elapsed_ms=.. steady_ms=..}
 * (milliseconds since the program started: when the engine was created, when the first change
 * event arrived, when the N-th was written; steady_ms is from the first event to the N-th).
 *
 * <p>N = 0 (priming): the engine runs until the first heartbeat arrives (set {@code
 * heartbeat.interval.ms}: heartbeats come once the connector streams, after its snapshot, here
 * snapshot.mode=no_data), commits its offset and stops. The offset file then holds where the stream began, and the next run with
 * the same files resumes there, as a Sluice job resumes from the position its first run
 * recorded.
 *
 * <p>Exit code 0 on success; 1 when the engine stopped on its own (an error) first.
 *
 * <p>MariaDB: Debezium 3.6's MySQL connector takes MariaDB 10.11 for MySQL 10.11, newer than
 * 8.4, and asks for {@code SHOW BINARY LOG STATUS}, which MariaDB does not know (its own
 * connector, debezium-connector-mariadb, is not served by this machine's Maven mirror). {@link
 * MariaDbBinlogStatus} answers that statement with {@code SHOW MASTER STATUS}. Debezium drops a
 * {@code driver.queryInterceptors} property, so {@link MariaDbProperties} adds it when the driver
 * connects: set {@code driver.propertiesTransform=sluice.bench.DebeziumBench$MariaDbProperties}.
 * The binlog itself is read by mysql-binlog-connector-java, which knows MariaDB's events.
 */
public final class DebeziumBench {
  private DebeziumBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: DebeziumBench PROPS N OUT");
      System.exit(2);
    }
    final long start = System.nanoTime();
    final Properties props = new Properties();
    try (InputStream in = new FileInputStream(args[0])) {
      props.load(in);
    }
    final long wanted = Long.parseLong(args[1]);
    if (wanted == 0) {
      // Priming: the offset is committed as soon as the heartbeat is acknowledged.
      props.setProperty("offset.flush.interval.ms", "0");
    }
    final String dataTopicPrefix = props.getProperty("topic.prefix") + ".";
    final BufferedWriter out =
        Files.newBufferedWriter(Path.of(args[2]), StandardCharsets.UTF_8);

    final CountDownLatch done = new CountDownLatch(1);
    final AtomicReference<String> failure = new AtomicReference<>();
    final long[] count = {0};
    final long[] firstEvent = {-1};
    final long[] lastEvent = {-1};

    DebeziumEngine.ChangeConsumer<ChangeEvent<String, String>> consumer =
        (List<ChangeEvent<String, String>> records,
            DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer) -> {
          for (ChangeEvent<String, String> record : records) {
            if (done.getCount() == 0) {
              break;
            }
            if (wanted == 0) {
              committer.markProcessed(record);
              // A heartbeat comes from the stream: its offset has the snapshot completed (a
              // record of the snapshot phase would make the next run snapshot again, from the
              // binlog's end).
              if (record.destination() != null
                  && record.destination().startsWith("__debezium-heartbeat")) {
                done.countDown();
                break;
              }
              continue;
            }
            String value = record.value();
            String topic = record.destination();
            if (value != null && topic != null && topic.startsWith(dataTopicPrefix)) {
              if (firstEvent[0] < 0) {
                firstEvent[0] = System.nanoTime();
              }
              try {
                out.write(value);
                out.write('\n');
              } catch (IOException e) {
                failure.set("writing " + args[2] + ": " + e);
                done.countDown();
                break;
              }
              if (++count[0] == wanted) {
                lastEvent[0] = System.nanoTime();
                committer.markProcessed(record);
                done.countDown();
                break;
              }
            }
            committer.markProcessed(record);
          }
          committer.markBatchFinished();
        };

    final DebeziumEngine<ChangeEvent<String, String>> engine =
        DebeziumEngine.create(Json.class)
            .using(props)
            .notifying(consumer)
            .using((success, message, error) -> {
              if (done.getCount() != 0) {
                failure.set("the engine stopped: " + message + (error != null ? " " + error : ""));
                done.countDown();
              }
            })
            .build();
    final long engineStart = System.nanoTime();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);
    done.await();
    out.flush();
    out.close();
    final long end = System.nanoTime();
    // close() commits the offsets of the records marked processed (an engine that failed has
    // closed itself already).
    try {
      engine.close();
    } catch (IllegalStateException alreadyClosed) {
      // nothing to commit
    }
    executor.shutdown();
    executor.awaitTermination(60, TimeUnit.SECONDS);
    if (failure.get() != null) {
      System.err.println(failure.get());
      System.exit(1);
    }
    if (wanted > 0) {
      System.out.printf(
          "events=%d engine_start_ms=%d first_event_ms=%d elapsed_ms=%d steady_ms=%d%n",
          count[0], ms(engineStart - start), ms(firstEvent[0] - start), ms(lastEvent[0] - start),
          ms(lastEvent[0] - firstEvent[0]));
    } else {
      System.out.printf("primed in %d ms%n", ms(end - start));
    }
    System.exit(0);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** Installs {@link MariaDbBinlogStatus} on MySQL's JDBC driver's connections. */
  public static final class MariaDbProperties implements ConnectionPropertiesTransform {
    @Override
    public Properties transformProperties(Properties props) {
      props.setProperty("queryInterceptors", MariaDbBinlogStatus.class.getName());
      return props;
    }
  }

  /** Answers MySQL 8.4's SHOW BINARY LOG STATUS with SHOW MASTER STATUS (MariaDB's). */
  public static final class MariaDbBinlogStatus implements QueryInterceptor {
    private MysqlConnection connection;

    @Override
    public QueryInterceptor init(MysqlConnection conn, Properties props, Log log) {
      connection = conn;
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends Resultset> T preProcess(Supplier<String> sql, Query interceptedQuery) {
      String text = sql.get();
      if (text == null || !text.trim().equalsIgnoreCase("SHOW BINARY LOG STATUS")) {
        return null;
      }
      try {
        return (T) ((java.sql.Connection) connection)
            .createStatement()
            .executeQuery("SHOW MASTER STATUS");
      } catch (java.sql.SQLException e) {
        throw new RuntimeException(e);
      }
    }

    @Override
    public boolean executeTopLevelOnly() {
      return true;
    }

    @Override
    public void destroy() {}

    @Override
    public <T extends Resultset> T postProcess(
        Supplier<String> sql, Query interceptedQuery, T originalResultSet,
        ServerSession serverSession) {
      return null;
    }
  }
}
