#!/usr/bin/env python3
"""Renders the server's OpenAPI document as the README's API reference.

    build/release/bin/sluice server --openapi | scripts/api-docs.py --update README.md
    build/release/bin/sluice server --openapi | scripts/api-docs.py --check README.md

The route table in src/server/api.cc is the single source (it also serves
/api/v1/openapi.json); the e2e case `readme_api` fails when the README is stale.
"""
import json
import sys

from readme_section import write_or_update

BEGIN = "<!-- BEGIN GENERATED API REFERENCE (scripts/api-docs.py) -->"
END = "<!-- END GENERATED API REFERENCE -->"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(document):
    out = ["| method | path | what it does | body | answer |", "| --- | --- | --- | --- | --- |"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = ""
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                body = ref.rsplit("/", 1)[1]
            success = min(code for code in operation["responses"] if code.startswith("2"))
            answer = success
            content = operation["responses"][success].get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            if "$ref" in schema:
                answer += " " + schema["$ref"].rsplit("/", 1)[1]
            query = [p["name"] for p in operation.get("parameters", [])
                     if p["in"] == "query" and p["name"] != "team"]
            shown = path + ("?" + "&".join(f"{q}=" for q in query) if query else "")
            auth = "" if operation["security"] else " (no token)"
            out.append(f"| {method.upper()} | `{cell(shown)}` | {cell(operation['summary'])}{auth} "
                       f"| {body} | {answer} |")
    out.append("")
    schemas = document["components"]["schemas"]
    out.append("Bodies and answers (JSON; times are RFC 3339 UTC):")
    out.append("")
    for name in sorted(schemas):
        properties = schemas[name].get("properties", {})
        if not properties:
            continue
        fields = ", ".join(f"`{field}`" for field in properties)
        out.append(f"- **{name}**: {fields}")
    return "\n".join(out).rstrip() + "\n"


def main():
    write_or_update(render(json.load(sys.stdin)), BEGIN, END,
                    "build/release/bin/sluice server --openapi | scripts/api-docs.py --update "
                    "README.md")


if __name__ == "__main__":
    main()
