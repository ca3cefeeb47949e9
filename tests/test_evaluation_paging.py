"""The evaluations list pages through a province's ratings without reading the pages before:
every page shows exactly the rows that plain OFFSET paging shows, and the count is the true one,
for the commission and for a unit handler, newest or oldest first, filtered, searched or sorted."""
import datetime
import random
import re

import pytest

from app import paging, tallies
from models import Evaluation, db

SIZE = 20  # one of the page sizes an officer may choose: more pages, more day boundaries crossed
NEWEST, OLDEST = "", "sort=0"
BUSY = datetime.datetime(2026, 3, 2, 9, 0)  # a day of 50 ratings, many in the same second


@pytest.fixture
def ratings(county):
    """320 ratings from late January to early April in four units; one in ten excluded after an appeal."""
    rng = random.Random(15)
    places = [(county["hall_a"], county["w1"], county["s1"]), (county["hall_b"], county["w2"], None),
              (county["township"], None, None), (county["village"], None, None)]
    stamps = [datetime.datetime(2026, 1, 27, 8) + datetime.timedelta(days=rng.randrange(70), minutes=rng.randrange(600))
              for _ in range(270)]
    stamps += [BUSY + datetime.timedelta(minutes=rng.randrange(4)) for _ in range(50)]
    rng.shuffle(stamps)  # ids not in the order of time: ties must still come out the same
    with db.atomic():
        for i, at in enumerate(stamps):
            unit, window, staff = rng.choice(places)
            rude = " 态度差" if rng.random() < 0.2 else ""
            tallies.record(Evaluation.create(
                unit=unit, window=window, staff=staff, created_at=at, excluded=rng.random() < 0.1,
                level=rng.choice(tallies.LEVEL_COLUMNS), channel=rng.choice(("kiosk", "qr", "web")),
                comment=f"评价#{i:04d}{rude}"))
    assert tallies.check() == []  # the tallies count them exactly, as in production


@pytest.fixture
def tallied(monkeypatch):
    """Count and seek from the tallies even in a list as short as a test's."""
    monkeypatch.setattr(paging, "EXACT_BELOW", 0)


def shown(client, url):
    """(the count in the list's title, the ratings on the page in their order)."""
    html = client.get(url).get_data(as_text=True)
    count = re.search(r"列表 \((\d+)\)", html)
    return (int(count.group(1)) if count else 0), re.findall(r"评价#\d{4}", html)


