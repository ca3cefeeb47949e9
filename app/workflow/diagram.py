"""A workflow drawn as SVG by the app itself (no script, no font, nothing from the internet).

Stages stand in rows from the start down (app/workflow/diagram_layout.py); each box tells who acts,
the deadline and whether the clock may stop (中止计时) or be extended (延期). Arrows carry the
actions' titles; a transfer, a return and a reopening after a 不满意 visit look different. The
escalation (reminder, 黄牌, 红牌 and who is told) holds for every stage, so it is drawn once,
beside the stages, above the legend. Every text from the file passes through escape().
The diagram's own words go through flask-babel (English msgids, Chinese in the catalogue), so the
tables below hold lazy strings and the texts are made at render time.
"""
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape

from app.roles import role_label
from app.workflow.diagram_layout import Edge, layout

TITLE, TEXT, SMALL = 14, 12, 11          # font sizes
PAD, MIN_BOX_W, LOOP = 12, 150, 22        # box padding, narrowest box, room for an arrow to itself
LABEL_LINE, PANEL_W, PANEL_GAP = 16, 300, 28
INK, MUTED = "#212529", "#5f6368"
FONTS = "'Microsoft YaHei','PingFang SC','WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif"  # installed ones only
CLOSING = {"solved": (_l("Solved"), "#e6f4ea", "#2e7d32"), "explained": (_l("Explained"), "#e8f0fe", "#1a56c4"),
           "not_accepted": (_l("Not accepted"), "#f1f3f4", "#6b6f74")}
ARROWS = {  # kind -> colour, dash pattern, what the legend says (name, meaning)
    "plain": ("#495057", "", _l("Action"), _l("passed on to the next stage when done")),
    "transfer": ("#1565c0", "", _l("Transfer"), _l("to a handling unit (counts as a transfer)")),
    "return": ("#e65100", "6 4", _l("Send back"), _l("back to the previous stage")),
    "reopen": ("#c62828", "2 4", _l("Dissatisfied at the revisit"), _l("handled again")),
}
MARK_COLOUR = {"pause": ("#f3e8fd", "#6a1b9a"), "extend": ("#e0f2f1", "#00695c")}
GRADE_LABELS = {"satisfied": _l("Satisfied"), "basically_satisfied": _l("Basically satisfied"),
                "dissatisfied": _l("Dissatisfied")}
EFFECT_MARKS = {"transfer": _l("transfer"), "return": _l("send back"), "grade": _l("revisit grading"),
                "exclude_evaluation": _l("grade not counted")}


def text_width(text, size):
    """Estimated width: a CJK character is about one em, a Latin one about 0.6 em."""
    return sum(size * (0.6 if ord(ch) < 128 else 1.0) for ch in str(text))


def duration_text(duration):
    """Duration.describe() in the reader's language (the schema knows no Flask, so it stays Chinese)."""
    one = duration.amount == 1
    if duration.unit == "workdays":
        return _("%(num)s working day", num=duration.amount) if one else _("%(num)s working days", num=duration.amount)
    if duration.unit == "hours":
        return _("%(num)s hour", num=duration.amount) if one else _("%(num)s hours", num=duration.amount)
    return _("%(num)s day", num=duration.amount) if one else _("%(num)s days", num=duration.amount)


def deadline_text(duration):
    text = duration_text(duration)
    return _("%(duration)s from registration", duration=text) if duration.start == "created" else text


def joined(items):
    """A list in running text: 、 in Chinese, a comma in English."""
    # Translators: the separator of a list of short items
    return _(", ").join(str(i) for i in items)


def bracketed(marks):
    """An arrow's marks after its title: 〔〕 carry their own room in Chinese, English needs a space."""
    return _(" [%(marks)s]", marks=marks)


# --- what each box and arrow says -------------------------------------------------------------
def _box_lines(stage):
    """[(kind, text)] of one stage, top to bottom."""
    lines = [("title", stage.title)]
    if stage.final:
        lines.append(("muted", _("Closed: %(kind)s", kind=CLOSING.get(stage.final, (stage.final,))[0])))
        return lines
    who = str(role_label(stage.role))
    if isinstance(stage.unit, str) and stage.unit not in ("any", "handling"):
        who += " · " + _("unit %(code)s", code=stage.unit)
    elif stage.unit == "handling" and _("Handling unit") not in who:
        who += " · " + _("Handling unit")
    lines.append(("muted", who))
    lines.append(("deadline", _("Time limit %(duration)s", duration=deadline_text(stage.deadline))
                  if stage.deadline else _("No time limit")))
    if stage.pausable:
        lines.append(("pause", _("timing may be paused")))
    if stage.extension_approver:
        approver = role_label(stage.extension_approver)
        lines.append(("extend", _("extendable up to %(limit)s, approved by %(approver)s",
                                  limit=duration_text(stage.extension_max), approver=approver)
                      if stage.extension_max else _("extendable, approved by %(approver)s", approver=approver)))
    return lines


