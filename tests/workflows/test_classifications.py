"""The classification list offered at 批办/分类处置 is data in workflows.yaml, versioned with the procedures."""
import re
from pathlib import Path

import pytest

from app import procedures
from app.workflow.errors import WorkflowFileError
from app.workflow.schema import load_text, load_workflows
from tests.workflows.test_screens import act, as_user

ROOT = Path(__file__).resolve().parent.parent.parent
SHIPPED = (ROOT / "workflows.yaml").read_text(encoding="utf-8")
TODAY = ("作风问题", "办事效率", "服务态度", "吃拿卡要", "故意刁难", "政策咨询", "营商环境", "民生诉求", "其他")
LINE = re.compile(r"^classifications: .*$", re.M)


def offered(client, ticket):
    page = client.get(f"/admin/handle/{ticket.id}/").get_data(as_text=True)
    datalist = re.search(r'<datalist id="zt-classifications">(.*?)</datalist>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)">', datalist)


def test_the_shipped_file_lists_todays_classifications():
    assert load_workflows(ROOT / "workflows.yaml").classifications == TODAY


def test_the_leader_is_offered_the_list_the_office_wrote(app, officers, open_problem, conn):
    ticket = open_problem()
    assert act(as_user(app, "office"), ticket, "submit", comment="呈报").status_code == 302
    leader = as_user(app, "leader")
    assert offered(leader, ticket) == list(TODAY)
    procedures.accept(LINE.sub("classifications: [作风问题, 涉企检查]", SHIPPED))
    assert offered(leader, ticket) == ["作风问题", "涉企检查"]
    assert act(leader, ticket, "dispatch", classification="涉企检查", comment="请调查").status_code == 302
    procedures.accept(LINE.sub("", SHIPPED))  # a file that writes no list: the built-in one
    ticket2 = open_problem()
    assert act(as_user(app, "office"), ticket2, "submit", comment="呈报").status_code == 302
    assert offered(leader, ticket2) == list(TODAY)


@pytest.mark.parametrize("written, message", [
    ("classifications: []", "分类应当是一个不空的列表"),
    ("classifications: 作风问题", "分类应当是一个不空的列表"),
    ("classifications: [作风问题, 作风问题]", "分类第 2 项: 分类 \"作风问题\" 重复了：第 1 项已经写过"),
    ("classifications: [作风问题, {a: 1}]", "分类第 2 项: 每个分类应当是一段文字"),
    ("classifications: [作风问题, '  ']", "分类第 2 项: 每个分类应当是一段文字"),
])
def test_a_bad_list_is_refused_in_chinese(written, message):
    with pytest.raises(WorkflowFileError) as error:
        load_text(LINE.sub(written, SHIPPED))
    assert message in str(error.value)
