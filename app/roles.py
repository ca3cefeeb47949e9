"""The officer roles and which of them belong to the discipline commission.

三员分立 (等保 2.0): three administrators, no account is two of them (an account has one role, and
nobody changes his own), and none of them alone can reach a complaint:
- the system administrator keeps the organisation, makes accounts without a role and sets the
  passwords of accounts that hold no commission or auditor role; he grants no role;
- the security administrator grants and withdraws roles and sets no officer's password; granting
  a commission or auditor role, or resetting such an account's password or second factor, is his
  request that a commission leader approves (two-person rule, app/account_requests.py);
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
# 三员分立: the administrators never handle a case, so no procedure may give them a step.
CASE_ROLES = tuple(r for r in ROLE_IDS if r not in ADMINISTRATORS)

# Only these ever see who complained.
COMMISSION = frozenset({OFFICE, LEADER, INSPECTOR})
# Granting these roles, and resetting the password or second factor of an account holding one,
# takes the security administrator's request and a commission leader's approval.
TWO_PERSON = COMMISSION | {AUDITOR}
NO_ROLE = ""  # an account the system administrator made, waiting for the security administrator
# A handler acts for one unit and sees only that unit's rows.
UNIT_BOUND = frozenset({HANDLER})


CITIZEN = "citizen"  # not an account: the author of a 追评 made through the query code


def role_label(role):
    if role == CITIZEN:
        return _l("Citizen")
    if role == NO_ROLE:
        return _l("No role yet")
    return dict(ROLES).get(role, role)
