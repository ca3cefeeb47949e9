"""A layered (Sugiyama-style) layout of a procedure: rows of boxes, arrows between the rows.

Written here rather than taken from a library: no graph-layout package (Graphviz, dagre, ELK) is
in the stack or installable on the county's offline network, and a procedure has about ten
stages, so the plain textbook steps are enough:
1. cycles broken: an arrow back to a stage written earlier in the file, on a cycle, is laid out
   reversed (it is drawn pointing up);
2. rows by the longest path from the start;
3. a row of arrow labels between two rows of boxes; an arrow that spans several rows passes
   through points of its own, so no arrow crosses a box and no label touches a box or a label;
4. the order within each row by barycenter sweeps (the file's order breaks ties), then swaps of
   neighbours while they remove crossings;
5. x by repeated averaging over neighbours, kept apart by an isotonic fit (pool adjacent
   violators), so a chain of single stages stays one straight column.
"""
import bisect
import random
from dataclasses import dataclass, field

GAP = 18        # between neighbours in a row
PORT = 22       # between arrows that meet one side of a box
LABEL_PAD = 6   # from an arrow to the text of its label
SWEEPS = 12
RESTARTS = 30  # shuffled starts tried while crossings remain,
WORK = 2400    # fewer for a big procedure: the editor redraws it as the office types


@dataclass
class Edge:
    """An arrow from stage `src` to stage `dst` with a label of the given size; the layout fills
    `points` (from src to dst) and `label` (x, y, w, h)."""
    src: str
    dst: str
    label_w: float = 0
    label_h: float = 0
    data: object = None
    reversed: bool = False
    points: list = field(default_factory=list)
    label: tuple = None


@dataclass(eq=False)
class _Node:
    row: int
    left: float
    right: float
    rank: tuple
    box: str = ""       # the stage id of a box; empty for a label or a pass-through point
    edge: Edge = None
    x: float = 0.0


@dataclass
class Layout:
    boxes: dict          # stage id -> (x, y, w, h)
    edges: list
    width: float
    height: float
    first_row: list      # stage ids in the top row

    def segments(self):
        """(edge index, (x1, y1), (x2, y2)) of every straight piece of every arrow."""
        return [(i, p, q) for i, e in enumerate(self.edges) for p, q in zip(e.points, e.points[1:])]


def layout(sizes, start, edges, top=0.0, margin=12.0):
    """sizes: {stage id: (w, h, room on the right)} in the file's order; edges without self loops."""
    if not sizes:
        return Layout(boxes={}, edges=[], width=2 * margin, height=top + margin, first_row=[])
    order = [start] + [s for s in sizes if s != start] if start in sizes else list(sizes)
    index = {s: i for i, s in enumerate(order)}
    succ = {s: set() for s in order}
    for e in edges:
        succ[e.src].add(e.dst)
    for e in edges:
        e.reversed = index[e.dst] < index[e.src] and _reaches(succ, e.dst, e.src)
    upper_lower = [(e.dst, e.src) if e.reversed else (e.src, e.dst) for e in edges]
    layer = _longest_path(order, index, upper_lower)

    nodes, links = {}, []  # links: (upper node, lower node, edge) between neighbouring rows
    for sid in order:
        w, _h, extra = sizes[sid]
        nodes[sid] = _Node(2 * layer[sid], w / 2, w / 2 + extra, (index[sid], 0, 0), box=sid)
    for e, (up, low) in zip(edges, upper_lower):
        first, last = 2 * layer[up] + 1, 2 * layer[low] - 1
        label_row = last if e.reversed else first
        chain = [nodes[up]]
        for row in range(first, last + 1):
            text = row == label_row
            chain.append(_Node(row, 4, (LABEL_PAD + e.label_w) if text else 4,
                               (index[e.src], 1, index[e.dst]), edge=e if text else None))
        chain.append(nodes[low])
        links += [(a, b, e) for a, b in zip(chain, chain[1:])]
    rows = [[] for _ in range(max(n.row for n in _all(nodes, links)) + 1)]
    for n in sorted(_all(nodes, links), key=lambda n: n.rank):
        rows[n.row].append(n)

    rows = _order(rows, links)
    offsets = _ports(rows, links, sizes)
    _place(rows, links, offsets)
    return _geometry(rows, links, offsets, sizes, edges, top, margin)


def _reaches(succ, a, b):
    seen, todo = {a}, [a]
    while todo:
        for t in succ[todo.pop()]:
            if t == b:
                return True
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return False


