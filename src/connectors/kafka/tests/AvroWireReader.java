// Test-only (kafka_avro_test): an independent reader of one message in the schema registry's
// wire format, with Apache Avro's Java library (the registry's jars), run as a single-file
// program: java -cp 'LIB/*' AvroWireReader.java SCHEMA_FILE MESSAGE_FILE. Prints the schema id,
// then each field as name=value (logical types converted: decimals, dates, times, timestamps;
// bytes as \x hex).
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Conversions;
import org.apache.avro.Schema;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

public class AvroWireReader {
  public static void main(String[] args) throws Exception {
    Schema schema = new Schema.Parser().parse(Files.readString(Path.of(args[0])));
    byte[] message = Files.readAllBytes(Path.of(args[1]));
    if (message.length < 5 || message[0] != 0) {
      throw new IllegalArgumentException("not the schema registry's wire format");
    }
    int id = ByteBuffer.wrap(message, 1, 4).getInt();
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new TimeConversions.DateConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(schema, schema, model);
    BinaryDecoder decoder =
        DecoderFactory.get().binaryDecoder(message, 5, message.length - 5, null);
    GenericRecord record = reader.read(null, decoder);
    if (!decoder.isEnd()) {
      throw new IllegalStateException("bytes left after the record");
    }
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    out.println("id " + id);
    for (Schema.Field field : schema.getFields()) {
      Object value = record.get(field.name());
      if (value instanceof ByteBuffer) {
        ByteBuffer bytes = (ByteBuffer) value;
        StringBuilder hex = new StringBuilder("\\x");
        while (bytes.hasRemaining()) {
          hex.append(String.format("%02x", bytes.get()));
        }
        value = hex;
      }
      out.println(field.name() + "=" + value);
    }
  }
}
