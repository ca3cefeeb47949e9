"""Chinese first: every string of ours is translated and the compiled catalogues are current."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def source_messages():
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids = set()
    for folder in ("app", "views", "seed"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords=KEYWORDS):
            ids.add(message if isinstance(message, str) else message[0])
    for name in ("models.py", "run.py"):
        for _file, _line, message, _c, _ctx in extract_from_dir(
                ROOT, [(name, "python")], {}, keywords=KEYWORDS):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def read_catalogue(locale):
    with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def test_every_string_in_the_code_has_a_chinese_translation():
    catalogue = read_catalogue("zh_Hans_CN")
    translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(source_messages() - translated)
    assert not missing, "untranslated (run pybabel extract/update, then translate): %s" % missing


@pytest.mark.parametrize("po_path", sorted(CATALOGUES.glob("*/LC_MESSAGES/*.po")),
                         ids=lambda p: f"{p.parts[-3]}/{p.name}")
def test_compiled_catalogues_are_current(po_path):
    with open(po_path, "rb") as f:
        catalogue = read_po(f, locale=po_path.parts[-3])
    with open(po_path.with_suffix(".mo"), "rb") as f:
        compiled = read_mo(f)
    def entries(messages):
        as_key = lambda v: tuple(v) if isinstance(v, (list, tuple)) else v
        return {as_key(m.id): as_key(m.string) for m in messages
                if m.id and m.string and "fuzzy" not in m.flags}

    expected, actual = entries(catalogue), entries(compiled)
    assert actual == expected, "run: pybabel compile -d translations"


def test_admin_speaks_chinese_with_flask_admins_own_catalogue(client, login_as, county):
    login_as("office")
    page = client.get("/admin/window/").get_data(as_text=True)
    assert "服务窗口" in page and "窗口号" in page
    assert "添加筛选器" in page and "导出" in page  # Flask-Admin's zh_Hans_CN strings


def test_flask_admin_messages_are_all_chinese(client, login_as, county):
    """Every message of Flask-Admin's zh_Hans_CN catalogue reaches the officer in Chinese."""
    import flask_admin
    from flask_admin.babel import gettext as admin_gettext
    login_as("office")
    po_path = Path(flask_admin.__file__).parent / "translations/zh_Hans_CN/LC_MESSAGES/admin.po"
    with open(po_path, "rb") as f:
        catalogue = read_po(f, locale="zh_Hans_CN")
    client.get("/admin/window/")  # the admin's catalogues, ours included, are loaded by a request
    with client.application.test_request_context("/admin/window/"):
        untranslated = [m.id for m in catalogue if isinstance(m.id, str) and m.string
                        and m.string != m.id and admin_gettext(m.id) == m.id]
    assert not untranslated
    page = client.get("/admin/window/").get_data(as_text=True)
    assert "每页 20 条" in page and "20 items" not in page


def test_a_refused_form_says_so_in_chinese(client, login_as, county):
    from tests.conftest import csrf_token
    login_as("office")
    url = "/admin/staff/new/"
    page = client.post(url, data={"name": "测试员", "number": "S1", "unit": county["hall_a"].id,
                                  "csrf_token": csrf_token(client, url)}).get_data(as_text=True)
    assert "创建记录失败" in page and "Failed to create record" not in page
