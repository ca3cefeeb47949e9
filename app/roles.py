"""The officer roles and which of them belong to the discipline commission."""
from flask_babel import lazy_gettext as _l

SYSADMIN = "sysadmin"
OFFICE = "office"
LEADER = "leader"
INSPECTOR = "inspector"
HANDLER = "handler"
BUREAU = "bureau"
AUDITOR = "auditor"

ROLES = (
    (SYSADMIN, _l("System administrator")),
    (OFFICE, _l("Conduct office")),
    (LEADER, _l("Commission leader")),
    (INSPECTOR, _l("Inspection office / stationed group")),
    (HANDLER, _l("Handling unit officer")),
    (BUREAU, _l("Administrative approval bureau")),
    (AUDITOR, _l("Auditor")),
)
ROLE_IDS = tuple(r for r, _ in ROLES)

# Only these ever see who complained.
COMMISSION = frozenset({OFFICE, LEADER, INSPECTOR})
# A handler acts for one unit and sees only that unit's rows.
UNIT_BOUND = frozenset({HANDLER})


CITIZEN = "citizen"  # not an account: the author of a 追评 made through the query code


def role_label(role):
    if role == CITIZEN:
        return _l("Citizen")
    return dict(ROLES).get(role, role)
