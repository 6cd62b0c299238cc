// The binary log's events and row values without a server, built byte by byte from their
// documented layout: headers, group markers, TABLE_MAP metadata and column names, row images of
// version 1 and 2 row events, and the stored forms of DECIMAL, DATETIME2, TIME2, TIMESTAMP2,
// DATE, YEAR, ENUM, SET, BINARY, latin1 text and MEDIUMINT. The real server's bytes are the
// subject of mysql_cdc_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/mysql/mysql_binlog_events.h"
#include "connectors/mysql/mysql_binlog_rows.h"
#include "core/value_text.h"
#include "testing/gtest_util.h"

namespace sluice::connectors::mysql {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace field = binlog::field;

// Little-endian bytes, as the binlog stores integers; Big() for the packed temporal forms.
class Bytes {
 public:
  Bytes& Int(uint64_t value, size_t size) {
    for (size_t i = 0; i < size; ++i)
      bytes_.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
    return *this;
  }
  Bytes& Big(uint64_t value, size_t size) {
    for (size_t i = size; i > 0; --i)
      bytes_.push_back(static_cast<char>((value >> (8 * (i - 1))) & 0xFF));
    return *this;
  }
  Bytes& Text(std::string_view text) {
    bytes_.append(text);
    return *this;
  }
  Bytes& Counted(std::string_view text) {  // a length byte, then the text
    return Int(text.size(), 1).Text(text);
  }
  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

// An event: the 19-byte header around `body`, with a CRC32 placeholder when `checksum`.
std::string EventBytes(uint8_t type, const std::string& body, uint32_t next_position = 1000,
                       bool checksum = true) {
  uint32_t length = static_cast<uint32_t>(binlog::kHeaderSize + body.size() + (checksum ? 4 : 0));
  Bytes out;
  out.Int(1700000000, 4).Int(type, 1).Int(7, 4).Int(length, 4).Int(next_position, 4).Int(0, 2);
  out.Text(body);
  if (checksum)
    out.Int(0xDEADBEEF, 4);
  return out.str();
}

TEST(MysqlBinlogTest, HeadersAndGroupMarkersParseFromTheirLayout) {
  binlog::Event event;
  std::string bytes = EventBytes(binlog::kXidEvent, Bytes().Int(99, 8).str(), 2000);
  ASSERT_OK(binlog::ParseEvent(bytes, /*checksum=*/true, &event));
  EXPECT_EQ(event.header.type, binlog::kXidEvent);
  EXPECT_EQ(event.header.server_id, 7u);
  EXPECT_EQ(event.header.timestamp, 1700000000u);
  EXPECT_EQ(event.header.next_position, 2000u);
  EXPECT_EQ(event.header.position(), 2000u - bytes.size());
  EXPECT_EQ(event.body.size(), 8u);

  // MariaDB's GTID: sequence number, domain, flags (standalone: a DDL statement's group).
  bytes = EventBytes(binlog::kMariaGtidEvent,
                     Bytes().Int(42, 8).Int(3, 4).Int(1, 1).Int(0, 6).str());
  ASSERT_OK(binlog::ParseEvent(bytes, true, &event));
  binlog::GtidEvent gtid;
  ASSERT_OK(binlog::ParseMariaGtid(event, &gtid));
  EXPECT_EQ(gtid.gtid, "3-7-42");
  EXPECT_TRUE(gtid.standalone);

  // MySQL's GTID: flags, source UUID, transaction number.
  Bytes mysql_gtid;
  mysql_gtid.Int(1, 1);
  for (int byte : {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9,
                   0x42, 0x95, 0x62})
    mysql_gtid.Int(static_cast<uint64_t>(byte), 1);
  mysql_gtid.Int(23, 8);
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kGtidEvent, mysql_gtid.str()), true, &event));
  ASSERT_OK(binlog::ParseMysqlGtid(event, &gtid));
  EXPECT_EQ(gtid.gtid, "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");

  // QUERY: thread, time, database length, error, status length, status, database, NUL, text.
  binlog::Format format;
  Bytes query;
  query.Int(5, 4).Int(0, 4).Int(4, 1).Int(0, 2).Int(3, 2).Text("abc").Text("shop").Int(0, 1);
  query.Text("BEGIN");
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kQueryEvent, query.str()), true, &event));
  binlog::QueryEvent parsed;
  ASSERT_OK(binlog::ParseQuery(event, format, &parsed));
  EXPECT_EQ(parsed.database, "shop");
  EXPECT_EQ(parsed.statement, "BEGIN");

  ASSERT_OK(binlog::ParseEvent(
      EventBytes(binlog::kRotateEvent, Bytes().Int(4, 8).Text("binlog.000002").str()), true,
      &event));
  binlog::RotateEvent rotate;
  ASSERT_OK(binlog::ParseRotate(event, &rotate));
  EXPECT_EQ(rotate.position, 4u);
  EXPECT_EQ(rotate.file, "binlog.000002");
}

