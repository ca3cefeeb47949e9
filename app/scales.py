"""Rating scales: Haixing's three levels (the default) and the national 政务服务"好差评" five levels.

Every level belongs to one grade — 好评, 中评 or 差评 — so the figures stay comparable whichever
scale a county uses or has used: the satisfaction rate is 好评 ÷ all ratings, the 差评率 is
差评 ÷ all ratings, on either scale and across a change of scale.
"""
from flask_babel import lazy_gettext as _l

GOOD, NEUTRAL, BAD = "good", "neutral", "bad"

# Level id -> grade. The ids of the two scales never mean different things.
GRADE_OF = {
    "very_satisfied": GOOD,
    "satisfied": GOOD,
    "average": NEUTRAL,
    "basically_satisfied": NEUTRAL,
    "dissatisfied": BAD,
    "very_dissatisfied": BAD,
}
GOOD_LEVELS = tuple(level for level, grade in GRADE_OF.items() if grade == GOOD)
NEUTRAL_LEVELS = tuple(level for level, grade in GRADE_OF.items() if grade == NEUTRAL)
BAD_LEVELS = tuple(level for level, grade in GRADE_OF.items() if grade == BAD)

GRADE_LABELS = {GOOD: _l("Good"), NEUTRAL: _l("Neutral"), BAD: _l("Bad")}


class Scale:
    """The levels a citizen chooses from, best first, and which of them ask for reason tags."""

    def __init__(self, key, title, levels, tagged):
        self.key, self.title, self.levels, self.tagged = key, title, levels, tagged

    def css(self, level):
        return {GOOD: "good", NEUTRAL: "mid", BAD: "bad"}[GRADE_OF[level]]


SCALES = {
    # Haixing: reasons only on 不满意, so that a content citizen is done with one tap.
    "three": Scale("three", _l("Three levels (Haixing)"), ("satisfied", "average", "dissatisfied"),
                   ("dissatisfied",)),
    # The national standard (国办发〔2019〕51号): every level has its own tags.
    "five": Scale("five", _l("Five levels (national 好差评)"),
                  ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"),
                  ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")),
}
DEFAULT = "three"


def scale(key):
    return SCALES[key]


def grade_counts(level_counts):
    """{level: n} -> {grade: n}, for figures that mean the same on both scales."""
    out = {GOOD: 0, NEUTRAL: 0, BAD: 0}
    for level, n in level_counts.items():
        out[GRADE_OF[level]] += n
    return out
