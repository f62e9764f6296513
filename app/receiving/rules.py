"""The rules table: which disposition the hub starts from for an item, and which rule said so.

Rules are read top to bottom and the first whose every given condition matches
wins, so a specific rule (``reason=recycling → recycle``, whatever the grade)
sits above a general one (``D → recycle``). A hub's own rules come before the
rules for every hub. With no rules stored, ``DEFAULT_RULES`` apply: they are
the README's, and what a returns desk does without being told.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from app.core.errors import InvalidInput, NotFound
from app.extensions import db
from app.pickups.models import Grade, PickupItem
from app.receiving.models import Disposition, DispositionRule


@dataclass(frozen=True)
class Rule:
    """A rule as the suggestion reads it (a stored ``DispositionRule`` or a default)."""

    disposition: Disposition
    reason: str = ""
    category: str = ""
    grade: Grade | None = None
    hub_id: int | None = None
    id: int | None = None
    number: int = 0  # its place in the list the clerk sees, from 1

    def matches(self, *, reason: str, category: str, grade: Grade | None) -> bool:
        if self.grade is not None and grade is not self.grade:
            return False
        if self.category and _words(self.category) != _words(category):
            return False
        return not self.reason or _contains(_words(reason), _words(self.reason))

    def describe(self) -> str:
        """The rule in words, as the receiving page names it: ``Rule 2: reason recycling → recycle``."""
        conditions = [
            *([f"reason {self.reason}"] if self.reason else []),
            *([f"category {self.category}"] if self.category else []),
            *([f"grade {self.grade.value}"] if self.grade else []),
        ]
        when = " + ".join(conditions) or "any item"
        scope = "" if self.hub_id is None else " (this hub)"
        return f"Rule {self.number}{scope}: {when} → {self.disposition.value.replace('_', ' ')}"


@dataclass(frozen=True)
class Suggestion:
    disposition: Disposition
    rule: Rule

    @property
    def because(self) -> str:
        return self.rule.describe()


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(Disposition.RECYCLE, reason="recycling"),
    Rule(Disposition.RESTOCK, reason="changed_mind", grade=Grade.A),
    Rule(Disposition.RESTOCK, grade=Grade.A),
    Rule(Disposition.RESELL, grade=Grade.B),
    Rule(Disposition.REFURBISH, grade=Grade.C),
    Rule(Disposition.RECYCLE, grade=Grade.D),
    # Nobody graded it: look at it before anything else happens.
    Rule(Disposition.REFURBISH),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[^0-9a-z]+", (text or "").lower()) if w)


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def rules_for(hub_id: int | None) -> list[Rule]:
    """The rules in the order they are tried for this hub: its own first, then those for every hub."""
    stored = list(
        db.session.scalars(
            select(DispositionRule)
            .where(or_(DispositionRule.hub_id.is_(None), DispositionRule.hub_id == hub_id))
            .order_by(DispositionRule.hub_id.is_(None), DispositionRule.position, DispositionRule.id)
        )
    )
    if not stored:
        return [Rule(r.disposition, r.reason, r.category, r.grade, number=n) for n, r in enumerate(DEFAULT_RULES, 1)]
    return [
        Rule(r.disposition, r.reason, r.category, r.grade, hub_id=r.hub_id, id=r.id, number=n)
        for n, r in enumerate(stored, 1)
    ]


def suggest(rules: Sequence[Rule], *, reason: str, category: str = "", grade: Grade | None) -> Suggestion | None:
    """The first rule that matches, or None when none does."""
    for rule in rules:
        if rule.matches(reason=reason, category=category, grade=grade):
            return Suggestion(rule.disposition, rule)
    return None


def suggest_for_item(rules: Sequence[Rule], item: PickupItem, grade: Grade | None = None) -> Suggestion | None:
    """The suggestion for an item as graded (by the hub when it regraded, else at the door)."""
    return suggest(rules, reason=item.reason, category=item.category, grade=grade or item.received_grade or item.grade)


# --- the admin's table ---------------------------------------------------------------------------


def list_rules(hub_id: int | None = None) -> list[DispositionRule]:
    """The stored rules, as an admin edits them (every hub's first, then per hub)."""
    return list(
        db.session.scalars(
            select(DispositionRule).order_by(DispositionRule.hub_id.is_not(None), DispositionRule.hub_id, DispositionRule.position, DispositionRule.id)
        )
    )


def add_rule(
    *, disposition: str, reason: str = "", category: str = "", grade: str = "", hub_id: int | None = None, note: str = ""
) -> DispositionRule:
    """Add a rule at the end of its list. The first rule stored replaces the defaults, so they are stored first."""
    problems: dict[str, list[str]] = {}
    try:
        chosen = Disposition(disposition)
    except ValueError:
        problems["disposition"] = [f"Choose one of: {', '.join(d.value for d in Disposition)}."]
    try:
        graded = Grade(grade) if grade else None
    except ValueError:
        problems["grade"] = ["Choose A, B, C, D or any."]
    for name, text in (("reason", reason), ("category", category)):
        if len(text) > 64:
            problems[name] = ["At most 64 characters."]
    if problems:
        raise InvalidInput("The rule is not complete.", fields=problems)
    if db.session.scalar(select(DispositionRule.id).limit(1)) is None:
        _store_defaults()
    last = db.session.scalar(
        select(DispositionRule.position).where(DispositionRule.hub_id.is_(None) if hub_id is None else DispositionRule.hub_id == hub_id)
        .order_by(DispositionRule.position.desc()).limit(1)
    )
    rule = DispositionRule(
        position=(last or 0) + 1, hub_id=hub_id, reason=reason.strip(), category=category.strip(), grade=graded,
        disposition=chosen, note=note.strip()[:200],
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def _store_defaults() -> None:
    db.session.add_all(
        DispositionRule(position=n, reason=r.reason, category=r.category, grade=r.grade, disposition=r.disposition)
        for n, r in enumerate(DEFAULT_RULES, 1)
    )
    db.session.flush()


def move_rule(rule_id: int, offset: int) -> None:
    """Move a rule up (-1) or down (+1) within its list."""
    rule = db.session.get(DispositionRule, rule_id)
    if rule is None:
        raise NotFound("No such rule.")
    siblings = list(
        db.session.scalars(
            select(DispositionRule)
            .where(DispositionRule.hub_id.is_(None) if rule.hub_id is None else DispositionRule.hub_id == rule.hub_id)
            .order_by(DispositionRule.position, DispositionRule.id)
        )
    )
    index = siblings.index(rule)
    target = index + offset
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings, 1):
        sibling.position = position


def delete_rule(rule_id: int) -> None:
    """Remove a rule (decisions it suggested keep its words)."""
    rule = db.session.get(DispositionRule, rule_id)
    if rule is None:
        raise NotFound("No such rule.")
    db.session.delete(rule)
