"""A workflow drawn as SVG by the app itself (no script, no internet).

The stages that move the ticket stand in one column, in the file's order, which is the order the
office wrote the procedure in; closing stages stand in a column to the right. A step to the next
stage is a straight arrow; a jump forward or back curves through the lane on the left, each in
its own track so that arrows do not lie on top of each other.
"""
from markupsafe import Markup, escape

from app.roles import role_label

BOX_W, BOX_H, ROW, LANE, TRACK, GAP_RIGHT, MARGIN = 190, 46, 84, 40, 26, 190, 16


def render(workflow):
    flow = [sid for sid, s in workflow.stages.items() if not s.final]
    finals = [sid for sid, s in workflow.stages.items() if s.final]
    curves = [(sid, target, label, dashed) for sid, target, label, dashed in _edges(workflow)
              if target in flow and flow.index(target) != flow.index(sid) + 1]
    lane = LANE + TRACK * len(curves)
    x_flow, x_final = MARGIN + lane, MARGIN + lane + BOX_W + GAP_RIGHT
    pos = {sid: (x_flow, MARGIN + i * ROW) for i, sid in enumerate(flow)}
    taken = set()
    for sid in finals:  # beside the first stage that leads to it
        sources = [flow.index(s) for s, t, _l, _d in _edges(workflow) if t == sid and s in flow]
        row = min(sources) if sources else len(flow)
        while row in taken:
            row += 1
        taken.add(row)
        pos[sid] = (x_final, MARGIN + row * ROW)
    width = x_final + BOX_W + MARGIN
    height = max(y for _x, y in pos.values()) + BOX_H + MARGIN
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="zt-diagram" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(workflow.title)}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for sid, target, label, dashed in _edges(workflow):
        (ax, ay), (bx, by) = pos[sid], pos[target]
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        if target in finals:
            x1, y1, x2, y2 = ax + BOX_W, ay + BOX_H / 2, bx, by + BOX_H / 2
            path, lx, ly, anchor = f"M{x1},{y1} L{x2},{y2}", x1 + 8, (y1 + y2) / 2 - 4 if y1 == y2 else y1 + 14, "start"
            if y1 == y2:
                ly = y1 - 5
        elif flow.index(target) == flow.index(sid) + 1:
            x = ax + BOX_W / 2
            path, lx, ly, anchor = f"M{x},{ay + BOX_H} L{x},{by}", x + 6, (ay + BOX_H + by) / 2 + 4, "start"
        else:
            track = curves.index((sid, target, label, dashed))
            left = x_flow - LANE / 2 - TRACK * track
            y1, y2 = ay + BOX_H / 2, by + BOX_H / 2
            path = f"M{ax},{y1} L{left},{y1} L{left},{y2} L{bx},{y2}"
            lx, ly, anchor = left + 3, (y1 + y2) / 2, "start"
        parts.append(f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#arrow)"/>'
                     f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#333" text-anchor="{anchor}" '
                     f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(label)}</text>')
    for sid, stage in workflow.stages.items():
        x, y = pos[sid]
        fill = "#e8f5e9" if stage.final else ("#e3f2fd" if sid == workflow.start else "#fff")
        deadline = f" · {stage.deadline.describe()}" if stage.deadline else ""
        parts.append(f'<g class="zt-stage" data-stage="{escape(sid)}"><rect x="{x}" y="{y}" width="{BOX_W}" '
                     f'height="{BOX_H}" rx="6" fill="{fill}" stroke="#444"/>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 19}" text-anchor="middle" font-size="14">'
                     f'{escape(stage.title)}</text>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 36}" text-anchor="middle" font-size="11" fill="#555">'
                     f'{escape(str(role_label(stage.role)))}{escape(deadline)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _edges(workflow):
    """(from, to, label, dashed) for every action, and a dashed arrow where a grade reopens."""
    for sid, stage in workflow.stages.items():
        for action in stage.actions.values():
            yield sid, action.to, action.title, False
            if action.reopen_to:
                yield sid, action.reopen_to, "不满意，重新办理", True
