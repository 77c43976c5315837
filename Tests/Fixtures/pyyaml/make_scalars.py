"""How PyYAML's safe_load (YAML 1.1, what rlwatch reads rlwatch.yaml with) types plain scalars.

Writes scalars.json: for each text, the Python type PyYAML gives it and the value (floats as repr, so
inf and nan survive JSON). kltop's config reader resolves plain scalars the same way; RlwatchConfigTests
replays this table. Run with PyYAML installed: python3 make_scalars.py
"""

import json
import pathlib

import yaml

CASES = [
    # integers: signs, underscores, octal, binary, hexadecimal, sexagesimal, beyond 64 bits
    "3", "+3", "-3", "-0", "0", "00", "1_000", "1__0", "1_", "0_7", "010", "08", "0o10", "0b11", "0b",
    "0b_", "0x1F", "0x", "0x_1", "0x_", "0_", "-0x10", "1:30", "1:30:00", "1:60", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "-0x8000000000000000", "0x1_0000_0000_0000_0000",
    "4294967296:0:0", "100000000000000000000000",
    # floats: YAML 1.1 wants a dot, and a sign in the exponent
    "3.", "3.0", ".5", "-.5", "+.5", "1e3", "1E3", "1.0e3", "1.0e+3", "1.e+3", "1.0E-3", "1.5_", "0.5_5",
    "12e", "1e400", "1.0e+400", "-0.0", "1:30.5", "190:20:30.15",
    ".inf", "-.inf", "+.inf", ".Inf", ".INF", "inf", "nan", ".nan", ".NaN", "NaN",
    # booleans: YAML 1.1's yes/no/on/off, three spellings each
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE", "y", "n", "tRUE",
    # null
    "~", "null", "Null", "NULL", "", "nULL",
    # text
    "2001-12-14", "_1", "1,000", "abc", "rolling",
    # YAML 1.1's value and merge types, which safe_load cannot make as a value
    "=", "<<",
]


def describe(text):
    try:
        value = yaml.safe_load(f"k: {text}")["k"]
    except Exception as error:  # noqa: BLE001 - PyYAML lets a ValueError through for "0b_"
        return {"text": text, "type": "error", "value": type(error).__name__}
    kind = type(value).__name__
    if kind == "float":
        value = repr(value)
    elif kind == "int":
        value = str(value)  # beyond 64 bits too
    elif kind not in ("bool", "NoneType", "str"):
        kind, value = "other", str(value)
    return {"text": text, "type": kind, "value": value}


if __name__ == "__main__":
    table = [describe(text) for text in CASES]
    out = pathlib.Path(__file__).with_name("scalars.json")
    out.write_text(json.dumps({"pyyaml": yaml.__version__, "scalars": table}, indent=1) + "\n")
    print(f"{len(table)} scalars, PyYAML {yaml.__version__} -> {out}")
