"""The words for grades and failure reasons, defined once: the console, the phone (through the
pull's settings) and the timeline all say the same thing. An admin may reword a failure reason
(app.pickups.doorstep); these are the words until then."""
from __future__ import annotations

from app.pickups.models import FailureReason, Grade

GRADE_LABELS = {
    Grade.A: "As new, sealed or unused",
    Grade.B: "Good, light wear",
    Grade.C: "Visible damage or faults",
    Grade.D: "Broken or incomplete",
}

FAILURE_LABELS = {
    FailureReason.NOT_HOME: "Nobody home",
    FailureReason.REFUSED: "Customer refused",
    FailureReason.ITEM_NOT_READY: "Item not ready",
    FailureReason.WRONG_ITEM: "Wrong item",
    FailureReason.ADDRESS_PROBLEM: "Address problem",
    FailureReason.UNSAFE: "Unsafe to collect",
    FailureReason.OTHER: "Other (say what happened)",
}

