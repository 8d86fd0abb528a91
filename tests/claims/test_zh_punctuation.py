"""Chinese text uses full-width punctuation: no ASCII ":,();?!" next to a Chinese character, in
the catalogue or on the merchant's pages (the template punctuation around a translated label is
itself translated)."""

import re
from pathlib import Path

from django.conf import settings

CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
HALF_WIDTH_NEXT_TO_CHINESE = re.compile(rf"{CJK}\s*[:,();?!]|[:,();?!]\s*{CJK}")
# Where the ASCII characters are the subject itself (what to type, which characters count).
ALLOWED = {"Several regions: separate them by , or ;", ":?.!"}


def half_width_next_to_chinese(text: str) -> list[str]:
    text = re.sub(r"%\(\w+\)[sdf]", "X", text)  # a placeholder's parentheses are not punctuation
    return [m.group(0) for m in HALF_WIDTH_NEXT_TO_CHINESE.finditer(text)]


def _joined(lines: str) -> str:
    return "".join(re.findall(r'"(.*)"', lines))


def catalogue_entries():
    """(msgid, msgstr) of every entry of the Chinese catalogue."""
    po = (Path(settings.BASE_DIR) / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    for block in po.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n)+)', block + "\n", re.M)
        for msgstr in re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n)+)', block + "\n", re.M):
            yield _joined(msgid.group(1)) if msgid else "", _joined(msgstr)


def test_the_check_sees_half_width_punctuation():
    assert half_width_next_to_chinese("金额: 12") == ["额:"]
    assert half_width_next_to_chinese("(系统)") == ["(系", "统)"]
    assert half_width_next_to_chinese("金额：%(amount)s（系统）") == []


def test_catalogue_uses_full_width_punctuation_in_chinese():
    entries = list(catalogue_entries())
    assert len(entries) > 1000
    bad = [(i, s) for i, s in entries if i not in ALLOWED and half_width_next_to_chinese(s)]
    assert bad == []
