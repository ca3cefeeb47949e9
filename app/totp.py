"""The optional second factor: a six-digit code from an authenticator app (TOTP, RFC 6238).

pyotp does the arithmetic; here is what 直通车 adds: which roles must use it, and that a code,
once accepted, is never accepted again (someone watching over a shoulder cannot reuse it).
"""
import pyotp

from app.roles import ADMINISTRATORS, COMMISSION

ISSUER = "直通车"
# The administrators (三员) and the commission read or grant the most: when the county turns the
# second factor on, they must use it; everyone else may.
REQUIRED_ROLES = COMMISSION | ADMINISTRATORS


def required(user, config):
    return bool(config.get("TOTP_REQUIRED")) and user.role in REQUIRED_ROLES


def new_secret():
    return pyotp.random_base32()


def uri(username, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def accepted_step(secret, code, last_step, at):
    """The time step `code` belongs to, if it is right for `at` (±30 s) and newer than `last_step`."""
    code = (code or "").strip().replace(" ", "")
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = int(at.timestamp()) // totp.interval
    for candidate in (step - 1, step, step + 1):
        if candidate > last_step and pyotp.utils.strings_equal(totp.at(candidate * totp.interval), code):
            return candidate
    return None
