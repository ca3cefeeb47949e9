"""Who complained: the commission sees a name and a masked phone; the full contact only for a stated reason, logged."""
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from app.roles import COMMISSION
from models import AuditLog, mask_phone

REASON_MAX = 200


def sees_complainant(user=None):
    """Only the discipline commission ever learns who complained."""
    user = user or current_user
    return user.is_authenticated and user.role in COMMISSION


def mask_company(company):
    """测试**公司: enough to recognise a case, as the ledger writes it."""
    if not company:
        return ""
    return company[:2] + "**" + company[-2:] if len(company) > 4 else "****"


def masked(contact):
    """The name, masked phone and masked company, as one line; '' for no contact."""
    if contact is None:
        return ""
    parts = (contact.name, mask_phone(contact.phone), mask_company(contact.company))
    return " ".join(p for p in parts if p) or str(_l("Anonymous"))


class RevealForm(FlaskForm):
    reason = StringField(_l("Reason for viewing"))


def reveal(obj, contact, form):
    """Record that the current officer saw `contact` in full, on `obj`, for the reason in `form`.

    ValueError with a Chinese message when no reason (or too long a one) is given. The audit row
    keeps the reason, never the phone: the auditor reads the trail, not the complainant.
    """
    if not sees_complainant():
        abort(403)
    if contact is None:
        abort(404)
    reason = " ".join((form.reason.data or "").split())
    if not reason:
        raise ValueError(_("Please give the reason for viewing the full contact details."))
    if len(reason) > REASON_MAX:
        raise ValueError(_("The reason can have at most %(n)d characters.", n=REASON_MAX))
    for secret in (contact.phone, contact.credit_code):
        if secret and len(secret) >= 4:
            reason = reason.replace(secret, mask_phone(secret))
    AuditLog.record("reveal", current_user, obj, detail=f"reason={reason}", ip=request.remote_addr or "")
    return reason
