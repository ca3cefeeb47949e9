"""A unit handler sees the rows of its own unit (and the units under it), nothing else."""
from app.procedures import active_versions
from models import Contact, Evaluation, Ticket


def active(key):
    return active_versions()[key]


def _evaluations(county):
    own = Evaluation.create(unit=county["hall_a"], window=county["w1"], level="dissatisfied",
                            channel="kiosk", comment="本单位的评价甲")
    other = Evaluation.create(unit=county["hall_b"], window=county["w2"], level="dissatisfied",
                              channel="qr", comment="别的单位的评价乙")
    return own, other


def test_handler_lists_only_its_units_evaluations(client, login_as, county):
    own, other = _evaluations(county)
    login_as("handler", county["hall_a"])
    page = client.get("/admin/evaluation/").get_data(as_text=True)
    assert own.comment in page and other.comment not in page


def test_handler_cannot_open_another_units_row_by_id(client, login_as, county):
    own, other = _evaluations(county)
    login_as("handler", county["hall_a"])
    assert own.comment in client.get(f"/admin/evaluation/details/?id={own.id}").get_data(as_text=True)
    response = client.get(f"/admin/evaluation/details/?id={other.id}", follow_redirects=True)
    assert other.comment not in response.get_data(as_text=True)
    response = client.get(f"/admin/window/details/?id={county['w2'].id}", follow_redirects=True)
    assert "医保报销窗口" not in response.get_data(as_text=True)


def test_handler_exports_only_its_own_rows(client, login_as, county):
    own, other = _evaluations(county)
    login_as("handler", county["hall_a"])
    csv_text = client.get("/admin/evaluation/export/csv/").get_data(as_text=True)
    assert own.comment in csv_text and other.comment not in csv_text


def test_handler_sees_its_windows_staff_and_filter_choices_only(client, login_as, county):
    login_as("handler", county["hall_a"])
    windows = client.get("/admin/window/").get_data(as_text=True)
    assert "企业开办窗口" in windows and "医保报销窗口" not in windows
    staff = client.get("/admin/staff/").get_data(as_text=True)
    assert "张丽娜" in staff and "李志强" not in staff
    evaluations = client.get("/admin/evaluation/").get_data(as_text=True)
    assert "县医疗保障局" not in evaluations  # not even as a filter choice


def test_township_handler_sees_its_village_stations(client, login_as, county):
    Evaluation.create(unit=county["village"], level="satisfied", channel="qr", comment="村里评价丙")
    login_as("handler", county["township"])
    assert "村里评价丙" in client.get("/admin/evaluation/").get_data(as_text=True)
    tree = client.get("/admin/unit-tree/").get_data(as_text=True)
    assert "孔庄子村综合服务站" in tree and "县医疗保障局" not in tree


def test_handler_sees_tickets_it_must_handle_without_the_complainant(client, login_as, county):
    contact = Contact.create(name="举报人王某某", phone="13912345678")
    Ticket.create(code="T-1", title="本单位承办的问题", content="窗口人员吃拿卡要", source="web",
                  unit=county["hall_a"], handling_unit=county["hall_a"], contact=contact,
                  workflow_version=active("problem"))
    Ticket.create(code="T-2", title="别的单位承办的问题", content="其他", source="web",
                  unit=county["hall_b"], handling_unit=county["hall_b"], workflow_version=active("problem"))
    login_as("handler", county["hall_a"])
    page = client.get("/admin/ticket/").get_data(as_text=True)
    assert "本单位承办的问题" in page and "别的单位承办的问题" not in page
    ticket = Ticket.get(Ticket.code == "T-1")
    details = client.get(f"/admin/ticket/details/?id={ticket.id}", follow_redirects=True).get_data(as_text=True)
    assert "吃拿卡要" in details
    export = client.get("/admin/ticket/export/csv/").get_data(as_text=True)
    for seen in (page, details, export):
        assert "王某某" not in seen and "13912345678" not in seen and "5678" not in seen


def test_commission_sees_every_unit(client, login_as, county):
    own, other = _evaluations(county)
    login_as("office")
    page = client.get("/admin/evaluation/").get_data(as_text=True)
    assert own.comment in page and other.comment in page


def test_message_writer_phone_is_masked_for_the_commission(client, login_as, county):
    from models import Message
    Message.create(kind="suggestion", unit=county["hall_a"], content="建议增加座椅",
                   contact=Contact.create(name="韩某", phone="13833172456"))
    login_as("office")
    page = client.get("/admin/message/").get_data(as_text=True)
    assert "138****2456" in page and "13833172456" not in page
