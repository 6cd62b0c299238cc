#!/usr/bin/env python3
"""Validates OpenLineage run events against the official JSON schemas, an independent check of
what src/lineage renders.

    validate_events.py EVENTS.jsonl...

Each line of each file is one event. It must validate against the RunEvent of OpenLineage.json
(2-0-2), and every facet in it (run, job, dataset, input and output facets) against the facet
schema that defines its key, its _schemaURL naming that schema. The schemas are copies of the
OpenLineage repository's spec/ (tests/lineage/schema/, Apache-2.0). Formats (uuid, date-time,
uri) are checked too. Prints "ok: N events" and exits 0, or prints each problem and exits 1.
"""
import datetime
import json
import pathlib
import re
import sys
import urllib.parse

import jsonschema
import referencing

SCHEMA_DIR = pathlib.Path(__file__).resolve().parent / "schema"
RUN_EVENT_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"

# RFC 3339 date-time, as JSON Schema's "date-time" format means it.
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def format_checker():
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def is_date_time(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            return False
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return True

    @checker.checks("uri")
    def is_uri(value):
        if not isinstance(value, str):
            return True
        parsed = urllib.parse.urlparse(value)
        return bool(parsed.scheme) and " " not in value

    return checker


def load_schemas():
    """The registry of every schema by its $id, and the facet schemas by the facet key they
    define: key -> (schema $id, definition name)."""
    resources = []
    facets = {}
    for path in [SCHEMA_DIR / "OpenLineage.json"] + sorted((SCHEMA_DIR / "facets").glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
        if path.parent.name == "facets":
            for key, reference in contents["properties"].items():
                facets[key] = (contents["$id"], reference["$ref"].rsplit("/", 1)[1])
    registry = referencing.Registry().with_resources(resources)
    return registry, facets


def validator(registry, schema_id, checker):
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": schema_id}
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=checker)


def facet_containers(event):
    """(where, facets object) for every facet container of the event."""
    yield "run.facets", event.get("run", {}).get("facets", {})
    yield "job.facets", event.get("job", {}).get("facets", {})
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, dataset in enumerate(event.get(side, [])):
            yield f"{side}[{index}].facets", dataset.get("facets", {})
            if extra in dataset:
                yield f"{side}[{index}].{extra}", dataset[extra]


def problems_of(event, registry, facets, checker):
    problems = []
    # The whole document (one of RunEvent, DatasetEvent, JobEvent), then as a RunEvent: its
    # errors are the precise ones.
    if not validator(registry, RUN_EVENT_ID, checker).is_valid(event):
        problems.append("not valid under OpenLineage.json")
    run_event = validator(registry, RUN_EVENT_ID + "#/$defs/RunEvent", checker)
    for error in run_event.iter_errors(event):
        problems.append(f"RunEvent: {error.json_path}: {error.message}")
    if event.get("schemaURL") != RUN_EVENT_ID + "#/$defs/RunEvent":
        problems.append(f"schemaURL is {event.get('schemaURL')!r}")
    for where, container in facet_containers(event):
        for key, facet in container.items():
            if key not in facets:
                problems.append(f"{where}.{key}: no facet schema here defines '{key}'")
                continue
            schema_id, definition = facets[key]
            for error in validator(registry, schema_id, checker).iter_errors({key: facet}):
                problems.append(f"{where}.{key}: {error.json_path}: {error.message}")
            wanted_url = f"{schema_id}#/$defs/{definition}"
            if facet.get("_schemaURL") != wanted_url:
                problems.append(f"{where}.{key}: _schemaURL {facet.get('_schemaURL')!r}, "
                                f"expected {wanted_url!r}")
    return problems


def main(paths):
    registry, facets = load_schemas()
    checker = format_checker()
    count = 0
    failed = False
    for path in paths:
        for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            count += 1
            event = json.loads(line)
            for problem in problems_of(event, registry, facets, checker):
                failed = True
                print(f"{path}:{number}: {event.get('eventType')}: {problem}")
    if count == 0:
        print("no events to validate")
        return 1
    if failed:
        return 1
    print(f"ok: {count} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