TEST(MysqlBinlogTest, FormatDescriptionSaysChecksumAndPostHeaderLengths) {
  Bytes body;
  body.Int(4, 2).Text(std::string("10.11.19-MariaDB") + std::string(34, '\0')).Int(0, 4);
  body.Int(19, 1).Text(std::string("\x38\x0d\x00\x08\x00", 5)).Int(1, 1);  // alg CRC32
  binlog::Format format;
  ASSERT_OK(binlog::ParseFormatDescription(
      EventBytes(binlog::kFormatDescriptionEvent, body.str()), &format));
  EXPECT_TRUE(format.checksum);
  EXPECT_EQ(format.server_version, "10.11.19-MariaDB");
  EXPECT_EQ(format.PostHeaderLength(binlog::kQueryEvent, 0), 13);
  EXPECT_EQ(format.PostHeaderLength(200, 8), 8);
}

// A TABLE_MAP of `types` (type, metadata bytes), with `names` as optional metadata when given.
std::string TableMapBody(const std::vector<std::pair<uint8_t, std::string>>& types,
                         const std::vector<std::string>& names) {
  Bytes body;
  body.Int(77, 6).Int(1, 2).Counted("shop").Int(0, 1).Counted("orders").Int(0, 1);
  body.Int(types.size(), 1);
  std::string metadata;
  for (const auto& [type, meta] : types) {
    body.Int(type, 1);
    metadata += meta;
  }
  body.Int(metadata.size(), 1).Text(metadata).Int(0xFF, (types.size() + 7) / 8);
  body.Int(1, 1).Int(1, 1).Int(0x80, 1);  // SIGNEDNESS: skipped
  if (!names.empty()) {
    std::string packed;
    for (const std::string& name : names)
      packed += Bytes().Counted(name).str();
    body.Int(4, 1).Int(packed.size(), 1).Text(packed);
  }
  return body.str();
}

