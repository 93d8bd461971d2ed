#!/usr/bin/env python3
"""Helpers for run.sh (standard library only).

    check.py expect FILE.json ASSERTION...
        /ptr=JSON   the value at JSON pointer /ptr equals JSON
        !/ptr       nothing at /ptr (the claim was not disclosed)
        ?/ptr       something is at /ptr
    Exit 0 when all hold; else exit 1, printing the ones that do not.

    check.py tamper NAME NEW_JSON < token
        Rewrite the disclosure of claim NAME (same salt) to carry NEW_JSON as its value; the
        KB-JWT, if any, is left as it was. Exit 1 if no disclosure has that name.
"""

import base64
import json
import sys

MISSING = object()


def lookup(doc, ptr):
    node = doc
    for seg in ptr[1:].split("/") if ptr else []:
        seg = seg.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and seg in node:
            node = node[seg]
        elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
        else:
            return MISSING
    return node


def expect(path, assertions):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    problems = []
    for a in assertions:
        if a.startswith("!"):
            got = lookup(doc, a[1:])
            if got is not MISSING:
                problems.append(f"{a[1:]} should be absent, is {json.dumps(got, ensure_ascii=False)}")
        elif a.startswith("?"):
            if lookup(doc, a[1:]) is MISSING:
                problems.append(f"{a[1:]} missing")
        else:
            ptr, _, want = a.partition("=")
            got = lookup(doc, ptr)
            if got is MISSING:
                problems.append(f"{ptr} missing (want {want})")
            elif got != json.loads(want):
                problems.append(f"{ptr} is {json.dumps(got, ensure_ascii=False)}, want {want}")
    if problems:
        print("; ".join(problems))
        return 1
    return 0


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def tamper(name, new_value):
    parts = sys.stdin.read().strip().split("~")
    for i in range(1, len(parts) - 1):
        if not parts[i]:
            continue
        d = json.loads(b64d(parts[i]))
        if len(d) == 3 and d[1] == name:
            d[2] = json.loads(new_value)
            parts[i] = b64e(json.dumps(d, ensure_ascii=False).encode("utf-8"))
            print("~".join(parts))
            return 0
    print(f"no disclosure named {name}", file=sys.stderr)
    return 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "expect":
        return expect(argv[1], argv[2:])
    if len(argv) == 3 and argv[0] == "tamper":
        return tamper(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
