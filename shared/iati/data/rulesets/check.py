#!/usr/bin/env python3
"""Applies the IATI Standard Ruleset (standard.json beside this file) to an IATI activity file.

    python3 check.py FILE.xml --today YYYY-MM-DD [--ruleset standard.json] [--schema XSD]
                     [--org-id-prefixes FILE]

Prints one line per broken rule, in document order:

    <severity> <rule id> <activity identifier> line <n>: <rule message>

and exits 1 when a rule of severity "error" (or the schema, with --schema) is broken, 0 when only
warnings are (or nothing), 2 when it cannot check (usage, unreadable file, a rule type it does not
know). Needs lxml (deploy/local/install-lxml.sh installs it into ./.tools/pip).

Adapted from the Python implementation of the rule types in IATI/IATI-Rulesets,
iatirulesets/__init__.py (branch version-2.03, commit a88f835), MIT licence, Copyright (c)
2013-2014 Ben Webb; see ../SOURCES.md. That implementation predates the ruleset's current form
(its "JS edition", SPEC.rst: `prefix`/`separator` for startswith, `idCondition`, `no_spaces`,
`ruleInfo` with ids and severities, "NOW"), which the IATI Validator (IATI/js-validator-api)
evaluates; where the two differ this follows SPEC.rst and the Validator's behaviour (its code was
read to learn that behaviour, none of it is copied), and where they are vague it takes the
stricter reading. It agrees with the ruleset repository's meta_tests.sh (83 of 83 cases) and with
the Validator's ruleset unit tests except where those need the IATI Registry's lists.

Rule types: every one standard.json uses is implemented (atleast_one, between_dates, date_now,
date_order, if_then, loop, no_more_than_one, no_spaces, one_or_all, range, regex_matches,
startswith, strict_sum, time_limit, unique), and SPEC.rst's others too (dependent, only_one_of,
regex_no_matches, sum); a rule type or key it does not know stops the check (exit 2). None is
skipped. The choices, rule type by rule type, are in the methods below; the ones that matter:

- "now" is never the real clock: it is the first instant (00:00:00 UTC) of --today, so a file
  that passes would pass at any moment of that day (tatrack's tests run with an injected clock).
- date_order compares every date its `less` path finds with every date `more` finds (the
  references compare the first of each only): every transaction date, not just the first, must
  not be after "now".
- time_limit allows at most 365 days from the start to the end, as the IATI Validator counts.
- Rules are applied to every activity of the file (each context element is attributed to its
  iati-activity); rule 1.1.2, unique activity identifiers in a file, is the Validator's
  file-level check and has no case in standard.json: it is checked here too.
- idCondition NOT_EXISTING_ORG_ID(_PREFIX) depends on the IATI Registry's list of publishers,
  which is not at hand: the list is taken as empty, so those cases (all warnings) always apply.
- startswith with the prefix "ORG-ID-PREFIX" (case 1.14.8, a warning) needs org-id.guide's list
  of agency prefixes: given with --org-id-prefixes (one prefix a line) it is checked, otherwise
  that case alone is skipped, with a note on stderr. It is the only case ever skipped.
- XPath truthiness (condition, if, then) is XPath's boolean(): an empty node-set is false.
"""

import argparse
import datetime
import json
import re
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

try:
    from lxml import etree as ET
except ImportError:  # pragma: no cover - exercised by the shell helper
    sys.stderr.write(
        "error: lxml is missing: run deploy/local/install-lxml.sh (it installs lxml into "
        "./.tools/pip) and add ./.tools/pip to PYTHONPATH\n"
    )
    sys.exit(2)

NS = {"xml": "http://www.w3.org/XML/1998/namespace"}
UTC = datetime.timezone.utc

DATE = re.compile(r"^\s*(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})")
DATETIME = re.compile(
    r"^\s*(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?\s*$"
)

# Every rule type of SPEC.rst (and `dependent`, only in the Python edition). A ruleset naming any
# other is refused rather than partly checked.
RULE_TYPES = {
    "no_more_than_one", "atleast_one", "only_one_of", "one_or_all", "dependent", "sum",
    "date_order", "date_now", "time_limit", "between_dates", "regex_matches",
    "regex_no_matches", "startswith", "unique", "if_then", "loop", "strict_sum", "range",
    "no_spaces",
}

