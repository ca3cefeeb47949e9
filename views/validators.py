"""Form validators with Chinese messages, shared by the admin forms."""
from flask_babel import gettext as _
from wtforms.validators import ValidationError

from app import filenames


class Unique:
    """Refuse a value that another row of the model already holds."""

    def __init__(self, field, message):
        self.field = field
        self.message = message  # lazy, with %(value)s

    def __call__(self, form, field):
        value = field.data.strip() if isinstance(field.data, str) else field.data
        if value in (None, ""):
            return
        query = self.field.model.select().where(self.field == value)
        obj = getattr(form, "_obj", None)
        if obj is not None and obj._pk is not None:
            query = query.where(self.field.model._meta.primary_key != obj._pk)
        if query.exists():
            raise ValidationError(str(self.message) % {"value": value})


class NotBlank:
    """Required, and not only spaces."""

    def __call__(self, form, field):
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise ValidationError(_("This field is required."))


class NoControl:
    """No line break, tab or other control character: a number names the files of its QR codes."""

    def __call__(self, form, field):
        if isinstance(field.data, str) and filenames.CONTROL.search(field.data):
            raise ValidationError(_("Line breaks, tabs and other control characters cannot be used here."))


def strip(value):
    return value.strip() if isinstance(value, str) else value
