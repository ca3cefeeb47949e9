"""Input no database can keep: a 400 in Chinese at the door, or no id at all, never a 500 inside.

PostgreSQL refuses a NUL character in any text, which no person types: a request carrying one is
turned away before a view reads it. SQLite refuses an integer beyond 64 bits: such an id in a path
matches no route, and in a query string or form it reads as no id given.
"""
from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from views.errors import render_error

ROW_ID_MAX = 2 ** 63 - 1  # SQLite's INTEGER and PostgreSQL's bigint
UNSTORABLE = _l("What was sent contains a character that cannot be saved (a NUL control character). "
                "Please remove it and send again.")


def row_id(text):
    """An id from a query string or form, for `.get(name, type=row_id)`: beyond 64 bits, no id at all."""
    value = int(text)
    if abs(value) > ROW_ID_MAX:
        raise ValueError("no row has this id")  # .get(type=…) turns it into the default
    return value


def storable_text(text):
    """Text a database keeps: no NUL (PostgreSQL) and no lone surrogate (no UTF-8 for it: neither)."""
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


class RowIdConverter(IntegerConverter):
    """`<int:…>` in a path: an id beyond 64 bits matches no route (404) rather than failing the query."""

    def __init__(self, map, fixed_digits=0, min=None, max=ROW_ID_MAX, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refuse_unstorable():
    """NUL anywhere in the path, the query string, a form field's name or value, a file's name."""
    texts = [request.path] + [text for pair in request.args.items(multi=True) for text in pair]
    if request.mimetype in FORMS:  # JSON is checked where it is read (views/api.py unstorable)
        texts += [text for pair in request.form.items(multi=True) for text in pair]
        texts += [f.filename or "" for f in request.files.values()]
    if any("\x00" in text for text in texts):
        return render_error(400, UNSTORABLE)


def init_app(app):
    """Before any route is added: the converter is looked up as each rule is."""
    app.url_map.converters["int"] = RowIdConverter
    app.before_request(refuse_unstorable)
    guard_select_fields()


def _row_id_or_none(text):
    try:
        return row_id(str(text).strip()) if str(text).strip().isascii() else None
    except ValueError:
        return None


def guard_select_fields():
    """A posted choice that is no id is an invalid choice, a blank one no choice; never a database error.

    wtf-peewee looks the posted text up as the primary key, and after a field filter has run it does so
    with the text itself: PostgreSQL refuses '' or 'abc' for an integer and SQLite one beyond 64 bits,
    each a 500. Patched once, for every form's select of a row.
    """
    from peewee import AutoField, IntegerField
    from wtforms.validators import ValidationError
    from wtfpeewee.fields import SelectQueryField
    if getattr(SelectQueryField, "_row_id_guarded", False):
        return
    processed, validated, looked_up = (SelectQueryField.process_formdata, SelectQueryField.pre_validate,
                                       SelectQueryField.get_model)

    def by_row_id(self):
        return isinstance(self.model._meta.primary_key, (AutoField, IntegerField))

    def get_model(self, pk):
        return None if by_row_id(self) and _row_id_or_none(pk) is None else looked_up(self, pk)

    def process_formdata(self, valuelist):
        if valuelist and not str(valuelist[0]).strip():
            valuelist = ["__None"]  # what the browser sends for the blank choice
        processed(self, valuelist)

    def pre_validate(self, form):
        data = self.data
        if data is not None and not isinstance(data, self.model) and by_row_id(self) and _row_id_or_none(data) is None:
            raise ValidationError(self.gettext("Not a valid choice."))
        validated(self, form)

    SelectQueryField.get_model = get_model
    SelectQueryField.process_formdata = process_formdata
    SelectQueryField.pre_validate = pre_validate
    SelectQueryField._row_id_guarded = True
