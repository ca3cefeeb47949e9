"""The text view of 流程规则: line numbers, and each error linked to its line and named in Chinese."""
import re
from pathlib import Path

from tests.workflows.conftest import check_in_text_view

SHIPPED = (Path(__file__).resolve().parent.parent.parent / "workflows.yaml").read_text(encoding="utf-8")


def line_of(text, fragment):
    return text[:text.index(fragment)].count("\n") + 1


def test_each_error_links_to_its_line_with_a_chinese_label(client, login_as):
    login_as("office")
    broken = SHIPPED.replace("deadline: {amount: 15, unit: workdays}", "deadline: 七天", 1) \
        .replace("role: leader", "role: 纪委监委领导", 1)
    response = check_in_text_view(client, broken)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    deadline, role = line_of(broken, "deadline: 七天"), line_of(broken, "role: 纪委监委领导")
    links = re.findall(r'class="zt-problem-line" data-line="(\d+)" data-col="\d+"[^>]*>([^<]*)</a>\s*([^<]*)</li>',
                       page)
    assert [(int(n), said) for n, said, _ in links] == [(role, f"第 {role} 行"), (deadline, f"第 {deadline} 行")]
    assert "流程“问题线索办理”环节“调查跟踪督办”的时限：时限不能写成 &#34;七天&#34;，要写成 {amount: 7, unit: workdays}" \
        in links[1][2]
    assert "你是不是想写 &#34;leader&#34;（纪委监委领导）" in links[0][2]
    assert "workflows.problem" not in page
    assert 'wrap="off"' in page and "code_lines.js" in page  # the gutter is drawn by our script
    for asset in ("code_lines.js", "code_lines.css"):  # ours, served locally
        response = client.get(f"/static/{asset}")
        response.close()
        assert response.status_code == 200


def test_a_yaml_slip_is_shown_on_its_own_line(client, login_as):
    login_as("office")
    broken = SHIPPED.replace("role: leader", "role：leader", 1)
    response = check_in_text_view(client, broken)
    assert response.status_code == 422
    page = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert f'data-line="{line_of(broken, "role：leader")}"' in page
    assert "用了中文冒号“：”" in page and "（文件）" not in page
