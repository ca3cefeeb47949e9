"""The procedure diagram: every stage and action drawn, nothing on top of anything, any version."""
import itertools
import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from markupsafe import escape

from app import procedures
from app.roles import CASE_ROLES
from app.workflow import diagram
from app.workflow.diagram_layout import Edge, layout
from app.workflow.schema import load_workflows
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = load_workflows(ROOT / "workflows.yaml", roles=CASE_ROLES).workflows


def overlaps(a, b, slack=0.5):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax + aw > bx + slack and bx + bw > ax + slack and ay + ah > by + slack and by + bh > ay + slack


def crossings(drawn):
    """Pairs of pieces of two different arrows that properly cross each other."""
    def side(p, q, r):
        v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return 0 if abs(v) < 1e-6 else (1 if v > 0 else -1)
    found = []
    for (i, p1, q1), (j, p2, q2) in itertools.combinations(drawn.segments(), 2):
        if i != j and side(p1, q1, p2) * side(p1, q1, q2) < 0 and side(p2, q2, p1) * side(p2, q2, q1) < 0:
            found.append((drawn.edges[i].data[1][0][0], drawn.edges[j].data[1][0][0]))
    return found


@pytest.fixture
def in_request(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize("key", sorted(DEMO))
def test_every_stage_and_action_is_drawn(in_request, key):
    wf = DEMO[key]
    svg = str(diagram.render(wf))
    for sid, stage in wf.stages.items():
        assert f'data-stage="{sid}"' in svg and f">{stage.title}<" in svg
        for action in stage.actions.values():
            assert re.search(rf'data-actions="[^"]*\b{action.id}\b', svg[svg.index(f'data-stage="{sid}"') - 10 ** 6:])
            assert action.title in svg
            if action.reopen_to:
                assert "不满意，重新办理" in svg
    drawn = diagram.plan(wf)
    drawn_actions = {(e.src, a) for e in drawn.edges for _t, _m, a in e.data[1]}
    assert {(sid, a) for sid, s in wf.stages.items() for a in s.actions} <= drawn_actions


@pytest.mark.parametrize("key", sorted(DEMO))
def test_nothing_lies_on_top_of_anything(in_request, key):
    assert_nothing_overlaps(diagram.plan(DEMO[key]))


def assert_nothing_overlaps(drawn):
    boxes = list(drawn.boxes.values())
    labels = [e.label for e in drawn.edges]
    assert not [pair for pair in itertools.combinations(boxes, 2) if overlaps(*pair)]
    assert not [pair for pair in itertools.combinations(labels, 2) if overlaps(*pair)]
    assert not [(lab, box) for lab in labels for box in boxes if overlaps(lab, box)]
    assert crossings(drawn) == []
    # no arrow runs through a box it does not start or end at
    for edge in drawn.edges:
        others = [b for sid, b in drawn.boxes.items() if sid not in (edge.src, edge.dst)]
        for (x1, y1), (x2, y2) in zip(edge.points, edge.points[1:]):
            for t in (k / 20 for k in range(21)):
                x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
                assert not [b for b in others if b[0] < x < b[0] + b[2] and b[1] < y < b[1] + b[3]]


@pytest.mark.parametrize("key", sorted(DEMO))
def test_the_diagram_speaks_english_when_the_reader_does(in_request, key):
    """The diagram's own words follow the screen's language; only the office's titles stay Chinese."""
    wf = DEMO[key]
    with force_locale("en"):
        svg = str(diagram.render(wf))
        assert_nothing_overlaps(diagram.plan(wf))  # English words are wider than the Chinese ones
    assert "Legend" in svg and "Escalation (the same for every stage)" in svg and "Yellow card: at the deadline" in svg
    if key == "problem":
        assert "Time limit 15 working days" in svg and "timing may be paused" in svg
        assert "Red card: 3 working days overdue" in svg and "Notified: officer of the stage" in svg
        assert " [transfer, co-handling units may be named]" in svg and "Dissatisfied: handled again" in svg
    own = {wf.title} | {s.title for s in wf.stages.values()} | {
        a.title for s in wf.stages.values() for a in s.actions.values()}
    for title in sorted(own, key=len, reverse=True):
        svg = svg.replace(str(escape(title)), "")
    assert not re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", svg)
    assert svg != str(diagram.render(wf))  # the Chinese drawing is cached apart


def test_a_straight_procedure_stays_one_column(in_request):
    sizes = {s: (150, 60, 0) for s in ("a", "b", "c", "d")}
    drawn = layout(sizes, "a", [Edge("a", "b", 40, 16), Edge("b", "c", 40, 16), Edge("c", "d", 40, 16)])
    centres = {round(x + w / 2, 3) for x, _y, w, _h in drawn.boxes.values()}
    tops = [drawn.boxes[s][1] for s in "abcd"]
    assert len(centres) == 1 and tops == sorted(tops)
    # a stage written before its predecessor still comes below it, and back arrows are drawn reversed
    drawn = layout({"z": (150, 60, 0), "a": (150, 60, 0), "b": (150, 60, 0)}, "a",
                   [Edge("a", "b", 30, 16), Edge("b", "z", 30, 16), Edge("b", "a", 30, 16)])
    assert drawn.boxes["a"][1] < drawn.boxes["b"][1] < drawn.boxes["z"][1]
    assert [e.reversed for e in drawn.edges] == [False, False, True]


def test_deadlines_marks_escalation_and_legend_are_shown(in_request):
    svg = str(diagram.render(DEMO["problem"]))
    assert "时限 15 个工作日" in svg and "可中止计时" in svg
    assert "可延期 ≤15 个工作日，纪委监委领导批准" in svg and "监督检查室/派驻纪检组批准" in svg
    assert "提醒：到期前 1 个工作日" in svg and "黄牌：到期时" in svg and "红牌：超期 3 个工作日" in svg
    assert "通知：本环节经办人、党风政风监督室" in svg and "通知：纪委监委领导、党风政风监督室" in svg
    assert svg.count('class="zt-escalation"') == 1
    assert 'class="zt-legend-body"' in svg and "图例" in svg and "回访不满意" in svg
    assert 'data-kind="transfer"' in svg and 'data-kind="return"' in svg and 'data-kind="reopen"' in svg
    assert "〔转办、可指定协办单位〕" in svg and "办结：已作解释" in svg
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "从受理起 10 个工作日" in str(diagram.render(DEMO["enterprise"]))
    assert 'class="zt-legend-body"' not in str(diagram.render(DEMO["appeal"], legend=False))


def test_the_office_s_words_are_escaped(in_request):
    text = (ROOT / "workflows.yaml").read_text(encoding="utf-8")
    text = text.replace("title: 平台受理", "title: \"<b>平台&受理</b>\"", 1).replace(
        "title: 呈报领导批办", "title: \"呈报<i>领导</i>\"", 1)
    from app.workflow.schema import load_text
    svg = str(diagram.render(load_text(text, roles=CASE_ROLES).workflows["problem"]))
    assert "&lt;b&gt;平台&amp;受理&lt;/b&gt;" in svg and "呈报&lt;i&gt;领导&lt;/i&gt;" in svg
    assert "<b>" not in svg and "<i>" not in svg


def test_an_old_version_can_be_opened(client, login_as, conn):
    login_as("office")
    token = csrf_token(client, "/admin/rules/edit/")
    shipped = (ROOT / "workflows.yaml").read_text(encoding="utf-8")
    changed = shipped.replace("title: 平台受理", "title: 平台登记受理", 1).replace("version: 2", "version: 3", 1)
    response = client.post("/admin/rules/edit/", data={"text": changed, "save": "1", "csrf_token": token,
                                                       "base": procedures.latest_file().id})
    assert response.status_code == 302 and procedures.workflow("problem").version == 3
    index = client.get("/admin/rules/overview/").get_data(as_text=True)
    assert 'href="/admin/rules/version/problem/2/"' in index and 'href="/admin/rules/version/problem/3/"' in index
    old = client.get("/admin/rules/version/problem/2/")
    page = old.get_data(as_text=True)
    assert old.status_code == 200 and "平台受理" in page and "平台登记受理" not in page
    assert "第 2 版" in page and "2026-12-07" in page and "答复群众单独填写" in page and "<svg" in page
    assert "图例" in page
    assert "平台登记受理" in client.get("/admin/rules/version/problem/3/").get_data(as_text=True)
    for url in ("/admin/rules/version/problem/9/", "/admin/rules/version/nothing/1/",
                "/admin/rules/version/" + "x" * 300 + "/1/"):
        missing = client.get(url)
        assert missing.status_code == 404 and "没有第" in missing.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("leader", 200), ("inspector", 200), ("auditor", 200),
                                          ("handler", 403), ("bureau", 403)])
def test_who_may_open_a_version(client, login_as, conn, county, role, status):
    login_as(role, county["hall_a"] if role == "handler" else None)
    assert client.get("/admin/rules/version/problem/2/").status_code == status


def test_a_preview_of_unfinished_text_is_still_drawn(in_request):
    """The form editor redraws as the office types: an action to itself, one to nowhere, no stages."""
    import dataclasses
    wf = DEMO["appeal"]
    review = wf.stages["review"]
    actions = dict(review.actions)
    actions["ask"] = dataclasses.replace(actions["dismiss"], id="ask", title="补充材料", to="review")
    actions["lost"] = dataclasses.replace(actions["dismiss"], id="lost", title="去向未定", to="nowhere")
    wf = dataclasses.replace(wf, stages={**wf.stages, "review": dataclasses.replace(review, actions=actions)})
    svg = str(diagram.render(wf))
    assert "补充材料" in svg and "去向未定" not in svg and 'data-actions="ask"' in svg
    assert "<svg" in str(diagram.render(dataclasses.replace(wf, stages={}, data={})))