LINE_H = {"title": 22, "muted": 17, "deadline": 17, "pause": 21, "extend": 21}


def _box_size(lines):
    widths = [text_width(t, SMALL) + 12 if k in MARK_COLOUR else text_width(t, TITLE if k == "title" else TEXT)
              for k, t in lines]  # a mark is a pill: its text, padded
    return max(MIN_BOX_W, max(widths) + 2 * PAD), 12 + sum(LINE_H[k] for k, _t in lines)


def _action_marks(stage, action):
    marks = []
    effect = str(EFFECT_MARKS.get(action.effect, ""))
    if effect and effect not in action.title:
        marks.append(effect)
    if action.co_units:
        marks.append(_("co-handling units may be named"))
    if action.effect == "transfer" and action.deadline == "continue":
        marks.append(_("keeps the running time limit"))
    if action.after_co_answers:
        marks.append(_("once the co-handling units have answered"))
    if action.role != stage.role:
        marks.append(_("done by %(role)s", role=role_label(action.role)))
    if action.sources:
        from models import CHANNELS  # the channel names live with the tickets; read here only
        names = dict(CHANNELS)
        marks.append(_("only %(channels)s", channels=joined(names.get(s, s) for s in action.sources)))
    return marks


def _arrows(workflow):
    """One arrow per (from, to, kind); actions that share one each have a line of its label."""
    groups = {}
    for sid, stage in workflow.stages.items():
        for action in stage.actions.values():
            if action.to not in workflow.stages:  # a preview of unsaved text may point nowhere yet
                continue
            kind = action.effect if action.effect in ("transfer", "return") else "plain"
            line = (action.title, joined(_action_marks(stage, action)), action.id)
            groups.setdefault((sid, action.to, kind), []).append(line)
            if action.reopen_to in workflow.stages:
                grades = _(" or ").join(str(GRADE_LABELS.get(g, g)) for g in action.reopen_on)
                groups.setdefault((sid, action.reopen_to, "reopen"), []).append(
                    (_("%(grades)s: handled again", grades=grades), "", action.id + ".reopen"))
    return groups


def _label_rows(lines):
    """Label lines as drawn: the marks go below the title when the two are long together."""
    rows = []
    for title, marks, action_id in lines:
        if marks and text_width(title, TEXT) + text_width(marks, SMALL) + 16 > 200:
            rows += [(title, "", action_id), ("", marks, action_id)]
        else:
            rows.append((title, marks, action_id))
    return rows


def _label_width(rows):
    return max(text_width(t, TEXT) + (text_width(bracketed(m), SMALL) + (4 if t else 0) if m else 0)
               for t, m, _a in rows)


def plan(workflow):
    """The layout of a workflow's stages and arrows (also used by the tests to check overlaps)."""
    lines, sizes = {}, {}
    groups = _arrows(workflow)
    loops = {}
    for (src, dst, kind), group in groups.items():
        if src == dst:
            loops.setdefault(src, []).append((kind, _label_rows(group)))
    for sid, stage in workflow.stages.items():
        lines[sid] = _box_lines(stage)
        w, h = _box_size(lines[sid])
        extra = sum(LOOP + 8 + _label_width(rows) for _k, rows in loops.get(sid, ()))
        sizes[sid] = (w, h, extra)
    edges = []
    for (src, dst, kind), group in groups.items():
        if src != dst:
            rows = _label_rows(group)
            edges.append(Edge(src, dst, _label_width(rows), LABEL_LINE * len(rows), data=(kind, rows)))
    top = 30 if workflow.start in workflow.stages else 12
    drawn = layout(sizes, workflow.start, edges, top=top)
    drawn.lines, drawn.loops = lines, loops
    return drawn