def _longest_path(order, index, pairs):
    preds = {s: [] for s in order}
    indegree = {s: 0 for s in order}
    for up, low in pairs:
        preds[low].append(up)
        indegree[low] += 1
    layer, ready, done = {}, [s for s in order if indegree[s] == 0], []
    while ready:
        ready.sort(key=index.get)
        s = ready.pop(0)
        done.append(s)
        layer[s] = max((layer[p] + 1 for p in preds[s]), default=0)
        for up, low in pairs:
            if up == s:
                indegree[low] -= 1
                if indegree[low] == 0:
                    ready.append(low)
    return layer


def _all(nodes, links):
    seen = dict.fromkeys(nodes.values())
    for a, b, _e in links:
        seen.setdefault(a)
        seen.setdefault(b)
    return list(seen)


# --- the order within each row ----------------------------------------------------------------
def _between(rows, r, below):
    """Crossings between row r and row r + 1."""
    if r < 0 or r + 1 >= len(rows):
        return 0
    pos = {n: i for i, n in enumerate(rows[r + 1])}
    seen, total = [], 0  # the ends below of the arrows from nodes further left, sorted
    for n in rows[r]:
        ends = sorted(pos[m] for m in below[n])
        total += sum(len(seen) - bisect.bisect_right(seen, b) for b in ends)
        for b in ends:
            bisect.insort(seen, b)
    return total


def _crossings(rows, below):
    return sum(_between(rows, r, below) for r in range(len(rows) - 1))


