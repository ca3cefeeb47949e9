"""The password rule of 等保 2.0: long enough, three kinds of characters, not the username, not common."""
import string

from flask_babel import gettext as _

MIN_LENGTH = 8

# Only passwords that pass the length and class rules need listing: the others are refused anyway.
# These are the ones such rules let through most often (keyboard walks, 'Admin' and a year, 'P@ssw0rd').
COMMON = frozenset(p.lower() for p in """
P@ssw0rd P@ssword Passw0rd! Password1! Password@1 Password123 Password@123 Password#123 Pa$$w0rd P@$$w0rd
Admin@123 Admin123! Admin@1234 Admin@12345 Admin#123 Admin@2024 Admin@2025 Admin@2026 Admin@888 admin@123
Abc@1234 Abc123456! Abc@123456 Abcd@1234 Abcd1234! Aa123456! Aa@123456 Aa123456 Qq123456 Aa@12345
Qwer1234 Qwer@1234 Qwer1234! Qwerty123 Qwerty@123 1qaz@WSX 1qaz!QAZ 1qaz2wsx! 1QAZ2wsx Zaq1@wsx Zaq12wsx
Asdf1234 Asdf@1234 Zxcv1234 Zxcvbnm123 Welcome1 Welcome@1 Welcome@123 Test@1234 Test1234! Test@123
Root@123 Root@1234 Huawei@123 Huawei12#$ Changeme1 Changeme@1 Hello@123 Hello123! Woaini520! Woaini@1314
Wang@123 Zhang@123 Li@123456 Sys@1234 System@123 Server@123 Oracle@123 Mysql@123 Xx123456 A1234567 Aa11111111
""".split())


def _classes(password):
    kinds = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    count = sum(any(c in kind for c in password) for kind in kinds)
    # Anything else, a Chinese character included, counts as a symbol.
    return count + any(c not in string.ascii_letters + string.digits for c in password)


def problems(password, username=""):
    """What is wrong with `password` for the account `username`, in the reader's language; [] if nothing."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(_("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if _classes(password) < 3:
        found.append(_("The password must mix at least three of: lower-case letters, capital letters, "
                       "digits and symbols."))
    if username and username.strip().lower() in password.lower():
        found.append(_("The password must not contain the username."))
    if password.lower() in COMMON:
        found.append(_("This password is too common; choose another."))
    return found