# SPEC.rst's camel-case spellings, which the IATI Validator also reads.
CAMEL = {
    "noMoreThanOne": "no_more_than_one", "atLeastOne": "atleast_one", "onlyOneOf": "only_one_of",
    "oneOrAll": "one_or_all", "dateOrder": "date_order", "dateNow": "date_now",
    "timeLimit": "time_limit", "betweenDates": "between_dates", "regexMatches": "regex_matches",
    "regexNoMatches": "regex_no_matches", "startsWith": "startswith", "ifThen": "if_then",
    "strictSum": "strict_sum", "noSpaces": "no_spaces",
}


class Unknown(Exception):
    """A rule type or key this checker does not know: it refuses to check rather than guess."""


def text_of(node):
    """The text of an element (all of it, as the DOM's textContent), attribute or text node."""
    if isinstance(node, ET._Element):
        return "".join(node.itertext())
    return str(node)


def truthy(value):
    """XPath's boolean() of an XPath result."""
    if isinstance(value, list):
        return len(value) > 0
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value == value and value != 0.0
    return bool(value)


def parse_instant(text):
    """A date or dateTime as an aware datetime (UTC when it names no offset), or None."""
    if text is None:
        return None
    m = DATETIME.match(text)
    try:
        if m:
            year, month, day, hour, minute, second = map(int, m.groups()[:6])
            instant = datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            if m.group(7):
                instant += datetime.timedelta(seconds=float("0" + m.group(7)))
            offset = m.group(8)
            if offset and offset != "Z":
                sign = 1 if offset[0] == "+" else -1
                delta = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
                instant -= sign * delta
            return instant
        m = DATE.match(text)
        if m:
            return datetime.datetime(*map(int, m.groups()), tzinfo=UTC)
    except ValueError:
        return None
    return None


def line_of(node, fallback):
    if isinstance(node, ET._Element):
        return node.sourceline or fallback
    parent = getattr(node, "getparent", lambda: None)()
    if parent is not None and parent.sourceline:
        return parent.sourceline
    return fallback


