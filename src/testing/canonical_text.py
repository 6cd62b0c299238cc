"""The canonical text the independent readers print values in (testing/independent_readers.h):
dates, times and timestamps from their raw day and microsecond counts, as Sluice writes them
(core/temporal.h), and the escaping of a tab-separated row.
"""

INT32_MAX = 2**31 - 1
MICROS_PER_DAY = 86_400_000_000


def escape(text):
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def civil_from_days(days):
    # Howard Hinnant's days_from_civil inverse, proleptic Gregorian, year 0 = 1 BC.
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d)


def date_text(days):
    if days == INT32_MAX:
        return "infinity"
    if days == -INT32_MAX - 1:
        return "-infinity"
    y, m, d = civil_from_days(days)
    if y <= 0:
        return "%04d-%02d-%02d BC" % (1 - y, m, d)
    return "%04d-%02d-%02d" % (y, m, d)


def fraction_text(micros):
    return ("." + ("%06d" % micros).rstrip("0")) if micros else ""


def time_text(micros):
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    seconds, fraction = divmod(micros, 1_000_000)
    return "%s%02d:%02d:%02d%s" % (sign, seconds // 3600, seconds // 60 % 60, seconds % 60,
                                   fraction_text(fraction))


def timestamp_text(micros, with_zone):
    if micros == 2**63 - 1:
        return "infinity"
    if micros == -2**63:
        return "-infinity"
    days, rest = divmod(micros, MICROS_PER_DAY)
    seconds, fraction = divmod(rest, 1_000_000)
    text = "%s %02d:%02d:%02d%s" % (date_text(days), seconds // 3600, seconds // 60 % 60,
                                     seconds % 60, fraction_text(fraction))
    return text + "+00:00" if with_zone else text
