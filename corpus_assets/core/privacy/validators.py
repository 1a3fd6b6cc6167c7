"""Checksums and plausibility checks that turn a number-shaped candidate into personal data.

Luhn for payment cards, ISO 7064 MOD 11-2 for the Chinese resident ID, ISO 13616 MOD 97-10 for
IBANs, issuer (IIN) prefixes with their card lengths, and a low-entropy test that rejects
filler numbers ("0000 0000 0000 0000", "1234567890123").
"""

from __future__ import annotations

from datetime import date

__all__ = ["luhn_valid", "cn_id_valid", "iban_valid", "card_prefix_ok", "low_entropy"]


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


def cn_id_valid(s: str, *, today: date | None = None) -> bool:
    """Chinese resident identity number (GB 11643-1999): 18 chars, province code,
    valid birth date YYYYMMDD (1900..today), ISO 7064 MOD 11-2 check character."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    if s[0] not in "12345678":
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > (today or date.today()):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == s[17].upper()


def iban_valid(s: str) -> bool:
    """ISO 13616 IBAN check (spaces ignored): 15-34 chars, MOD 97-10 == 1."""
    s = s.replace(" ", "").upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    if not s.isalnum():
        return False
    rearranged = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


def card_prefix_ok(d: str) -> bool:
    """Known issuer prefixes (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay,
    Maestro, Mir) with plausible lengths."""
    n = len(d)
    if d[0] == "4":
        return n in (13, 16, 19)
    p2 = int(d[:2])
    if 51 <= p2 <= 55 or 2221 <= int(d[:4]) <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p2 in (36, 38, 39) or 300 <= int(d[:3]) <= 305:
        return 14 <= n <= 19
    if p2 == 35:
        return 16 <= n <= 19
    if p2 in (60, 62, 64, 65, 50, 56, 57, 58, 63, 67, 68, 69):
        return 16 <= n <= 19 if p2 in (60, 62, 64, 65) else 12 <= n <= 19
    if d.startswith("220"):  # Mir
        return 16 <= n <= 19
    return False


def low_entropy(d: str) -> bool:
    """All one digit, or a run of consecutive digits ("0000000000000", "123456789012")."""
    return len(set(d)) <= 1 or d in "01234567890123456789012345678901" or d in "98765432109876543210987654321098"
