#!/usr/bin/env python3
"""Renders `sluice connectors --json` as the README's connector reference.

    build/release/bin/sluice connectors --json | scripts/connector-docs.py > section.md
    scripts/connector-docs.py --update README.md < connectors.json   # rewrite between markers
    scripts/connector-docs.py --check README.md < connectors.json    # exit 1 when stale

The option tables in the code are the single source: the README section is generated from
them, and the e2e case `readme_options` fails when the README is stale.
"""
import json
import sys

from readme_section import write_or_update

BEGIN = "<!-- BEGIN GENERATED CONNECTOR OPTIONS (scripts/connector-docs.py) -->"
END = "<!-- END GENERATED CONNECTOR OPTIONS -->"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(connectors):
    out = []
    for connector in connectors:
        sides = [side for side in ("source", "sink") if connector[side] is not None]
        out.append(f"#### `{connector['type']}` ({', '.join(sides)})")
        out.append("")
        out.append(connector["description"])
        out.append("")
        for side in sides:
            out.append(f"| {side} option | type | default | description |")
            out.append("| --- | --- | --- | --- |")
            for option in connector[side]:
                kind = "\\|".join(option["choices"]) if "choices" in option else option["type"]
                if "range" in option:
                    kind += f" {option['range']}"
                default = "**required**" if option["required"] else (
                    f"`{option['default']}`" if option["default"] else "")
                out.append(f"| `{option['name']}` | {kind} | {cell(default)} | "
                           f"{cell(option['description'])} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main():
    write_or_update(render(json.load(sys.stdin)), BEGIN, END,
                    "build/release/bin/sluice connectors --json | scripts/connector-docs.py "
                    "--update README.md")


if __name__ == "__main__":
    main()
