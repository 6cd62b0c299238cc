-- Issue 10. `pairs`: each row, with its copy then set to the row's partner in case.sh, must be
-- reported as different; the values hold U+001F (the row text's separator) and U+001E (its
-- escape character), NULLs, empty strings and texts that look like a NULL element.
-- `documents`: LONGTEXT, MEDIUMTEXT, LONGBLOB and JSON columns, whose logical types
-- (string(4294967295), ...) verify must spell and parse again to read a file target back. No JSON
-- `null` document: JSON Lines writes it as `null`, which reads back as SQL NULL (a limitation of
-- the format that verify rightly reports as a difference).
CREATE TABLE pairs (
  id INT PRIMARY KEY,
  a LONGTEXT,
  b LONGTEXT
) DEFAULT CHARSET=utf8mb4;

SET @us = CHAR(31 USING utf8mb4), @rs = CHAR(30 USING utf8mb4);
INSERT INTO pairs VALUES
  (0, CONCAT('x', @us, 'vy'), 'z'),
  (1, CONCAT('x', @rs), CONCAT(@us, 'y')),
  (2, @rs, @rs),
  (3, NULL, 'a'),
  (4, NULL, 'a'),
  (5, NULL, 'a'),
  (6, CONCAT('a', @us, 'n'), '');

CREATE TABLE documents (
  id INT PRIMARY KEY,
  doc JSON,
  note LONGTEXT,
  summary MEDIUMTEXT,
  title TINYTEXT,
  raw LONGBLOB
) DEFAULT CHARSET=utf8mb4;

INSERT INTO documents VALUES
  (1, '{"a": 1, "b": [true, null, "x"]}', 'note 1', 'summary 1', 'title 1', X'00ff1f1e'),
  (2, '{"nested": {"k": "ünïcödé 😀"}, "n": 1.50, "e": 1e3}', CONCAT('tab', CHAR(9), 'x'),
   '', '', X''),
  (3, '"just a string"', REPEAT('long text ', 50000), REPEAT('m', 70000), 't',
   REPEAT(X'ab', 100000)),
  (4, '{}', CONCAT('x', CHAR(31 USING utf8mb4), 'y'), NULL, NULL, NULL),
  (5, NULL, NULL, NULL, NULL, NULL),
  (6, '[1, 2, {"q": "say \\"hi\\""}]', 'line\nbreak', 'a,b;"c"', 'NULL', X'0a0d'),
  (7, '{"z":1,"a":2}', '', ' ', '\\N', X'5c4e');
