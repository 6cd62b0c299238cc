"""Writes a generated section into a README between its BEGIN and END markers (used by
connector-docs.py and api-docs.py)."""
import sys


def write_or_update(section, begin, end, regenerate, argv=None):
    """`--update PATH` rewrites PATH between the markers; `--check PATH` exits 1 when PATH's
    section differs (saying to run `regenerate`); otherwise prints the section."""
    argv = sys.argv if argv is None else argv
    if len(argv) == 3 and argv[1] == "--check":
        with open(argv[2], encoding="utf-8") as f:
            text = f.read()
        actual = text[text.index(begin) + len(begin):text.index(end)].strip()
        if actual != section.strip():
            print(f"{argv[2]}: the generated section is stale: run\n  {regenerate}",
                  file=sys.stderr)
            sys.exit(1)
    elif len(argv) == 3 and argv[1] == "--update":
        path = argv[2]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        start = text.index(begin) + len(begin)
        stop = text.index(end)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:start] + "\n" + section + text[stop:])
    else:
        sys.stdout.write(section)