class Rules:
    """One case of one rule applied to one context element. Each method returns True (passes),
    False (broken) or None (does not apply), and may set `self.at` to the node at fault."""

    def __init__(self, element, case, env):
        self.element = element
        self.case = case
        self.env = env
        self.at = None
        if "paths" in case:
            self.nested = [self.xpath(path) for path in case["paths"]]
            self.matches = [node for nodes in self.nested for node in nodes]
            self.texts = [text_of(node) for node in self.matches]

    def xpath(self, path):
        result = self.element.xpath(path, namespaces=NS)
        return result if isinstance(result, list) else [result]

    def raw(self, path):
        return self.element.xpath(path, namespaces=NS)

    def dates(self, path):
        """(date, node) of every date `path` finds; "NOW" (and the Python edition's "TODAY") is
        the start of --today."""
        if path in ("NOW", "TODAY"):
            return [(self.env["now"], None)]
        found = []
        for node in self.xpath(path):
            instant = parse_instant(text_of(node))
            if instant is not None:
                found.append((instant, node))
        return found

    def first_date(self, path):
        found = self.dates(path)
        return found[0][0] if found else None

    def no_more_than_one(self):
        return len(self.matches) <= 1

    def atleast_one(self):
        return len(self.matches) >= 1

    def only_one_of(self):
        for excluded in self.case["excluded"]:
            if truthy(self.raw(excluded)):
                if self.matches:
                    return False
            elif len(self.matches) != 1:
                return False
        return True

    def one_or_all(self):
        if truthy(self.raw(self.case["one"])):
            return True
        kind = self.case["all"]
        if kind == "lang":
            missing = [
                n
                for n in self.xpath("descendant::narrative")
                if not n.xpath("@xml:lang", namespaces=NS)
            ]
        elif kind == "sector":
            missing = [t for t in self.xpath("transaction") if not t.xpath("sector")]
        elif kind == "recipient-country|recipient-region":
            missing = [
                t
                for t in self.xpath("transaction")
                if not t.xpath("recipient-country|recipient-region")
            ]
        elif kind == "currency":
            missing = [
                n
                for path in ("value", "forecast", "loan-status")
                for n in self.xpath("descendant::" + path)
                if not n.xpath("@currency")
            ]
        else:
            raise Unknown("one_or_all: unknown 'all' %r" % kind)
        if missing:
            self.at = missing[0]
        return not missing

    def dependent(self):
        return all(len(m) != 0 for m in self.nested) or all(len(m) == 0 for m in self.nested)

    def unique(self):
        return len(self.texts) == len(set(self.texts))

    def strict_sum(self):
        try:
            total = sum((Decimal(t.strip()) for t in self.texts), Decimal(0))
            return total == Decimal(str(self.case["sum"]))
        except InvalidOperation:
            return False

    def sum(self):
        return (not self.matches) or self.strict_sum()

    def date_order(self):
        less = self.dates(self.case["less"])
        more = self.dates(self.case["more"])
        if not less or not more:
            return None
        for early, node in less:
            for late, _ in more:
                if early > late:
                    self.at = node
                    return False
        return True

    def date_now(self):
        found = self.dates(self.case["date"])
        if not found:
            return None
        for instant, node in found:
            if instant > self.env["now"]:
                self.at = node
                return False
        return True

    def time_limit(self):
        start = self.first_date(self.case["start"])
        end = self.first_date(self.case["end"])
        if start is None or end is None:
            return None
        # Whole days from start to end, as the IATI Validator counts (date-fns differenceInDays).
        return (end - start).days <= 365

    def between_dates(self):
        date = self.first_date(self.case["date"])
        if date is None:
            return None
        start = self.first_date(self.case["start"])
        end = self.first_date(self.case["end"])
        if start is None or end is None:
            return False
        return start <= date <= end

    def _regex(self, want):
        pattern = re.compile(self.case["regex"])
        for node, text in zip(self.matches, self.texts):
            # An empty text passes, as in the IATI Validator.
            if text != "" and (pattern.search(text) is not None) != want:
                self.at = node
                return False
        return True

    def regex_matches(self):
        return self._regex(True)

    def regex_no_matches(self):
        return self._regex(False)

    def startswith(self):
        prefixes = self.case.get("prefix")
        if prefixes is None and "start" in self.case:
            prefixes = [self.case["start"]]  # the Python edition's key
        if isinstance(prefixes, str):
            prefixes = [prefixes]
        if prefixes == ["ORG-ID-PREFIX"]:
            known = self.env["org_id_prefixes"]
            if known is None:
                self.env["skipped"].add(self.case.get("ruleInfo", {}).get("id", "?"))
                return None
            for node, text in zip(self.matches, self.texts):
                parts = text.split("-")
                if "-".join(parts[:2]) not in known:
                    self.at = node
                    return False
            return True
        starts = [text_of(n) for path in prefixes for n in self.xpath(path)]
        separator = self.case.get("separator", "")
        for node, text in zip(self.matches, self.texts):
            if not any(text.startswith(start + separator) for start in starts):
                self.at = node
                return False
        return True

    def no_spaces(self):
        for node, text in zip(self.matches, self.texts):
            if text != text.strip():
                self.at = node
                return False
        return True

    def if_then(self):
        if truthy(self.raw(self.case["if"])):
            return truthy(self.raw(self.case["then"]))
        return True

    def range(self):
        for node, text in zip(self.matches, self.texts):
            try:
                value = Decimal(text.strip())
                low = Decimal(str(self.case.get("min", value)))
                high = Decimal(str(self.case.get("max", value)))
            except InvalidOperation:
                self.at = node
                return False
            if not low <= value <= high:
                self.at = node
                return False
        return True


def id_condition(element, case):
    """SPEC.rst's idCondition, with an empty list of registered publishers: always met."""
    condition = case.get("idCondition")
    if condition is None or condition in ("NOT_EXISTING_ORG_ID", "NOT_EXISTING_ORG_ID_PREFIX"):
        return True
    raise Unknown("unknown idCondition %r" % condition)


def apply_case(element, rule, case, env):
    """(result, node at fault) of one case on one element; result None when it does not apply."""
    rule = CAMEL.get(rule, rule)
    if rule not in RULE_TYPES or rule == "loop":
        raise Unknown("unknown rule type %r" % rule)
    if "condition" in case and not truthy(element.xpath(case["condition"], namespaces=NS)):
        return None, None
    if not id_condition(element, case):
        return None, None
    rules = Rules(element, case, env)
    return getattr(rules, rule)(), rules.at


def loop_cases(element, case):
    """The cases a `loop` case stands for on `element`: each `do` case once per distinct value
    `foreach` finds, with `$1` replaced by it in the keys named by `subs`."""
    values = []
    for value in element.xpath(case["foreach"], namespaces=NS):
        value = text_of(value)
        if value not in values:
            values.append(value)
    for rule, sub in case["do"].items():
        for sub_case in sub["cases"]:
            for value in values:
                concrete = dict(sub_case)
                for key in case["subs"]:
                    v = sub_case[key]
                    if isinstance(v, list):
                        concrete[key] = [x.replace("$1", value) for x in v]
                    else:
                        concrete[key] = v.replace("$1", value)
                yield rule, concrete