TEST(MysqlBinlogTest, TableMapsCarryEachColumnsMetadataAndTheirNames) {
  std::vector<std::pair<uint8_t, std::string>> types = {
      {field::kLong, ""},
      {field::kVarchar, Bytes().Int(1020, 2).str()},
      {field::kNewDecimal, Bytes().Int(10, 1).Int(2, 1).str()},
      {field::kString, Bytes().Int(field::kEnum, 1).Int(1, 1).str()},
      // CHAR of 300 bytes: the length's high bits hide in the real type's byte.
      {field::kString, Bytes().Int(0xFE ^ ((300 & 0x300) >> 4), 1).Int(300 & 0xFF, 1).str()},
      {field::kBlob, Bytes().Int(2, 1).str()},
      {field::kDateTime2, Bytes().Int(6, 1).str()},
      {field::kBit, Bytes().Int(3, 1).Int(0, 1).str()},
  };
  std::vector<std::string> names = {"id", "name", "amount", "state", "code", "note", "at", "bits"};
  binlog::Event event;
  binlog::Format format;
  binlog::TableMapEvent map;
  std::string bytes = EventBytes(binlog::kTableMapEvent, TableMapBody(types, names));
  ASSERT_OK(binlog::ParseEvent(bytes, true, &event));
  ASSERT_OK(binlog::ParseTableMap(event, format, &map));
  EXPECT_EQ(map.table_id, 77u);
  EXPECT_EQ(map.database, "shop");
  EXPECT_EQ(map.table, "orders");
  ASSERT_EQ(map.columns.size(), 8u);
  EXPECT_EQ(map.columns[1].length, 1020u);
  EXPECT_EQ(map.columns[2].precision, 10);
  EXPECT_EQ(map.columns[2].scale, 2);
  EXPECT_EQ(map.columns[3].type, field::kEnum);
  EXPECT_EQ(map.columns[3].length, 1u);
  EXPECT_EQ(map.columns[4].type, field::kString);
  EXPECT_EQ(map.columns[4].length, 300u);
  EXPECT_EQ(map.columns[5].length, 2u);
  EXPECT_EQ(map.columns[6].fsp, 6);
  EXPECT_EQ(map.columns[7].bits, 3u);
  EXPECT_EQ(map.names, names);

  // Without binlog_row_metadata = FULL: no names.
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kTableMapEvent, TableMapBody(types, {})), true,
                               &event));
  ASSERT_OK(binlog::ParseTableMap(event, format, &map));
  EXPECT_TRUE(map.names.empty());

  // Cut short: an error naming the event.
  std::string cut = TableMapBody(types, names).substr(0, 20);
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kTableMapEvent, cut), true, &event));
  Status truncated = binlog::ParseTableMap(event, format, &map);
  EXPECT_FALSE(truncated.ok());
  EXPECT_THAT(truncated.message(), HasSubstr("TABLE_MAP is truncated"));
}

TEST(MysqlBinlogTest, RowEventsSplitIntoRowImages) {
  std::vector<binlog::ColumnType> columns(3);
  columns[0].type = field::kLong;
  columns[1].type = field::kVarchar;
  columns[1].length = 20;
  columns[2].type = field::kShort;
  binlog::Format format;
  binlog::Event event;
  binlog::RowsEvent rows;

  // Version 1 (MariaDB): table id, flags, column count, present bitmap, then the rows.
  Bytes write;
  write.Int(77, 6).Int(binlog::kStatementEndFlag, 2).Int(3, 1).Int(0b111, 1);
  write.Int(0b100, 1).Int(1, 4).Counted("ab");  // (1, 'ab', NULL)
  write.Int(0b000, 1).Int(2, 4).Counted("").Int(65535, 2);  // (2, '', -1)
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kWriteRowsEventV1, write.str()), true, &event));
  ASSERT_OK(binlog::ParseRowsEvent(event, format, &rows));
  EXPECT_EQ(rows.kind, binlog::RowsEvent::Kind::kWrite);
  EXPECT_EQ(rows.table_id, 77u);
  EXPECT_EQ(rows.column_count, 3u);
  std::vector<ImageValue> image;
  size_t offset = 0;
  ASSERT_OK(ReadRowImage(rows.rows, &offset, rows.present, columns, &image));
  EXPECT_EQ(image[0].state, ImageValue::State::kValue);
  EXPECT_EQ(image[1].bytes, std::string("\x02" "ab", 3));
  EXPECT_EQ(image[2].state, ImageValue::State::kNull);
  ASSERT_OK(ReadRowImage(rows.rows, &offset, rows.present, columns, &image));
  EXPECT_EQ(image[2].bytes, std::string("\xff\xff", 2));
  EXPECT_EQ(offset, rows.rows.size());

  // Version 2 (MySQL) update: extra data, both bitmaps; the after image leaves column 2 out.
  Bytes update;
  update.Int(77, 6).Int(0, 2).Int(4, 2).Int(0xABCD, 2).Int(3, 1).Int(0b111, 1).Int(0b011, 1);
  update.Int(0, 1).Int(1, 4).Counted("a").Int(5, 2);  // before
  update.Int(0, 1).Int(9, 4).Counted("b");             // after
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kUpdateRowsEvent, update.str()), true, &event));
  ASSERT_OK(binlog::ParseRowsEvent(event, format, &rows));
  EXPECT_EQ(rows.kind, binlog::RowsEvent::Kind::kUpdate);
  offset = 0;
  ASSERT_OK(ReadRowImage(rows.rows, &offset, rows.present, columns, &image));
  ASSERT_OK(ReadRowImage(rows.rows, &offset, rows.present_after, columns, &image));
  EXPECT_EQ(image[0].bytes, std::string("\x09\x00\x00\x00", 4));
  EXPECT_EQ(image[2].state, ImageValue::State::kAbsent);
  EXPECT_EQ(offset, rows.rows.size());

  // An image that runs past the event.
  offset = 0;
  std::string cut = std::string("\x00\x01\x00", 3);
  Status overrun = ReadRowImage(cut, &offset, rows.present, columns, &image);
  EXPECT_FALSE(overrun.ok());
  EXPECT_THAT(overrun.message(), HasSubstr("ends in column 1"));

  // Row events this reader cannot read say which setting makes them.
  ASSERT_OK(binlog::ParseEvent(EventBytes(binlog::kPartialUpdateRowsEvent, update.str()), true,
                               &event));
  Status partial = binlog::ParseRowsEvent(event, format, &rows);
  EXPECT_EQ(partial.code(), StatusCode::kUnsupported);
  EXPECT_THAT(partial.message(), HasSubstr("binlog_row_value_options"));
}

