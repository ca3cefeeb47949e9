"""Word documents the office sends out: the 交办单 / 督办通知单 of a ticket."""
import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from models import now


def _chinese_font(run, name, size):
    # Word picks the East Asian font from its own attribute; without it Chinese falls back.
    run.font.name = name
    run.font.size = Pt(size)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc, text, font="仿宋", size=14, bold=False, align=None):
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.bold = bold
    _chinese_font(run, font, size)
    if align is not None:
        p.alignment = align
    return p


def assignment_docx(ticket, wf, facts):
    doc = Document()
    _paragraph(doc, f"直通车问题{facts['kind']}", font="黑体", size=20, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, f"编号：{ticket.code}", size=12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    rows = (
        ("承办单位", ticket.handling_unit.name if ticket.handling_unit_id else "（待定）"),
        ("问题摘要", ticket.title),
        ("问题来源", facts["source"]),
        ("被反映单位", ticket.unit.name if ticket.unit_id else ""),
        ("受理时间", f"{ticket.created_at:%Y年%m月%d日}"),
        ("反映内容", ticket.content),
        ("当前环节", facts["stage_title"]),
        ("办理时限", f"{ticket.due_at:%Y年%m月%d日}前" if ticket.due_at else "—"),
        ("领导批办意见", f"{facts['instruction']}" + (f"（{facts['instruction_by']}）" if facts["instruction_by"] else "")),
    )
    for label, value in rows:
        cells = table.add_row().cells
        for cell, text, bold in ((cells[0], label, True), (cells[1], value or "", False)):
            run = cell.paragraphs[0].add_run(text)
            run.bold = bold
            _chinese_font(run, "仿宋", 12)
    _paragraph(doc, "请承办单位按时限办理，并将办理结果报县纪委监委党风政风监督室。", size=14)
    _paragraph(doc, f"县纪委监委党风政风监督室　{now():%Y年%m月%d日}", size=14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    stream = io.BytesIO()
    doc.save(stream)
    stream.seek(0)
    return stream
