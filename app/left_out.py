"""The roster officer the figures being counted leave out (below figures and tallies)."""
import contextlib
import contextvars


# The roster officer whose ratings and tickets the figures being counted leave out: the figures an
# accused officer's own account reads never count what was said about him (v21).
_LEFT_OUT = contextvars.ContextVar("left_out_staff", default=None)


@contextlib.contextmanager
def leaving_out(staff_id):
    """Every figure counted in the block leaves out officer `staff_id`'s ratings and tickets (None: none).

    Counted from the rows, not the tallies, which do not split a unit's counts by officer: a
    unit's handful of months, not a province's.
    """
    token = _LEFT_OUT.set(staff_id or None)
    try:
        yield
    finally:
        _LEFT_OUT.reset(token)


def left_out():
    return _LEFT_OUT.get()


def not_about_left_out(query, staff_field):
    """`query` less the rows about the officer being left out, if any."""
    staff_id = _LEFT_OUT.get()
    return query if staff_id is None else query.where(staff_field.is_null() | (staff_field != staff_id))
