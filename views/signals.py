"""异常评价线索: patterns in ratings flagged for the commission (never dropped, never hidden)."""
from flask_admin.contrib.peewee.filters import FilterEqual
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from app.roles import INSPECTOR, LEADER, OFFICE
from models import FraudSignal, Unit, Window
from views.org import OrgModelView, unit_options

KINDS = [("burst", _l("Burst of ratings on one window")), ("officer_device", _l("Rated from an officer's browser")),
         ("uncased_praise", _l("Many satisfied ratings without a case number"))]


class FraudSignalAdmin(OrgModelView):
    read_roles = frozenset({OFFICE, LEADER, INSPECTOR})
    edit_roles = frozenset()
    export_roles = frozenset({OFFICE, LEADER, INSPECTOR})
    prejoined = (Unit, Window)
    column_list = ("created_at", "kind", "unit", "window", "evaluation", "detail")
    column_choices = {"kind": KINDS}
    column_default_sort = ("created_at", True)
    column_sortable_list = ("created_at", "kind")
    column_filters = (FilterEqual(FraudSignal.kind, _l("Kind"), options=KINDS),
                      FilterEqual(FraudSignal.unit, _l("Unit"), options=unit_options), "created_at")

    def base_query(self):
        return (FraudSignal.select(FraudSignal, Unit, Window).join(Unit)
                .switch(FraudSignal).join(Window, JOIN.LEFT_OUTER))
