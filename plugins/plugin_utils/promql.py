# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PromQL syntax and type checker for the control node.

The dashboards are checked before any host is touched (preflight), on a control node that need
not have promtool or VictoriaMetrics. Their expressions must be plain PromQL, which both
VictoriaMetrics (MetricsQL is a superset) and a Grafana Prometheus data source run, so this checker
follows Prometheus' grammar: selectors and matchers, range vectors and subqueries, offset and @,
aggregations with by/without and a parameter, binary operators with bool, on/ignoring and
group_left/group_right, and the functions with the types of their arguments (rate() wants a range
vector, sum() an instant vector). tests/unit/test_dashboards.py holds it to promtool's verdict.

    check("sum by (job) (rate(http_requests_total[5m]))")  # -> None
    check("rate(http_requests_total)")                      # -> "rate() wants a range vector ..."
"""

from __future__ import annotations

import re

SCALAR, VECTOR, MATRIX, STRING = "scalar", "instant vector", "range vector", "string"

# Function name -> (argument types, how many of the last ones are optional, result type).
# "varargs" repeats the last type (label_join).
_S, _V, _M, _T = SCALAR, VECTOR, MATRIX, STRING
FUNCTIONS = {
    "abs": ([_V], 0, _V), "absent": ([_V], 0, _V), "absent_over_time": ([_M], 0, _V),
    "acos": ([_V], 0, _V), "acosh": ([_V], 0, _V), "asin": ([_V], 0, _V), "asinh": ([_V], 0, _V),
    "atan": ([_V], 0, _V), "atanh": ([_V], 0, _V), "avg_over_time": ([_M], 0, _V),
    "ceil": ([_V], 0, _V), "changes": ([_M], 0, _V), "clamp": ([_V, _S, _S], 0, _V),
    "clamp_max": ([_V, _S], 0, _V), "clamp_min": ([_V, _S], 0, _V), "cos": ([_V], 0, _V),
    "cosh": ([_V], 0, _V), "count_over_time": ([_M], 0, _V), "day_of_month": ([_V], 1, _V),
    "day_of_week": ([_V], 1, _V), "day_of_year": ([_V], 1, _V), "days_in_month": ([_V], 1, _V),
    "deg": ([_V], 0, _V), "delta": ([_M], 0, _V), "deriv": ([_M], 0, _V), "exp": ([_V], 0, _V),
    "floor": ([_V], 0, _V), "histogram_avg": ([_V], 0, _V), "histogram_count": ([_V], 0, _V),
    "histogram_fraction": ([_S, _S, _V], 0, _V), "histogram_quantile": ([_S, _V], 0, _V),
    "histogram_sum": ([_V], 0, _V), "histogram_stddev": ([_V], 0, _V), "histogram_stdvar": ([_V], 0, _V),
    "holt_winters": ([_M, _S, _S], 0, _V), "hour": ([_V], 1, _V), "idelta": ([_M], 0, _V),
    "increase": ([_M], 0, _V), "irate": ([_M], 0, _V),
    "label_join": ([_V, _T, _T, _T], 0, _V), "label_replace": ([_V, _T, _T, _T, _T], 0, _V),
    "last_over_time": ([_M], 0, _V), "ln": ([_V], 0, _V), "log10": ([_V], 0, _V), "log2": ([_V], 0, _V),
    "mad_over_time": ([_M], 0, _V), "max_over_time": ([_M], 0, _V), "min_over_time": ([_M], 0, _V),
    "minute": ([_V], 1, _V), "month": ([_V], 1, _V), "pi": ([], 0, _S),
    "predict_linear": ([_M, _S], 0, _V), "present_over_time": ([_M], 0, _V),
    "quantile_over_time": ([_S, _M], 0, _V), "rad": ([_V], 0, _V), "rate": ([_M], 0, _V),
    "resets": ([_M], 0, _V), "round": ([_V, _S], 1, _V), "scalar": ([_V], 0, _S), "sgn": ([_V], 0, _V),
    "sin": ([_V], 0, _V), "sinh": ([_V], 0, _V), "sort": ([_V], 0, _V), "sort_desc": ([_V], 0, _V),
    "sqrt": ([_V], 0, _V), "stddev_over_time": ([_M], 0, _V), "stdvar_over_time": ([_M], 0, _V),
    "sum_over_time": ([_M], 0, _V), "tan": ([_V], 0, _V), "tanh": ([_V], 0, _V), "time": ([], 0, _S),
    "timestamp": ([_V], 0, _V), "vector": ([_S], 0, _V), "year": ([_V], 1, _V),
}
VARARGS = {"label_join"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                "bottomk", "topk", "quantile"}
# The aggregations that take a parameter before the vector, and its type.
AGGREGATION_PARAMETER = {"count_values": STRING, "bottomk": SCALAR, "topk": SCALAR, "quantile": SCALAR}
SET_OPERATORS = {"and", "or", "unless"}
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
# Lowest binding first; "^" is right-associative.
PRECEDENCE = [{"or"}, {"and", "unless"}, COMPARISONS, {"+", "-"}, {"*", "/", "%", "atan2"}, {"^"}]
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}

_TOKEN = re.compile(r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<duration>(?:[0-9]+(?:ms|[smhdwy]))+)(?![A-Za-z0-9_])
  | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_:]*|:[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|==|!=|>=|<=|[-+*/%^=<>(){}\[\],:@])
""", re.VERBOSE)