# --- SVG ---------------------------------------------------------------------------------------
def _t(x, y, text, size=TEXT, fill=INK, anchor="start", weight="", extra=""):
    weight = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}"'
            f'{weight}{extra}>{escape(text)}</text>')


def _pill(x, y, text, kind):
    fill, ink = MARK_COLOUR[kind]
    w = text_width(text, SMALL) + 12
    return (f'<g class="zt-mark" data-mark="{kind}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="16" '
            f'rx="8" fill="{fill}" stroke="{ink}" stroke-width="0.6"/>'
            + _t(x + 6, y + 12, text, SMALL, ink) + "</g>")


def _box(workflow, sid, rect, lines):
    stage = workflow.stages[sid]
    x, y, w, h = rect
    fill, stroke, width = "#ffffff", "#455a64", 1.2
    if stage.final:
        _name, fill, stroke = CLOSING.get(stage.final, ("", "#f1f3f4", "#6b6f74"))
    elif sid == workflow.start:
        fill, stroke, width = "#e3f2fd", "#1565c0", 2
    out = [f'<g class="zt-stage" data-stage="{escape(sid)}">',
           f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8" fill="{fill}" '
           f'stroke="{stroke}" stroke-width="{width}"/>']
    if stage.final:  # a double border: the ticket ends here
        out.append(f'<rect x="{x + 3:.1f}" y="{y + 3:.1f}" width="{w - 6:.1f}" height="{h - 6:.1f}" rx="6" '
                   f'fill="none" stroke="{stroke}" stroke-width="0.8"/>')
    cy, cx = y + 6, x + w / 2
    for kind, text in lines:
        cy += LINE_H[kind]
        if kind == "title":
            out.append(_t(cx, cy - 6, text, TITLE, INK, "middle", "600"))
        elif kind in MARK_COLOUR:
            out.append(_pill(cx - (text_width(text, SMALL) + 12) / 2, cy - 18, text, kind))
        else:
            out.append(_t(cx, cy - 5, text, TEXT, "#0d47a1" if kind == "deadline" else MUTED, "middle"))
    out.append("</g>")
    return "".join(out)


