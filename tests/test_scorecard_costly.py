"""The scorecard counts each library's costly refusals: `dos` findings of a token it refused
only after paying more than the cost budgets."""

from __future__ import annotations

from pathlib import Path

from harness.core.results import Run
from harness.report.model import build
from harness.report.rundata import load_run
from tests.runfolders import make_run, row


def _refusal(case: str, consumer: str, verdict: str, attack_class: str) -> dict:
    return row(case, "forge", consumer, suite="JWE dir + A256GCM", expected="reject",
               actual="rejected", passed=verdict != "dos", config="default",
               attack_class=attack_class, severity="dos", policy=True, cost_verdict=verdict,
               cost_detail="grew memory by 80 MiB" if verdict == "dos" else "",
               detail="dos: grew memory; then refused: too big" if verdict == "dos" else "big")


def test_the_costly_refusals_column(tmp_path: Path) -> None:
    rows = [
        _refusal("attacks.zip_bomb.raw_80mib", "jwcrypto", "dos", "zip-bomb"),
        _refusal("attacks.zip_bomb.ratio100_12mib", "jwcrypto", "dos", "zip-bomb"),
        _refusal("attacks.pbes2_count.high", "jwcrypto", "dos", "pbes2-count"),
        _refusal("attacks.zip_bomb.raw_80mib", "joserfc", "within", "zip-bomb"),
        # A hang is a dos finding too, but no refusal: not counted here.
        row("attacks.zip_bomb.raw_1gib", "forge", "joserfc", suite="JWE dir + A256GCM",
            expected="reject", actual="hang", passed=False, config="default",
            attack_class="zip-bomb", severity="dos", detail="killed"),
    ]
    path = make_run(tmp_path, "20261128T200000Z-cost01", {"joserfc": "1.8.0", "jwcrypto": "1.6.1"},
                    rows)
    card = build(load_run(Run(path))).scorecard.set_index("library")
    # Two zip-bomb cases are one finding (one behaviour); the PBES2 one is another.
    assert card.loc["jwcrypto", "costly refusals"] == "2 (pbes2-count, zip-bomb)"
    assert card.loc["joserfc", "costly refusals"] == "0"
    assert "dos" in card.loc["joserfc", "findings"]  # the hang counts as a dos finding
