"""docs/operators.md says what pylvs does not implement from the one list `check` warns from
(config/keepalived/unsupported.py): every keyword the guide names there is on that list."""

import re
from pathlib import Path

from pylvs.config.keepalived.unsupported import UNSUPPORTED

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def section(title: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_keywords_named_as_not_implemented_are_on_the_list() -> None:
    named = set(re.findall(r"`([a-z_]+)\*?`", section("What pylvs does not implement")))
    named -= {"pylvs", "check"}
    prefixes = {n for n in named if f"`{n}*`" in section("What pylvs does not implement")}
    listed = {u.keyword for u in UNSUPPORTED}
    for word in named:
        if word in prefixes:
            assert any(k.startswith(word) for k in listed), word
        else:
            assert word in listed, word
    assert len(named) >= 15


def test_the_guide_points_at_the_generated_list() -> None:
    assert "docs/unsupported.md" in section("What pylvs does not implement")
    assert (GUIDE.parent / "unsupported.md").exists()