def _curve(points):
    """Straight down a row, an S-curve across the gap between rows: never leaves the route's corridor."""
    (x0, y0), d = points[0], [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (x1, y1) in points[1:]:
        if abs(x1 - x0) < 0.5:
            d.append(f"L{x1:.1f},{y1:.1f}")
        else:
            m = (y0 + y1) / 2
            d.append(f"C{x0:.1f},{m:.1f} {x1:.1f},{m:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


def _label(x, y, rows, colour):
    out = []
    for i, (title, marks, _a) in enumerate(rows):
        base = y + LABEL_LINE * i + 12
        spans = str(escape(title))
        if marks:
            spans += f'<tspan fill="{colour}" font-size="{SMALL}">{escape(bracketed(marks))}</tspan>'
        out.append(f'<text x="{x:.1f}" y="{base:.1f}" font-size="{TEXT}" fill="{INK}">{spans}</text>')
    return "".join(out)


def _edge(edge):
    kind, rows = edge.data
    colour, dash, _name, _meaning = ARROWS[kind]
    dash = f' stroke-dasharray="{dash}"' if dash else ""
    actions = " ".join(a for t, m, a in rows if t or not m)
    x, y, _w, _h = edge.label
    return (f'<g class="zt-arrow" data-kind="{kind}" data-actions="{escape(actions)}">'
            f'<path d="{_curve(edge.points)}" fill="none" stroke="{colour}" stroke-width="1.4"{dash} '
            f'marker-end="url(#zt-arrow-{kind})"/>{_label(x, y, rows, colour)}</g>')


def _loop(rect, kind, rows, right):
    """An action that keeps the ticket in its stage: a small loop on the box's right side."""
    x, y, w, h = rect
    colour, dash, _n, _m = ARROWS[kind]
    dash = f' stroke-dasharray="{dash}"' if dash else ""
    x0, y0, y1 = right, y + h * 0.35, y + h * 0.65
    actions = " ".join(a for t, m, a in rows if t or not m)
    return (f'<g class="zt-arrow" data-kind="{kind}" data-actions="{escape(actions)}">'
            f'<path d="M{x0:.1f},{y0:.1f} C{x0 + LOOP:.1f},{y0:.1f} {x0 + LOOP:.1f},{y1:.1f} {x0:.1f},{y1:.1f}" '
            f'fill="none" stroke="{colour}" stroke-width="1.4"{dash} marker-end="url(#zt-arrow-{kind})"/>'
            + _label(x0 + LOOP + 6, (y0 + y1) / 2 - LABEL_LINE * len(rows) / 2, rows, colour) + "</g>")


def _markers():
    return "<defs>" + "".join(
        f'<marker id="zt-arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for kind, (colour, _d, _n, _m) in ARROWS.items()) + "</defs>"


def _who(roles):
    return joined(_("officer of the stage") if r == "stage_role" else role_label(r) for r in roles)


def _card(x, y, kind):
    if kind == "remind":
        return (f'<circle cx="{x + 7}" cy="{y + 8}" r="7" fill="#fff8e1" stroke="#1565c0"/>'
                f'<path d="M{x + 7},{y + 4} L{x + 7},{y + 8} L{x + 10},{y + 10}" stroke="#1565c0" fill="none"/>')
    fill = "#fbc02d" if kind == "yellow" else "#d32f2f"
    return f'<rect x="{x + 2}" y="{y}" width="11" height="16" rx="2" fill="{fill}" stroke="#5d4037" stroke-width="0.6"/>'


def escalation_rows(workflow):
    """[(kind, when, who)] of the escalation: a reminder, the yellow card, the red card."""
    esc = workflow.escalation
    notify = esc.notify
    rows = []
    if esc.remind_before is not None:
        when = _("Reminder: %(duration)s before the deadline", duration=duration_text(esc.remind_before))
        rows.append(("remind", when, notify.get("remind", ("stage_role",))))
    rows.append(("yellow", _("Yellow card: at the deadline"), notify.get("yellow", ("stage_role",))))
    if esc.red_after is not None:
        rows.append(("red", _("Red card: %(duration)s overdue", duration=duration_text(esc.red_after)),
                     notify.get("red", ("stage_role",))))
    return rows


def panel_width(title, items):
    """PANEL_W, or wider when a line does not fit (English is longer than Chinese)."""
    lines = [text_width(title, TEXT) * 1.05 + 20]  # the heading is bold
    lines += [max(text_width(line, TEXT), text_width(sub, SMALL)) + 42 for _icon, line, sub in items]
    return max(PANEL_W, round(max(lines)))


def _panel(x, y, title, items, width=PANEL_W):
    """A framed column: a heading, then (icon, bold line, muted line) items. Returns (svg, height)."""
    out, cy = [_t(x + 10, y + 20, title, TEXT, INK, weight="600")], y + 30
    for icon, line, sub in items:
        out.append(icon(x + 10, cy + 1))
        out.append(_t(x + 32, cy + 13, line, TEXT))
        cy += 18
        if sub:
            out.append(_t(x + 32, cy + 12, sub, SMALL, MUTED))
            cy += 17
        cy += 6
    height = cy - y + 4
    frame = (f'<rect x="{x}" y="{y}" width="{width}" height="{height:.0f}" rx="6" fill="#ffffff" '
             f'stroke="#ced4da"/>')
    return frame + "".join(out), height


def _escalation_items(workflow):
    items = [(lambda a, b, k=kind: _card(a, b, k), when, _("Notified: %(who)s", who=_who(who)))
             for kind, when, who in escalation_rows(workflow)]
    items.append((lambda a, b: "", _("At most %(num)s transfers", num=workflow.max_transfers), ""))
    return _("Escalation (the same for every stage)"), items


def _legend_items():
    def box(fill, stroke, double=False):
        def draw(x, y):
            inner = (f'<rect x="{x + 2}" y="{y + 2}" width="14" height="10" rx="2" fill="none" stroke="{stroke}" '
                     f'stroke-width="0.6"/>') if double else ""
            return (f'<rect x="{x}" y="{y}" width="18" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>'
                    + inner)
        return draw

    def line(kind):
        colour, dash, _n, _m = ARROWS[kind]
        dash = f' stroke-dasharray="{dash}"' if dash else ""
        return lambda x, y: (f'<path d="M{x},{y + 8} L{x + 18},{y + 8}" stroke="{colour}" stroke-width="1.4"{dash} '
                             f'marker-end="url(#zt-arrow-{kind})"/>')

    def pill(kind):
        fill, ink = MARK_COLOUR[kind]
        return lambda x, y: f'<rect x="{x}" y="{y + 2}" width="18" height="12" rx="6" fill="{fill}" stroke="{ink}"/>'

    items = [(box("#e3f2fd", "#1565c0"), _("Start stage"), _("a ticket starts here once registered")),
             (box("#ffffff", "#455a64"), _("Handling stage"), _("shows who acts and the time limit"))]
    items += [(box(fill, stroke, True), _("Closed: %(kind)s", kind=name), "")
              for name, fill, stroke in CLOSING.values()]
    items += [(line(kind), name, meaning) for kind, (_c, _d, name, meaning) in ARROWS.items()]
    items += [(lambda x, y: (f'<path d="M{x + 9},{y + 16} L{x + 9},{y + 1}" stroke="{INK}" stroke-width="1.4" '
                             f'marker-end="url(#zt-arrow-plain)"/>'), _("Upward arrow"), _("back to a stage above")),
              (pill("pause"), _("Timing may be paused"), _("e.g. while waiting for documents")),
              (pill("extend"), _("Extendable"),
               _("with approval; the most and the approver are shown")),
              (lambda x, y: _card(x, y, "remind"), _("Reminder"), _("the officer is reminded before the deadline")),
              (lambda x, y: _card(x, y, "yellow"), _("Yellow card"), _("not done by the deadline")),
              (lambda x, y: _card(x, y, "red"), _("Red card"), _("still not done after it; the leaders are told")),
              (lambda x, y: _t(x - 2, y + 13, bracketed(""), SMALL, "#1565c0"), _("Notes"),
               _("e.g. transfer, co-handling units may be named, who acts"))]
    return items


def legend():
    """The legend alone, as SVG (a page with several diagrams shows it once)."""
    items = _legend_items()
    w = panel_width(_("Legend"), items)
    g, h = _panel(1, 1, _("Legend"), items, w)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="zt-legend" width="{w + 2}" height="{h + 2:.0f}" font-family="{FONTS}" '
             f'viewBox="0 0 {w + 2} {h + 2:.0f}" role="img" aria-label="{escape(_("Legend"))}">', _markers(),
             f'<g class="zt-legend-body">{g}</g></svg>']
    return Markup("".join(parts))


_drawn = {}  # (definition, legend, locale) -> SVG: a stored version never changes, pages redraw it often


def render(workflow, legend=True):
    """The workflow as inline SVG: stages, arrows, the escalation panel and (unless told) the legend."""
    key = (repr(workflow), legend, str(get_locale()))  # the repr holds everything drawn
    if key not in _drawn:
        if len(_drawn) > 64:
            _drawn.clear()
        _drawn[key] = _render(workflow, legend)
    return _drawn[key]


def _render(workflow, legend):
    drawn = plan(workflow)
    parts = []
    for edge in drawn.edges:
        parts.append(_edge(edge))
    for sid, rect in drawn.boxes.items():
        parts.append(_box(workflow, sid, rect, drawn.lines[sid]))
        right = rect[0] + rect[2]
        for kind, rows in drawn.loops.get(sid, ()):
            parts.append(_loop(rect, kind, rows, right))
            right += LOOP + 8 + _label_width(rows)
    if workflow.start in drawn.first_row:
        x, y, w, _h = drawn.boxes[workflow.start]
        parts.append(f'<g class="zt-start"><circle cx="{x + w / 2:.1f}" cy="9" r="6" fill="#1565c0"/>'
                     f'<path d="M{x + w / 2:.1f},15 L{x + w / 2:.1f},{y:.1f}" stroke="#1565c0" stroke-width="1.4" '
                     f'marker-end="url(#zt-arrow-transfer)"/></g>')
    px = drawn.width + PANEL_GAP
    escalation, legend_items = _escalation_items(workflow), _legend_items()
    pw = max(panel_width(*escalation), panel_width(_("Legend"), legend_items) if legend else 0)
    panel, height = _panel(px, 12, *escalation, pw)
    parts.append(f'<g class="zt-escalation">{panel}</g>')
    if legend:
        body, legend_h = _panel(px, 12 + height + 16, _("Legend"), legend_items, pw)
        parts.append(f'<g class="zt-legend-body">{body}</g>')
        height += 16 + legend_h
    width, height = px + pw + 2, max(drawn.height + 12, 12 + height + 2)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="zt-diagram" width="{width:.0f}" height="{height:.0f}" font-family="{FONTS}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(workflow.title)}">')
    parts = [head, _markers()] + parts + ["</svg>"]
    return Markup("".join(parts))
