#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Strict YAML -> JSON for the schema tests.

  yaml2json.py FILE                          print FILE as JSON; exit 1 if it is not
                                             exactly one valid YAML document
  yaml2json.py --validate SCHEMA FILE...     print "FILE: accept" or "FILE: reject: REASON"
                                             per file; exit 0 if all were accepted, else 1

Plain scalars are resolved by the YAML 1.2 core schema, as bpf-provision does,
not by PyYAML's YAML 1.1 rules: yes/no/on/off are strings, 0600 is the decimal
600, 0o600 is octal, there are no timestamps and no '<<' merge keys.  Duplicate
mapping keys are errors.  Integer (and other scalar) mapping keys become JSON
strings, so that pin_ids: {4: foo} is {"4": "foo"}.
"""

import json
import math
import re
import sys

import yaml

# libyaml when present: the same parser as the C validator's.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Base):
    """SafeLoader with YAML 1.2 core-schema resolution and no duplicate keys."""


StrictLoader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    # int before float: the float expression also matches plain digits.
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
     list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+0123456789.")),
):
    StrictLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _construct_null(loader, node):
    loader.construct_scalar(node)
    return None


def _construct_bool(loader, node):
    value = loader.construct_scalar(node)
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    raise yaml.constructor.ConstructorError(
        None, None, "invalid boolean %r" % value, node.start_mark)


def _construct_int(loader, node):
    value = loader.construct_scalar(node)
    try:
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        # Decimal, leading zeros included (YAML 1.2: "0600" is 600).
        return int(value, 10)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, "invalid integer %r" % value, node.start_mark) from None


def _construct_float(loader, node):
    value = loader.construct_scalar(node)
    low = value.lower()
    if low.endswith(".inf"):
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, "invalid float %r" % value, node.start_mark) from None


def _json_key(key, node, mark):
    """Mapping keys as JSON has them: strings."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return str(key)
    raise yaml.constructor.ConstructorError(
        "while constructing a mapping", node.start_mark,
        "found a key that is not a scalar", mark)


def _construct_mapping(loader, node, deep=False):
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(
            None, None, "expected a mapping node, but found %s" % node.id, node.start_mark)
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark) from None
        key = _json_key(key, node, key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found duplicate key %r" % key, key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _construct_yaml_map(loader, node):
    data = {}
    yield data
    data.update(_construct_mapping(loader, node))


StrictLoader.add_constructor("tag:yaml.org,2002:null", _construct_null)
StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_yaml_map)
StrictLoader.construct_mapping = _construct_mapping


class LoadError(Exception):
    pass


def load(path):
    """The single document of the YAML file at path; LoadError otherwise."""
    try:
        with open(path, "rb") as f:
            loader = StrictLoader(f)
            try:
                docs = []
                while loader.check_data():
                    docs.append(loader.get_data())
            finally:
                loader.dispose()
    except OSError as e:
        raise LoadError(str(e)) from None
    except yaml.YAMLError as e:
        raise LoadError(" ".join(str(e).split())) from None
    if not docs:
        raise LoadError("empty manifest: no YAML document")
    if len(docs) > 1:
        raise LoadError("%d YAML documents, expected one" % len(docs))
    return docs[0]


def _where(error):
    path = "".join("[%r]" % p if isinstance(p, int) else ".%s" % p for p in error.absolute_path)
    return "$" + path


def validate(schema_path, files):
    import jsonschema

    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    status = 0
    for path in files:
        try:
            doc = load(path)
        except LoadError as e:
            print("%s: reject: yaml: %s" % (path, e))
            status = 1
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            best = jsonschema.exceptions.best_match(errors)
            print("%s: reject: %s: %s (%d error%s)" % (
                path, _where(best), " ".join(best.message.split()), len(errors),
                "" if len(errors) == 1 else "s"))
            status = 1
        else:
            print("%s: accept" % path)
    return status


def main(argv):
    if len(argv) >= 3 and argv[0] == "--validate":
        return validate(argv[1], argv[2:])
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.stderr.write("usage: yaml2json.py FILE\n"
                         "       yaml2json.py --validate SCHEMA FILE...\n")
        return 2
    try:
        doc = load(argv[0])
    except LoadError as e:
        sys.stderr.write("%s: %s\n" % (argv[0], e))
        return 1
    json.dump(doc, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