def _order(rows, links):
    """The order with the fewest crossings found, from the file's order and from a few shuffled
    orders (seeded: the same file is always drawn the same); of equals, the nearest the file's."""
    above = {n: [] for row in rows for n in row}
    below = {n: [] for row in rows for n in row}
    for a, b, _e in links:
        below[a].append(b)
        above[b].append(a)

    def score(trial):
        misplaced = sum(1 for row in trial for i, u in enumerate(row) for v in row[i + 1:] if v.rank < u.rank)
        return _crossings(trial, below), misplaced
    best = _tidy(_improve([list(r) for r in rows], above, below), above, below)
    best_score = score(best)
    shuffle = random.Random(18)
    for _attempt in range(min(RESTARTS, WORK // max(len(links), 1))):
        if best_score == (0, 0):
            break
        trial = _tidy(_improve([shuffle.sample(r, len(r)) for r in rows], above, below), above, below)
        trial_score = score(trial)
        if trial_score < best_score:
            best, best_score = trial, trial_score
    return best


def _tidy(rows, above, below):
    """Back towards the file's order wherever a swap of neighbours adds no crossing."""
    pos = {n: i for row in rows for i, n in enumerate(row)}

    def cost(u, v):  # crossings between the arrows of u and of v, u standing left of v
        return sum(1 for near in (above, below) for a in near[u] for b in near[v] if pos[a] > pos[b])
    moved = True
    while moved:
        moved = False
        for row in rows:
            for i in range(len(row) - 1):
                u, v = row[i], row[i + 1]
                if v.rank < u.rank and cost(v, u) <= cost(u, v):
                    row[i], row[i + 1], pos[u], pos[v] = v, u, i + 1, i
                    moved = True
    return rows


def _improve(rows, above, below):
    """Barycenter sweeps down and up (ties keep the current order), then swaps of neighbours."""
    best, best_count = [list(r) for r in rows], _crossings(rows, below)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        sequence = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in sequence:
            pos = {n: i for i, n in enumerate(rows[r - 1 if downward else r + 1])}
            here = {n: i for i, n in enumerate(rows[r])}

            def barycenter(n):
                near = above[n] if downward else below[n]
                return sum(pos[m] for m in near) / len(near) if near else here[n]
            rows[r].sort(key=lambda n: (barycenter(n), here[n]))
        count = _crossings(rows, below)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
    rows, improved = best, best_count > 0
    pos = {n: i for row in rows for i, n in enumerate(row)}

    def cost(u, v):  # crossings between the arrows of u and of v, u standing left of v
        return sum(1 for near in (above, below) for a in near[u] for b in near[v] if pos[a] > pos[b])
    while improved:
        improved = False
        for row in rows:
            for i in range(len(row) - 1):
                u, v = row[i], row[i + 1]
                if cost(v, u) < cost(u, v):
                    row[i], row[i + 1], pos[u], pos[v] = v, u, i + 1, i
                    improved = True
    return rows


# --- where the arrows meet a box, and x --------------------------------------------------------
def _ports(rows, links, sizes):
    """{(link index, 'a' | 'b'): offset from the node's x}: a box's arrows spread along its side."""
    pos = {n: i for row in rows for i, n in enumerate(row)}
    offsets = {}
    sides = {}
    for i, (a, b, _e) in enumerate(links):
        sides.setdefault((a, "bottom"), []).append((pos[b], i, "a"))
        sides.setdefault((b, "top"), []).append((pos[a], i, "b"))
    for (node, _side), ends in sides.items():
        ends.sort()
        if not node.box:
            for _p, i, end in ends:
                offsets[i, end] = 0.0
            continue
        w = sizes[node.box][0]
        step = min(PORT, (w - 24) / (len(ends) - 1)) if len(ends) > 1 else 0
        for k, (_p, i, end) in enumerate(ends):
            offsets[i, end] = (k - (len(ends) - 1) / 2) * step
    return offsets


def _place(rows, links, offsets):
    incident = {n: [] for row in rows for n in row}  # (other node, own offset, other's offset, weight)
    for i, (a, b, e) in enumerate(links):
        # long arrows straight; a box follows the arrows that go down more than those that go back
        weight = (0.3 if e.reversed else 1.0) if a.box or b.box else 4.0
        incident[a].append((b, offsets[i, "a"], offsets[i, "b"], weight))
        incident[b].append((a, offsets[i, "b"], offsets[i, "a"], weight))
    for row in rows:
        _fit(row, [0.0] * len(row), [1.0] * len(row))
    for sweep in range(60):
        sequence = rows if sweep % 2 == 0 else rows[::-1]
        for row in sequence:
            wanted, weights = [], []
            for n in row:
                total = sum(w * (o.x + other - own) for o, own, other, w in incident[n])
                mass = sum(w for *_x, w in incident[n])
                wanted.append(total / mass if mass else n.x)
                weights.append(mass or 0.1)
            _fit(row, wanted, weights)


def _fit(row, wanted, weights):
    """x as near the wanted places as the row's order and widths allow (least squares)."""
    shift, shifts = 0.0, []
    for i, n in enumerate(row):
        if i:
            shift += row[i - 1].right + GAP + n.left
        shifts.append(shift)
    blocks = []  # [weighted sum, weight, count]: pool adjacent violators
    for want, w, s in zip(wanted, weights, shifts):
        blocks.append([(want - s) * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, mass, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += mass
            blocks[-1][2] += count
    values = [total / mass for total, mass, count in blocks for _ in range(count)]
    for n, v, s in zip(row, values, shifts):
        n.x = v + s


# --- coordinates -----------------------------------------------------------------------------
def _geometry(rows, links, offsets, sizes, edges, top, margin):
    left = min(n.x - n.left for row in rows for n in row)
    for row in rows:
        for n in row:
            n.x += margin - left
    heights = []
    for row in rows:
        if row and row[0].row % 2 == 0:
            heights.append(max((sizes[n.box][1] for n in row if n.box), default=0))
        else:
            heights.append(max((n.edge.label_h for n in row if n.edge), default=4))
    spans = [0.0] * len(rows)
    for i, (a, b, _e) in enumerate(links):
        spans[a.row] = max(spans[a.row], abs(a.x + offsets[i, "a"] - b.x - offsets[i, "b"]))
    row_top, bottom = [], top
    for r, h in enumerate(heights):
        row_top.append(bottom)
        bottom += h
        if r < len(rows) - 1:  # the gap an arrow crosses: wider for a long sideways step
            bottom += max(16.0, min(60.0, spans[r] * 0.3))
    boxes = {}
    for row in rows:
        for n in row:
            if n.box:  # a box shorter than its row stands in the middle; its arrows reach it straight
                w, h, _extra = sizes[n.box]
                boxes[n.box] = (n.x - w / 2, row_top[n.row] + (heights[n.row] - h) / 2, w, h)
            elif n.edge is not None:
                h = n.edge.label_h
                n.edge.label = (n.x + LABEL_PAD, row_top[n.row] + (heights[n.row] - h) / 2, n.edge.label_w, h)
    routes = {}
    for i, (a, b, e) in enumerate(links):
        route = routes.setdefault(id(e), [])
        if not route:
            x = a.x + offsets[i, "a"]
            _x, y, _w, h = boxes[a.box]
            route += [(x, y + h)] + ([(x, row_top[a.row] + heights[a.row])] if y + h < row_top[a.row] + heights[a.row] else [])
        if b.box:
            x = b.x + offsets[i, "b"]
            y = boxes[b.box][1]
            route += ([(x, row_top[b.row])] if y > row_top[b.row] else []) + [(x, y)]
        else:
            route += [(b.x, row_top[b.row]), (b.x, row_top[b.row] + heights[b.row])]
    for e in edges:
        e.points = routes[id(e)][::-1] if e.reversed else routes[id(e)]
    width = max(n.x + n.right for row in rows for n in row) + margin
    return Layout(boxes=boxes, edges=edges, width=width, height=bottom, first_row=[n.box for n in rows[0] if n.box])