// Converts `value` of binlog type `type` into the logical type of MySQL column `spelling`.
struct Converted {
  Status status;
  std::optional<std::string> text;
};

Converted Convert(const std::string& spelling, const binlog::ColumnType& type,
                  const std::string& value, ZeroDates zero_dates = ZeroDates::kError,
                  const std::string& charset = "") {
  std::optional<ColumnInfo> info = ParseColumnType(spelling);
  EXPECT_TRUE(info.has_value()) << spelling;
  if (!charset.empty())
    info->charset = charset;
  SourceColumn column = MapSourceColumn(*info, zero_dates, GeometryFormat::kWkb, nullptr);
  EXPECT_TRUE(BinlogTypeFits(type, column)) << spelling;
  auto schema = std::make_shared<const Schema>(std::vector<Field>{Field{"c", column.type, true}});
  Batch batch(schema, 4);
  BinlogScratch scratch;
  Converted out;
  out.status = AppendBinlogValue(type, value, column, zero_dates, &batch.column(0), &scratch);
  if (out.status.ok() && !batch.column(0).IsNull(0)) {
    std::string text;
    AppendValueText(batch.column(0), 0, &text);
    out.text = text;
  }
  return out;
}

binlog::ColumnType Type(uint8_t type, uint32_t length = 0) {
  binlog::ColumnType out;
  out.type = type;
  out.length = length;
  return out;
}

binlog::ColumnType Fractional(uint8_t type, uint8_t fsp) {
  binlog::ColumnType out;
  out.type = type;
  out.fsp = fsp;
  return out;
}