# The element each rule is attributed to, and where its identifier is (organisation files too).
SUBROOTS = {"iati-activity": "iati-identifier", "iati-organisation": "organisation-identifier"}


def activity_of(element):
    if element.tag in SUBROOTS:
        return element
    for node in element.iterancestors():
        if node.tag in SUBROOTS:
            return node
    return None


def identifier_of(activity):
    if activity is None:
        return "(file)"
    found = activity.find(SUBROOTS[activity.tag])
    text = text_of(found).strip() if found is not None else ""
    return text or "(no identifier)"


def check(tree, ruleset, env):
    """Every broken case as (line, severity, id, activity identifier, message)."""
    broken = []
    root = tree.getroot()
    for context, rules in ruleset.items():
        for element in root.getroottree().xpath(context, namespaces=NS):
            for rule, body in rules.items():
                for case in body["cases"]:
                    cases = loop_cases(element, case) if rule == "loop" else [(rule, case)]
                    # (loop's `do` rules go through apply_case, which refuses a loop inside one)
                    for concrete_rule, concrete in cases:
                        result, at = apply_case(element, concrete_rule, concrete, env)
                        if result is False:
                            info = concrete.get("ruleInfo", {})
                            broken.append((
                                line_of(at, element.sourceline or 0),
                                info.get("severity", "error"),
                                info.get("id", concrete_rule),
                                identifier_of(activity_of(element)),
                                info.get("message", concrete_rule + " " + json.dumps(concrete)),
                            ))
    # Rule 1.1.2, the IATI Validator's file-level check.
    seen = {}
    for activity in root.iterchildren("iati-activity"):
        identifier = identifier_of(activity)
        if identifier in seen:
            broken.append((
                activity.sourceline or 0, "error", "1.1.2", identifier,
                "The activity identifier must be unique for each activity "
                "(also on line %d)." % seen[identifier],
            ))
        else:
            seen[identifier] = activity.sourceline or 0
    broken.sort(key=lambda b: b[0])
    return broken


def main(argv):
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description="Apply the IATI Standard Ruleset to a file.")
    parser.add_argument("file")
    parser.add_argument("--today", required=True, help="the date taken as now, YYYY-MM-DD")
    parser.add_argument("--ruleset", default=str(here / "standard.json"))
    parser.add_argument("--schema", help="also validate against this XSD (rule 0.3.1)")
    parser.add_argument("--org-id-prefixes", help="org-id.guide's agency prefixes, one a line")
    args = parser.parse_args(argv)
    try:
        today = datetime.date.fromisoformat(args.today)
    except ValueError:
        parser.error("--today must be a date YYYY-MM-DD, got %r" % args.today)
    prefixes = None
    if args.org_id_prefixes:
        with open(args.org_id_prefixes, encoding="utf-8") as f:
            prefixes = {line.strip() for line in f if line.strip()}
    env = {
        "now": datetime.datetime(today.year, today.month, today.day, tzinfo=UTC),
        "org_id_prefixes": prefixes,
        "skipped": set(),
    }
    with open(args.ruleset, encoding="utf-8") as f:
        ruleset = json.load(f)
    try:
        tree = ET.parse(args.file)
    except (OSError, ET.XMLSyntaxError) as e:
        sys.stderr.write("error: cannot read %s: %s\n" % (args.file, e))
        return 2
    failed = False
    if args.schema:
        schema = ET.XMLSchema(ET.parse(args.schema))
        if not schema.validate(tree):
            failed = True
            for e in schema.error_log:
                print("critical 0.3.1 (file) line %d: %s" % (e.line, e.message))
    try:
        broken = check(tree, ruleset, env)
    except Unknown as e:
        sys.stderr.write("error: cannot check: %s\n" % e)
        return 2
    for line, severity, rule_id, identifier, message in broken:
        print("%s %s %s line %d: %s" % (severity, rule_id, identifier, line, message))
        failed = failed or severity == "error"
    for rule_id in sorted(env["skipped"]):
        sys.stderr.write(
            "note: rule %s not checked: it needs org-id.guide's agency prefixes "
            "(--org-id-prefixes FILE)\n" % rule_id
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
