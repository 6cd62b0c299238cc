package sluice.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.formats.parquet.ParquetWriterFactory;
import org.apache.flink.formats.parquet.row.ParquetRowDataBuilder;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.SimpleVersionedStringSerializer;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarCharType;

/**
 * The Flink peer of bench/cases/kafka_to_hive: one Kafka topic (all partitions, from the earliest
 * offsets to the latest ones as of the job's start) -> Parquet files (snappy) partitioned by the
 * event's hour as Hive does, OUTDIR/dt=YYYY-MM-DD/hr=HH/part-*.parquet, exactly-once (checkpoints
 * every 10 s, FileSink committing the files a checkpoint covers; the final ones when the input
 * ends). A local MiniCluster in this JVM, parallelism 2.
 *
 * <p>Usage: FlinkKafkaToParquet BOOTSTRAP TOPIC OUTDIR. Exits 0 when the job has finished.
 *
 * <p>Each message: {"id":123,"ts":"2026-12-04T09:13:00.123Z","user":"user-00042","country":"DE",
 * "amount":"12.34","note":"xxx"} -> id BIGINT, ts TIMESTAMP(3) (UTC; Parquet INT64
 * TIMESTAMP(MILLIS)), user, country, note STRING, amount DECIMAL(10,2). A message that is not such
 * an object fails the job.
 */
public final class FlinkKafkaToParquet {
  /** One message, typed. A Flink POJO (no Kryo): source and sink are chained, nothing copies it. */
  public static final class Event {
    public long id;
    public long tsMillis;
    public String user;
    public String country;
    public BigDecimal amount;
    public String note;

    public Event() {}
  }

  /** Parses a message's JSON with Jackson's streaming parser (fields in any order). */
  static final class EventDeserializer implements DeserializationSchema<Event> {
    private transient JsonFactory json;

    @Override
    public void open(InitializationContext context) {
      json = new JsonFactory();
    }

    @Override
    public Event deserialize(byte[] message) throws IOException {
      Event e = new Event();
      boolean id = false, ts = false;
      try (JsonParser p = json.createParser(message)) {
        if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          switch (name) {
            case "id" -> {
              e.id = p.getValueAsLong();
              id = true;
            }
            case "ts" -> {
              e.tsMillis = Instant.parse(p.getText()).toEpochMilli();
              ts = true;
            }
            case "user" -> e.user = p.getValueAsString();
            case "country" -> e.country = p.getValueAsString();
            case "amount" -> e.amount = new BigDecimal(p.getText()).setScale(2, RoundingMode.UNNECESSARY);
            case "note" -> e.note = p.getValueAsString();
            default -> p.skipChildren();
          }
        }
      }
      if (!id || !ts) throw new IOException("message without id or ts: " + new String(message));
      return e;
    }

    @Override
    public boolean isEndOfStream(Event next) {
      return false;
    }

    @Override
    public TypeInformation<Event> getProducedType() {
      return TypeInformation.of(Event.class);
    }
  }

  /** dt=YYYY-MM-DD/hr=HH of the event's time (UTC), as Hive partitions. */
  static final class HourAssigner implements BucketAssigner<Event, String> {
    private static final DateTimeFormatter HOUR =
        DateTimeFormatter.ofPattern("'dt='yyyy-MM-dd'/hr='HH").withZone(ZoneOffset.UTC);

    @Override
    public String getBucketId(Event e, Context context) {
      return HOUR.format(Instant.ofEpochMilli(e.tsMillis));
    }

    @Override
    public SimpleVersionedSerializer<String> getSerializer() {
      return SimpleVersionedStringSerializer.INSTANCE;
    }
  }

  static final RowType ROW =
      RowType.of(
          new LogicalType[] {
            new BigIntType(false),
            new TimestampType(3),
            new VarCharType(VarCharType.MAX_LENGTH),
            new VarCharType(VarCharType.MAX_LENGTH),
            new DecimalType(10, 2),
            new VarCharType(VarCharType.MAX_LENGTH)
          },
          new String[] {"id", "ts", "user", "country", "amount", "note"});

  /** Flink's RowData Parquet writer (the one of its SQL filesystem and Hive sinks), fed Events. */
  static final class EventParquetWriterFactory implements BulkWriter.Factory<Event> {
    private final ParquetWriterFactory<RowData> rows;

    EventParquetWriterFactory() {
      org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration(false);
      conf.set("parquet.compression", "SNAPPY");
      // INT64 TIMESTAMP(MILLIS) rather than Hive's legacy INT96.
      conf.setBoolean("parquet.write.int64.timestamp", true);
      conf.set("parquet.timestamp.time.unit", "millis");
      rows = ParquetRowDataBuilder.createWriterFactory(ROW, conf, /* utcTimestamp= */ true);
    }

    @Override
    public BulkWriter<Event> create(FSDataOutputStream out) throws IOException {
      BulkWriter<RowData> w = rows.create(out);
      return new BulkWriter<>() {
        @Override
        public void addElement(Event e) throws IOException {
          GenericRowData r = new GenericRowData(6);
          r.setField(0, e.id);
          r.setField(1, TimestampData.fromEpochMillis(e.tsMillis));
          r.setField(2, StringData.fromString(e.user));
          r.setField(3, StringData.fromString(e.country));
          r.setField(4, e.amount == null ? null : DecimalData.fromBigDecimal(e.amount, 10, 2));
          r.setField(5, StringData.fromString(e.note));
          w.addElement(r);
        }

        @Override
        public void flush() throws IOException {
          w.flush();
        }

        @Override
        public void finish() throws IOException {
          w.finish();
        }
      };
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: FlinkKafkaToParquet BOOTSTRAP TOPIC OUTDIR");
      System.exit(2);
    }
    String bootstrap = args[0], topic = args[1], outDir = args[2];

    Configuration conf = new Configuration();
    // A failure fails the run (the benchmark wants to know), after a few restarts from the last
    // checkpoint, which is what exactly-once is for.
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, conf);
    // Streaming with a bounded source: checkpoints happen (a BATCH job takes none), and when the
    // input ends the sink's last files are committed by the final checkpoint.
    env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
    env.enableCheckpointing(10_000, CheckpointingMode.EXACTLY_ONCE);

    KafkaSource<Event> source =
        KafkaSource.<Event>builder()
            .setBootstrapServers(bootstrap)
            .setTopics(topic)
            // Its committed offsets are not read (the start is the earliest offsets).
            .setGroupId("sluice-bench-flink")
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setBounded(OffsetsInitializer.latest())
            .setDeserializer(KafkaRecordDeserializationSchema.valueOnly(new EventDeserializer()))
            .build();

    FileSink<Event> sink =
        FileSink.forBulkFormat(new Path(outDir), new EventParquetWriterFactory())
            .withBucketAssigner(new HourAssigner())
            .withOutputFileConfig(
                OutputFileConfig.builder().withPartPrefix("part").withPartSuffix(".parquet").build())
            .build();

    env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka " + topic)
        .sinkTo(sink)
        .name("parquet " + outDir);
    try {
      env.execute("sluice bench: kafka -> parquet");
    } catch (Exception e) {
      // The causes, one a line (their stack traces are in the log).
      StringBuilder why = new StringBuilder("flink job failed (see flink.log beside OUTDIR)");
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        why.append("\n  ").append(t);
      }
      System.err.println(why);
      System.exit(1);
    }
  }
}