TEST(MysqlBinlogTest, DecimalsDecodeToTheTextMysqlPrints) {
  std::string text;
  // MySQL's own example (strings/decimal.cc): 1234567890.1234 as DECIMAL(14,4).
  ASSERT_OK(DecodeBinlogDecimal("\x81\x0D\xFB\x38\xD2\x04\xD2", 14, 4, &text));
  EXPECT_EQ(text, "1234567890.1234");
  ASSERT_OK(DecodeBinlogDecimal("\x7E\xF2\x04\xC7\x2D\xFB\x2D", 14, 4, &text));
  EXPECT_EQ(text, "-1234567890.1234");
  ASSERT_OK(DecodeBinlogDecimal(std::string("\x80\x00\x00\x00\x00", 5), 10, 2, &text));
  EXPECT_EQ(text, "0.00");
  ASSERT_OK(DecodeBinlogDecimal("\x7F\x43\x9E\xB1\xA4", 10, 2, &text));
  EXPECT_EQ(text, "-12345678.91");
  EXPECT_FALSE(DecodeBinlogDecimal("\x80\x00", 10, 2, &text).ok());

  binlog::ColumnType decimal = Type(field::kNewDecimal);
  decimal.precision = 10;
  decimal.scale = 2;
  EXPECT_EQ(Convert("decimal(10,2)", decimal, "\x7F\x43\x9E\xB1\xA4").text, "-12345678.91");
  decimal.precision = 12;
  EXPECT_FALSE(BinlogTypeFits(
      decimal, MapSourceColumn(*ParseColumnType("decimal(10,2)"), ZeroDates::kError,
                               GeometryFormat::kWkb, nullptr)));
}

TEST(MysqlBinlogTest, DatesAndTimesDecodeFromTheirPackedForms) {
  // DATETIME2: 1 sign bit, year * 13 + month (17 bits), day, hour, minute, second; big-endian.
  uint64_t ymd = ((2024u * 13 + 2) << 5) | 29;
  uint64_t hms = (13u << 12) | (45u << 6) | 7;
  std::string datetime = Bytes().Big(((ymd << 17) | hms) + 0x8000000000ULL, 5).Big(123, 3).str();
  EXPECT_EQ(Convert("datetime(6)", Fractional(field::kDateTime2, 6), datetime).text,
            "2024-02-29 13:45:07.000123");
  // TIME2: a negative value's fraction counts down from the next second.
  EXPECT_EQ(Convert("time(1)", Fractional(field::kTime2, 1), "\x7F\xFF\xFF\xCE").text,
            "-00:00:00.5");
  uint64_t longest = (838u << 12) | (59u << 6) | 59;
  EXPECT_EQ(Convert("time", Fractional(field::kTime2, 0), Bytes().Big(0x800000 - longest, 3).str())
                .text,
            "-838:59:59");
  EXPECT_EQ(Convert("time(3)", Fractional(field::kTime2, 3),
                    Bytes().Big(0x800000 + longest, 3).Big(9990, 2).str())
                .text,
            "838:59:59.999");
  // TIMESTAMP2: seconds since the epoch (UTC), big-endian, then the fraction.
  EXPECT_EQ(Convert("timestamp(2)", Fractional(field::kTimestamp2, 2),
                    Bytes().Big(2147483647, 4).Big(99, 1).str())
                .text,
            "2038-01-19 03:14:07.99+00:00");
  // The zero timestamp and the zero date follow zero_dates.
  Converted zero = Convert("timestamp", Fractional(field::kTimestamp2, 0), Bytes().Big(0, 4).str());
  EXPECT_EQ(zero.status.code(), StatusCode::kDataError);
  EXPECT_THAT(zero.status.message(), HasSubstr("zero date '0000-00-00 00:00:00'"));
  EXPECT_EQ(Convert("date", Type(field::kDate), std::string(3, '\0'), ZeroDates::kNull).text,
            std::nullopt);
  EXPECT_EQ(Convert("date", Type(field::kDate), std::string(3, '\0'), ZeroDates::kString).text,
            "0000-00-00");
  // DATE: day (5 bits), month (4), year, little-endian.
  EXPECT_EQ(Convert("date", Type(field::kDate), Bytes().Int((1000u << 9) | (1 << 5) | 1, 3).str())
                .text,
            "1000-01-01");
  // MySQL 5.5's DATETIME: YYYYMMDDhhmmss as an integer.
  EXPECT_EQ(Convert("datetime", Type(field::kDateTime), Bytes().Int(99991231235959ULL, 8).str())
                .text,
            "9999-12-31 23:59:59");
}

