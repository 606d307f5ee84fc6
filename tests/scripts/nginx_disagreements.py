#!/usr/bin/env python3
"""Print the disagreements of the nginx differential test as tables.

    NFL_DIFF_TSV=/tmp/diff.tsv cargo test --test differential_nginx -- --nocapture
    python3 tests/scripts/nginx_disagreements.py /tmp/diff.tsv [--examples N] [--op]

Groups the mutants where lint and `nginx -t` disagree by direction and by nginx's (or lint's)
message with quoted names blanked, largest first, with N example ids each; `--op` groups by
mutation operator instead. Then agreement per class and per operator.
"""
import csv
import re
import sys
from collections import Counter, defaultdict


def shape(message):
    message = re.sub(r'"[^"]*"', '"…"', message)
    return message.split(" in /")[0]


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    examples = 3
    if "--examples" in args:
        examples = int(args[args.index("--examples") + 1])
    by_op = "--op" in args
    with open(args[0], newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    groups = defaultdict(list)
    for r in rows:
        if r["nginx"] == r["lint"]:
            continue
        if r["nginx"] == "refuses":
            key = "missed   | " + (r["op"] if by_op else shape(r["nginx_says"]))
        else:
            key = "false ✗  | " + (r["op"] if by_op else shape(r["lint_says"]))
        groups[key].append(r)
    total = sum(len(g) for g in groups.values())
    print(f"{total} disagreements of {len(rows)} judged mutants "
          f"(agreement {100 * (len(rows) - total) / max(len(rows), 1):.2f}%)\n")
    print(f"{'count':>5}  kind")
    for key, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"{len(g):>5}  {key}")
        for r in g[:examples]:
            said = r["nginx_says"] if r["nginx"] == "refuses" else r["lint_says"]
            print(f"         {r['id']}  [{said}]")
    for column in ("class", "op"):
        print(f"\n{column:<26} {'judged':>7} {'agree':>7} {'agree%':>8}")
        judged, agree = Counter(), Counter()
        for r in rows:
            judged[r[column]] += 1
            agree[r[column]] += r["nginx"] == r["lint"]
        for k in sorted(judged):
            print(f"{k:<26} {judged[k]:>7} {agree[k]:>7} {100 * agree[k] / judged[k]:>7.1f}%")


if __name__ == "__main__":
    main()