def _a(kind):
    """The type with its article: "an instant vector", "a scalar"."""
    return ("an " if kind[0] in "aeiou" else "a ") + kind


class PromQLError(ValueError):
    """An expression that is not PromQL; the message says where and why."""


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise PromQLError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = match.lastgroup
        if kind != "space":
            out.append((kind, match.group(), pos))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text):
        self.tokens = _tokens(text)
        self.i = 0

    # -- token helpers
    def peek(self, offset=0):
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self):
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, value, offset=0):
        kind, text, _pos = self.peek(offset)
        return kind in ("op", "name") and text == value

    def expect(self, value):
        kind, text, pos = self.next()
        if text != value or kind not in ("op", "name"):
            raise PromQLError(f"expected {value!r} at position {pos + 1}, found {text or 'the end'!r}")

    def fail(self, message):
        raise PromQLError(f"{message} at position {self.peek()[2] + 1}")

    # -- grammar
    def parse(self):
        kind, _text, _pos = self.peek()
        if kind == "end":
            raise PromQLError("the expression is empty")
        result = self.binary(0)
        if self.peek()[0] != "end":
            self.fail(f"unexpected {self.peek()[1]!r}")
        return result

    def operator_here(self, level):
        kind, text, _pos = self.peek()
        if kind in ("op", "name") and text in PRECEDENCE[level]:
            return text
        return None

    def binary(self, level):
        if level == len(PRECEDENCE):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            op = self.operator_here(level)
            if not op:
                return left
            self.next()
            returns_bool, matching = self.modifiers_of_binary(op)
            # ^ is right-associative: its right side binds at the same level.
            right = self.binary(level if op == "^" else level + 1)
            if matching and SCALAR in (left, right):
                self.fail(f"on/ignoring with {op!r} match two instant vectors, not a scalar")
            left = self.binary_type(op, left, right, returns_bool)

    def modifiers_of_binary(self, op):
        returns_bool = matching = False
        if self.at("bool"):
            if op not in COMPARISONS:
                self.fail(f"bool only goes with a comparison, not with {op!r}")
            self.next()
            returns_bool = True
        if self.at("on") or self.at("ignoring"):
            self.next()
            self.label_list()
            matching = True
            if self.at("group_left") or self.at("group_right"):
                if op in SET_OPERATORS:
                    self.fail(f"no grouping modifier with the set operator {op!r}")
                self.next()
                if self.at("("):
                    self.label_list()
        elif self.at("group_left") or self.at("group_right"):
            self.fail("group_left/group_right need on(...) or ignoring(...) before them")
        return returns_bool, matching

    def binary_type(self, op, left, right, returns_bool):
        for side in (left, right):
            if side in (MATRIX, STRING):
                self.fail(f"the operator {op!r} cannot take {_a(side)}")
        if op in SET_OPERATORS:
            if left != VECTOR or right != VECTOR:
                self.fail(f"the set operator {op!r} works on instant vectors only")
            return VECTOR
        if op in COMPARISONS and left == SCALAR and right == SCALAR and not returns_bool:
            self.fail(f"comparing two scalars with {op!r} needs the bool modifier")
        return VECTOR if VECTOR in (left, right) else SCALAR

    def unary(self):
        if self.at("+") or self.at("-"):
            self.next()
            operand = self.unary()
            if operand not in (SCALAR, VECTOR):
                self.fail(f"a sign cannot go before {_a(operand)}")
            return operand
        return self.postfix(self.primary())

    def postfix(self, kind):
        while True:
            if self.at("["):
                start = self.peek()[2]
                self.next()
                self.duration("a range")
                if self.at(":"):
                    self.next()
                    if not self.at("]"):
                        self.duration("a subquery step")
                    if kind not in (VECTOR, "selector"):
                        raise PromQLError(f"a subquery needs an instant vector, not {_a(kind)} (position {start + 1})")
                    self.expect("]")
                    kind = MATRIX
                    continue
                self.expect("]")
                if kind != "selector":
                    raise PromQLError(
                        f"a range [...] goes right after a metric selector (position {start + 1}); "
                        "use a subquery [range:step] for an expression")
                kind = MATRIX
            elif self.at("offset"):
                self.next()
                if self.at("-"):
                    self.next()
                self.duration("an offset")
                kind = self.check_modifiable(kind, "offset")
            elif self.at("@"):
                self.next()
                if self.at("start") or self.at("end"):
                    self.next()
                    self.expect("(")
                    self.expect(")")
                elif self.peek()[0] == "number":
                    self.next()
                else:
                    self.fail("@ wants a Unix time, start() or end()")
                kind = self.check_modifiable(kind, "@")
            else:
                return VECTOR if kind == "selector" else kind

    def check_modifiable(self, kind, what):
        if kind not in ("selector", MATRIX):
            self.fail(f"{what} only applies to a selector or a subquery")
        return kind

    def duration(self, what):
        kind, text, pos = self.next()
        if kind != "duration":
            raise PromQLError(f"{what} wants a duration such as 5m at position {pos + 1}, found {text or 'the end'!r}")

    def label_list(self):
        self.expect("(")
        while not self.at(")"):
            kind, text, pos = self.next()
            if kind not in ("name", "string") or ":" in text:
                raise PromQLError(f"expected a label name at position {pos + 1}, found {text or 'the end'!r}")
            if self.at(","):
                self.next()
            elif not self.at(")"):
                self.fail("expected ',' or ')' in a label list")
        self.expect(")")

    def primary(self):
        kind, text, pos = self.peek()
        if kind == "number" or (kind == "name" and text.lower() in ("inf", "nan")):
            self.next()
            return SCALAR
        if kind == "duration":
            self.fail(f"a duration ({text}) stands only in [...], after offset, or in a function that wants a number")
        if kind == "string":
            self.next()
            return STRING
        if self.at("("):
            self.next()
            inner = self.binary(0)
            self.expect(")")
            return inner
        if self.at("{"):
            self.matchers(named=False)
            return "selector"
        if kind == "name":
            if text in AGGREGATIONS and (self.at("(", 1) or self.at("by", 1) or self.at("without", 1)):
                return self.aggregation()
            if self.at("(", 1):
                return self.call()
            if text in KEYWORDS or text in SET_OPERATORS or text == "atan2":
                self.fail(f"unexpected keyword {text!r}")
            self.next()
            if self.at("{"):
                self.matchers(named=True)
            return "selector"
        self.fail(f"unexpected {text or 'end of the expression'!r}")
        return None

    def matchers(self, named):
        self.expect("{")
        non_empty = named
        while not self.at("}"):
            kind, text, pos = self.next()
            if kind not in ("name", "string"):
                raise PromQLError(f"expected a label name at position {pos + 1}, found {text or 'the end'!r}")
            op_kind, op, op_pos = self.next()
            if op not in ("=", "!=", "=~", "!~") or op_kind != "op":
                raise PromQLError(f"expected =, !=, =~ or !~ at position {op_pos + 1}, found {op or 'the end'!r}")
            value_kind, value, value_pos = self.next()
            if value_kind != "string":
                raise PromQLError(f"a label value is a quoted string (position {value_pos + 1}), found {value or 'the end'!r}")
            body = value[1:-1]
            if op in ("=~", "!~"):
                try:
                    re.compile(body.encode().decode("unicode_escape") if value[0] != "`" else body)
                except re.error as err:
                    raise PromQLError(f"the regular expression {value} does not compile: {err}") from None
            if not (op in ("=", "=~") and re.fullmatch(body if op == "=~" else re.escape(body), "") is not None):
                non_empty = True
            if self.at(","):
                self.next()
            elif not self.at("}"):
                self.fail("expected ',' or '}' between matchers")
        self.expect("}")
        if not non_empty:
            self.fail("a selector needs a metric name or a matcher that does not match the empty string")

    def call(self):
        _kind, name, pos = self.next()
        if name not in FUNCTIONS:
            raise PromQLError(f"unknown function {name}() at position {pos + 1}")
        wanted, optional, result = FUNCTIONS[name]
        self.expect("(")
        got = []
        while not self.at(")"):
            got.append(self.binary(0))
            if self.at(","):
                self.next()
            elif not self.at(")"):
                self.fail(f"expected ',' or ')' in the arguments of {name}()")
        self.expect(")")
        if name in VARARGS:
            wanted = wanted + [wanted[-1]] * max(0, len(got) - len(wanted))
        if not len(wanted) - optional <= len(got) <= len(wanted):
            raise PromQLError(f"{name}() takes {len(wanted) - optional if optional else len(wanted)}"
                              f"{'-' + str(len(wanted)) if optional else ''} arguments, got {len(got)} (position {pos + 1})")
        for index, (want, have) in enumerate(zip(wanted, got)):
            if want != have:
                raise PromQLError(f"{name}() wants {_a(want)} as argument {index + 1}, got {_a(have)} (position {pos + 1})")
        return result

    def aggregation(self):
        _kind, name, pos = self.next()
        grouped = False
        if self.at("by") or self.at("without"):
            self.next()
            self.label_list()
            grouped = True
        self.expect("(")
        parameter = AGGREGATION_PARAMETER.get(name)
        if parameter:
            have = self.binary(0)
            if have != parameter:
                raise PromQLError(f"{name}() wants {_a(parameter)} first, got {_a(have)} (position {pos + 1})")
            self.expect(",")
        inner = self.binary(0)
        if inner != VECTOR:
            raise PromQLError(f"{name}() aggregates an instant vector, got {_a(inner)} (position {pos + 1})")
        self.expect(")")
        if not grouped and (self.at("by") or self.at("without")):
            self.next()
            self.label_list()
        return VECTOR


def check(expression):
    """None when the expression is PromQL, else the reason it is not (a sentence)."""
    try:
        _Parser(expression).parse()
    except PromQLError as err:
        return str(err)
    return None


def result_type(expression):
    """The type of the expression's result (scalar, instant vector, ...); raises PromQLError."""
    return _Parser(expression).parse()
