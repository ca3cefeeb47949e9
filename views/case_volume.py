"""办件量: the cases each unit served in a month, entered by the hall, behind the 主动评价率."""
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import NumberRange, ValidationError

from app.roles import AUDITOR, BUREAU, INSPECTOR, LEADER, OFFICE
from models import CaseVolume, Unit
from views.org import OrgModelView, units_hall_first, unit_options


class CaseVolumeAdmin(OrgModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU, AUDITOR})
    edit_roles = frozenset({OFFICE, BUREAU})
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR, BUREAU})
    prejoined = (Unit,)
    column_list = ("month", "unit", "cases")
    column_default_sort = ("month", True)
    column_sortable_list = ("month", "cases")
    column_filters = (FilterEqual(CaseVolume.unit, _l("Unit"), options=unit_options), "month")
    column_editable_list = ("cases",)
    form_columns = ("unit", "month", "cases")
    form_args = {"cases": {"validators": [NumberRange(min=0, message=_l("Cases served cannot be negative."))]}}
    form_queries = {"unit": lambda: units_hall_first().where(Unit.active)}

    def base_query(self):
        return CaseVolume.select(CaseVolume, Unit).join(Unit)

    def on_model_change(self, form, model, is_created):
        model.month = model.month.replace(day=1)  # a month, whatever day was picked
        clash = CaseVolume.select().where(CaseVolume.unit == model.unit_id, CaseVolume.month == model.month)
        if model.id:
            clash = clash.where(CaseVolume.id != model.id)
        if clash.exists():
            raise ValidationError(_("%(unit)s already has its cases for %(month)s; change that entry instead.",
                                    unit=model.unit.name, month=model.month.strftime("%Y-%m")))
