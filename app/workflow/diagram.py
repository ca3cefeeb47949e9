"""A workflow drawn as SVG by the app itself: stages in layers from the start, actions as arrows."""
from markupsafe import Markup, escape

from app.roles import role_label

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 170, 46, 40, 70, 20


def layers(workflow):
    """Stages by distance from the start (breadth first), in the file's order within a layer."""
    depth = {workflow.start: 0}
    frontier = [workflow.start]
    while frontier:
        nxt = []
        for sid in frontier:
            for action in workflow.stages[sid].actions.values():
                for target in filter(None, (action.to, action.reopen_to)):
                    if target not in depth:
                        depth[target] = depth[sid] + 1
                        nxt.append(target)
        frontier = nxt
    rows = {}
    for sid in workflow.stages:
        rows.setdefault(depth.get(sid, max(depth.values(), default=0) + 1), []).append(sid)
    return [rows[d] for d in sorted(rows)]


def render(workflow):
    rows = layers(workflow)
    width = max(len(r) for r in rows) * (BOX_W + GAP_X) - GAP_X + 2 * MARGIN
    height = len(rows) * (BOX_H + GAP_Y) - GAP_Y + 2 * MARGIN
    pos = {}
    for y, row in enumerate(rows):
        offset = (width - 2 * MARGIN - (len(row) * (BOX_W + GAP_X) - GAP_X)) / 2
        for x, sid in enumerate(row):
            pos[sid] = (MARGIN + offset + x * (BOX_W + GAP_X), MARGIN + y * (BOX_H + GAP_Y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="zt-diagram" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for sid, stage in workflow.stages.items():
        for action in stage.actions.values():
            for target, dashed in ((action.to, False), (action.reopen_to, True)):
                if target:
                    parts.append(_edge(pos[sid], pos[target], action.title if not dashed else "不满意重办", dashed))
    for sid, stage in workflow.stages.items():
        x, y = pos[sid]
        fill = "#e8f5e9" if stage.final else ("#e3f2fd" if sid == workflow.start else "#fff")
        deadline = f" · {stage.deadline.describe()}" if stage.deadline else ""
        parts.append(f'<g class="zt-stage" data-stage="{escape(sid)}"><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" '
                     f'height="{BOX_H}" rx="6" fill="{fill}" stroke="#444"/>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 19:.0f}" text-anchor="middle" font-size="14">'
                     f'{escape(stage.title)}</text>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 36:.0f}" text-anchor="middle" font-size="11" fill="#555">'
                     f'{escape(str(role_label(stage.role)))}{escape(deadline)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _edge(a, b, label, dashed):
    (ax, ay), (bx, by) = a, b
    if by > ay:  # downwards: bottom centre to top centre
        x1, y1, x2, y2 = ax + BOX_W / 2, ay + BOX_H, bx + BOX_W / 2, by
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
    else:  # back or sideways: a curve along the right-hand side
        x1, y1, x2, y2 = ax + BOX_W, ay + BOX_H / 2, bx + BOX_W, by + BOX_H / 2
        bend = max(x1, x2) + 30 + abs(y1 - y2) / 8
        path = f"M{x1:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = bend - 10, (y1 + y2) / 2
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#arrow)"/>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#333" text-anchor="middle" '
            f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(label)}</text>')
