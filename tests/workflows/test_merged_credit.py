"""差评 merged into one matter keep their credit: when the problem closes, each counts as it did."""
from app import dashboard, ratings, ticket_tallies, tickets
from models import Reason, Ticket
from tests.workflows.conftest import MONDAY
from tests.workflows.test_engine import at, step


def bad_rating(county, reason, n):
    evaluation, ticket, _ = ratings.submit(county["w1"].token, "dissatisfied", [str(Reason.get(title=reason).id)],
                                           "一样的问题：社保卡补办要跑三次", "", "kiosk", f"{n:032x}", at=MONDAY)
    return ticket


def test_merged_bad_ratings_count_as_rectified_and_revisited_with_their_problem(officers, county, open_problem):
    o = officers
    problem = bad_rating(county, "吃拿卡要", 1)  # the commission's own procedure
    others = [bad_rating(county, "办理速度慢", n) for n in (2, 3, 4)]
    assert problem.workflow == "problem" and {t.workflow for t in others} == {"evaluation"}
    for t in others:  # the office sees one matter and merges the rest into it
        step(t, o["office"], "merge", at(0), target=problem.code, comment="同一事项，并案办理")
    national = dashboard.national()
    assert (national["bad"], national["rectified"], national["revisited"]) == (4, 0, 0)

    t = step(problem, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="吃拿卡要", comment="调查")
    t = step(t, o["inspector"], "report", at(3), result="已查实并整改")
    t = step(t, o["office"], "reply", at(4), reply="已整改，窗口推行一次办结。")
    mid = dashboard.national()
    assert (mid["rectified"], mid["revisited"]) == (0, 0)  # nothing closed or revisited yet
    t = step(t, o["office"], "grade", at(5), grade="satisfied")
    assert t.status == "closed" and t.closing_kind == "solved"

    national = dashboard.national()
    assert (national["rectified"], national["revisited"], national["revisit_pleased"]) == (4, 4, 4)
    assert national["rectify_rate"] == 1.0 and national["revisit_rate"] == 1.0
    merged = Ticket.get_by_id(others[0].id)
    assert (merged.closing_kind, merged.settled_as, merged.grade) == ("merged", "solved", "satisfied")
    assert ticket_tallies.check() == []  # the tallies were kept by the triggers, to the recount


def test_a_reopened_problem_takes_its_merged_tickets_back_with_it(officers, county):
    o = officers
    problem = bad_rating(county, "吃拿卡要", 1)
    other = bad_rating(county, "办理速度慢", 2)
    step(other, o["office"], "merge", at(0), target=problem.code, comment="并案")
    t = step(problem, o["office"], "submit", at(0), comment="呈报")
    t = step(t, o["leader"], "dispatch", at(0), classification="吃拿卡要", comment="调查")
    t = step(t, o["inspector"], "report", at(3), result="已整改")
    t = step(t, o["office"], "reply", at(4), reply="已整改。")
    t = step(t, o["office"], "grade", at(5), grade="dissatisfied")  # reopened: revisited, not yet rectified
    national = dashboard.national()
    assert (national["rectified"], national["revisited"], national["revisit_pleased"]) == (0, 2, 0)
    assert ticket_tallies.check() == []
