"""MISC_CHECK: run `misc_path` (as `user`, or the default script user) with `misc_timeout`
(default: the checker's delay_loop); exit 0 is success, 1 failure, and with `misc_dynamic`
2..255 is success with the RS weight set from the status; a timeout or a signal is a failure
(keepalived/check/check_misc.c `misc_check_child_thread`)."""

from __future__ import annotations

from pylvs.health.checkers.base import Driver, ProbeResult, register
from pylvs.model.checks import MiscProbe
from pylvs.notify.scripts import ScriptRunner


@register("MISC_CHECK")
class MiscDriver(Driver):
    KIND = "MISC_CHECK"

    @property
    def spec(self) -> MiscProbe:
        probe = self.check.probe
        assert isinstance(probe, MiscProbe)
        return probe

    def describe(self) -> str:
        return " ".join(self.spec.script.argv)

    async def probe(self, url: int = 0) -> ProbeResult:
        runner = self.ctx.run_script or ScriptRunner()
        spec = self.spec
        out = await runner.run(spec.script, timeout=spec.timeout)
        if out.status is None:
            return ProbeResult(False, out.reason)
        status = out.status
        if status == 0 or (spec.dynamic and 2 <= status <= 255):
            return ProbeResult(True, out.reason, status)
        return ProbeResult(False, out.reason, status)
