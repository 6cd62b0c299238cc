-- Every type whose canonical text MariaDB and PostgreSQL compute in SQL, with the values that
-- break naive renderings: trailing zeros, empty strings, NULLs, 4-byte UTF-8, every byte value,
-- microsecond edges, extremes.
CREATE TABLE typed (
  id BIGINT PRIMARY KEY,
  flag BOOLEAN,
  tiny TINYINT,
  small SMALLINT,
  medium MEDIUMINT,
  big BIGINT,
  ubig BIGINT UNSIGNED,
  y YEAR,
  bits BIT(5),
  amount DECIMAL(12,2),
  wide DECIMAL(65,30),
  name VARCHAR(100),
  body TEXT,
  kind ENUM('small', 'large'),
  tags SET('red', 'green', 'blue'),
  raw VARBINARY(300),
  d DATE,
  dt DATETIME(6),
  ts TIMESTAMP(6) NULL
) DEFAULT CHARSET=utf8mb4;

INSERT INTO typed
SELECT s, s % 3 = 0, s % 256 - 128, s % 65536 - 32768, s * 7 - 8000000,
       s * 1000003 - 3000000000, s * 4294967311, 1901 + s % 255, s % 32,
       (s % 100000) / 100 - 500, s / 7,
       IF(s % 11 = 0, NULL, CONCAT('name ', s, IF(s % 5 = 0, ' ünïcödé 😀', ''))),
       REPEAT(CONCAT('body ', s, ' '), s % 20),
       IF(s % 2 = 0, 'small', 'large'), IF(s % 4 = 0, 'red,blue', 'green'),
       UNHEX(MD5(s)),
       DATE '2000-01-01' + INTERVAL s DAY,
       TIMESTAMP '2001-02-03 04:05:06' + INTERVAL s * 37 SECOND + INTERVAL s % 1000 MICROSECOND,
       IF(s % 13 = 0, NULL, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL s * 1000001 MICROSECOND)
FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_30000) g;

INSERT INTO typed VALUES
  (-9223372036854775808, 0, -128, -32768, -8388608, -9223372036854775808, 0, 1901, 0,
   -9999999999.99, -99999999999999999999999999999999999.999999999999999999999999999999,
   '', '', 'small', '', '', '1000-01-01', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01'),
  (9223372036854775807, 1, 127, 32767, 8388607, 9223372036854775807, 18446744073709551615,
   2155, b'11111', 9999999999.99, 0.000000000000000000000000000001,
   'tab	and
newline', '🇺🇦 𝄞 𠜎', 'large', 'red,green,blue',
   X'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
   '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999'),
  (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0.00, 0, NULL, NULL, NULL, NULL, NULL, NULL,
   '2020-02-29 12:00:00.500000', NULL),
  (1000000, 1, 0, 0, 0, 0, 1, 2000, 1, 123.40, 1.500, 'x', 'x', 'small', 'red', X'00', '2000-02-29',
   '2000-02-29 23:59:59.000001', '2000-02-29 23:59:59.100000');

-- Columns SQL cannot render bit-exactly (floats) or alike on both servers (json): this table is
-- read through Sluice on both sides.
CREATE TABLE measured (
  id INT PRIMARY KEY,
  reading DOUBLE,
  ratio FLOAT,
  doc JSON
);
INSERT INTO measured
SELECT seq, seq / 3, seq / 7, JSON_OBJECT('n', seq, 'even', seq % 2 = 0) FROM seq_1_to_2000;

-- A composite string key: hash buckets instead of key ranges.
CREATE TABLE tagged (
  tag VARCHAR(40),
  n INT,
  note VARCHAR(40),
  PRIMARY KEY (tag, n)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO tagged
SELECT CONCAT('tag-', seq % 50, IF(seq % 7 = 0, '-ß', '')), seq, IF(seq % 9 = 0, NULL, CONCAT('note ', seq))
FROM seq_1_to_5000;