TEST(MysqlBinlogTest, MembersPaddingCharsetsAndSmallIntegersReadAsTheSnapshotReadsThem) {
  EXPECT_EQ(Convert("enum('a','b''c')", Type(field::kEnum, 1), "\x02").text, "b'c");
  EXPECT_EQ(Convert("enum('a','b''c')", Type(field::kEnum, 1), std::string(1, '\0')).text, "");
  EXPECT_EQ(Convert("set('x','y','z')", Type(field::kSet, 1), "\x05").text, "x,z");
  // BINARY(4) is logged without its trailing zero bytes.
  EXPECT_EQ(Convert("binary(4)", Type(field::kString, 4), "\x02" "ab").text, "\\x61620000");
  EXPECT_EQ(Convert("varchar(10)", Type(field::kVarchar, 10), "\x08" "caf\xE9 \x80\xFF\x81",
                    ZeroDates::kError, "latin1")
                .text,
            "café €ÿ\xC2\x81");
  EXPECT_EQ(Convert("year", Type(field::kYear), "\xFF").text, "2155");
  EXPECT_EQ(Convert("year", Type(field::kYear), std::string(1, '\0')).text, "0");
  EXPECT_EQ(Convert("mediumint", Type(field::kInt24), "\xFF\xFF\xFF").text, "-1");
  EXPECT_EQ(Convert("mediumint unsigned", Type(field::kInt24), "\xFF\xFF\xFF").text, "16777215");
  binlog::ColumnType bits = Type(field::kBit);
  bits.bits = 3;
  EXPECT_EQ(Convert("bit(3)", bits, "\x05").text, "5");
  binlog::ColumnType geometry = Type(field::kGeometry, 4);
  std::optional<ColumnInfo> point = ParseColumnType("point");
  ASSERT_TRUE(point);
  SourceColumn spatial = MapSourceColumn(*point, ZeroDates::kError, GeometryFormat::kWkb, nullptr);
  EXPECT_TRUE(BinlogTypeFits(geometry, spatial));
  EXPECT_FALSE(BinlogTypeFits(Type(field::kLong), MapSourceColumn(*ParseColumnType("mediumint"),
                                                                   ZeroDates::kError,
                                                                   GeometryFormat::kWkb,
                                                                   nullptr)));
}

TEST(MysqlBinlogTest, ColumnsTheBinlogCannotBeReadForAreNamed) {
  auto refusal = [](const std::string& spelling, const std::string& charset = "",
                    GeometryFormat geometry = GeometryFormat::kWkb) {
    std::optional<ColumnInfo> info = ParseColumnType(spelling);
    if (!info) {
      info.emplace();
      info->data_type = spelling;
      info->column_type = spelling;
    }
    info->name = "c";
    if (!charset.empty())
      info->charset = charset;
    return BinlogReadRefusal(MapSourceColumn(*info, ZeroDates::kError, geometry, nullptr));
  };
  EXPECT_EQ(refusal("varchar(10)"), "");
  EXPECT_EQ(refusal("varchar(10)", "latin1"), "");
  EXPECT_EQ(refusal("point"), "");
  EXPECT_THAT(refusal("json"), HasSubstr("MySQL's JSON"));
  EXPECT_THAT(refusal("varchar(10)", "sjis"), HasSubstr("character set 'sjis'"));
  EXPECT_THAT(refusal("uuid"), HasSubstr("type 'uuid'"));
  EXPECT_THAT(refusal("point", "", GeometryFormat::kWkt), HasSubstr("geometry: wkb"));
}

}  // namespace
}  // namespace sluice::connectors::mysql
