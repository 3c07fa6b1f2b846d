"""A whitelisting evaluator for BPMN expressions.

SpiffWorkflow evaluates conditions and timer expressions with `eval`; RestrictedPython's
safe globals can be escaped through dunder attributes. BPMN files here may only use
names, literals, comparisons, boolean logic and calls to an allow-list of functions, and
this module walks the AST itself, so nothing reaches `eval`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


class ExpressionRejected(ValueError):
    """The expression uses something outside the whitelist."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _multiply(left: Any, right: Any) -> Any:
    # Numbers only: `"x" * 10**11` or `[0] * 10**11` would allocate without bound.
    if not (_is_number(left) and _is_number(right)):
        raise ExpressionRejected("only numbers may be multiplied in a BPMN expression")
    return left * right


_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _multiply,
}


def _check(node: ast.AST, functions: Mapping[str, object] | set[str]) -> None:
    match node:
        case ast.Expression(body=body):
            _check(body, functions)
        case ast.Constant(value=value):
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ExpressionRejected(f"literal of type {type(value).__name__} is not allowed")
        case ast.Name(id=name):
            if name.startswith("_"):
                raise ExpressionRejected(f"name {name!r} is not allowed (leading underscore)")
        case ast.BoolOp(values=values):
            for value in values:
                _check(value, functions)
        case ast.UnaryOp(op=ast.Not() | ast.USub(), operand=operand):
            _check(operand, functions)
        case ast.BinOp(op=op, left=left, right=right) if type(op) in _ARITH:
            if isinstance(op, ast.Mult) and any(isinstance(side, ast.Constant) and not _is_number(side.value)
                                                or isinstance(side, ast.List | ast.Tuple) for side in (left, right)):
                raise ExpressionRejected("only numbers may be multiplied in a BPMN expression")
            _check(left, functions)
            _check(right, functions)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            for comparison in ops:
                if type(comparison) not in _COMPARE:
                    raise ExpressionRejected(f"comparison {type(comparison).__name__} is not allowed")
            for part in (left, *comparators):
                _check(part, functions)
        case ast.List(elts=elts) | ast.Tuple(elts=elts):
            for elt in elts:
                _check(elt, functions)
        case ast.Subscript(value=value, slice=ast.Constant(value=key)) if isinstance(key, str):
            # A field of a service task's result (``invoice["due_at"]``): a constant key only, never a slice.
            _check(value, functions)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]):
            if name not in functions:
                raise ExpressionRejected(f"call to {name!r} is not allowed; allowed: {sorted(functions)}")
            for arg in args:
                _check(arg, functions)
        case _:
            raise ExpressionRejected(f"{type(node).__name__} is not allowed in a BPMN expression")


def validate_expression(expression: str, functions: Mapping[str, object] | set[str]) -> None:
    """Raise ExpressionRejected unless `expression` stays inside the whitelist."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionRejected(f"not a valid expression: {err.msg}") from err
    _check(tree, functions)


def _eval(node: ast.AST, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    match node:
        case ast.Expression(body=body):
            return _eval(body, names, functions)
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name not in names:
                raise NameError(f"name {name!r} is not defined in the task data")
            return names[name]
        case ast.BoolOp(op=ast.And(), values=values):
            result: Any = True
            for value in values:
                result = _eval(value, names, functions)
                if not result:
                    return result
            return result
        case ast.BoolOp(op=ast.Or(), values=values):
            result = False
            for value in values:
                result = _eval(value, names, functions)
                if result:
                    return result
            return result
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _eval(operand, names, functions)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_eval(operand, names, functions)
        case ast.BinOp(op=op, left=left, right=right):
            return _ARITH[type(op)](_eval(left, names, functions), _eval(right, names, functions))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, names, functions)
            for comparison, right_node in zip(ops, comparators, strict=True):
                right = _eval(right_node, names, functions)
                if not _COMPARE[type(comparison)](current, right):
                    return False
                current = right
            return True
        case ast.List(elts=elts):
            return [_eval(elt, names, functions) for elt in elts]
        case ast.Tuple(elts=elts):
            return tuple(_eval(elt, names, functions) for elt in elts)
        case ast.Subscript(value=value, slice=ast.Constant(value=key)):
            container = _eval(value, names, functions)
            if not isinstance(container, dict):
                raise ExpressionRejected(f"{type(container).__name__} has no fields to read in a BPMN expression")
            if key not in container:
                raise NameError(f"{key!r} is not a field of the task data's {ast.unparse(value)}")
            return container[key]
        case ast.Call(func=ast.Name(id=name), args=args):
            return functions[name](*(_eval(arg, names, functions) for arg in args))
    raise ExpressionRejected(f"{type(node).__name__} is not allowed in a BPMN expression")


def evaluate(expression: str, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """Evaluate a whitelisted expression against task data and allowed functions.

    Raises:
        ExpressionRejected: the expression leaves the whitelist.
        NameError: it names data the task does not have.
    """
    tree = ast.parse(expression.strip(), mode="eval")
    _check(tree, functions)
    return _eval(tree, names, functions)
