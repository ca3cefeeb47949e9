"""The five-minute round inside the app process: deadlines, rating anomalies, scope probes.

No cron, no extra service on a county PC. Several processes may each run one: the sweep is
idempotent and each ticket's alert is written under its revision guard, so two sweepers never
send the same card twice. It sits above tickets and ratings, so neither imports the other back.
"""
from app import probes
from app.background import every
from app.ratings import detect_anomalies
from app.tickets import sweep


def one_round(case_numbers):
    """One round; returns (alert counts, rating bursts, uncased good ratings)."""
    counts = sweep()
    bursts, uncased = detect_anomalies(case_numbers=case_numbers)
    probes.flush()  # look-ups outside an officer's scope still only counted
    return counts, bursts, uncased


def start(app, every_seconds=300):
    optional = app.config["RATING_CASE_NUMBER"] == "optional"
    return every(app, every_seconds, "zhitongche-sweep", lambda: one_round(optional), "deadline sweep failed")
