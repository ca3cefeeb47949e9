"""The officer roles and which of them belong to the discipline commission.

三员分立 (等保 2.0): three administrators, none of whom reads a complaint but the auditor, and
no account is two of them (an account has one role, and nobody changes his own):
- the system administrator keeps the organisation and the accounts of the officers who work
  cases, and grants none of the three administrator roles;
- the security administrator grants and withdraws every role, the three included, and resets a
  lost second factor;
- the auditor reads: the audit trail and every record, changing nothing.
"""
from flask_babel import lazy_gettext as _l

SYSADMIN = "sysadmin"
SECADMIN = "secadmin"
OFFICE = "office"
LEADER = "leader"
INSPECTOR = "inspector"
HANDLER = "handler"
BUREAU = "bureau"
AUDITOR = "auditor"

ROLES = (
    (SYSADMIN, _l("System administrator")),
    (SECADMIN, _l("Security administrator")),
    (OFFICE, _l("Conduct office")),
    (LEADER, _l("Commission leader")),
    (INSPECTOR, _l("Inspection office / stationed group")),
    (HANDLER, _l("Handling unit officer")),
    (BUREAU, _l("Administrative approval bureau")),
    (AUDITOR, _l("Auditor")),
)
ROLE_IDS = tuple(r for r, _ in ROLES)

# 三员: only the security administrator grants these roles.
ADMINISTRATORS = frozenset({SYSADMIN, SECADMIN, AUDITOR})

# Only these ever see who complained.
COMMISSION = frozenset({OFFICE, LEADER, INSPECTOR})
# A handler acts for one unit and sees only that unit's rows.
UNIT_BOUND = frozenset({HANDLER})


CITIZEN = "citizen"  # not an account: the author of a 追评 made through the query code


def role_label(role):
    if role == CITIZEN:
        return _l("Citizen")
    return dict(ROLES).get(role, role)
