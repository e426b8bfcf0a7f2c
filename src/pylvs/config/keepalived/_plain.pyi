"""Types of the C plain-line reader (_plain.c); plain.py says what it does."""

from pylvs.config.keepalived.plain import Frame, IncludeCheck, Report, Source

def read(
    src: Source,
    stack: list[Frame],
    lines_left: int,
    report: Report,
    include_check: IncludeCheck,
    /,
) -> tuple[int, bool, int]: ...