def every_page(client, args):
    """The count shown and the rows of every page the pager offers, then of the page after the last."""
    url = f"/admin/evaluation/?page_size={SIZE}&{args}"
    count, first = shown(client, url)
    pages = [first] + [shown(client, f"{url}&page={p}")[1] for p in range(1, -(-count // SIZE) + 1)]
    assert pages[-1] == []  # past the last page: nothing, as OFFSET past the end gives
    return count, pages[:-1]


def offset_pages(*where, order=(Evaluation.created_at.desc(), Evaluation.id.desc())):
    """The same list read the plain way, LIMIT and OFFSET page by page, ties in the order of their ids."""
    query = Evaluation.select(Evaluation.comment).where(*where) if where else Evaluation.select(Evaluation.comment)
    total = query.count()
    return total, [[c[:7] for (c,) in query.order_by(*order).limit(SIZE).offset(p * SIZE).tuples()]
                   for p in range(-(-total // SIZE))]


def log_in(login_as, county, who):
    if who == "handler":  # the township sees its village station's ratings too
        login_as("handler", county["township"])
        return [Evaluation.unit.in_([county["township"].id, county["village"].id])]
    login_as("office")
    return []


@pytest.mark.parametrize("who", ["office", "handler"])
@pytest.mark.parametrize("order", [NEWEST, OLDEST, "sort=0&desc=1"], ids=["newest", "oldest", "newest-asked"])
@pytest.mark.parametrize("counted", ["tallies", "rows"])
def test_every_page_shows_what_offset_paging_shows(client, login_as, county, ratings, monkeypatch, who, order,
                                                   counted):
    if counted == "tallies":
        monkeypatch.setattr(paging, "EXACT_BELOW", 0)
    scope = log_in(login_as, county, who)
    by_time = ((Evaluation.created_at.asc(), Evaluation.id.asc()) if order == OLDEST
               else (Evaluation.created_at.desc(), Evaluation.id.desc()))
    total, pages = offset_pages(*scope, order=by_time)
    assert 30 < total and len(pages) > 3
    assert every_page(client, order) == (total, pages)


def test_the_pager_offers_every_page_and_no_more(client, login_as, county, ratings, tallied):
    login_as("office")
    html = client.get(f"/admin/evaluation/?page_size={SIZE}").get_data(as_text=True)
    last = re.search(r'href="[^"]*page=(\d+)[^"]*">&raquo;</a>', html.replace("&amp;", "&"))
    assert int(last.group(1)) == -(-320 // SIZE) - 1


FILTERS = {  # what an officer asks for in the list's URL -> the same ratings as a condition
    "unit": ("flt0_0={hall_b}", lambda c: [Evaluation.unit == c["hall_b"]]),
    "rating": ("flt0_3=dissatisfied", lambda c: [Evaluation.level == "dissatisfied"]),
    "grade": ("flt0_4=bad", lambda c: [Evaluation.level.in_(("dissatisfied", "very_dissatisfied"))]),
    "after": ("flt0_8=2026-02-10 12:30:00", lambda c: [Evaluation.created_at > datetime.datetime(2026, 2, 10, 12, 30)]),
    "before, cutting the busy day": ("flt0_9=2026-03-02 09:02:00",
                                     lambda c: [Evaluation.created_at < BUSY + datetime.timedelta(minutes=2)]),
    "between": ("flt0_10=2026-01-31 10:00:00 to 2026-03-02 09:01:00",
                lambda c: [Evaluation.created_at.between(datetime.datetime(2026, 1, 31, 10),
                                                         BUSY + datetime.timedelta(minutes=1))]),
    "at one second": ("flt0_6=2026-03-02 09:01:00",
                      lambda c: [Evaluation.created_at == BUSY + datetime.timedelta(minutes=1)]),
    "two days": ("flt0_10=2026-03-01 12:00:00 to 2026-03-02 09:01:30",
                 lambda c: [Evaluation.created_at.between(datetime.datetime(2026, 3, 1, 12),
                                                          BUSY + datetime.timedelta(minutes=1, seconds=30))]),
    "unit and grade since February": (
        "flt0_0={hall_a}&flt1_4=good&flt2_8=2026-02-01 00:00:00",
        lambda c: [Evaluation.unit == c["hall_a"], Evaluation.level.in_(("very_satisfied", "satisfied")),
                   Evaluation.created_at > datetime.datetime(2026, 2, 1)]),
    "window": ("flt0_1={w1}", lambda c: [Evaluation.window == c["w1"]]),
    "channel": ("flt0_5=qr", lambda c: [Evaluation.channel == "qr"]),
    "not between": ("flt0_11=2026-02-01 00:00:00 to 2026-03-01 00:00:00",
                    lambda c: [~Evaluation.created_at.between(datetime.datetime(2026, 2, 1),
                                                              datetime.datetime(2026, 3, 1))]),
    "search": ("search=态度差", lambda c: [Evaluation.comment.contains("态度差")]),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filtered_and_searched_lists_page_like_offset_paging(client, login_as, county, ratings, tallied, name):
    args, where = FILTERS[name]
    login_as("office")
    ids = {key: county[key].id for key in ("hall_a", "hall_b", "w1")}
    assert every_page(client, args.format(**ids)) == offset_pages(*where(county))


@pytest.mark.parametrize("who", ["office", "handler"])
@pytest.mark.parametrize("column, field", [(4, Evaluation.level), (7, Evaluation.channel)], ids=["level", "channel"])
@pytest.mark.parametrize("desc", [False, True], ids=["ascending", "descending"])
def test_other_sorts_page_like_offset_paging(client, login_as, county, ratings, tallied, who, column, field, desc):
    """Ties in the order of their ids, the same way round; the far half read from the list's end."""
    scope = log_in(login_as, county, who)
    order = (field.desc(), Evaluation.id.desc()) if desc else (field.asc(), Evaluation.id.asc())
    assert every_page(client, f"sort={column}" + ("&desc=1" if desc else "")) == offset_pages(*scope, order=order)


def test_a_handler_filtering_another_units_ratings_sees_none(client, login_as, county, ratings, tallied):
    login_as("handler", county["township"])
    assert every_page(client, f"flt0_0={county['hall_b'].id}") == (0, [])
    own = Evaluation.unit == county["village"]
    assert every_page(client, f"flt0_0={county['village'].id}") == offset_pages(own)


def test_export_holds_the_whole_list_in_order(client, login_as, county, ratings, tallied):
    scope = log_in(login_as, county, "handler")
    csv_text = client.get("/admin/evaluation/export/csv/").get_data(as_text=True)
    _total, pages = offset_pages(*scope)
    assert re.findall(r"评价#\d{4}", csv_text) == [c for page in pages for c in page]


def test_a_far_page_is_read_from_its_day_not_through_the_pages_before(client, login_as, county, ratings, tallied,
                                                                      count_queries):
    login_as("office")
    count_queries.queries.clear()
    count, rows = shown(client, f"/admin/evaluation/?page_size={SIZE}&page=12")
    assert count == 320 and len(rows) == SIZE
    assert not [sql for sql in count_queries.queries if "COUNT" in sql and "JOIN" in sql]  # nor counted so
    skipped = re.compile(r"OFFSET (?:\?|%s).*, (\d+)\]\)$")  # the last parameter: SQLite's ? or PostgreSQL's %s
    offsets = [int(m.group(1)) for m in map(skipped.search, count_queries.queries) if m]
    assert offsets and max(offsets) < 50  # fewer rows skipped than the busiest day has


def test_the_excluded_ratings_have_their_own_small_index(conn):
    """Partial: only the few ratings excluded after an appeal are written to it."""
    partial = [i.columns for i in db.get_indexes("evaluation") if "WHERE" in i.sql.upper()]
    assert partial == [["created_at", "unit_id", "level"]]
