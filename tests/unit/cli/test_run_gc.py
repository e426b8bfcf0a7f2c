"""The daemon's garbage-collector settings (why: pylvs.cli.run.GC_YOUNG_THRESHOLD)."""

import gc

from pylvs.cli.run import GC_YOUNG_THRESHOLD, tune_gc


def test_tune_gc_collects_less_often_and_freezes_start_up_objects() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        young, older, oldest = gc.get_threshold()
        assert young == GC_YOUNG_THRESHOLD > before[0]
        assert (older, oldest) == before[1:]
        assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
